"""`python -m lmsbridge_demo` (what `make demo` runs)."""

import sys

from lmsbridge_demo.demo import run_from_command_line

sys.exit(run_from_command_line())
