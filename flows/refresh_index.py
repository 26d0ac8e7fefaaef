"""Entry file for `prefect deploy flows/refresh_index.py:refresh_index_flow`; code: ragtune.flows."""

from ragtune.flows.refresh_index import build_deployment, refresh_index_flow

__all__ = ["build_deployment", "refresh_index_flow"]
