"""Entry file: `python flows/deployments.py` serves every deployment (as `ragtune schedule`)."""

from pathlib import Path

from ragtune.config import load_settings
from ragtune.flows.deployments import serve_deployments
from ragtune.runtime import configure_environment

if __name__ == "__main__":
    configure_environment(Path("."))
    serve_deployments(load_settings(Path(".")))
