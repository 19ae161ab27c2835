"""The `lmsbridge` command: argument parsing, exit codes, terminal output, status and report.

`cli` (the Typer app behind the console script), `console` (progress bars, quiet tracebacks),
`status` (`lmsbridge status`), `report` (`lmsbridge report`, with `templates/`). It drives
`flows` and may import every package; nothing imports it except the demo and the tests.
"""
