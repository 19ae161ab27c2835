"""The sandbox runner: both emulators in a child process, started, reset and stopped cleanly."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest
from typer.testing import CliRunner

from sandbox.__main__ import app
from sandbox.runner import SandboxError, SandboxProcess, free_port


def _refused(url: str) -> bool:
    try:
        httpx.get(url, timeout=2.0)
    except httpx.ConnectError:
        return True
    return False


def _wait_gone(pid: int, timeout_s: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
            return True
        time.sleep(0.2)
    return False


def test_sandbox_process_serves_the_dataset_and_stops(dataset_dir: Path) -> None:
    manifest = json.loads((dataset_dir / "manifest.json").read_text())
    with SandboxProcess(dataset_dir, lms_rate_max=5) as sandbox:
        assert sandbox.process is not None
        pid = sandbox.process.pid
        lms = sandbox.control_get("lms", "state")
        hubspot = sandbox.control_get("hubspot", "/_sandbox/state")
        assert lms["users"] == manifest["counts"]["lms/users.jsonl"]
        assert hubspot["counts"]["contacts"] == manifest["counts"]["hubspot/contacts.jsonl"]
        env = sandbox.env()
        assert env["LMSBRIDGE_LMS_BASE_URL"].endswith("/admin/api")
        assert env["LMSBRIDGE_HUBSPOT_ACCESS_TOKEN"].startswith("pat-sandbox-")
        assert Path(env["LMSBRIDGE_LMS_CSV_DIR"], "lms_history.csv").exists()
        # The rate limit flag reaches the LMS emulator: the 6th token call in 10 s is refused.
        statuses = [
            httpx.post(
                f"{sandbox.lms_url}/oauth2/access_token",
                json={
                    "client_id": sandbox.lms_client_id,
                    "client_secret": sandbox.lms_client_secret,
                    "grant_type": "client_credentials",
                },
                headers={"Lw-Client": sandbox.lms_client_id},
            ).status_code
            for _ in range(6)
        ]
        assert statuses.count(429) >= 1
        hubspot_url = sandbox.hubspot_url
    assert _wait_gone(pid)
    assert _refused(f"{hubspot_url}/_sandbox/state")


def test_fresh_sandbox_forgets_writes_and_counts(
    fresh_sandbox: SandboxProcess, dataset_dir: Path
) -> None:
    manifest = json.loads((dataset_dir / "manifest.json").read_text())
    created = httpx.post(
        f"{fresh_sandbox.hubspot_url}/crm/v3/objects/contacts",
        json={"properties": {"email": "new.person@example.org"}},
        headers={"Authorization": f"Bearer {fresh_sandbox.hubspot_token}"},
    )
    assert created.status_code == 201
    assert (
        fresh_sandbox.control_get("hubspot", "state")["counts"]["contacts"]
        == manifest["counts"]["hubspot/contacts.jsonl"] + 1
    )
    assert fresh_sandbox.calls("hubspot")["total"] == 1
    fresh_sandbox.reload()
    assert (
        fresh_sandbox.control_get("hubspot", "state")["counts"]["contacts"]
        == manifest["counts"]["hubspot/contacts.jsonl"]
    )
    assert fresh_sandbox.calls("hubspot")["total"] == 0


def test_server_exits_when_its_parent_dies(dataset_dir: Path) -> None:
    port = free_port()
    # The shell starts the server with its own pid as parent, prints the server's pid, exits.
    shell = subprocess.run(
        [
            "sh",
            "-c",
            f'"{sys.executable}" -m sandbox serve --data "{dataset_dir}" --hubspot-port {port} '
            f"--lms-port {free_port()} --parent-pid $$ >/dev/null 2>&1 & echo $!; sleep 2",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert _wait_gone(int(shell.stdout.strip()))
    assert _refused(f"http://127.0.0.1:{port}/_sandbox/state")


def test_serve_forever_stops_on_sigterm(tmp_path: Path) -> None:
    code = (
        "import sys; from pathlib import Path; from sandbox.runner import serve_forever; "
        f"serve_forever(10, 1, Path({str(tmp_path)!r}), lambda s: print(s, flush=True))"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    lines = []
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.append(line.strip())
        if line.startswith("serving"):
            break
    hubspot_url = next(line.split()[-1] for line in lines if line.startswith("HubSpot emulator"))
    assert httpx.get(f"{hubspot_url}/_sandbox/state").status_code == 200
    assert any(line.startswith("export LMSBRIDGE_LMS_BASE_URL=") for line in lines)
    proc.terminate()
    rest, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert "sandbox stopped" in rest
    assert _refused(f"{hubspot_url}/_sandbox/state")


def test_start_rejects_a_directory_that_is_not_a_dataset(tmp_path: Path) -> None:
    with pytest.raises(SandboxError, match=r"manifest\.json"):
        SandboxProcess(tmp_path).start()


def test_cli_serve_rejects_a_missing_dataset(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["serve", "--data", str(tmp_path)])
    assert result.exit_code == 2
    assert "manifest.json" in result.output
