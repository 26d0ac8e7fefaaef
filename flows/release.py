"""Entry file for `prefect deploy flows/release.py:release_flow`; code: ragtune.flows."""

from ragtune.flows.release import build_deployment, release_flow

__all__ = ["build_deployment", "release_flow"]
