"""Entry file for `prefect deploy flows/pipeline.py:pipeline_flow`; code: ragtune.flows."""

from ragtune.flows.pipeline import build_deployment, pipeline_flow

__all__ = ["build_deployment", "pipeline_flow"]
