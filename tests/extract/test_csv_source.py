"""History CSV import: row-level validation, rejected rows with reasons, idempotent re-import.

Bad input stays in its row: oversized fields, bad bytes, future dates and odd line breaks
reject one row (with its exact physical line), a bad header rejects one file, and a file that
cannot be read at all is retried next run while the others land.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from extract import run_csv
from extract.csv_source import parse_file
from lmsbridge_core.errors import ConfigurationError
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


def _settings(tmp_path: Path, **overrides: object) -> Settings:
    csv_dir = tmp_path / "csv"
    csv_dir.mkdir(exist_ok=True)
    return Settings(
        _env_file=None,
        warehouse_path=tmp_path / "wh" / "w.duckdb",
        lms_csv_dir=csv_dir,
        **overrides,  # type: ignore[arg-type]
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
    with pytest.raises(ConfigurationError, match="LMSBRIDGE_LMS_CSV_DIR"):
        run_csv(Settings(_env_file=None, warehouse_path=tmp_path / "w.duckdb"))


def _rejected(settings: Settings) -> dict[tuple[str, int], tuple[str, str, str]]:
    rows = _query(
        settings,
        "select source_file, source_line, category, reason, raw_line"
        " from raw_lms_files.rejected_rows",
    )
    return {(f, line): (cat, reason, raw) for f, line, cat, reason, raw in rows}


def _events(settings: Settings) -> dict[tuple[str, int], str]:
    rows = _query(
        settings,
        "select source_file, source_line, learner_email from raw_lms_files.lms_history_events",
    )
    return {(f, line): email for f, line, email in rows}


def test_large_fields_land_up_to_the_cap_and_a_row_past_it_is_rejected_alone(tmp_path):
    settings = _settings(tmp_path, csv_max_field_bytes=400_000)
    big = "x" * 300_000  # over Python csv's default 128 KiB field limit, under our cap
    huge = "y" * 500_000
    (settings.lms_csv_dir / "a.csv").write_text(
        HEADER
        + GOOD[0]
        + f'big@x.com,,c1,"{big}",enrolled,,2024-03-05T00:00:00Z,,\n'
        + f"huge@x.com,,c1,{huge},enrolled,,2024-03-05T00:00:00Z,,\n"
        + GOOD[1]
    )
    (settings.lms_csv_dir / "b.csv").write_text(HEADER + GOOD[2])

    result = run_csv(settings)

    events = _events(settings)
    assert sorted(events.values()) == ["a@x.com", "b@x.com", "big@x.com", "q@x.com"]
    assert _query(
        settings,
        "select length(course_name) from raw_lms_files.lms_history_events"
        " where learner_email = 'big@x.com'",
    ) == [(300_000,)]
    rejected = _rejected(settings)
    assert list(rejected) == [("a.csv", 4)]
    category, reason, raw = rejected["a.csv", 4]
    assert category == "too_large"
    assert (
        reason == "course_name: field is 500000 bytes, over LMSBRIDGE_CSV_MAX_FIELD_BYTES (400000)"
    )
    assert raw.startswith("huge@x.com,,c1,yyy") and "[truncated, " in raw
    assert result.rejected == 1


def test_a_bad_byte_rejects_only_its_row_and_names_the_offset(tmp_path):
    settings = _settings(tmp_path)
    bad = b"latin@x.com,,c1,Cours \xe9t\xe9,enrolled,,2024-03-05T00:00:00Z,,\n"
    content = HEADER.encode() + GOOD[0].encode() + bad + GOOD[1].encode()
    (settings.lms_csv_dir / "h.csv").write_bytes(content)

    run_csv(settings)

    assert sorted(_events(settings).values()) == ["a@x.com", "b@x.com"]
    category, reason, raw = _rejected(settings)["h.csv", 3]
    offset = len(HEADER) + len(GOOD[0]) + bad.index(b"\xe9")
    assert category == "encoding"
    assert reason.startswith(f"not UTF-8: byte 0xe9 at file offset {offset} (line 3, column")
    assert raw == r"latin@x.com,,c1,Cours \xe9t\xe9,enrolled,,2024-03-05T00:00:00Z,,"


def test_duplicate_header_rejects_its_file_by_name_and_other_files_land(tmp_path):
    settings = _settings(tmp_path)
    dup = HEADER.replace("course_name", "learner_email")
    (settings.lms_csv_dir / "dup.csv").write_text(dup + GOOD[0])
    (settings.lms_csv_dir / "ok.csv").write_text(HEADER + GOOD[1])

    run_csv(settings)

    assert list(_events(settings).values()) == ["b@x.com"]
    category, reason, raw = _rejected(settings)["dup.csv", 1]
    assert category == "header"
    assert reason == (
        "header repeats columns: learner_email (columns 1, 4); which one to read is ambiguous"
    )
    assert raw == dup.rstrip("\n")


def test_raw_lines_are_the_exact_physical_lines_whatever_the_line_breaks(tmp_path):
    settings = _settings(tmp_path)
    rows = [
        # U+2028 and U+0085 are line breaks to str.splitlines, not to a CSV file.
        "a@x.com,,c1,Intro\u2028to\x85sales,completed,,2024-03-05T00:00:00Z,,\r\n",
        'b@x.com,,c1,"two\nlines",flew,,2024-03-05T00:00:00Z,,\r\n',
        'c@x.com,,c1,"carriage\rreturn, ""quoted""",completed,,2024-03-05T00:00:00Z,,\r\n',
        "\r\n",
        "d@x.com,,c1,,completed,,not-a-time,,\r\n",
        'e@x.com,,c1,"never closed,completed,,2024-03-05T00:00:00Z,,\r\nf@x.com,,c1\r\n',
    ]
    (settings.lms_csv_dir / "h.csv").write_bytes(
        (HEADER.replace("\n", "\r\n") + "".join(rows)).encode()
    )

    run_csv(settings)

    assert _events(settings) == {("h.csv", 2): "a@x.com", ("h.csv", 5): "c@x.com"}
    assert _query(
        settings,
        "select course_name from raw_lms_files.lms_history_events order by source_line",
    ) == [("Intro\u2028to\x85sales",), ('carriage\rreturn, "quoted"',)]
    rejected = _rejected(settings)
    assert set(rejected) == {("h.csv", 3), ("h.csv", 8), ("h.csv", 9)}
    assert rejected["h.csv", 3][2] == 'b@x.com,,c1,"two\nlines",flew,,2024-03-05T00:00:00Z,,'
    assert rejected["h.csv", 8][2] == "d@x.com,,c1,,completed,,not-a-time,,"
    assert rejected["h.csv", 8][0] == "invalid"
    # An unterminated quote swallows the rest of the file: one rejected row, not a crash.
    assert rejected["h.csv", 9][:2] == (
        "malformed",
        "quoted field opened on line 9 is never closed",
    )
    assert rejected["h.csv", 9][2].endswith("f@x.com,,c1")


