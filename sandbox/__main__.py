"""`python -m sandbox generate | serve | up`."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="lmsbridge sandbox: synthetic data and API emulators",
)


def _parse_rates(text: str | None) -> object:
    """`--rates` takes JSON (`{"unicode": 0.05}`) or `key=value,key=value`."""
    from sandbox.generator import MessRates

    if not text:
        return None
    try:
        values = (
            json.loads(text)
            if text.lstrip().startswith("{")
            else dict(item.split("=", 1) for item in text.split(",") if item.strip())
        )
        return MessRates.model_validate(values)
    except (ValueError, ValidationError) as exc:
        raise typer.BadParameter(f"--rates: {exc}") from None


@app.command()
def generate(
    learners: Annotated[int, typer.Option(min=1, help="number of LMS learners")] = 1000,
    seed: Annotated[int, typer.Option(help="random seed (same seed, same files)")] = 1,
    out: Annotated[Path, typer.Option(help="output directory (replaced)")] = Path("data/sandbox"),
    rates: Annotated[str | None, typer.Option(help='mess rates: JSON or "kind=rate,..."')] = None,
    as_of: Annotated[
        str | None, typer.Option(help="reference time, ISO-8601 UTC (default: today 00:00Z)")
    ] = None,
    activity_scale: Annotated[
        float,
        typer.Option(min=0.01, help="multiplies course enrollments (and their events) per learner"),
    ] = 1.0,
) -> None:
    """Write a synthetic dataset with ground truth (docs/contracts.md section 1)."""
    from sandbox.generator import generate as run

    when = None
    if as_of:
        try:
            when = datetime.fromisoformat(as_of.replace("Z", "+00:00"))
        except ValueError:
            raise typer.BadParameter(f"--as-of: not an ISO-8601 time: {as_of!r}") from None
        if when.tzinfo is None:
            raise typer.BadParameter("--as-of needs a timezone, e.g. 2026-01-01T00:00:00Z")
    try:
        manifest = run(out, learners, seed, _parse_rates(rates), when, activity_scale)  # type: ignore[arg-type]
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--out") from None
    typer.echo(
        json.dumps(
            {
                "out": str(out),
                **manifest.model_dump(
                    include={"seed", "learners", "as_of", "counts", "bad_csv_rows"}
                ),
            },
            indent=2,
        )
    )


@app.command()
def serve(
    data: Annotated[Path | None, typer.Option(help="dataset directory to load at start")] = None,
    hubspot_port: Annotated[int, typer.Option()] = 8010,
    lms_port: Annotated[int, typer.Option()] = 8020,
    webhook_url: Annotated[
        str | None, typer.Option(help="where the LMS emulator posts webhooks")
    ] = None,
    hubspot_rate_max: Annotated[int, typer.Option(min=1)] = 100,
    lms_rate_max: Annotated[int, typer.Option(min=1)] = 30,
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    parent_pid: Annotated[
        int | None, typer.Option(help="exit when this parent process is gone")
    ] = None,
) -> None:
    """Serve both emulators in this process until Ctrl-C / SIGTERM."""
    from sandbox.serve import ServeOptions
    from sandbox.serve import serve as run

    if data is not None and not (data / "manifest.json").exists():
        raise typer.BadParameter(f"--data: {data} is not a generated dataset (no manifest.json)")
    run(
        ServeOptions(
            data=data,
            hubspot_port=hubspot_port,
            lms_port=lms_port,
            webhook_url=webhook_url,
            hubspot_rate_max=hubspot_rate_max,
            lms_rate_max=lms_rate_max,
            host=host,
            parent_pid=parent_pid,
        )
    )


@app.command()
def up(
    learners: Annotated[int, typer.Option(min=1)] = 1000,
    seed: Annotated[int, typer.Option()] = 1,
    workdir: Annotated[Path, typer.Option()] = Path("data/sandbox-up"),
) -> None:
    """Generate, serve on free ports and print the environment; Ctrl-C stops."""
    from sandbox.runner import serve_forever

    serve_forever(learners, seed, workdir, typer.echo)


if __name__ == "__main__":
    app()
