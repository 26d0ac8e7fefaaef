"""Every scheduled deployment, served by one long-running process (`ragtune schedule`).

Schedules live here and in params.yaml, never in flow bodies: the index refresh runs often
(`index.schedule_cron`), the fine-tune rarely (`finetune.schedule_cron`, `--if-needed`). Each
deployment has a concurrency limit of one, so two refreshes (or two fine-tunes) never overlap.
With no PREFECT_API_URL set, Prefect runs its local ephemeral API under PREFECT_HOME.
:func:`deploy_to_work_pool` registers the same deployments on a Prefect server instead, for a
`prefect worker start --pool <pool>` (a process work pool) to run.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from ragtune.config import Settings

DEFAULT_TIMEZONE = "UTC"


def build_deployments(settings: Settings) -> list[Any]:
    """The project's deployments, built from params.yaml."""
    from ragtune.flows.finetune import build_deployment as finetune_deployment
    from ragtune.flows.pipeline import build_deployment as pipeline_deployment
    from ragtune.flows.refresh_index import build_deployment as refresh_deployment
    from ragtune.flows.release import build_deployment as release_deployment

    return [
        refresh_deployment(settings),
        finetune_deployment(settings),
        release_deployment(settings),
        pipeline_deployment(settings),
    ]


def next_run(cron: str, timezone: str, after: datetime | None = None) -> datetime:
    """When ``cron`` next fires in ``timezone`` (after ``after``, default now)."""
    from cronsim import CronSim  # ships with prefect

    zone = ZoneInfo(timezone)
    start = (after or datetime.now(zone)).astimezone(zone)
    return next(CronSim(cron, start))


def describe(deployments: list[Any], after: datetime | None = None) -> list[dict[str, Any]]:
    """Name, flow, schedules (cron, timezone, next run), concurrency and parameters of each
    deployment, for people and tests."""
    rows = []
    for deployment in deployments:
        schedules = []
        for item in deployment.schedules or []:
            cron = getattr(item.schedule, "cron", None)
            if cron:
                # Prefect reads a cron schedule without a timezone in UTC.
                timezone = item.schedule.timezone or DEFAULT_TIMEZONE
                upcoming = next_run(cron, timezone, after).isoformat()
                schedules.append({"cron": cron, "timezone": timezone, "next_run": upcoming})
        limit = deployment.concurrency_limit
        rows.append(
            {
                "name": deployment.name,
                "flow": deployment.flow_name,
                "schedules": schedules,
                "concurrency_limit": getattr(limit, "limit", limit),
                "parameters": deployment.parameters,
            }
        )
    return rows


def serve_deployments(settings: Settings) -> None:
    """Serve all deployments until interrupted (Ctrl-C)."""
    from prefect import serve

    serve(*build_deployments(settings))


# Flow entry files relative to the source directory (flows/ re-exports ragtune.flows).
ENTRYPOINTS = {
    "refresh-index": "flows/refresh_index.py:refresh_index_flow",
    "finetune": "flows/finetune.py:finetune_flow",
    "release": "flows/release.py:release_flow",
    "pipeline": "flows/pipeline.py:pipeline_flow",
}


def deploy_to_work_pool(
    settings: Settings, work_pool: str, source_dir: Path, project_dir: Path | None = None
) -> list[str]:
    """Register every deployment (schedule, parameters, concurrency) on the Prefect server at
    PREFECT_API_URL for ``work_pool``, with code loaded from ``source_dir``; return their ids.

    ``project_dir`` is where the worker's runs find params.yaml and the data (default: the
    settings' project directory).
    """
    from prefect import Flow

    ids = []
    for deployment in build_deployments(settings):
        parameters = dict(deployment.parameters)
        if project_dir is not None:
            parameters["project_dir"] = str(project_dir)
        flow = Flow.from_source(
            source=str(source_dir), entrypoint=ENTRYPOINTS[deployment.flow_name]
        )
        ids.append(
            str(
                flow.deploy(
                    name=deployment.name,
                    work_pool_name=work_pool,
                    schedules=deployment.schedules,
                    parameters=parameters,
                    concurrency_limit=deployment.concurrency_limit,
                    description=deployment.description,
                    tags=deployment.tags,
                    build=False,
                    push=False,
                    print_next_steps=False,
                    ignore_warnings=True,
                )
            )
        )
    return ids
