"""No credential ever reaches disk or the console, whatever the run's outcome.

Distinct canaries go into every secret setting, each holding a newline, a double quote or a
backslash (the characters that change shape when a value is JSON-, repr- or URL-escaped).
The product runs as the `lmsbridge` console script in a child process, against emulators
that accept exactly the planted credentials: runs that fail on a refused HubSpot token or
LearnWorlds secret, a full successful run fed by signed webhooks, a failing sync and the
report. After each command every file under the working folder, the warehouse folder and
HOME is searched byte for byte (gzip members unpacked, DuckDB tables read, since DuckDB
compresses strings) for each canary in every form it may take.
"""

from __future__ import annotations

import base64
import gzip
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, suppress
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, quote_plus

import duckdb
import httpx
import pytest

from lmsbridge_core.redaction import redact
from lmsbridge_core.serving import serve_in_background
from sandbox import hubspot, learnworlds
from sandbox.generator import generate

LEARNERS = 30
SEED = 7
LMS_CLIENT_ID = "canary-client-id"
# Emulator limits out of the way: the test is about what lands on disk, not pacing.
FAST = 10_000
COMMAND_TIMEOUT_S = 600


def _canary(name: str, special: str) -> str:
    """Three unique fragments joined by `special`: a fragment found anywhere is a leak even
    when the special character was escaped, dropped or split a line."""
    return special.join(f"cnry{name}{part}{os.getpid():x}" for part in ("AA", "BB", "CC"))


@dataclass(frozen=True)
class Canaries:
    # Accepted by the emulators: a header value cannot hold a newline, a JSON body or an
    # HMAC key can.
    hubspot_ok: str = _canary("hubspotok", '"') + "\\" + "cnryhubspotokDD"
    lms_secret_ok: str = _canary("lmssecretok", "\n") + '"\\' + "cnrylmssecretokDD"
    # LearnWorlds sends the webhook secret itself in a header, so no newline here...
    webhook_secret: str = _canary("webhooksecret", "\\") + '"' + "cnrywebhooksecretDD"
    # ...but a configured one with a newline must not leak either (set for the failing runs).
    webhook_secret_newline: str = _canary("webhooknewline", "\n")
    # Refused: not registered with the emulators.
    hubspot_newline: str = _canary("hubspotnewline", "\n")
    hubspot_refused: str = _canary("hubspotrefused", "\\") + '"' + "cnryhubspotrefusedDD"
    lms_secret_refused: str = _canary("lmssecretrefused", '"') + "\n\\" + "cnrylmsrefusedDD"

    def all(self) -> dict[str, str]:
        return {k: v for k, v in vars(self).items() if isinstance(v, str)}


CANARIES = Canaries()


def needles(secret: str) -> set[bytes]:
    """Every byte form a secret may take on disk or screen."""
    forms = {
        secret,
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        repr(secret)[1:-1],
        quote(secret, safe=""),
        quote_plus(secret),
    }
    for special in ("\n", '"', "\\"):
        forms.update(p for p in secret.split(special) if len(p) >= 12)
    out = {f.encode() for f in forms}
    for raw in (secret, f"{LMS_CLIENT_ID}:{secret}", f"Bearer {secret}"):
        b64 = base64.b64encode(raw.encode())
        out |= {b64, b64.rstrip(b"="), base64.urlsafe_b64encode(raw.encode()).rstrip(b"=")}
    out |= {f.encode("utf-16-le") for f in forms if len(f) >= 12}
    return out


NEEDLES = {name: needles(value) for name, value in CANARIES.all().items()}


def leaks_in(data: bytes) -> list[str]:
    return sorted({name for name, forms in NEEDLES.items() for f in forms if f in data})


def _duckdb_text(path: Path) -> bytes:
    """Every value of every table: DuckDB compresses strings, so raw bytes can hide them."""
    chunks: list[str] = []
    with duckdb.connect(str(path), read_only=True) as con:
        tables = con.sql(
            "select table_schema, table_name from information_schema.tables"
        ).fetchall()
        for schema, table in tables:
            rows = con.sql(f'select * from "{schema}"."{table}"').fetchall()
            chunks.append(f"{schema}.{table}: " + "\n".join(map(str, rows)))
            chunks.extend(str(v) for row in rows for v in row if isinstance(v, str))
    return "\n".join(chunks).encode()


def _views(path: Path) -> Iterator[bytes]:
    data = path.read_bytes()
    yield data
    yield path.name.encode()
    if data[:2] == b"\x1f\x8b":
        unpacked = b""
        with suppress(OSError, EOFError):
            unpacked = gzip.decompress(data)
        yield unpacked
    if data[8:12] == b"DUCK":
        try:
            yield _duckdb_text(path)
        except duckdb.Error as exc:
            pytest.fail(f"could not read DuckDB file {path}: {exc}")


