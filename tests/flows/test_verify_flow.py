"""The `lmsbridge-verify` flow run once against the emulators: drift is reported (a WARNING
and an artifact naming who edited), and the run still completes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from flows.verify_flow import ARTIFACT_KEY, verify_flow
from lmsbridge_core.settings import load_settings
from reverse_etl import run_syncs
from sandbox.runner import SandboxProcess
from tests.reverse_etl.retl_support import contact_rows, list_all, write_marts

SYNCS_YML = Path(__file__).resolve().parents[2] / "reverse_etl" / "syncs.yml"


def test_verify_flow_reports_a_person_edit_as_drift_without_failing(
    prefect_server: None, cli_env: SandboxProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    monkeypatch.setenv("LMSBRIDGE_SYNC_CONFIG_PATH", str(SYNCS_YML))
    settings = load_settings()
    token = os.environ["LMSBRIDGE_HUBSPOT_ACCESS_TOKEN"]
    contacts = list_all(cli_env.hubspot_url, token, "contacts", ["email"])
    rows = contact_rows([c for c in contacts if c["properties"].get("email")], 3)
    settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    write_marts(settings.warehouse_path, {"rev_etl__hubspot_contacts": rows})
    assert all(r.status == "ok" for r in run_syncs(settings, only=["contacts"]))
    edited = rows[0]["hubspot_contact_id"]
    cli_env.control_post(
        "hubspot", f"/_sandbox/objects/contacts/{edited}/edit",
        {"properties": {"lms_engagement_score": "999"}},
    )  # fmt: skip

    state = verify_flow(return_state=True)
    assert state.is_completed(), state.message  # drift is not a failure
    report = state.result()
    assert report is not None and report.has_drift
    drift = {(d.hubspot_id, d.kind, d.property, d.edited_by) for d in report.drift}
    assert drift == {(edited, "edited", "lms_engagement_score", "person")}

    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[ARTIFACT_KEY]))
        )
    mine = [str(a.data) for a in artifacts if report.verify_id[:8] in str(a.data)]
    assert mine and "1 records drifted" in mine[0]
    assert f"| contacts | {edited} | edited | lms_engagement_score | person |" in mine[0]
    assert token not in mine[0] and "999" not in mine[0]  # ids, never values
