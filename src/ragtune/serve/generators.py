"""Which generator answers: the base model, or a registered adapter version on top of it.

Cheap checks (does the version exist?) run before any model is loaded. The fine-tuned
generator is the registered MLflow pyfunc itself (same base resolution and fingerprint check
as serving), and its base arm is the same weights with the adapter switched off.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ragtune import tracking
from ragtune.errors import FinetuneError
from ragtune.serve.answer import Generator

if TYPE_CHECKING:
    from ragtune.config import Settings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class AdapterVersion:
    """A registered generator version and what it was trained on."""

    name: str
    version: str
    tags: dict[str, str]

    @property
    def label(self) -> str:
        return f"{self.name} v{self.version}"

    @property
    def corpus_revision(self) -> int | None:
        """The demo-corpus revision of its training data (None for versions without the tag)."""
        value = self.tags.get(tracking.TAG_CORPUS_REVISION, "")
        return int(value) if value.isdigit() else None


def find_adapter(settings: Settings, version: str | None = None) -> AdapterVersion:
    """The requested (default: latest) registered version; FinetuneError naming what to run."""
    from mlflow import MlflowClient, get_tracking_uri
    from mlflow.exceptions import MlflowException

    from ragtune.train.policy import latest_version

    name = settings.release.registered_model
    client = MlflowClient()
    if version is None:
        found = latest_version(client, name)
        if found is None:
            raise FinetuneError(
                f"no registered version of '{name}' in {get_tracking_uri()}; "
                "run `ragtune finetune` first"
            )
    else:
        try:
            found = client.get_model_version(name, version)
        except MlflowException:
            raise FinetuneError(
                f"'{name}' has no version {version!r}; `ragtune finetune` registers one, "
                "or pick an existing version"
            ) from None
    return AdapterVersion(name, str(found.version), dict(found.tags or {}))


def load_finetuned(adapter: AdapterVersion, max_new_tokens: int) -> Generator:
    """The registered pyfunc's model (base + LoRA adapter) as a generator."""
    import mlflow.pyfunc
    from mlflow.exceptions import MlflowException

    uri = f"models:/{adapter.name}/{adapter.version}"
    logger.info("loading %s", adapter.label)
    try:
        loaded = mlflow.pyfunc.load_model(uri)
    except (MlflowException, OSError) as error:
        # The registry row exists but its files do not load (artifact store wiped or moved).
        raise FinetuneError(
            f"{adapter.label} is registered but {uri} does not load "
            f"({type(error).__name__}: {(str(error).splitlines() or [''])[0][:300]}); restore the "
            "artifact store, pick another version with --version, or run `ragtune finetune`"
        ) from error
    python_model: Any = loaded.unwrap_python_model()
    return Generator(
        python_model.model, python_model.tokenizer, adapter.label, True, max_new_tokens
    )


def load_base(settings: Settings, max_new_tokens: int) -> Generator:
    """``finetune.base_model`` alone (no adapter)."""
    from ragtune.train.model import load_base_model, materialize_base, resolve_base_model

    source = resolve_base_model(settings.finetune.base_model, settings.project_dir)
    model, tokenizer = load_base_model(
        materialize_base(source, settings.path(settings.finetune.base_cache_dir))
    )
    return Generator(model.eval(), tokenizer, f"base {source.name}", False, max_new_tokens)


def without_adapter(finetuned: Generator) -> Generator:
    """The base arm from the fine-tuned generator's weights: no second copy in memory."""
    return Generator(finetuned.model, finetuned.tokenizer, "base", False, finetuned.max_new_tokens)
