"""Deterministic demo knowledge base for a fictional company, and its evolution over revisions.

Revision 1 is drawn from the seed; revision N replays N-1 evolution steps on it, each with its
own seeded RNG: 5–10 % of facts change, a few documents are added, retired and renamed (new
id, same content). Every QA row records the revision its fact dates from, so later stages can
score "facts that changed since the model was trained". Same spec → byte-identical files.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from ragtune.data.load import write_jsonl
from ragtune.data.schema import BEHAVIOUR, DOCS, QA
from ragtune.data.vocabulary import (
    COMPANY,
    FACTS,
    FILLER,
    KIND_PREFIX,
    KIND_SOURCE,
    TEAMS,
    TITLE,
    draw_subject,
    invented_word,
    render,
)

KIND_SHARES = (("product", 0.40), ("policy", 0.25), ("glossary", 0.20), ("procedure", 0.15))
SPLIT_SHARES = (("train", 0.70), ("dev", 0.15), ("test", 0.15))
EPOCH = datetime(2026, 1, 5, 9, 0, 0)


@dataclass(frozen=True)
class GeneratorSpec:
    """What to generate: same spec → same bytes."""

    seed: int = 7
    revision: int = 1
    docs: int = 320


@dataclass
class Fact:
    key: str
    value: str
    revision: int = 1


@dataclass
class Entity:
    """A document's lasting identity; ``lineage`` survives renames so splits never move."""

    lineage: int
    kind: str
    subject: str
    split: str
    doc_id: str
    facts: list[Fact]
    filler_seed: int
    updated_at: datetime
    team: str
    retired: bool = False
    renamed_from: list[str] = field(default_factory=list)


