"""Occasional LoRA fine-tuning of the generator: RAFT data, training, registry, trigger policy."""
