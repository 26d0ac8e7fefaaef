"""The refresh plan: which docs are re-chunked, which chunks are read, and the counts."""

from __future__ import annotations

from collections.abc import Sequence

from ragtune.index.chunk import Chunk, chunk_id, content_hash
from ragtune.index.diff import doc_hash, plan_refresh
from ragtune.index.manifest import IndexedChunk


def sentence_chunker(docs: Sequence[dict]) -> list[Chunk]:
    """One chunk per sentence: enough structure to test the plan without a tokenizer."""
    chunks = []
    for doc in docs:
        for position, sentence in enumerate(s for s in doc["text"].split(". ") if s):
            text_hash = content_hash(sentence)
            chunks.append(
                Chunk(
                    chunk_id(doc["doc_id"], position, text_hash),
                    doc["doc_id"],
                    position,
                    sentence,
                    text_hash,
                )
            )
    return chunks


def doc(doc_id: str, text: str, title: str = "T") -> dict:
    return {"doc_id": doc_id, "title": title, "text": text, "source": "policy"}


def build(docs: list[dict]) -> list[IndexedChunk]:
    return plan_against(docs, [], sentence_chunker).fresh


def plan_against(docs: list[dict], previous: list[IndexedChunk], chunker, read=None):
    """Plan against a previous version holding ``previous``; ``read`` collects the doc ids read."""
    hashes = {item.chunk.doc_id: item.doc_hash for item in previous}
    rows = {d["doc_id"]: d for d in docs}

    def chunks_of(doc_ids):
        if read is not None:
            read.extend(doc_ids)
        return [item for item in previous if item.chunk.doc_id in set(doc_ids)]

    def docs_of(doc_ids):
        return [d for d in docs if d["doc_id"] in set(doc_ids)]

    current = {doc_id: doc_hash(row) for doc_id, row in rows.items()}
    return plan_refresh(current, docs_of, hashes, chunks_of, len(previous), chunker)


class CountingChunker:
    def __init__(self) -> None:
        self.seen: list[str] = []

    def __call__(self, docs: Sequence[dict]) -> list[Chunk]:
        self.seen.extend(d["doc_id"] for d in docs)
        return sentence_chunker(docs)


def test_first_build_chunks_everything() -> None:
    plan = plan_against([doc("a", "One. Two"), doc("b", "Three")], [], sentence_chunker)
    assert plan.counts["docs_added"] == 2 and plan.counts["chunks_added"] == 3
    assert plan.counts["chunks_deleted"] == 0 and plan.counts["chunks_unchanged"] == 0


def test_edit_delete_rename_add() -> None:
    before = [
        doc("a", "One. Two. Three"),
        doc("b", "Gone soon"),
        doc("c", "Moving. House"),
        doc("d", "Same"),
    ]
    previous = build(before)
    after = [
        doc("a", "One. Two. Four"),
        doc("c2", "Moving. House"),
        doc("d", "Same"),
        doc("e", "New"),
    ]
    chunker = CountingChunker()
    read: list[str] = []
    plan = plan_against(after, previous, chunker, read)

    assert sorted(chunker.seen) == ["a", "c2", "e"]  # unchanged "d" is not re-chunked
    assert sorted(read) == ["a", "b", "c"]  # nor are its previous chunks read
    counts = plan.counts
    assert (counts["docs_added"], counts["docs_updated"], counts["docs_deleted"]) == (2, 1, 2)
    assert (counts["docs_renamed"], counts["docs_unchanged"]) == (1, 1)
    # a: 2 of 3 chunks unchanged, 1 replaced; b and c removed (3); c2 and e added (3).
    assert counts["chunks_unchanged"] == 3
    assert counts["chunks_added"] == 1 + 2 + 1
    assert counts["chunks_deleted"] == 1 + 1 + 2
    assert plan.docs == {d["doc_id"]: doc_hash(d) for d in after}
    assert plan.chunk_count == counts["chunks_total"] == 3 + 2 + 1 + 1
    texts = {item.chunk.text for item in plan.fresh if item.chunk.doc_id == "a"}
    assert texts == {"One", "Two", "Four"}
    assert {item.chunk.doc_id for item in plan.gone} == {"a", "b", "c"}
    assert all(item.doc_hash == plan.docs[item.chunk.doc_id] for item in plan.fresh)


def test_title_change_rechunks_doc_but_keeps_chunk_ids() -> None:
    previous = build([doc("a", "One. Two", title="Old")])
    chunker = CountingChunker()
    plan = plan_against([doc("a", "One. Two", title="New")], previous, chunker)
    assert chunker.seen == ["a"]
    assert plan.counts["docs_updated"] == 1 and plan.counts["chunks_unchanged"] == 2


def test_identical_text_in_two_docs_never_collides() -> None:
    plan = plan_against([doc("a", "Twin text"), doc("b", "Twin text")], [], sentence_chunker)
    ids = [item.chunk.chunk_id for item in plan.fresh]
    assert len(set(ids)) == 2 and plan.counts["chunks_total"] == 2


def test_nothing_changed_chunks_nothing() -> None:
    docs = [doc("a", "One. Two"), doc("b", "Three")]
    chunker = CountingChunker()
    read: list[str] = []
    plan = plan_against(docs, build(docs), chunker, read)
    assert chunker.seen == [] and read == []
    assert plan.counts["chunks_unchanged"] == 3 and plan.counts["chunks_added"] == 0
