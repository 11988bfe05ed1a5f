"""The composition root: where a run is put together from a configuration.

Above `flows` and `analysts`, below `cli`. `wiring` builds the parts of a run
(the HTTP client and `HooxSource`, details and pricing, the policy, the
notifier) from a `Config`; `after` owns every output a run leaves outside the
database (the digest to the webhook and chat, the metrics textfile, the feed),
in one place; `runs` runs sync, dry run, schedule, import and rebuild; `demo`
runs the newcomer's story. The CLI, the tests' history builder, the property
tests and the benchmark all call these, so a run is wired once.
"""
