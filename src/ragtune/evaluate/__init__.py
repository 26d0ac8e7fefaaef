"""Four-arm answer evaluation (base, base+RAG, FT, FT+RAG) and the RAG-vs-fine-tuning advice."""
