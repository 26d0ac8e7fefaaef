"""Exceptions users see: each names the file, row or key at fault and what to do about it."""


class RagtuneError(Exception):
    """Base class; the CLI prints these without a traceback and exits non-zero."""


class ConfigError(RagtuneError):
    """params.yaml (or an override) holds an unknown key or an invalid value."""


class DataFormatError(RagtuneError):
    """An input file cannot be read as the expected schema (encoding, JSON, fields, ids)."""


class ValidationFailed(RagtuneError):
    """Great Expectations suites failed; nothing downstream may run.

    ``report`` is the :class:`ragtune.data.validate.ValidationReport` (the message renders it).
    """

    def __init__(self, message: str, report: object = None) -> None:
        super().__init__(message)
        self.report = report


class DataVersioningError(RagtuneError):
    """A DVC operation (add, commit, push) failed."""


class RetrievalIndexError(RagtuneError):
    """The retrieval index (embedding model, Qdrant collection, manifest) cannot be used."""


class FinetuneError(RagtuneError):
    """Fine-tuning cannot start or finish: a bad base model, LoRA setting or training data."""


class DataNotValidated(RagtuneError):
    """A stage was started on prepared data that did not pass (or never went through) validation."""


class EvaluationError(RagtuneError):
    """Evaluation or answering cannot run: no questions, a bad question, nothing to compare."""
