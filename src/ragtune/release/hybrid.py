"""Register a release as one MLflow model, ``<registered_model>``'s hybrid twin.

The generator version's adapter (and base, when it travelled with it) is copied from its logged
model; the release's exported index is added beside it as one archive. Registered before any
alias moves, so the commit step only moves pointers.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from ragtune import tracking
from ragtune.config import Settings
from ragtune.index.files import pack_tree
from ragtune.release.manifest import ReleaseManifest

HYBRID_ARTIFACT_PATH = "hybrid"


def log_and_register_hybrid(settings: Settings, manifest: ReleaseManifest, index_dir: Path) -> str:
    """Log the hybrid pyfunc in the active run and register it; return the new version."""
    import mlflow
    from mlflow.models import Model

    from ragtune.serve.pyfunc import SIGNATURE, HybridModel
    from ragtune.train.registry import pinned_requirements

    source = f"models:/{manifest.registered_model}/{manifest.adapter_version}"
    with tempfile.TemporaryDirectory(prefix="ragtune-generator-") as scratch:
        local = Path(mlflow.artifacts.download_artifacts(source, dst_path=scratch))
        flavor = Model.load(str(local / "MLmodel")).flavors["python_function"]
        artifacts = {
            name: str(local / entry["path"]) for name, entry in flavor["artifacts"].items()
        }
        # One archive, not the directory: an edge shard is mostly preallocated zeros.
        artifacts["index"] = str(pack_tree(index_dir, Path(scratch) / "index.tar.gz"))
        generator_config = flavor.get("config") or {}
        info = mlflow.pyfunc.log_model(
            name=HYBRID_ARTIFACT_PATH,
            python_model=HybridModel(),
            artifacts=artifacts,
            model_config={
                "base_model_ref": generator_config.get("base_model_ref", ""),
                "base_model_fingerprint": generator_config["base_model_fingerprint"],
                "max_new_tokens": int(generator_config.get("max_new_tokens", 96)),
                "label": f"{manifest.registered_model} v{manifest.adapter_version}",
                "embedding_model": manifest.embedding_model,
                "collection": manifest.collection,
                "k": settings.evaluate.k,
                "release_id": manifest.release_id,
            },
            signature=SIGNATURE,
            pip_requirements=pinned_requirements(),
        )
    registered = mlflow.register_model(
        info.model_uri,
        settings.release.hybrid_model,
        tags={
            "release_id": manifest.release_id,
            "adapter_version": manifest.adapter_version,
            "collection": manifest.collection,
        },
    )
    tracking.describe_registered_model(settings.release.hybrid_model, "hybrid")
    return str(registered.version)
