"""Performance benchmarks: the bot against its framework, its database and Telegram's limits.

`python -m benchmarks` prints a table; `--json` one JSON object; `--quick` a shorter run.
Each module has an async `run(...)` returning its keys; see docs/performance.md.
"""
