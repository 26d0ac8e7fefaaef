"""Answering questions: retrieval + generation, shared by ask, evaluation and serving."""
