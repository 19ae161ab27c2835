"""The bad-input corpus (cases.yml): each case through the real CLI, the real CSV import or
the real webhook receiver, with the documented exit code or HTTP status and one line naming
the problem.

Speed: every command case that needs no network runs in one pool of subprocesses (started
for the cases pytest selected), all CSV cases share one `lmsbridge extract csv` over one
folder, and only the credential cases use the session sandbox of tests/flows/conftest.py.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pytest
import yaml

from sandbox.runner import SandboxProcess, free_port
from tests.flows.conftest import FAST, small_sandbox_proc  # noqa: F401  (session fixture)

HERE = Path(__file__).resolve().parent
FILES = HERE / "files"
CORPUS: dict[str, Any] = yaml.safe_load((HERE / "cases.yml").read_text(encoding="utf-8"))
CASES: list[dict[str, Any]] = CORPUS["cases"]
LMSBRIDGE = Path(sys.executable).with_name("lmsbridge")

# Canary secrets in every secret setting: none may appear in any output.
HUBSPOT_TOKEN = "pat-na1-canary-badinput-not-real-0001"
LMS_SECRET = "canary-badinput-lms-client-secret-0002"
WEBHOOK_SECRET = "canary-badinput-webhook-secret-0003"
CANARIES = (HUBSPOT_TOKEN, LMS_SECRET, WEBHOOK_SECRET)
# Generous: the machine is shared; a case that hangs is a failure, not a slow pass.
TIMEOUT_S = 240
WORKERS = 4


def _by(category: str | tuple[str, ...]) -> list[dict[str, Any]]:
    wanted = (category,) if isinstance(category, str) else category
    return [c for c in CASES if c["category"] in wanted]


def _ids(cases: list[dict[str, Any]]) -> list[str]:
    return [c["id"] for c in cases]


LOCAL = [c for c in _by(("settings", "cli", "syncs")) if not c.get("network")]
NETWORK = [c for c in CASES if c.get("network")]
CSV = _by("csv")
WEBHOOK = _by("webhook")


def test_corpus_is_well_formed() -> None:
    ids = _ids(CASES)
    assert len(ids) == len(set(ids)), "case ids must be unique"
    assert len(CASES) >= 60
    known = {"settings", "cli", "syncs", "credentials", "csv", "webhook"}
    assert {c["category"] for c in CASES} == known
    for case in CASES:
        assert case.get("bad"), case["id"]
        if case["category"] == "csv":
            assert (FILES / "csv" / case["file"]).is_file(), case["id"]
        elif case["category"] == "webhook":
            assert "status" in case and "message" in case, case["id"]
        else:
            assert {"command", "exit", "message"} <= case.keys(), case["id"]
            re.compile(case["message"])
    listed = {c["file"] for c in CSV}
    assert listed == {p.name for p in (FILES / "csv").glob("*.csv")}, "every CSV file is a case"


# ---- running the CLI -------------------------------------------------------------------------


@dataclass
class Outcome:
    code: int
    stdout: str
    stderr: str


def _fill(value: str, slots: dict[str, str]) -> str:
    for key, text in slots.items():
        value = value.replace("{" + key + "}", text)
    return value


def _base_env(work: Path, sandbox_env: dict[str, str] | None) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("LMSBRIDGE_") and k not in ("PREFECT_API_URL", "COLUMNS")
    }
    csv_dir = work / "csv"
    csv_dir.mkdir(parents=True, exist_ok=True)
    env.update(
        {
            # Never contacted by a local case: one that tries fails with exit 4, loudly.
            "LMSBRIDGE_HUBSPOT_BASE_URL": f"http://127.0.0.1:{free_port()}",
            "LMSBRIDGE_HUBSPOT_ACCESS_TOKEN": HUBSPOT_TOKEN,
            "LMSBRIDGE_LMS_CLIENT_SECRET": LMS_SECRET,
            "LMSBRIDGE_LMS_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "LMSBRIDGE_LMS_CSV_DIR": str(csv_dir),
            "LMSBRIDGE_WAREHOUSE_PATH": str(work / "wh" / "lmsbridge.duckdb"),
            "LMSBRIDGE_HTTP_RETRY_BUDGET_S": "2",
        }
    )
    if sandbox_env is not None:
        env.update(sandbox_env)
        env["LMSBRIDGE_LMS_RATE_CALLS"] = str(FAST - 1000)
    return env


def _prepare(
    case: dict[str, Any], work: Path, sandbox_env: dict[str, str] | None
) -> dict[str, str]:
    """The case's working folder and environment, as cases.yml describes them."""
    work.mkdir(parents=True, exist_ok=True)
    env = _base_env(work, sandbox_env)
    slots = {
        "work": str(work),
        "files": str(FILES),
        "closed_url": f"http://127.0.0.1:{free_port()}",
    }
    for step in case.get("prepare", []):
        if "mkdir" in step:
            (work / step["mkdir"]).mkdir(parents=True, exist_ok=True)
        elif "write" in step:
            (work / step["write"]).write_text(step["text"], encoding="utf-8")
        elif "duckdb" in step:
            path = work / step["duckdb"]
            path.parent.mkdir(parents=True, exist_ok=True)
            with duckdb.connect(str(path)) as con:
                con.execute(step["sql"])
        else:
            raise AssertionError(f"{case['id']}: unknown prepare step {step}")
    if "dotenv" in case:
        shutil.copyfile(FILES / "env" / case["dotenv"], work / ".env")
    if "syncs" in case:
        env["LMSBRIDGE_SYNC_CONFIG_PATH"] = str(FILES / "syncs" / case["syncs"])
    for key in case.get("unset", []):
        env.pop(key, None)
    for key, value in case.get("env", {}).items():
        env[key] = _fill(str(value), slots)
    return env


