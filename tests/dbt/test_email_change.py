"""An email edited in HubSpot never silently moves a learner to another contact
(README "When an email changes"): a rebuild after the edit reports `match_moved`."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from lmsbridge_core import build_record
from tests.dbt.conftest import BuiltWarehouse
from tests.dbt.dbt_runner import run_dbt

# only what the edit reaches: staging view, identity chain, email history, marts
REBUILT = [
    "stg_hubspot__contacts",
    "int_emails_normalized",
    "int_contact_emails",
    "int_learner_contact_candidates",
    "int_learner_contact_rule_matches",
    "int_learner_match_memory",
    "int_learner_contact_matches",
    "int_contact_email_history",
    "identity_conflicts",
    "dim_learners",
]
# u02 (bob@beta.io) is matched to contact 102 by email alone in the tiny dataset
LEARNER, OLD_CONTACT, NEW_CONTACT = "u02", "102", "990"


def _query(path: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.fixture(scope="module")
def after_email_edit(
    built_warehouse: BuiltWarehouse, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    # same file name: DuckDB views keep the catalog name (the file's stem) in their SQL
    work = tmp_path_factory.mktemp("email_edit")
    copy = work / built_warehouse.path.name
    shutil.copyfile(built_warehouse.path, copy)
    with duckdb.connect(str(copy)) as con:
        # someone renames 102's email and a new contact takes the old address
        con.execute(
            "insert into raw_hubspot.contacts select * replace (? as id) "
            "from raw_hubspot.contacts where id = ?",
            [NEW_CONTACT, OLD_CONTACT],
        )
        con.execute(
            "update raw_hubspot.contacts set email = 'bob.renamed@beta.io' where id = ?",
            [OLD_CONTACT],
        )
        # as if the pipeline had built this warehouse: the rebuild below must drop it
        build_record.write(con, build_record.BuildRecord("pipeline build", True, 1.0))
    result = run_dbt(["run", "-s", *REBUILT], copy, work, built_warehouse.as_of)
    assert result.returncode == 0, result.output[-3000:]
    return copy


def test_a_manual_dbt_run_drops_the_pipelines_build_record(after_email_edit: Path) -> None:
    """The marts changed outside the pipeline: the project's on-run-start hook drops the
    record, so the next scheduled run builds (flows/build_inputs.py) and the next plan reads
    the marts (reverse_etl/changed_rows.py)."""
    with duckdb.connect(str(after_email_edit)) as con:
        assert build_record.read(con) is None


def test_the_learner_was_matched_by_email_before_the_edit(built_warehouse: BuiltWarehouse):
    rows = built_warehouse.query(
        f"select hubspot_contact_id, match_method from marts.dim_learners "
        f"where lms_user_id = '{LEARNER}'"
    )
    assert rows == [(OLD_CONTACT, "email")]


def test_an_email_edit_is_a_match_moved_conflict_not_a_silent_rematch(after_email_edit: Path):
    matched = _query(
        after_email_edit,
        f"select hubspot_contact_id from marts.dim_learners where lms_user_id = '{LEARNER}'",
    )
    assert matched == [(None,)]
    conflicts = _query(
        after_email_edit,
        "select reason, candidate_ids, moved_from_contact_id, moved_to_contact_id "
        f"from marts.identity_conflicts where lms_user_id = '{LEARNER}'",
    )
    assert conflicts == [("match_moved", f"{OLD_CONTACT};{NEW_CONTACT}", OLD_CONTACT, NEW_CONTACT)]


def test_the_contact_email_history_keeps_the_old_address(after_email_edit: Path):
    history = _query(
        after_email_edit,
        "select email_normalized from intermediate.int_contact_email_history "
        f"where hubspot_contact_id = '{OLD_CONTACT}' order by email_normalized",
    )
    assert history == [("bob.renamed@beta.io",), ("bob@beta.io",)]
