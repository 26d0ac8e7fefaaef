"""The whole hybrid as one MLflow model: the release's index copy plus its fine-tuned generator.

``mlflow models serve -m models:/ragtune-hybrid@champion`` answers questions with citations
on any machine with ragtune installed: the model carries the adapter, the exported collection
(an edge shard or a Qdrant local-mode folder) and, for a base that is not a packaged model, the base weights.
Packaged models (embedder, base) are found again by name, so no path of the training machine
is needed at load time.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import mlflow.pyfunc
from mlflow.models import ModelSignature
from mlflow.types.schema import ColSpec, Schema

SIGNATURE = ModelSignature(
    inputs=Schema([ColSpec("string", "question"), ColSpec("long", "k", required=False)]),
    outputs=Schema(
        [
            ColSpec("string", "answer"),
            ColSpec("string", "citations"),
            ColSpec("string", "retrieved_doc_ids"),
        ]
    ),
)


class HybridModel(mlflow.pyfunc.PythonModel):
    """Retrieval from the released collection + the fine-tuned generator, through answer()."""

    def load_context(self, context: Any) -> None:
        """Open the index copy, load the embedder and the generator with its adapter."""
        from ragtune.config import IndexConfig
        from ragtune.index import store
        from ragtune.index.embed import load_embedder
        from ragtune.index.files import unpack_sparse
        from ragtune.serve.answer import Generator, Retriever
        from ragtune.train.pyfunc import load_logged_generator

        config = context.model_config
        model, tokenizer = load_logged_generator(context.artifacts, config)
        self.generator = Generator(
            model.eval(), tokenizer, config["label"], True, int(config["max_new_tokens"])
        )
        # Local mode locks its folder; a private copy lets several processes load one model.
        self._index_dir = Path(tempfile.mkdtemp(prefix="ragtune-index-"))
        logged = Path(context.artifacts["index"])
        if logged.is_file():  # index.tar.gz (pack_tree)
            unpack_sparse(logged, self._index_dir)
        else:  # models logged before the index travelled as one archive
            shutil.copytree(logged, self._index_dir, dirs_exist_ok=True)
        (self._index_dir / ".lock").unlink(missing_ok=True)
        embedder = load_embedder(IndexConfig(embedding_model=config["embedding_model"]))
        client = store.open_path(self._index_dir)
        self.retriever = Retriever(client, config["collection"], embedder)
        self.k = int(config["k"])

    # model_input stays unannotated: MLflow reads predict's type hints as a schema of its own.
    def predict(self, context, model_input, params: dict | None = None) -> Any:
        """One row per question: the answer, cited doc ids and retrieved doc ids (space-joined)."""
        import pandas as pd

        from ragtune.serve.answer import answer

        rows = model_input.to_dict(orient="records")
        questions = [str(row["question"]) for row in rows]
        ks = [self.k if pd.isna(row.get("k", None)) else int(row["k"]) for row in rows]
        results: list[dict[str, str]] = [{} for _ in rows]
        for k in sorted(set(ks)):
            chosen = [index for index, value in enumerate(ks) if value == k]
            found = answer([questions[i] for i in chosen], self.generator, self.retriever, k)
            for index, item in zip(chosen, found, strict=True):
                results[index] = {
                    "answer": item.answer,
                    "citations": " ".join(item.cited_doc_ids),
                    "retrieved_doc_ids": " ".join(item.retrieved_doc_ids),
                }
        return pd.DataFrame(results, columns=["answer", "citations", "retrieved_doc_ids"])
