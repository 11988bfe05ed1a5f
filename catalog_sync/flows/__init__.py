"""One run end to end (sync, import, dry run, rebuild), the digest, the scheduler and
the demo: they own the transactions and the run lock, and call storage, hoox and core."""