class Corpus:
    """The mutable world state the generator evolves, one revision at a time."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.entities: list[Entity] = []
        self.subjects: set[str] = set()
        self.counters = dict.fromkeys(KIND_PREFIX, 0)

    def _unique_subject(self, kind: str, rng: random.Random) -> str:
        subject = draw_subject(kind, rng)
        while subject in self.subjects:
            # Small pools (policies, procedures) run out at large sizes: qualify by site.
            subject = f"{draw_subject(kind, rng)} at the {invented_word(rng).capitalize()} site"
        self.subjects.add(subject)
        return subject

    def new_doc_id(self, kind: str) -> str:
        self.counters[kind] += 1
        return f"{KIND_PREFIX[kind]}-{self.counters[kind]:05d}"

    def add_entity(self, kind: str, rng: random.Random, revision: int, when: datetime) -> Entity:
        subject = self._unique_subject(kind, rng)
        facts = [Fact(spec.key, spec.draw(rng), revision) for spec in FACTS[kind]]
        entity = Entity(
            lineage=len(self.entities),
            kind=kind,
            subject=subject,
            split=_weighted(rng, SPLIT_SHARES),
            doc_id=self.new_doc_id(kind),
            facts=facts,
            filler_seed=rng.randrange(1 << 30),
            updated_at=when,
            team=rng.choice(TEAMS),
        )
        self.entities.append(entity)
        return entity

    def live(self) -> list[Entity]:
        return [entity for entity in self.entities if not entity.retired]


def _weighted(rng: random.Random, shares: tuple[tuple[str, float], ...]) -> str:
    roll = rng.random()
    for name, share in shares:
        roll -= share
        if roll < 0:
            return name
    return shares[-1][0]


def _revision_date(revision: int, rng: random.Random) -> datetime:
    start = EPOCH + timedelta(days=45 * (revision - 1))
    return start + timedelta(days=rng.randrange(0, 40), minutes=15 * rng.randrange(0, 32))


def build_revision_one(spec: GeneratorSpec) -> Corpus:
    """Draw the initial knowledge base."""
    corpus = Corpus(spec.seed)
    rng = random.Random(f"ragtune-demo:{spec.seed}:1")
    for kind, share in KIND_SHARES:
        for _ in range(max(1, round(spec.docs * share))):
            corpus.add_entity(kind, rng, revision=1, when=_revision_date(1, rng))
    return corpus


def evolve(corpus: Corpus, revision: int) -> None:
    """Apply one evolution step: changed facts, new, retired and renamed documents."""
    rng = random.Random(f"ragtune-demo:{corpus.seed}:{revision}")
    live = corpus.live()
    facts = [(entity, fact) for entity in live for fact in entity.facts]
    change_count = max(1, round(len(facts) * rng.uniform(0.05, 0.10)))
    for entity, fact in rng.sample(facts, change_count):
        spec = _fact_spec(entity, fact)
        new_value = spec.draw(rng)
        while new_value == fact.value:
            new_value = spec.draw(rng)
        fact.value, fact.revision = new_value, revision
        entity.updated_at = _revision_date(revision, rng)
    untouched = [e for e in live if all(f.revision < revision for f in e.facts)]
    retire_count = max(1, round(len(live) * 0.02))
    rename_count = max(1, round(len(live) * 0.01))
    chosen = rng.sample(untouched, min(len(untouched), retire_count + rename_count))
    for entity in chosen[:retire_count]:
        entity.retired = True
    for entity in chosen[retire_count:]:
        entity.renamed_from.append(entity.doc_id)
        entity.doc_id = corpus.new_doc_id(entity.kind)
    for _ in range(max(1, round(len(live) * 0.03))):
        kind = _weighted(rng, KIND_SHARES)
        corpus.add_entity(kind, rng, revision, when=_revision_date(revision, rng))


def build_corpus(spec: GeneratorSpec) -> Corpus:
    """Revision 1, evolved to ``spec.revision``."""
    corpus = build_revision_one(spec)
    for revision in range(2, spec.revision + 1):
        evolve(corpus, revision)
    return corpus


def _fact_spec(entity: Entity, fact: Fact):
    return next(spec for spec in FACTS[entity.kind] if spec.key == fact.key)


def doc_row(entity: Entity) -> dict:
    """The document as its fact statements interleaved with deterministic filler."""
    rng = random.Random(entity.filler_seed)
    statements = [
        render(_fact_spec(entity, f).statement, entity.subject, f.value) for f in entity.facts
    ]
    filler = [
        line.format(team=entity.team, company=COMPANY)
        for line in rng.sample(FILLER, rng.randrange(8, 15))
    ]
    intro = f"This page describes the {entity.subject} for {COMPANY} staff and partners."
    paragraphs = [intro]
    for index, statement in enumerate(statements):
        paragraphs.append(" ".join([statement, *filler[index :: len(statements)]]))
    return {
        "doc_id": entity.doc_id,
        "title": render(TITLE[entity.kind], entity.subject),
        "text": "\n\n".join(paragraphs),
        "source": KIND_SOURCE[entity.kind],
        "updated_at": entity.updated_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def qa_rows(entity: Entity) -> list[dict]:
    """One question per fact, split by the document's lineage."""
    rows = []
    for fact in entity.facts:
        spec = _fact_spec(entity, fact)
        rows.append(
            {
                "qa_id": f"qa-{entity.lineage:05d}-{fact.key}",
                "question": render(spec.question, entity.subject),
                "answer": render(spec.answer, entity.subject, fact.value),
                "doc_ids": [entity.doc_id],
                "split": entity.split,
                "kind": entity.kind,
                "revision": fact.revision,
            }
        )
    return rows


def behaviour_rows(entity: Entity) -> list[dict]:
    """House-style demonstrations (concise, cited) from training documents only."""
    if entity.split != "train":
        return []
    fact = entity.facts[0]
    spec = _fact_spec(entity, fact)
    kind = "glossary" if entity.kind == "glossary" else "style"
    return [
        {
            "example_id": f"bx-{entity.lineage:05d}",
            "kind": kind,
            "question": render(spec.question, entity.subject),
            "answer": f"{render(spec.answer, entity.subject, fact.value)} [doc:{entity.doc_id}]",
            "doc_ids": [entity.doc_id],
            "revision": fact.revision,
        }
    ]


def write_corpus(spec: GeneratorSpec, out_dir: Path) -> dict[str, int]:
    """Write docs, QA and behaviour JSONL for ``spec`` into ``out_dir``; return row counts."""
    corpus = build_corpus(spec)
    live = sorted(corpus.live(), key=lambda entity: entity.doc_id)
    datasets = (
        (DOCS, [doc_row(entity) for entity in live]),
        (QA, [row for entity in live for row in qa_rows(entity)]),
        (BEHAVIOUR, [row for entity in live for row in behaviour_rows(entity)]),
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    for dataset, rows in datasets:
        write_jsonl(out_dir / dataset.filename, rows)
    return {dataset.name: len(rows) for dataset, rows in datasets}
