"""Retrieval quality: BM25 alone, dense alone and hybrid (RRF) on real docs and the demo corpus.

Both corpora are indexed by ragtune's own refresh (chunker, embedder, Qdrant local mode with
dense + BM25 sparse vectors), then every question is asked in each retrieval mode against the
same collection. Real docs: 57 package READMEs and 72 hand-written questions
(benchmarks/realdocs, see its provenance.md). Demo: the generated corpus and all its QA rows.

    .venv/bin/python benchmarks/retrieval.py
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import tempfile
import time
from datetime import UTC, datetime
from email.parser import Parser
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
REALDOCS = REPO / "benchmarks" / "realdocs"
MODES = ("sparse", "dense", "hybrid")
LABELS = {"sparse": "BM25 (sparse)", "dense": "dense MiniLM", "hybrid": "hybrid RRF"}
DEPTH = 30  # chunks fetched per question, enough distinct docs for nDCG@10


def realdocs() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The README documents (title: name + summary; text: summary + long description)."""
    docs = []
    for path in sorted((REALDOCS / "docs").glob("*.txt")):
        message = Parser().parsestr(path.read_text(encoding="utf-8"))
        body = message.get_payload()
        summary = message.get("Summary", "")
        docs.append(
            {
                "doc_id": path.stem,
                "title": f"{message.get('Name', path.stem)}: {summary}",
                "text": f"{summary}\n\n{body}",
                "source": f"benchmarks/realdocs/docs/{path.name}",
                "updated_at": "2026-11-28T00:00:00Z",
            }
        )
    lines = (REALDOCS / "qa.jsonl").read_text(encoding="utf-8").splitlines()
    questions = [json.loads(line) for line in lines if line.strip()]
    return docs, [{"question": q["question"], "doc_ids": [q["doc_id"]]} for q in questions]


def scores(rankings: list[list[str]], golds: list[list[str]]) -> dict[str, float]:
    """recall@1, recall@5, MRR, nDCG@10 over deduplicated doc rankings."""
    from ragtune.index.metrics import ndcg_at_k, recall_at_k, reciprocal_rank

    pairs = list(zip(rankings, golds, strict=True))
    mean = lambda values: sum(values) / len(pairs)  # noqa: E731
    return {
        "recall@1": mean([recall_at_k(r, g, 1) for r, g in pairs]),
        "recall@5": mean([recall_at_k(r, g, 5) for r, g in pairs]),
        "MRR": mean([reciprocal_rank(r, g) for r, g in pairs]),
        "nDCG@10": mean([ndcg_at_k(r, g, 10) for r, g in pairs]),
    }


def evaluate(settings, model, docs, questions, label: str) -> dict[str, dict[str, float]]:
    """Index ``docs`` with refresh_index, then score every mode on ``questions``.

    Each question is embedded once; the same vectors serve the dense and the hybrid runs.
    """
    from ragtune.data.load import write_jsonl
    from ragtune.data.schema import DOCS
    from ragtune.index import search, sparse, store
    from ragtune.index.embed import embed_texts
    from ragtune.index.metrics import dedupe
    from ragtune.index.refresh import refresh_index

    prepared = settings.path(settings.prepare.prepared_dir)
    write_jsonl(prepared / DOCS.filename, docs)
    started = time.perf_counter()
    result = refresh_index(settings, show_progress=False, embedder=model)
    print(
        f"[{label}] {len(docs)} docs, {result.counts.get('chunks_total', 'all')} chunks indexed (or already) in "
        f"{time.perf_counter() - started:.1f} s; {len(questions)} questions",
        flush=True,
    )
    texts = [q["question"] for q in questions]
    golds = [q["doc_ids"] for q in questions]
    dense = embed_texts(model, texts, settings.index.batch_size, show_progress=False)
    terms = [sparse.encode_query(text) for text in texts]
    table = {}
    with store.open_store(settings) as client:
        for mode in MODES:
            found = search.search(client, result.collection, mode, dense, terms, DEPTH)
            rankings = [dedupe([str(p.payload["doc_id"]) for p in points]) for points in found]
            table[mode] = scores(rankings, golds)
    print_table(label, table)
    return table


def print_table(label: str, table: dict[str, dict[str, float]]) -> None:
    print(f"\n{label}")
    print(f"{'':<16}" + "".join(f"{metric:>10}" for metric in table["dense"]))
    for mode in MODES:
        print(f"{LABELS[mode]:<16}" + "".join(f"{v:>10.3f}" for v in table[mode].values()))


def project(root: Path, name: str):
    """A scratch project with the repo's params and its own Qdrant store."""
    from ragtune.config import load_settings

    directory = root / name
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "params.yaml", directory / "params.yaml")
    return load_settings(directory)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-demo", action="store_true", help="real docs only")
    parser.add_argument(
        "--workdir", type=Path, help="keep the projects here and reuse their indexes next time"
    )
    args = parser.parse_args()
    root = args.workdir or Path(tempfile.mkdtemp(prefix="ragtune-bench-retrieval-"))
    from ragtune.runtime import configure_environment

    configure_environment(root)
    from ragtune.config import IndexConfig
    from ragtune.index.embed import load_embedder

    model = load_embedder(IndexConfig())
    print(f"ragtune retrieval benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(f"machine: {platform.processor() or platform.machine()}, {platform.platform()}")
    settings = project(root, "realdocs")
    (settings.path(settings.data.raw_dir)).mkdir(parents=True, exist_ok=True)
    docs, questions = realdocs()
    evaluate(settings, model, docs, questions, "real docs (57 READMEs, 72 questions)")
    if not args.skip_demo:
        from ragtune.data.generate import GeneratorSpec, write_corpus
        from ragtune.data.load import load_dataset
        from ragtune.data.prepare import prepare
        from ragtune.data.schema import DOCS, QA

        settings = project(root, "demo")
        raw = settings.path(settings.data.raw_dir)
        write_corpus(GeneratorSpec(seed=settings.data.seed), raw)
        prepare(raw, settings.path(settings.prepare.prepared_dir), settings.prepare)
        prepared = settings.path(settings.prepare.prepared_dir)
        demo_docs = load_dataset(DOCS, prepared)
        demo_questions = load_dataset(QA, prepared)
        label = f"demo corpus ({len(demo_questions)} questions, all splits)"
        evaluate(settings, model, demo_docs, demo_questions, label)
    if args.workdir is None:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
