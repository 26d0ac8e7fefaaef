"""Entry file for `prefect deploy flows/finetune.py:finetune_flow`; code: ragtune.flows."""

from ragtune.flows.finetune import build_deployment, finetune_flow

__all__ = ["build_deployment", "finetune_flow"]
