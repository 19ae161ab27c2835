"""The reduced fault matrix of `make chaos`, in `make test`: a run SIGKILLed while it writes
to HubSpot, and a run through 20% server errors on both APIs. Each is followed by an
undisturbed rerun; HubSpot must then hold exactly what one undisturbed run leaves (nothing
lost, nothing written twice) and the marts at rest must match row for row.

Everything is real: the `lmsbridge` console script in a child process, both emulators in
theirs, DuckDB files on disk. The full matrix (20 kills over every phase and each fault kind)
is `make chaos`.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.chaos import Baseline, Lab, Trial, baseline, run_trial


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    lab = Lab(Path(tmp_path_factory.mktemp("chaos")), learners=30, seed=5)
    yield lab
    lab.close()


@pytest.fixture(scope="module")
def undisturbed(lab: Lab) -> Baseline:
    return baseline(lab)


def test_the_undisturbed_run_is_a_fixed_point(undisturbed: Baseline) -> None:
    # Something to converge to: HubSpot got our writes and the marts are not empty.
    assert undisturbed.hubspot["tasks"] and undisturbed.hubspot["notes"]
    assert any(
        props[0].get("lms_engagement_score") for props in undisturbed.hubspot["contacts"].values()
    )
    assert {"dim_learners", "fct_deal_attribution", "rev_etl__hubspot_contacts"} <= set(
        undisturbed.marts
    )


@pytest.mark.parametrize(
    "trial",
    [
        Trial("kill-sync", "kill", phase="sync"),
        Trial(
            "5xx-20pct",
            "fault",
            hubspot_chaos={"error_rate": 0.2, "seed": 20},
            lms_chaos={"error_rate": 0.2, "seed": 20},
        ),
    ],
    ids=lambda t: t.name,
)
def test_a_disturbed_run_then_a_rerun_ends_in_the_undisturbed_state(
    lab: Lab, undisturbed: Baseline, trial: Trial
) -> None:
    # Seed 3 kills about a fifth into the writes, well before the run could finish.
    row = run_trial(lab, undisturbed, trial, random.Random(3))
    assert row.expected_first_exit, row
    assert row.rerun_exit == 0, row.detail
    assert (row.lost, row.duplicated) == (0, 0), row.detail
    assert row.hubspot_converged and row.marts_converged, row.detail
