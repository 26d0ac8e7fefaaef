"""The Prefect step runner: each sub-step of a stage becomes a task with its own UI entry."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from prefect import task
from prefect.cache_policies import NO_CACHE

from ragtune.stages import StepRunner

T = TypeVar("T")
RETRY_DELAY_SECONDS = 10


def prefect_steps(retries: Mapping[str, int] | None = None) -> StepRunner:
    """A ``run_step`` that runs each named step as a Prefect task (``retries`` per step name).

    Stage functions decide which steps run and in what order; this only adds the task around.
    """
    retries = dict(retries or {})

    def run_step(name: str, function: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        options: dict[str, Any] = {"name": name, "cache_policy": NO_CACHE}
        if retries.get(name):
            options.update(retries=retries[name], retry_delay_seconds=RETRY_DELAY_SECONDS)
        return task(function, **options)(*args, **kwargs)

    return run_step
