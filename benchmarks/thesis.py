"""The seed's thesis as an experiment: fine-tune on revision 1, evolve to 2, refresh only the index.

Then the four arms answer questions about facts the adapter was taught (``evaluate.split:
train``), half of them facts that changed in revision 2 (``evaluate.changed_share``). The
script prints the measured table and, for each claim, whether the numbers bear it out:

1. the fine-tuned-only arm loses accuracy on changed facts;
2. the RAG arms keep it after one index refresh;
3. the fine-tuned arms follow the house citation style more often than base;
4. fine-tuned + RAG scores best overall.

Every step is a ragtune stage function, so a re-run on the same ``--project`` reuses what
is there: the refresh is incremental and the fine-tune is skipped while its data is unchanged.

    .venv/bin/python benchmarks/thesis.py --project /tmp/thesis --questions 16
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
MARGIN = 0.02


def _step(message: str) -> float:
    print(f"\n== {message}", flush=True)
    return time.perf_counter()


def configure(project: Path, questions: int, k: int, max_steps: int | None) -> Any:
    """params.yaml of the experiment: the repo's, evaluated on changed and unchanged facts."""
    from ragtune.config import load_settings
    from ragtune.runtime import configure_environment

    project.mkdir(parents=True, exist_ok=True)
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["evaluate"].update(
        split="train", max_questions=questions, changed_share=0.5, k=k, max_new_tokens=64
    )
    if max_steps:
        params["finetune"]["max_steps"] = max_steps
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    configure_environment(project)
    return load_settings(project)


def load_revision(settings: Any, revision: int) -> None:
    """Generate the demo corpus at ``revision``, prepare and validate it (the gate's record)."""
    from ragtune.data.generate import GeneratorSpec, write_corpus
    from ragtune.stages import prepare_stage, validate_stage

    spec = GeneratorSpec(seed=settings.data.seed, revision=revision, docs=settings.data.docs)
    print(write_corpus(spec, settings.path(settings.data.raw_dir)))
    prepare_stage(settings)
    validate_stage(settings)


def refresh(settings: Any) -> None:
    """The index stage: incremental refresh, retrieval scores, an MLflow run."""
    from ragtune.stages import index_stage

    outcome = index_stage(settings)
    print(outcome.refresh.collection, outcome.refresh.counts)


def _value(table: list[dict], arm: str, name: str, metric: str) -> float:
    return next(r[metric] for r in table if r["arm"] == arm and r["slice"] == name)


def claims(table: list[dict]) -> list[tuple[str, bool, str]]:
    """Each claim, whether it held, and the numbers behind it."""
    ft_changed, ft_same = (
        _value(table, "FT", "changed", "f1"),
        _value(table, "FT", "unchanged", "f1"),
    )
    rag = [
        (arm, _value(table, arm, "changed", "f1"), _value(table, arm, "unchanged", "f1"))
        for arm in ("base+RAG", "FT+RAG")
    ]
    style = {
        arm: _value(table, arm, "all", "citation_format")
        for arm in ("base", "base+RAG", "FT", "FT+RAG")
    }
    overall = {arm: _value(table, arm, "all", "f1") for arm in style}
    best = max(overall, key=overall.get)
    return [
        (
            "FT alone loses accuracy on changed facts",
            ft_changed + MARGIN < ft_same,
            f"FT F1 changed {ft_changed:.3f} vs unchanged {ft_same:.3f}",
        ),
        (
            "RAG arms keep accuracy on changed facts after one refresh",
            all(changed + MARGIN >= same for _, changed, same in rag),
            "; ".join(f"{arm} changed {c:.3f} vs unchanged {u:.3f}" for arm, c, u in rag),
        ),
        (
            "fine-tuned arms follow the citation style more often than base",
            style["FT"] > style["base"] and style["FT+RAG"] > style["base+RAG"],
            ", ".join(f"{arm} {value:.3f}" for arm, value in style.items()),
        ),
        (
            "FT+RAG scores best overall",
            best == "FT+RAG",
            ", ".join(f"{arm} {value:.3f}" for arm, value in overall.items()),
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, default=Path("/tmp/ragtune-thesis"))
    parser.add_argument("--questions", type=int, default=16, help="questions per arm")
    parser.add_argument("-k", type=int, default=3, help="chunks per question (RAG arms)")
    parser.add_argument("--fresh", action="store_true", help="delete --project first")
    parser.add_argument("--max-steps", type=int, help="override finetune.max_steps (shorter run)")
    args = parser.parse_args()
    if args.fresh:
        shutil.rmtree(args.project, ignore_errors=True)
    started = time.perf_counter()
    settings = configure(args.project, args.questions, args.k, args.max_steps)

    from ragtune.evaluate.report import markdown_table
    from ragtune.evaluate.stage import evaluate_stage
    from ragtune.stages import finetune_stage

    _step("revision 1: generate, prepare, validate, index, fine-tune")
    load_revision(settings, 1)
    refresh(settings)
    outcome = finetune_stage(settings, if_needed=True)
    print(outcome.decision.render(), outcome.version or "")
    _step("revision 2: evolve the data, refresh only the index")
    load_revision(settings, 2)
    refresh(settings)
    _step("evaluate four arms on taught facts, changed and unchanged")
    result = evaluate_stage(settings)
    print(f"{result.adapter} with {result.collection}, mlflow run {result.run_id}\n")
    print(markdown_table(result.table))
    for claim, held, evidence in claims(result.table):
        print(f"[{'held' if held else 'NOT held'}] {claim}: {evidence}")
    print(f"\ntotal {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
