"""Run the sandbox (`python -m sandbox serve`) as a child process on free local ports.

Used by the test fixtures, the demo and `lmsbridge sandbox up` (through `serve_forever`).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import weakref
from collections.abc import Callable
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any, Literal

import httpx

Which = Literal["hubspot", "lms"]

HOST = "127.0.0.1"
HUBSPOT_TOKEN = "pat-sandbox-lmsbridge-0000"
LMS_CLIENT_ID = "sandbox-client"
LMS_CLIENT_SECRET = "sandbox-secret"
LMS_WEBHOOK_SECRET = "sandbox-webhook-secret"
_PACKAGE_ROOT = Path(__file__).resolve().parent.parent


class SandboxError(RuntimeError):
    """The sandbox did not start, died, or a control call failed."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


class SandboxProcess:
    """Both emulators in a child process, loaded with one generated dataset.

    `with SandboxProcess(data_dir) as sb:` starts it and waits until both answer; leaving the
    block (or interpreter exit) stops it.
    """

    def __init__(
        self,
        data_dir: Path,
        *,
        hubspot_rate_max: int = 100,
        lms_rate_max: int = 30,
        webhook_url: str | None = None,
        hubspot_port: int | None = None,
        lms_port: int | None = None,
        startup_timeout_s: float = 120.0,
    ) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.hubspot_rate_max = hubspot_rate_max
        self.lms_rate_max = lms_rate_max
        self.webhook_url = webhook_url
        self._fixed_ports = (hubspot_port, lms_port)
        self.startup_timeout_s = startup_timeout_s
        self.hubspot_port = 0
        self.lms_port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self._log: Any = None
        self._http = httpx.Client(timeout=60.0)
        self._finalizer = weakref.finalize(self, _cleanup, None, None)

    # ---- addresses and credentials ------------------------------------------------------

    @property
    def hubspot_url(self) -> str:
        return f"http://{HOST}:{self.hubspot_port}"

    @property
    def lms_base(self) -> str:
        """The school host; the control API lives here, the LearnWorlds API under /admin/api."""
        return f"http://{HOST}:{self.lms_port}"

    @property
    def lms_url(self) -> str:
        return f"{self.lms_base}/admin/api"

    lms_client_id = LMS_CLIENT_ID
    lms_client_secret = LMS_CLIENT_SECRET
    webhook_secret = LMS_WEBHOOK_SECRET
    hubspot_token = HUBSPOT_TOKEN

    def env(self) -> dict[str, str]:
        """The LMSBRIDGE_* settings that point the pipeline at this sandbox."""
        return {
            "LMSBRIDGE_HUBSPOT_BASE_URL": self.hubspot_url,
            "LMSBRIDGE_HUBSPOT_ACCESS_TOKEN": self.hubspot_token,
            "LMSBRIDGE_LMS_BASE_URL": self.lms_url,
            "LMSBRIDGE_LMS_CLIENT_ID": self.lms_client_id,
            "LMSBRIDGE_LMS_CLIENT_SECRET": self.lms_client_secret,
            "LMSBRIDGE_LMS_WEBHOOK_SECRET": self.webhook_secret,
            "LMSBRIDGE_LMS_CSV_DIR": str(self.data_dir / "history"),
        }

    # ---- control API --------------------------------------------------------------------

    def _control_url(self, which: Which, path: str) -> str:
        base = {"hubspot": self.hubspot_url, "lms": self.lms_base}.get(which)
        if base is None:
            raise ValueError(f"which must be 'hubspot' or 'lms', not {which!r}")
        if not path.startswith("/"):
            path = f"/_sandbox/{path}"
        return base + path

    def _control(self, method: str, which: Which, path: str, **kwargs: Any) -> Any:
        url = self._control_url(which, path)
        try:
            response = self._http.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            raise SandboxError(f"{method} {url} failed: {exc}{self.log_tail()}") from None
        if response.status_code >= 400:
            raise SandboxError(f"{method} {url} -> {response.status_code}: {response.text[:500]}")
        return response.json() if response.content else None

    def control_get(self, which: Which, path: str, params: dict[str, Any] | None = None) -> Any:
        return self._control("GET", which, path, params=params)

    def control_post(self, which: Which, path: str, json: Any = None) -> Any:
        return self._control("POST", which, path, json=json)

    def calls(self, which: Which) -> dict[str, Any]:
        """The emulator's call counters (`GET /_sandbox/calls`)."""
        return dict(self.control_get(which, "calls"))

    def reload(self) -> None:
        """Back to the dataset as generated, with zeroed counters and no chaos."""
        for which in ("hubspot", "lms"):
            self.control_post(which, "reset")
            self.control_post(which, "load", {"path": str(self.data_dir)})
            self.control_post(which, "calls/reset")

    # ---- lifecycle ----------------------------------------------------------------------

    def start(self) -> SandboxProcess:
        if self.process is not None:
            raise SandboxError("sandbox already started")
        if not (self.data_dir / "manifest.json").exists():
            raise SandboxError(f"{self.data_dir} is not a generated dataset (no manifest.json)")
        # A free port can be taken between probing and binding; retry with new ones.
        attempts = 1 if all(self._fixed_ports) else 3
        for attempt in range(attempts):
            self.hubspot_port = self._fixed_ports[0] or free_port()
            self.lms_port = self._fixed_ports[1] or free_port()
            self._spawn()
            try:
                self._wait_ready()
                return self
            except SandboxError:
                self.stop()
                if attempt == attempts - 1:
                    raise
        return self

    def _spawn(self) -> None:
        # Kept open for the child's lifetime; closed and removed by _cleanup.
        self._log = tempfile.NamedTemporaryFile(  # noqa: SIM115
            prefix="lmsbridge-sandbox-", suffix=".log", delete=False
        )
        cmd = [
            sys.executable,
            "-m",
            "sandbox",
            "serve",
            "--data",
            str(self.data_dir),
            "--hubspot-port",
            str(self.hubspot_port),
            "--lms-port",
            str(self.lms_port),
            "--hubspot-rate-max",
            str(self.hubspot_rate_max),
            "--lms-rate-max",
            str(self.lms_rate_max),
            "--host",
            HOST,
            "--parent-pid",
            str(os.getpid()),
        ]
        if self.webhook_url:
            cmd += ["--webhook-url", self.webhook_url]
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(_PACKAGE_ROOT), env.get("PYTHONPATH")])
        )
        # Own session: a Ctrl-C meant for the parent does not bypass our orderly stop().
        self.process = subprocess.Popen(
            cmd, stdout=self._log, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
        # Runs on stop(), on garbage collection or at interpreter exit, whichever is first.
        self._finalizer.detach()
        self._finalizer = weakref.finalize(self, _cleanup, self.process, self._log)

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.startup_timeout_s
        pending: list[Which] = ["hubspot", "lms"]
        while pending:
            assert self.process is not None
            if self.process.poll() is not None:
                raise SandboxError(
                    f"sandbox exited with code {self.process.returncode}{self.log_tail()}"
                )
            if time.monotonic() > deadline:
                raise SandboxError(
                    f"sandbox not ready after {self.startup_timeout_s:.0f} s{self.log_tail()}"
                )
            which = pending[0]
            try:
                response = self._http.get(self._control_url(which, "state"), timeout=2.0)
                if response.status_code == 200:
                    pending.pop(0)
                    continue
            except httpx.HTTPError:
                pass
            time.sleep(0.1)

    def log_tail(self, chars: int = 2000) -> str:
        if self._log is None:
            return ""
        try:
            text = Path(self._log.name).read_text(errors="replace")
        except OSError:
            return ""
        return f"\n--- sandbox log ---\n{text[-chars:]}" if text.strip() else ""

    def stop(self) -> None:
        """Terminate the child (kill it if it does not stop within 10 s) and clean up."""
        self._finalizer()
        self.process = None
        self._log = None

    def close(self) -> None:
        self.stop()
        self._http.close()

    def __enter__(self) -> SandboxProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _cleanup(process: subprocess.Popen[bytes] | None, log: Any) -> None:
    if process is not None and process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
    if log is not None:
        log.close()
        with contextlib.suppress(OSError):
            os.unlink(log.name)


def serve_forever(
    learners: int,
    seed: int,
    workdir: Path,
    console_print: Callable[[str], None],
    *,
    hubspot_port: int | None = None,
    lms_port: int | None = None,
    webhook_url: str | None = None,
) -> None:
    """Generate a dataset under `workdir`, serve it in the foreground, stop on Ctrl-C/SIGTERM."""
    from sandbox.generator import generate

    data_dir = Path(workdir) / "data"
    console_print(f"generating {learners} learners (seed {seed}) into {data_dir} ...")
    manifest = generate(data_dir, learners, seed)
    console_print(
        f"dataset ready: {manifest.counts['hubspot/contacts.jsonl']} contacts, as_of {manifest.as_of}"
    )

    def on_term(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, on_term)
    sandbox = SandboxProcess(
        data_dir, webhook_url=webhook_url, hubspot_port=hubspot_port, lms_port=lms_port
    )
    try:
        sandbox.start()
        console_print(f"HubSpot emulator:    {sandbox.hubspot_url}")
        console_print(f"LearnWorlds emulator: {sandbox.lms_url}")
        console_print("environment for the pipeline:")
        for key, value in sandbox.env().items():
            console_print(f"  export {key}={value}")
        console_print(f"  export LMSBRIDGE_AS_OF={manifest.as_of}")
        console_print("serving; press Ctrl-C to stop")
        assert sandbox.process is not None
        code = sandbox.process.wait()
        raise SandboxError(f"sandbox exited unexpectedly with code {code}{sandbox.log_tail()}")
    except KeyboardInterrupt:
        console_print("stopping sandbox ...")
    finally:
        sandbox.close()
        signal.signal(signal.SIGTERM, previous)
    console_print("sandbox stopped")
