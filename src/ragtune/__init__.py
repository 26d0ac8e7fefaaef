"""ragtune: keep a retrieval index and a LoRA fine-tuned model fresh, evaluated and released together."""

__version__ = "0.1.0"
