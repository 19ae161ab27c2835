"""Local stand-ins for the services lmsbridge talks to, so the product runs with no credentials.

`hubspot` and `learnworlds` (FastAPI emulators of the real APIs, served on 127.0.0.1, with a
control API for faults), `generator` (a synthetic school and CRM with realistic identity
mess, the dataset format of docs/contracts.md section 1), `runner` / `serve` (start both
emulators on a dataset). Used by the demo, the tests and the benchmarks; it shares no code
with the product and is not part of the product wheel.
"""
