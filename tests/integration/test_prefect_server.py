"""Deployments on a real `prefect server` run by a `prefect worker` on a process work pool."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from server_support import free_port, running, stop

from ragtune.config import load_settings
from ragtune.flows.deployments import ENTRYPOINTS, build_deployments, deploy_to_work_pool

pytestmark = pytest.mark.slow
REPO_ROOT = Path(__file__).resolve().parents[2]
PREFECT = str(Path(sys.executable).parent / "prefect")
POOL = "ragtune-process"
TERMINAL = {"COMPLETED", "CANCELLED", "FAILED", "CRASHED"}


@pytest.fixture
def prefect_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """`prefect server start` on 127.0.0.1 with its own sqlite database; the env to reach it."""
    root = tmp_path_factory.mktemp("prefect-server")
    port = free_port()
    url = f"http://127.0.0.1:{port}/api"
    server_env = {
        "PREFECT_HOME": str(root / "home"),
        "PREFECT_API_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{root / 'prefect.db'}",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_API_URL": "",
    }
    command = [PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--no-ui", "--no-scheduler", "--no-late-runs"]
    with running(command, f"{url}/health", root / "server.log", env=server_env, timeout_s=240):
        yield {"PREFECT_API_URL": url, "PREFECT_HOME": str(root / "client-home")}


async def _states(api_url: str, ids: list[str]) -> list[object]:
    from prefect.client.orchestration import get_client

    async with get_client() as client:
        return [await client.read_flow_run(flow_run_id) for flow_run_id in ids]


async def _task_runs_and_logs(flow_run_id: str) -> tuple[set[str], int]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterId,
        LogFilter,
        LogFilterFlowRunId,
    )

    async with get_client() as client:
        task_runs = await client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
        )
        logs = await client.read_logs(
            log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id]))
        )
    return {run.name.rsplit("-", 1)[0] for run in task_runs}, len(logs)


def test_two_refresh_runs_never_interleave(
    demo_project: Path, prefect_api: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL, PREFECT_HOME, temporary_settings

    for key, value in prefect_api.items():
        monkeypatch.setenv(key, value)
    subprocess.run(
        [PREFECT, "work-pool", "create", POOL, "--type", "process"],
        check=True,
        capture_output=True,
        timeout=120,
    )
    settings = load_settings(demo_project)
    with temporary_settings(
        {PREFECT_API_URL: prefect_api["PREFECT_API_URL"], PREFECT_HOME: prefect_api["PREFECT_HOME"]}
    ):
        deployed = deploy_to_work_pool(settings, POOL, REPO_ROOT, demo_project)
        assert len(deployed) == len(ENTRYPOINTS) == len(build_deployments(settings))
        worker_log = demo_project / "worker.log"
        worker = subprocess.Popen(
            [PREFECT, "worker", "start", "--pool", POOL, "--type", "process"],
            stdout=worker_log.open("w"),
            stderr=subprocess.STDOUT,
            cwd=demo_project,
            start_new_session=True,
        )
        try:
            runs = [
                run_deployment(
                    "refresh-index/refresh-index-scheduled",
                    parameters={"project_dir": str(demo_project), "snapshot": False},
                    timeout=0,
                )
                for _ in range(2)
            ]
            ids = [str(run.id) for run in runs]
            deadline = time.monotonic() + 600
            while time.monotonic() < deadline:
                flow_runs = asyncio.run(_states(prefect_api["PREFECT_API_URL"], ids))
                if all(run.state.type.value in TERMINAL for run in flow_runs):
                    break
                time.sleep(3)
        finally:
            stop(worker)
        states = sorted(run.state.type.value for run in flow_runs)
        assert states in (["CANCELLED", "COMPLETED"], ["COMPLETED", "COMPLETED"]), (
            states,
            worker_log.read_text()[-3000:],
        )
        completed = [run for run in flow_runs if run.state.type.value == "COMPLETED"]
        if len(completed) == 2:  # both ran: one strictly after the other
            first, second = sorted(completed, key=lambda run: run.start_time)
            assert first.end_time <= second.start_time
        task_names, log_count = asyncio.run(_task_runs_and_logs(str(completed[0].id)))
        assert {"prepare-data", "validate-data", "refresh-index", "log-index-build"} <= task_names
        assert log_count > 0
