"""reverse_etl/syncs.yml and the dbt seeds it depends on must not drift apart.

The lms_attribution_model options are read at run time from marts.dim_attribution_models
(built from the attribution_models seed), so the field must point there with options_from
rather than list them. The lifecyclestage forward_only order is repeated in the file (it
stays self-contained for that) and is checked against the lifecycle_stages seed.
"""

from __future__ import annotations

import csv
from pathlib import Path

from reverse_etl.config import FieldSpec, OptionsFrom, SyncFile, load_config, parse_config

ROOT = Path(__file__).resolve().parents[2]
SYNCS = ROOT / "reverse_etl" / "syncs.yml"
SEEDS = ROOT / "dbt_project" / "seeds"
MODELS_FROM = OptionsFrom(
    table="marts.dim_attribution_models", value="attribution_model", label="label"
)


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
    model = _field(config, "lms_attribution_model")
    if model.options is not None or model.options_from != MODELS_FROM:
        problems.append(
            "syncs.yml lms_attribution_model must take its options from the attribution_models "
            "seed: declare `options_from: {table: marts.dim_attribution_models, value: "
            "attribution_model, label: label}` and no options list"
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


def test_a_listed_option_set_or_stage_order_is_named() -> None:
    text = SYNCS.read_text(encoding="utf-8")
    pointer = (
        "options_from: {table: marts.dim_attribution_models, value: attribution_model, "
        "label: label}"
    )
    drifted = text.replace(pointer, "options: [{label: Linear, value: linear}]").replace(
        "[subscriber, lead,", "[lead, subscriber,"
    )
    assert drifted.count("value: linear}]") == 1 and "[lead, subscriber," in drifted
    problems = disagreements(parse_config(drifted))
    assert len(problems) == 2, problems
    assert "lms_attribution_model must take its options from the attribution_models" in problems[0]
    assert "lifecyclestage forward_only ['lead', 'subscriber'," in problems[1]


def test_another_table_is_named_too() -> None:
    text = SYNCS.read_text(encoding="utf-8")
    moved = text.replace("table: marts.dim_attribution_models", "table: marts.other_models")
    assert moved != text
    [problem] = disagreements(parse_config(moved))
    assert "options_from: {table: marts.dim_attribution_models" in problem
