"""Prefect flows: they only orchestrate; every task calls a function in src/ragtune."""
