"""Benchmark the synthetic data generator: wall time and peak RSS at 100,000 learners.

    uv run --frozen python -m bench.generator_bench [--learners 1000000] [--seed 1] [--keep DIR]

Targets (brief): 100,000 learners in < 60 s and < 1 GiB RSS; 1,000,000 must complete.
Each run happens in a fresh child process so its peak RSS is the generator's alone.
Results go to stdout and bench/results/generator.json (one entry per learner count).
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "generator.json"
TARGET_S = 60.0
TARGET_RSS_MB = 1024.0


def _child(out: Path, learners: int, seed: int) -> None:
    from sandbox.generator import generate

    started = time.perf_counter()
    manifest = generate(out, learners, seed)
    wall = time.perf_counter() - started
    # ru_maxrss is in KiB on Linux: the peak of this whole process.
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rows = sum(manifest.counts.values())
    size_mb = sum(p.stat().st_size for p in out.rglob("*") if p.is_file()) / 2**20
    print(json.dumps({"wall_s": wall, "peak_rss_mb": peak_mb, "rows": rows, "size_mb": size_mb}))


def run(learners: int, seed: int, keep: Path | None) -> dict[str, object]:
    workdir = Path(tempfile.mkdtemp(prefix="generator-bench-"))
    out = keep or workdir / "data"
    try:
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.generator_bench",
                "--child",
                "--learners",
                str(learners),
                "--seed",
                str(seed),
                "--out",
                str(out),
            ],
            capture_output=True,
            text=True,
            check=False,
            cwd=Path(__file__).resolve().parent.parent,
        )
        if proc.returncode != 0:
            raise SystemExit(f"generator failed:\n{proc.stderr[-3000:]}")
        measured = json.loads(proc.stdout.strip().splitlines()[-1])
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return {
        "learners": learners,
        "seed": seed,
        "wall_s": round(measured["wall_s"], 2),
        "peak_rss_mb": round(measured["peak_rss_mb"], 1),
        "rows": measured["rows"],
        "rows_per_s": round(measured["rows"] / measured["wall_s"]),
        "size_mb": round(measured["size_mb"], 1),
        "within_targets": measured["wall_s"] < TARGET_S and measured["peak_rss_mb"] < TARGET_RSS_MB
        if learners <= 100_000
        else None,
        "machine": f"{platform.machine()} {platform.python_version()}",
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--learners", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", type=Path, help="write the dataset here and keep it")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.out, args.learners, args.seed)
        return

    result = run(args.learners, args.seed, args.keep)
    print(json.dumps(result, indent=2))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    existing = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    existing[str(args.learners)] = result
    RESULTS.write_text(json.dumps(existing, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
