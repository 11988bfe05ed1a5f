"""The pure middle: validate and normalise a payload, diff it against the stored
state, decide the guards and the digest. No I/O, no clock, no SQLAlchemy, no httpx."""