def scan(roots: list[Path]) -> dict[str, list[str]]:
    """{file: [canary names]} for every file under the roots that holds a canary."""
    found: dict[str, list[str]] = {}
    for root in roots:
        for path in sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink()):
            names = sorted({n for view in _views(path) for n in leaks_in(view)})
            if names:
                found[str(path)] = names
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Env:
    work: Path
    warehouse: Path
    home: Path
    data: Path
    hubspot_url: str
    lms_url: str
    as_of: str

    @property
    def roots(self) -> list[Path]:
        return [self.work, self.warehouse.parent, self.home]

    def environ(self, **secrets: str) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("LMSBRIDGE_", "PREFECT_", "DBT_", "DLT_"))
        }
        env.update(
            HOME=str(self.home),
            PYTHONUNBUFFERED="1",
            COLUMNS="200",
            DO_NOT_TRACK="1",
            DBT_SEND_ANONYMOUS_USAGE_STATS="false",
            LMSBRIDGE_HUBSPOT_BASE_URL=self.hubspot_url,
            LMSBRIDGE_LMS_BASE_URL=self.lms_url,
            LMSBRIDGE_LMS_CLIENT_ID=LMS_CLIENT_ID,
            LMSBRIDGE_LMS_CSV_DIR=str(self.data / "history"),
            LMSBRIDGE_WAREHOUSE_PATH=str(self.warehouse),
            LMSBRIDGE_AS_OF=self.as_of,
            LMSBRIDGE_LMS_RATE_CALLS=str(FAST),
            LMSBRIDGE_HUBSPOT_ACCESS_TOKEN=CANARIES.hubspot_ok,
            LMSBRIDGE_LMS_CLIENT_SECRET=CANARIES.lms_secret_ok,
            LMSBRIDGE_LMS_WEBHOOK_SECRET=CANARIES.webhook_secret,
        )
        env.update(secrets)
        return env


def lmsbridge(env: Env, *args: str, **secrets: str) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).with_name("lmsbridge")
    return subprocess.run(
        [str(script), *args],
        cwd=env.work,
        env=env.environ(**secrets),
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT_S,
    )


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    root = tmp_path_factory.mktemp("canary")
    data = root / "data"
    manifest = generate(data, LEARNERS, SEED)
    hub_app = hubspot.create_app(hubspot.HubSpotConfig(rate_max=FAST, tokens=[CANARIES.hubspot_ok]))
    hubspot.load_dataset(hub_app, data)
    lms_app = learnworlds.create_app(
        learnworlds.LearnWorldsConfig(
            client_id=LMS_CLIENT_ID,
            client_secret=CANARIES.lms_secret_ok,
            webhook_secret=CANARIES.webhook_secret,
            rate_max=FAST,
        )
    )
    learnworlds.load_dataset(lms_app, data)
    work, home = root / "work", root / "home"
    work.mkdir()
    home.mkdir()
    with ExitStack() as stack:
        hub_url = stack.enter_context(serve_in_background(hub_app, "hubspot emulator"))
        lms_base = stack.enter_context(serve_in_background(lms_app, "learnworlds emulator"))
        yield Env(
            work=work,
            warehouse=root / "wh" / "lmsbridge.duckdb",
            home=home,
            data=data,
            hubspot_url=hub_url,
            lms_url=f"{lms_base}/admin/api",
            as_of=str(manifest.as_of),
        )


