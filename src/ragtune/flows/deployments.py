"""Every scheduled deployment, served by one long-running process (`ragtune schedule`).

Schedules live here and in params.yaml, never in flow bodies: the index refresh runs often
(`index.schedule_cron`), the fine-tune rarely (`finetune.schedule_cron`, `--if-needed`). Each
deployment has a concurrency limit of one, so two refreshes (or two fine-tunes) never overlap.
With no PREFECT_API_URL set, Prefect runs its local ephemeral API under PREFECT_HOME.
"""

from __future__ import annotations

from typing import Any

from ragtune.config import Settings


def build_deployments(settings: Settings) -> list[Any]:
    """The project's deployments, built from params.yaml."""
    from ragtune.flows.finetune import build_deployment as finetune_deployment
    from ragtune.flows.refresh_index import build_deployment as refresh_deployment

    return [refresh_deployment(settings), finetune_deployment(settings)]


def describe(deployments: list[Any]) -> list[dict[str, Any]]:
    """Name, flow, cron schedules and concurrency of each deployment, for people and tests."""
    rows = []
    for deployment in deployments:
        crons = [getattr(s.schedule, "cron", None) for s in deployment.schedules or []]
        limit = deployment.concurrency_limit
        rows.append(
            {
                "name": deployment.name,
                "flow": deployment.flow_name,
                "cron": [cron for cron in crons if cron],
                "concurrency_limit": getattr(limit, "limit", limit),
                "parameters": deployment.parameters,
            }
        )
    return rows


def serve_deployments(settings: Settings) -> None:
    """Serve all deployments until interrupted (Ctrl-C)."""
    from prefect import serve

    serve(*build_deployments(settings))
