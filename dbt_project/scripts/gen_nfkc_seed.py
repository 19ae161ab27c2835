"""Write seeds/nfkc_map.csv: per-character Unicode NFKC compatibility mappings.

DuckDB ships NFC (`nfc_normalize`) but not NFKC. The identity rules need NFKC, so the
warehouse applies this table character by character and then composes with NFC. It is
generated from Python's `unicodedata` (run again after a Python/Unicode upgrade).

Values are written with a leading "=" so that characters a CSV loader would read as blank
or null (spaces, ".", "-") survive `dbt seed`; the model strips it.
"""

from __future__ import annotations

import argparse
import csv
import sys
import unicodedata
from pathlib import Path

SEED_PATH = Path(__file__).resolve().parent.parent / "seeds" / "nfkc_map.csv"
PREFIX = "="


def compatibility_mappings() -> list[tuple[int, str, str]]:
    """Every code point whose NFKC form differs from its NFC form (a compatibility mapping)."""
    rows: list[tuple[int, str, str]] = []
    for codepoint in range(0x80, sys.maxunicode + 1):
        if 0xD800 <= codepoint <= 0xDFFF:
            continue  # surrogates are not characters
        char = chr(codepoint)
        nfkc = unicodedata.normalize("NFKC", char)
        # a double quote cannot appear in an email's local part unquoted, and DuckDB's CSV
        # sniffer trips over escaped quotes: those few mappings are left out
        if nfkc != unicodedata.normalize("NFC", char) and '"' not in nfkc:
            rows.append((codepoint, PREFIX + char, PREFIX + nfkc))
    return rows


def write_seed(path: Path = SEED_PATH) -> int:
    rows = compatibility_mappings()
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["codepoint", "source_char", "target_text"])
        writer.writerows(rows)
    return len(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=SEED_PATH)
    args = parser.parse_args()
    count = write_seed(args.out)
    print(f"wrote {count} mappings to {args.out}")


if __name__ == "__main__":
    main()
