"""The database: typed models, engines and the run lock, migrations, reads of the
state, writes of one change set, bulk paths, sync_runs bookkeeping, the payload
archive. Functions take a session or an engine; none makes a policy decision."""
