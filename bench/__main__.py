"""`make bench`: run every benchmark in turn; each writes its figures to bench/results/.

    python -m bench [NAME ...]     # names: generator, identity, dbt, dbt_incremental,
                                   #        reverse_etl, extract, two_way, startup, publish, plan,
                                   #        attribution, spark

Benchmarks run as child processes so one's memory peak does not inflate the next one's.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHES: dict[str, list[str]] = {
    "generator": ["generator_bench", "--learners", "100000"],
    "identity": ["identity_bench", "--learners", "100000"],
    "dbt": ["dbt_bench", "--learners", "100000"],
    "dbt_incremental": ["dbt_incremental_bench", "--learners", "100000"],
    "reverse_etl": ["reverse_etl_bench", "--records", "20000"],
    "extract": ["extract_bench", "--learners", "10000"],
    "two_way": ["two_way_bench", "--learners", "2000"],
    "startup": ["startup_bench", "--learners", "2000"],
    # before/after of issue 14's lean publish: the base commit's publish on the same warehouse
    "publish": ["publish_bench", "--learners", "100000", "--baseline", "6657a3ec646c"],
    "plan": ["plan_bench", "--records", "200000"],
    "attribution": ["attribution_bench", "--learners", "100000"],
    # needs the spark group (make bench installs it) and Java 17+
    "spark": ["spark_bench", "--learners", "100000"],
}


def main(argv: list[str]) -> int:
    names = argv or list(BENCHES)
    unknown = [n for n in names if n not in BENCHES]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(BENCHES)}")
        return 2
    failed = []
    for name in names:
        module, *args = BENCHES[name]
        print(f"\n=== {name} (bench.{module} {' '.join(args)})", flush=True)
        started = time.monotonic()
        code = subprocess.call([sys.executable, "-m", f"bench.{module}", *args], cwd=HERE.parent)
        print(f"=== {name}: exit {code} after {time.monotonic() - started:.0f} s", flush=True)
        if code != 0:
            failed.append(name)
    print(f"\nresults in {HERE / 'results'}; failed: {', '.join(failed) or 'none'}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
