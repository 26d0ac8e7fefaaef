"""`ragtune schedule`: both deployments are built from params.yaml and really served."""

import asyncio
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from prefect.server.schemas.schedules import CronSchedule

from ragtune.flows.deployments import ENTRYPOINTS, build_deployments, describe

REPO_ROOT = Path(__file__).resolve().parents[2]

SERVE_TIMEOUT_S = 120


def test_deployments_carry_params_schedules_and_a_concurrency_limit(settings):
    after = datetime(2026, 3, 4, 10, 30, tzinfo=UTC)  # a Wednesday
    rows = {row["flow"]: row for row in describe(build_deployments(settings), after)}
    assert settings.index.schedule_cron == "0 * * * *"
    assert settings.finetune.schedule_cron == "0 3 * * 0"
    assert rows["refresh-index"]["schedules"] == [
        {"cron": "0 * * * *", "timezone": "UTC", "next_run": "2026-03-04T11:00:00+00:00"}
    ]
    assert rows["finetune"]["schedules"] == [
        {"cron": "0 3 * * 0", "timezone": "UTC", "next_run": "2026-03-08T03:00:00+00:00"}
    ]
    assert rows["pipeline"]["schedules"] == []
    for flow in ("refresh-index", "finetune"):  # the same time Prefect's scheduler computes
        (schedule,) = rows[flow]["schedules"]
        (prefect_next,) = asyncio.run(CronSchedule(cron=schedule["cron"]).get_dates(1, after))
        assert datetime.fromisoformat(schedule["next_run"]).timestamp() == prefect_next.timestamp()
    assert all(row["concurrency_limit"] == 1 for row in rows.values())
    assert rows["finetune"]["parameters"]["if_needed"] is True
    assert rows["refresh-index"]["parameters"]["project_dir"] == str(settings.project_dir)


def test_every_deployment_has_an_entry_file_that_loads_its_flow(settings):
    """A work-pool worker loads flows by entrypoint: one per deployment, naming the same flow."""
    from prefect.flows import load_flow_from_entrypoint

    flow_names = {row["flow"] for row in describe(build_deployments(settings))}
    assert flow_names == set(ENTRYPOINTS)
    for name, entrypoint in ENTRYPOINTS.items():
        assert load_flow_from_entrypoint(str(REPO_ROOT / entrypoint)).name == name


@pytest.mark.slow
def test_schedule_serves_both_deployments_on_the_local_api(project_dir, settings):
    bin_dir = Path(sys.executable).parent
    server = subprocess.Popen(
        [str(bin_dir / "ragtune"), "schedule"],
        cwd=project_dir,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + SERVE_TIMEOUT_S
        output = ""
        while "being served" not in output and time.monotonic() < deadline:
            line = server.stdout.readline()
            if not line and server.poll() is not None:
                break
            output += line
        assert "being served" in output, output
        inspected = subprocess.run(
            [
                str(bin_dir / "prefect"),
                "deployment",
                "inspect",
                "finetune/finetune-scheduled",
                "--output",
                "json",
            ],
            cwd=project_dir,
            capture_output=True,
            text=True,
            timeout=SERVE_TIMEOUT_S,
            env={**os.environ},
        )
        deployment = json.loads(inspected.stdout[inspected.stdout.index("{") :])
        assert deployment["global_concurrency_limit"]["limit"] == 1
        assert deployment["schedules"][0]["schedule"]["cron"] == settings.finetune.schedule_cron
    finally:
        server.terminate()
        server.wait(timeout=30)