def test_future_dated_events_are_rejected_with_their_own_category():
    now = datetime(2025, 1, 1, tzinfo=UTC)
    content = (
        HEADER
        + "a@x.com,,c1,,completed,,2025-01-01T20:00:00Z,,\n"  # hours ahead: clock skew, kept
        + "b@x.com,,c1,,completed,,2099-03-05T00:00:00Z,,\n"
    ).encode()
    good, bad = parse_file("h.csv", content, now=now)
    assert [r["learner_email"] for r in good] == ["a@x.com"]
    assert [(r["source_line"], r["category"]) for r in bad] == [(3, "future_dated")]
    assert "2099-03-05T00:00:00+00:00 is in the future" in bad[0]["reason"]


def test_every_rejection_has_a_category():
    good, bad = parse_file("h.csv", (HEADER + "".join(BAD)).encode())
    assert good == []
    assert {r["category"] for r in bad} == {"invalid"}
    _, header_bad = parse_file("h.csv", b"email,course\nx@y.com,c1\n")
    assert header_bad[0]["category"] == "header"


def test_a_file_that_cannot_be_read_is_retried_next_run_without_blocking_others(tmp_path):
    settings = _settings(tmp_path)
    (settings.lms_csv_dir / "broken.csv").mkdir()  # read_bytes fails: IsADirectoryError
    (settings.lms_csv_dir / "good.csv").write_text(HEADER + GOOD[0])

    run_csv(settings)
    assert list(_events(settings).values()) == ["a@x.com"]

    (settings.lms_csv_dir / "broken.csv").rmdir()
    (settings.lms_csv_dir / "broken.csv").write_text(HEADER + GOOD[1])
    run_csv(settings)
    assert sorted(_events(settings).values()) == ["a@x.com", "b@x.com"]


def test_a_bom_is_skipped_and_offsets_still_count_it():
    content = b"\xef\xbb\xbf" + HEADER.encode() + b"x@x.com,,c1,\xff,enrolled,,1709647331,,\n"
    good, bad = parse_file("h.csv", content)
    assert good == []
    offset = content.index(b"\xff")
    assert bad[0]["reason"].startswith(f"not UTF-8: byte 0xff at file offset {offset} (line 2,")


def test_rows_whose_load_failed_land_on_the_next_run(tmp_path):
    """The file's hash commits with the load package that holds its rows, so a load that
    fails (here: another process holds the DuckDB lock) is finished by the next run."""
    settings = _settings(tmp_path)
    settings.warehouse_path.parent.mkdir(parents=True)
    duckdb.connect(str(settings.warehouse_path)).close()
    (settings.lms_csv_dir / "h.csv").write_text(HEADER + GOOD[0])
    hold = (
        f"import duckdb, time; c = duckdb.connect({str(settings.warehouse_path)!r});"
        " print('locked', flush=True); time.sleep(120)"
    )
    holder = subprocess.Popen([sys.executable, "-c", hold], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        with pytest.raises(Exception, match="load failed"):
            run_csv(settings)
    finally:
        holder.kill()
        holder.wait()

    run_csv(settings)
    assert list(_events(settings).values()) == ["a@x.com"]
