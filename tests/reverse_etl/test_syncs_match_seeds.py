"""reverse_etl/syncs.yml repeats two lists the dbt seeds own; they must not drift apart.

The sync file stays self-contained (it is copied and pointed to with
LMSBRIDGE_SYNC_CONFIG_PATH), so instead of reading the seeds at run time it is checked
against them here: the lms_attribution_model options against the attribution_models seed,
and the lifecyclestage forward_only order against the lifecycle_stages seed.
"""

from __future__ import annotations

import csv
from pathlib import Path

from reverse_etl.config import FieldSpec, SyncFile, load_config, parse_config

ROOT = Path(__file__).resolve().parents[2]
SYNCS = ROOT / "reverse_etl" / "syncs.yml"
SEEDS = ROOT / "dbt_project" / "seeds"


def _rows(seed: str) -> list[dict[str, str]]:
    with (SEEDS / seed).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _field(config: SyncFile, prop: str) -> FieldSpec:
    specs = [f for s in config.syncs for f in s.fields.values() if f.property == prop]
    assert len(specs) == 1, f"syncs.yml maps {prop} {len(specs)} times, expected once"
    return specs[0]


def disagreements(config: SyncFile) -> list[str]:
    """Each way syncs.yml differs from the seeds, as a sentence saying what to fix."""
    problems = []
    models = [(r["attribution_model"], r["label"]) for r in _rows("attribution_models.csv")]
    options = [(o.value, o.label) for o in _field(config, "lms_attribution_model").options or ()]
    if options != models:
        problems.append(
            "syncs.yml lms_attribution_model options "
            f"{options} differ from dbt_project/seeds/attribution_models.csv {models}: "
            "list the seed's (attribution_model, label) rows as options, in seed order"
        )
    stages = sorted(_rows("lifecycle_stages.csv"), key=lambda r: int(r["stage_order"]))
    ordered = [r["stage"] for r in stages if r["forward_only"] == "true"]
    forward = list(_field(config, "lifecyclestage").forward_only or ())
    if forward != ordered:
        problems.append(
            f"syncs.yml lifecyclestage forward_only {forward} differs from "
            f"dbt_project/seeds/lifecycle_stages.csv {ordered} (stages flagged forward_only, "
            "by stage_order): make forward_only that list"
        )
    return problems


def test_syncs_yml_agrees_with_the_seeds() -> None:
    problems = disagreements(load_config(SYNCS))
    assert not problems, "\n".join(problems)


def test_a_drifted_option_or_stage_order_is_named() -> None:
    text = SYNCS.read_text(encoding="utf-8")
    drifted = text.replace("- {label: Weighted, value: weighted}\n", "").replace(
        "[subscriber, lead,", "[lead, subscriber,"
    )
    assert drifted != text
    problems = disagreements(parse_config(drifted))
    assert len(problems) == 2, problems
    models = [(r["attribution_model"], r["label"]) for r in _rows("attribution_models.csv")]
    kept = [m for m in models if m[0] != "weighted"]
    assert f"lms_attribution_model options {kept} differ" in problems[0]
    assert "lifecyclestage forward_only ['lead', 'subscriber'," in problems[1]
