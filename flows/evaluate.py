"""Entry file for `prefect deploy flows/evaluate.py:evaluate_flow`; code: ragtune.flows."""

from ragtune.flows.evaluate import evaluate_flow

__all__ = ["evaluate_flow"]