def _deliver_signed_webhooks(env: Env) -> int:
    """LearnWorlds signs fresh activity with the canary webhook secret; the product's own
    receiver (`lmsbridge webhooks serve`) verifies and lands it."""
    port = _free_port()
    receiver = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("lmsbridge")),
            "webhooks",
            "serve",
            "--port",
            str(port),
        ],
        cwd=env.work,
        env=env.environ(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    control = env.lms_url.removesuffix("/admin/api") + "/_sandbox"
    try:
        with httpx.Client(timeout=30) as http:
            deadline = time.monotonic() + 120
            while True:
                try:
                    if http.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert receiver.poll() is None, receiver.communicate()[0]
                assert time.monotonic() < deadline, "webhook receiver did not start"
                time.sleep(0.2)
            http.post(
                f"{control}/webhooks", json={"url": f"http://127.0.0.1:{port}/webhooks/learnworlds"}
            ).raise_for_status()
            http.post(f"{control}/activity", json={"learners": 5, "seed": 3}).raise_for_status()
            deadline = time.monotonic() + 120
            while (log := http.get(f"{control}/webhooks").json())["pending"]:
                assert time.monotonic() < deadline, "webhook deliveries still pending"
                time.sleep(0.2)
            http.post(f"{control}/webhooks", json={"url": None}).raise_for_status()
    finally:
        receiver.terminate()
        output, _ = receiver.communicate(timeout=30)
    assert not leaks_in(output.encode()), redact(output, list(CANARIES.all().values()))
    return sum(1 for d in log["deliveries"] if d.get("delivered"))


def _check(
    env: Env, result: subprocess.CompletedProcess[str], expected: set[int], what: str
) -> dict[str, list[str]]:
    """Problems keyed by where they were seen; a wrong exit code is one, and the walk still
    runs so one report shows every leak."""
    console = f"--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}"
    problems = {f"console of {what}": leaks_in(console.encode())}
    if result.returncode not in expected or "Traceback" in result.stderr:
        # The console only after redaction by this test: it may hold the leak itself.
        shown = redact(console[-3000:], list(CANARIES.all().values()))
        problems[f"{what}: exit {result.returncode}, expected {sorted(expected)}"] = [shown]
    problems.update({f"{path} (after {what})": names for path, names in scan(env.roots).items()})
    return {k: v for k, v in problems.items() if v}


@pytest.fixture(scope="module")
def failing_runs(env: Env) -> dict[str, list[str]]:
    """Every refused credential, each in the command that meets it first."""
    leaks: dict[str, list[str]] = {}
    hook = {"LMSBRIDGE_LMS_WEBHOOK_SECRET": CANARIES.webhook_secret_newline}
    leaks |= _check(
        env,
        lmsbridge(
            env,
            "extract",
            "hubspot",
            LMSBRIDGE_HUBSPOT_ACCESS_TOKEN=CANARIES.hubspot_newline,
            **hook,
        ),
        # No header can carry it: a configuration error (2) or a refused token (3).
        {2, 3},
        "extract hubspot with a newline token",
    )
    leaks |= _check(
        env,
        lmsbridge(env, "extract", "lms", LMSBRIDGE_LMS_CLIENT_SECRET=CANARIES.lms_secret_refused),
        {3},
        "extract lms with a refused client secret",
    )
    leaks |= _check(
        env,
        lmsbridge(env, "run", LMSBRIDGE_HUBSPOT_ACCESS_TOKEN=CANARIES.hubspot_refused),
        {3},
        "run with a refused token",
    )
    # A secret no header can carry is refused when settings load, naming only the variable.
    leaks |= _check(env, lmsbridge(env, "status", **hook), {2}, "status with a newline secret")
    return leaks


@pytest.fixture(scope="module")
def succeeding_runs(env: Env, failing_runs: dict[str, list[str]]) -> dict[str, list[str]]:
    """A full run over signed webhooks, a sync refused afterwards, status and the report."""
    assert _deliver_signed_webhooks(env) > 0
    leaks: dict[str, list[str]] = {}
    leaks |= _check(env, lmsbridge(env, "run"), {0}, "run")
    for token, codes, what in (
        (CANARIES.hubspot_refused, {3}, "sync with a refused token"),
        (CANARIES.hubspot_newline, {2, 3}, "sync with a newline token"),
    ):
        sync = lmsbridge(
            env, "sync", "--full", "--only", "contacts", LMSBRIDGE_HUBSPOT_ACCESS_TOKEN=token
        )
        leaks |= _check(env, sync, codes, what)
    leaks |= _check(env, lmsbridge(env, "status"), {0}, "status")
    leaks |= _check(
        env, lmsbridge(env, "report", "--out", str(env.work / "report.html")), {0}, "report"
    )
    return leaks


def test_canary_needles_cover_escaped_forms() -> None:
    secret = CANARIES.lms_secret_ok
    for text in (json.dumps({"s": secret}), repr(secret), quote(secret), f"x{secret}y"):
        assert leaks_in(text.encode()) == ["lms_secret_ok"]
    assert not leaks_in(b"cnry***")


def test_failing_runs_leave_no_secret_anywhere(failing_runs: dict[str, list[str]]) -> None:
    assert failing_runs == {}, json.dumps(failing_runs, indent=1)


def test_succeeding_runs_leave_no_secret_anywhere(
    env: Env, succeeding_runs: dict[str, list[str]]
) -> None:
    assert succeeding_runs == {}, json.dumps(succeeding_runs, indent=1)
    # The walk did reach what a run writes, or finding nothing would prove nothing.
    written = {p.name for root in env.roots for p in root.rglob("*")}
    assert {"lmsbridge.duckdb", "state.json", "report.html"} <= written
    assert "run_ledger.sqlite" in written
