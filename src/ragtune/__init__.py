"""ragtune: keep a retrieval index and a LoRA fine-tuned model fresh, validated, evaluated and tracked (release: planned)."""

__version__ = "0.1.0"
