"""Serve both emulators (HubSpot and LearnWorlds) from one process, on 127.0.0.1 by default.

Two uvicorn servers share one event loop; a signal or either server stopping stops both,
and an optional parent pid makes the process exit when whoever started it is gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from fastapi import FastAPI


@dataclass(frozen=True)
class ServeOptions:
    data: Path | None
    hubspot_port: int
    lms_port: int
    webhook_url: str | None = None
    hubspot_rate_max: int = 100
    lms_rate_max: int = 30
    host: str = "127.0.0.1"
    parent_pid: int | None = None
    log_level: str = "warning"


class _Server(uvicorn.Server):
    """A uvicorn server that leaves signal handling to `serve()`.

    uvicorn's own handlers are per server and re-raise the signal after shutdown, which with
    two servers in one loop would kill the process before the second one has stopped.
    """

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def build_apps(options: ServeOptions) -> tuple[FastAPI, FastAPI]:
    """Create both emulator apps and load the dataset into them."""
    from sandbox import hubspot, learnworlds

    hubspot_app = hubspot.create_app(hubspot.HubSpotConfig(rate_max=options.hubspot_rate_max))
    lms_app = learnworlds.create_app(
        learnworlds.LearnWorldsConfig(
            rate_max=options.lms_rate_max, webhook_url=options.webhook_url
        )
    )
    if options.data is not None:
        hubspot.load_dataset(hubspot_app, options.data)
        learnworlds.load_dataset(lms_app, options.data)
    return hubspot_app, lms_app


async def _watch_parent(parent_pid: int, servers: list[_Server]) -> None:
    # Re-parenting (to init or a subreaper) means the process that owns us has died.
    while os.getppid() == parent_pid:
        await asyncio.sleep(1.0)
    for server in servers:
        server.should_exit = True


async def _serve_apps(options: ServeOptions, apps: tuple[FastAPI, FastAPI]) -> None:
    ports = (options.hubspot_port, options.lms_port)
    servers = [
        _Server(
            uvicorn.Config(
                app, host=options.host, port=port, log_level=options.log_level, access_log=False
            )
        )
        for app, port in zip(apps, ports, strict=True)
    ]

    def stop_all() -> None:
        for server in servers:
            server.should_exit = True

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop_all)
    watchdog = (
        asyncio.create_task(_watch_parent(options.parent_pid, servers))
        if options.parent_pid
        else None
    )

    async def run(server: _Server) -> None:
        try:
            await server.serve()
        finally:
            stop_all()

    try:
        await asyncio.gather(*(run(server) for server in servers))
    finally:
        if watchdog is not None:
            watchdog.cancel()
    if not all(server.started for server in servers):
        raise SystemExit("sandbox: a server failed to start (is the port in use?)")


def serve(options: ServeOptions) -> None:
    """Load the dataset, serve until SIGINT/SIGTERM (or the parent exits), then return."""
    apps = build_apps(options)
    print(
        f"sandbox: hubspot http://{options.host}:{options.hubspot_port} "
        f"lms http://{options.host}:{options.lms_port}/admin/api",
        file=sys.stderr,
        flush=True,
    )
    asyncio.run(_serve_apps(options, apps))