def _run_cli(args: list[str], cwd: Path, env: dict[str, str]) -> Outcome:
    done = subprocess.run(
        [str(LMSBRIDGE), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        errors="backslashreplace",
        timeout=TIMEOUT_S,
        stdin=subprocess.DEVNULL,
    )
    return Outcome(done.returncode, done.stdout, done.stderr)


def _error_lines(stderr: str) -> list[str]:
    # Ours print "error: ...", click's usage errors "Error: ...".
    return [ln for ln in stderr.splitlines() if ln.lower().startswith("error:")]


def _assert_outcome(case: dict[str, Any], out: Outcome) -> None:
    shown = f"exit {out.code}\n--- stdout\n{out.stdout}\n--- stderr\n{out.stderr}"
    assert out.code == case["exit"], shown
    assert "Traceback" not in out.stderr + out.stdout, shown
    errors = _error_lines(out.stderr)
    assert len(errors) == 1, f"want one error line\n{shown}"
    assert re.search(case["message"], errors[0]), f"{case['message']!r} not in the error\n{shown}"
    # One line: nothing of the message continues after it (progress output comes before).
    tail = out.stderr.rstrip("\n").splitlines()
    assert tail[-1] == errors[0], f"the error line must be the last line of stderr\n{shown}"
    for secret in (*CANARIES, *case.get("secrets", [])):
        assert secret not in out.stdout + out.stderr, f"secret leaked\n{shown}"


@pytest.fixture(scope="module")
def work_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("bad-inputs")


def _selected(request: pytest.FixtureRequest, cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The cases of this list that pytest will run (so `-k one-case` starts one process)."""
    names = {item.callspec.id for item in request.session.items if hasattr(item, "callspec")}
    return [c for c in cases if c["id"] in names]


CSV_RUN = "csv-run"


def _network_env(case: dict[str, Any], sandbox: SandboxProcess) -> dict[str, str]:
    env = sandbox.env()
    # The sandbox's own secret reaches the emulator unless the case replaces it.
    if "LMSBRIDGE_LMS_CLIENT_SECRET" in case.get("env", {}):
        env.pop("LMSBRIDGE_LMS_CLIENT_SECRET")
    return env


@pytest.fixture(scope="module")
def outcomes(request: pytest.FixtureRequest, work_root: Path) -> dict[str, Outcome]:
    """Every selected command case and the CSV folder import, run concurrently."""
    local = _selected(request, LOCAL)
    network = _selected(request, NETWORK)
    want_csv = any("csv" in item.name for item in request.session.items)

    def command(case: dict[str, Any], sandbox: SandboxProcess | None) -> Outcome:
        work = work_root / case["id"]
        env = _prepare(case, work, None if sandbox is None else _network_env(case, sandbox))
        return _run_cli(case["command"], work, env)

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        futures = {c["id"]: pool.submit(command, c, None) for c in local}
        if want_csv:
            futures[CSV_RUN] = pool.submit(_csv_run, work_root / CSV_RUN)
        if network:
            # Started while the local cases run; a case that restricts the emulator's tokens
            # runs alone afterwards so it cannot fail the others with a 401.
            sandbox: SandboxProcess = request.getfixturevalue("small_sandbox_proc")
            shared = [c for c in network if not c.get("hubspot_tokens")]
            futures |= {c["id"]: pool.submit(command, c, sandbox) for c in shared}
            for future in [futures[c["id"]] for c in shared]:
                future.exception()
            for case in network:
                if case.get("hubspot_tokens"):
                    sandbox.control_post("hubspot", "auth", {"tokens": case["hubspot_tokens"]})
                    try:
                        futures[case["id"]] = pool.submit(command, case, sandbox)
                        futures[case["id"]].exception()
                    finally:
                        sandbox.control_post("hubspot", "auth", {"tokens": None})
        return {key: future.result() for key, future in futures.items()}


@pytest.mark.parametrize("case", LOCAL, ids=_ids(LOCAL))
def test_command_case(case: dict[str, Any], outcomes: dict[str, Outcome]) -> None:
    _assert_outcome(case, outcomes[case["id"]])


@pytest.mark.parametrize("case", NETWORK, ids=_ids(NETWORK))
def test_credentials_case(case: dict[str, Any], outcomes: dict[str, Outcome]) -> None:
    _assert_outcome(case, outcomes[case["id"]])


# ---- history CSVs: one folder, one import ------------------------------------------------


@dataclass
class CsvImport:
    outcome: Outcome
    good: dict[str, int]
    rejected: dict[str, list[tuple[int, str, str, str]]]


def _csv_run(work: Path) -> Outcome:
    run = CORPUS["csv_run"]
    env = _prepare({"id": CSV_RUN, "env": run.get("env", {})}, work, None)
    for case in CSV:
        shutil.copyfile(FILES / "csv" / case["file"], work / "csv" / case["file"])
    return _run_cli(run["command"], work, env)


@pytest.fixture(scope="module")
def csv_import(outcomes: dict[str, Outcome], work_root: Path) -> CsvImport:
    out = outcomes[CSV_RUN]
    run = CORPUS["csv_run"]
    assert out.code == run["exit"], f"{out.code}\n{out.stdout}\n{out.stderr}"
    assert "Traceback" not in out.stderr + out.stdout
    good: dict[str, int] = {}
    rejected: dict[str, list[tuple[int, str, str, str]]] = {}
    warehouse = work_root / CSV_RUN / "wh" / "lmsbridge.duckdb"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for name, count in con.execute(
            "select source_file, count(*) from raw_lms_files.lms_history_events group by 1"
        ).fetchall():
            good[name] = count
        for name, line, category, reason, raw in con.execute(
            "select source_file, source_line, category, reason, raw_line"
            " from raw_lms_files.rejected_rows order by source_file, source_line"
        ).fetchall():
            rejected.setdefault(name, []).append((line, category, reason, raw))
    return CsvImport(out, good, rejected)


@pytest.mark.parametrize("case", CSV, ids=_ids(CSV))
def test_csv_case(case: dict[str, Any], csv_import: CsvImport) -> None:
    name = case["file"]
    assert csv_import.good.get(name, 0) == case["good"], f"good rows of {name} that landed"
    got = csv_import.rejected.get(name, [])
    want = case["rejected"]
    assert [g[0] for g in got] == [w["line"] for w in want], got
    for (_, category, reason, raw), expected in zip(got, want, strict=True):
        assert category == expected["category"], (reason, expected)
        assert re.search(expected["reason"], reason), (reason, expected)
        assert "\n" not in reason
        if "raw_line" in expected:
            assert raw == expected["raw_line"]
    # A case that rejects rows is visible as such on the run's screen table (no crash, exit 0).
    assert csv_import.outcome.code == 0


def test_the_csv_run_lands_every_good_row_of_the_folder(csv_import: CsvImport) -> None:
    assert sum(csv_import.good.values()) == sum(c["good"] for c in CSV)
    assert sum(map(len, csv_import.rejected.values())) == sum(len(c["rejected"]) for c in CSV)


# ---- webhook receiver ----------------------------------------------------------------------


@dataclass
class Receiver:
    url: str
    landing: Path


@pytest.fixture(scope="module")
def receiver(work_root: Path) -> Iterator[Receiver]:
    from lmsbridge_core.settings import Settings
    from lmsbridge_demo.receiver import background_receiver

    landing = work_root / "webhook-landing"
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        lms_webhook_secret=WEBHOOK_SECRET,
        warehouse_path=work_root / "webhook-wh" / "lmsbridge.duckdb",
        webhook_landing_dir=landing,
    )
    with background_receiver(settings) as url:
        yield Receiver(url, landing)


def _body(case: dict[str, Any]) -> bytes:
    if "body_hex" in case:
        return bytes.fromhex(case["body_hex"])
    if "body_gen" in case:
        gen = case["body_gen"]
        if gen["kind"] == "nested_arrays":
            depth = gen["depth"]
            return f'{{"type": "userEnrolled", "data": {"[" * depth}{"]" * depth}}}'.encode()
        if gen["kind"] == "nested_objects":
            depth = gen["depth"]
            return (
                '{"type": "userEnrolled", "data": ' + '{"a": ' * depth + "1" + "}" * depth + "}"
            ).encode()
        if gen["kind"] == "padded_object":
            head = b'{"type": "userEnrolled", "pad": "'
            return head + b"x" * (gen["size"] - len(head) - 2) + b'"}'
        raise AssertionError(f"unknown body_gen {gen}")
    return str(case["body"]).encode("utf-8")


def _signature(case: dict[str, Any], body: bytes) -> dict[str, str]:
    mac = hmac.new(WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()
    kind = case.get("signature", "valid")
    if kind == "none":
        return {}
    if kind == "invalid":
        mac = hmac.new(b"another-secret", body, hashlib.sha256).hexdigest()
    version = "v0" if kind == "wrong_version" else "v1"
    return {"Learnworlds-Webhook-Signature": f"{version}={mac}"}


@pytest.mark.parametrize("case", WEBHOOK, ids=_ids(WEBHOOK))
def test_webhook_case(case: dict[str, Any], receiver: Receiver) -> None:
    body = _body(case)
    headers = {"Content-Type": "application/json", **_signature(case, body)}
    response = httpx.post(receiver.url, content=body, headers=headers, timeout=60)
    assert response.status_code == case["status"], response.text
    error = response.json()["error"]
    assert re.search(case["message"], error), error
    assert "\n" not in error
    assert WEBHOOK_SECRET not in response.text
    landed = (
        [p for p in receiver.landing.glob("*") if p.stat().st_size]
        if receiver.landing.exists()
        else []
    )
    assert landed == [], "a refused webhook must land nothing"


def test_the_receiver_still_lands_a_good_event(receiver: Receiver, tmp_path: Path) -> None:
    """The 400s above are about the payloads: a valid one sent after them is stored (run last
    in this module, so the 'nothing landed' checks above are not affected)."""
    body = b'{"type": "userEnrolled", "data": {"user": {"id": "u-ok"}}}'
    response = httpx.post(receiver.url, content=body, headers=_signature({}, body), timeout=60)
    assert response.status_code == 200, response.text
    assert any(p.stat().st_size for p in receiver.landing.glob("events-*.jsonl"))
