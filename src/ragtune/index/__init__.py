"""Retrieval index: token-aware chunking, embedding, Qdrant store and incremental refresh."""
