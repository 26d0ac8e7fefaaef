"""`ragtune demo`: the whole pipeline on the demo knowledge base, ending with a cited answer.

It runs the Prefect `pipeline` flow (so the Prefect UI shows every stage, task and log), then
records the result in `dvc.lock` with `dvc commit` (the stages ran the same functions their DVC
commands run, so a following `dvc repro` has nothing to do), and asks a held-out question of
the live release through the same answering path serving uses.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from ragtune.config import Settings


def ask_live_release(settings: Settings, question: str) -> Any:
    """Answer ``question`` from the live release (its adapter and its exported index)."""
    from ragtune.index.embed import load_embedder
    from ragtune.release.manifest import live_manifest
    from ragtune.serve.answer import answer
    from ragtune.serve.live import load_release

    manifest = live_manifest(settings.project_dir)
    if manifest is None:
        return None, None
    embedder = load_embedder(settings.index)
    release = load_release(settings, manifest, embedder)
    try:
        # evaluate.k passages: what the release was evaluated and gated with.
        k = settings.evaluate.k
        return manifest, answer([question], release.generator, release.retriever, k)[0]
    finally:
        release.close()


def run_demo(settings: Settings, echo: Callable[[str], None]) -> None:
    """Pipeline flow → dvc commit → a held-out question answered by the live release."""
    from ragtune.data.load import load_dataset
    from ragtune.data.schema import QA
    from ragtune.data.versioning import run_dvc
    from ragtune.flows.pipeline import pipeline_flow

    started = time.perf_counter()
    echo("running the Prefect flow `pipeline` (refresh → fine-tune if needed → evaluate → promote)")
    # The index build is the demo's longest step: its progress bars go to the terminal.
    result = pipeline_flow(str(settings.project_dir), show_progress=True)
    seconds = dict(result["seconds"])
    commit_started = time.perf_counter()
    run_dvc(settings.project_dir, "commit", "--force", "--quiet")
    seconds["dvc commit"] = round(time.perf_counter() - commit_started, 1)

    raw_dir = settings.path(settings.data.raw_dir)
    held_out = next(row for row in load_dataset(QA, raw_dir) if row["split"] == "test")
    ask_started = time.perf_counter()
    manifest, answered = ask_live_release(settings, held_out["question"])
    seconds["ask"] = round(time.perf_counter() - ask_started, 1)
    echo(f"\nA held-out question: {held_out['question']}")
    echo(f"expected source: {', '.join(held_out['doc_ids'])}")
    if manifest is None:
        echo("no release is live: the gate rejected the candidate (see the release flow's log)")
    else:
        echo(
            f"release {manifest.release_id} (adapter v{manifest.adapter_version}, "
            f"{manifest.collection}) answers:\n  {answered.answer}"
        )
        titles = {hit.doc_id: hit.title for hit in answered.passages}
        for doc_id in answered.cited_doc_ids:
            echo(f"  cites [doc:{doc_id}] {titles.get(doc_id, '(not among the passages)')}")
        if not answered.cited_doc_ids:
            echo("  (no [doc:ID] citation in this answer: the 135M demo model often leaves it out)")
        elif not set(answered.cited_doc_ids) & set(held_out["doc_ids"]):
            echo(
                "  (not the expected source: the 135M demo model often cites a neighbouring passage)"
            )
        echo(f"  passages it was given: {', '.join(titles)}")
    echo("\n| stage | seconds |\n|---|---|")
    for name, value in seconds.items():
        echo(f"| {name} | {value:.1f} |")
    echo(f"| total | {time.perf_counter() - started:.1f} |")
    echo(
        "\nInspect it:\n"
        "  mlflow ui --backend-store-uri sqlite:///mlflow.db     # runs, models, evaluation\n"
        "  PREFECT_HOME=.prefect prefect server start            # the demo's flow runs\n"
        "  ragtune release show; ragtune serve                   # the live release\n"
        f"  {settings.path(settings.validate_.reports_dir) / 'data_docs' / 'index.html'}"
    )
