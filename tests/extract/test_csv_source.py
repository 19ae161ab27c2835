"""History CSV import: row-level validation, rejected rows with reasons, idempotent re-import."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from extract import run_csv
from extract.csv_source import parse_file
from lmsbridge_core.settings import Settings

HEADER = "learner_email,lms_user_id,course_id,course_name,event_type,score,occurred_at,lms,external_event_id\n"
GOOD = [
    "a@x.com,u1,c1,Course 1,completed,88,2024-03-05T14:02:11Z,learnworlds,\n",
    "b@x.com,,c1,Course 1,enrolled,,1709647331,csv,ext-1\n",
    'q@x.com,,c2,"Course, two",certificate_issued,100,2024-03-05T14:02:11+02:00,,\n',
]
BAD = {
    ",u3,c1,Course 1,enrolled,,2024-03-05T14:02:11Z,,\n": "learner_email",
    "c@x.com,,c1,,flew,,2024-03-05T14:02:11Z,,\n": "event type",
    "d@x.com,,c1,,completed,,yesterday,,\n": "unparseable time",
    "e@x.com,,c1,,completed,101,2024-03-05T00:00:00Z,,\n": "score",
    "f@x.com,,c1,,completed,abc,2024-03-05T00:00:00Z,,\n": "score",
    "g h@x.com,,c1,,completed,,2024-03-05T00:00:00Z,,\n": "not an email",
}


def _settings(tmp_path: Path) -> Settings:
    csv_dir = tmp_path / "csv"
    csv_dir.mkdir(exist_ok=True)
    return Settings(
        _env_file=None, warehouse_path=tmp_path / "wh" / "w.duckdb", lms_csv_dir=csv_dir
    )


def _query(settings: Settings, sql: str) -> list[tuple]:
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        return con.sql(sql).fetchall()


def test_parse_file_rejects_each_bad_row_with_its_line_and_reason():
    content = (HEADER + "".join(GOOD) + "".join(BAD)).encode()
    good, bad = parse_file("h.csv", content)
    assert len(good) == len(GOOD)
    assert [r["source_line"] for r in bad] == list(range(2 + len(GOOD), 2 + len(GOOD) + len(BAD)))
    for row, expected in zip(bad, BAD.values(), strict=True):
        assert expected in row["reason"], row["reason"]
    assert good[1]["event_key"] == "ext-1"
    # Unix seconds and offsets both end up as UTC instants.
    assert good[1]["occurred_at"].isoformat() == "2024-03-05T14:02:11+00:00"
    assert good[2]["occurred_at"].isoformat() == "2024-03-05T12:02:11+00:00"


def test_header_without_required_columns_rejects_the_file():
    good, bad = parse_file("h.csv", b"email,course\nx@y.com,c1\n")
    assert good == []
    assert len(bad) == 1
    assert "learner_email" in bad[0]["reason"]


def test_run_csv_lands_good_rows_rejects_bad_and_reimport_adds_nothing(tmp_path):
    settings = _settings(tmp_path)
    path = settings.lms_csv_dir / "history.csv"
    path.write_text(HEADER + "".join(GOOD) + "".join(BAD))

    first = run_csv(settings)
    assert first.rows_by_table["lms_history_events"] == len(GOOD)
    assert first.rejected == len(BAD)
    rejected = _query(settings, "select source_file, reason from raw_lms_files.rejected_rows")
    assert {f for f, _ in rejected} == {"history.csv"}
    assert len(rejected) == len(BAD)

    second = run_csv(settings)
    assert second.rows_by_table == {}

    # Same rows in a differently named copy: merged on event_key, still one row per event.
    (settings.lms_csv_dir / "copy.csv").write_text(HEADER + "".join(GOOD))
    run_csv(settings)
    count = _query(settings, "select count(*) from raw_lms_files.lms_history_events")
    assert count == [(len(GOOD),)]


def test_appended_rows_land_on_the_next_import(tmp_path):
    settings = _settings(tmp_path)
    path = settings.lms_csv_dir / "history.csv"
    path.write_text(HEADER + GOOD[0])
    run_csv(settings)
    path.write_text(HEADER + GOOD[0] + GOOD[1])
    run_csv(settings)
    count = _query(settings, "select count(*) from raw_lms_files.lms_history_events")
    assert count == [(2,)]


def test_missing_csv_dir_is_a_clear_error(tmp_path):
    from extract.result import ExtractError

    with pytest.raises(ExtractError, match="LMSBRIDGE_LMS_CSV_DIR"):
        run_csv(Settings(_env_file=None, warehouse_path=tmp_path / "w.duckdb"))
