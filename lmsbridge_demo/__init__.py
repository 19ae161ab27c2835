"""`make demo`: a generated school and CRM against the emulators, two runs, a RevOps summary.

`demo` (the script, `python -m lmsbridge_demo`), `receiver` (the webhook receiver in a
background thread, also used by the tests). It may import every package; the product
packages never import it.
"""
