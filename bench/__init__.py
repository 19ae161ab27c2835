"""Benchmarks (`make bench`, `make chaos`): timings, memory peaks and the fault matrix, each
written to bench/results/. Run as `python -m bench.<name>`; never imported by the product."""
