"""What the tests share besides fixtures: catalogs, the CLI harness, the shared
history, databases per backend, the history invariants, real processes and a
headless browser. Imported as `support.<module>` (tests/ is on sys.path)."""
