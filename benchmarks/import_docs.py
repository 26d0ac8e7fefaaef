"""Folder import benchmark: first import vs unchanged re-import vs re-import after 1 % edits.

Writes a synthetic folder (Markdown, text, rST, HTML and a few PDFs, default 10,000 files) and
imports it three times in one process, so the ratios compare like with like. Prints files/s,
peak traced memory against the corpus size (streaming: far below it) and the change counts.

    .venv/bin/python benchmarks/import_docs.py --files 10000
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "fixtures" / "import"))

WORDS = [
    "pump",
    "valve",
    "seal",
    "impeller",
    "sensor",
    "flow",
    "pressure",
    "gasket",
    "motor",
    "filter",
    "cable",
    "bar",
    "litre",
]


def _paragraphs(rng: random.Random, count: int) -> list[str]:
    return [
        " ".join(rng.choice(WORDS) for _ in range(rng.randint(20, 90))).capitalize() + "."
        for _ in range(count)
    ]


def write_folder(root: Path, files: int, seed: int) -> int:
    """Write ``files`` documents of mixed formats; return their total size in bytes."""
    from make_fixtures import text_pdf

    rng = random.Random(seed)
    for number in range(files):
        folder = root / f"section{number % 50}"
        folder.mkdir(parents=True, exist_ok=True)
        title = f"Note {number} on the {rng.choice(WORDS)}"
        body = _paragraphs(rng, rng.randint(2, 12))
        kind = number % 5 if number % 200 else 5
        if kind == 0:
            content = f"---\ntitle: {title}\n---\n\n" + "\n\n".join(body)
            (folder / f"note{number}.md").write_text(content, encoding="utf-8")
        elif kind == 1:
            (folder / f"note{number}.txt").write_text("\n\n".join(body), encoding="utf-8")
        elif kind == 2:
            rst = f"{title}\n{'=' * len(title)}\n\n" + "\n\n".join(body)
            (folder / f"note{number}.rst").write_text(rst, encoding="utf-8")
        elif kind in (3, 4):
            paragraphs = "".join(f"<p>{p}</p>" for p in body)
            html = f"<html><head><title>{title}</title><script>x()</script></head>"
            (folder / f"note{number}.html").write_text(html + f"<body>{paragraphs}</body></html>")
        else:
            (folder / f"note{number}.pdf").write_bytes(text_pdf([[title, *body[:3]]]))
    return sum(path.stat().st_size for path in root.rglob("*") if path.is_file())


def edit_folder(root: Path, share: float, seed: int) -> int:
    """Append a sentence to ``share`` of the text files."""
    rng = random.Random(seed)
    candidates = sorted(p for p in root.rglob("*") if p.suffix in (".md", ".txt", ".rst"))
    chosen = rng.sample(candidates, max(1, round(len(candidates) * share)))
    for path in chosen:
        with path.open("a", encoding="utf-8") as handle:
            handle.write(f"\n\nRevised: the {rng.choice(WORDS)} check is now weekly.\n")
    return len(chosen)


def run(label: str, source: Path, raw_dir: Path, traced: bool):
    from ragtune.data.importer.docs import import_folder
    from ragtune.data.importer.folder import ImportOptions

    if traced:
        tracemalloc.start()
    started = time.perf_counter()
    report = import_folder(source, raw_dir, ImportOptions(progress=False))
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] if traced else 0
    if traced:
        tracemalloc.stop()
    counts = ", ".join(f"{k} {v}" for k, v in report.changes.counts().items())
    print(
        f"{label:<22} {seconds:7.2f} s  {report.files / seconds:8.0f} files/s  "
        f"{report.docs} docs, {len(report.skipped)} skipped  ({counts})",
        flush=True,
    )
    return seconds, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-trace", action="store_true", help="Skip the tracemalloc pass.")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="ragtune-import-bench-"))
    try:
        source = work / "docs"
        size = write_folder(source, args.files, args.seed)
        print(f"corpus: {args.files} files, {size / 1e6:.1f} MB in {source}")
        first, _ = run("(a) first import", source, work / "raw", traced=False)
        again, _ = run("(b) nothing changed", source, work / "raw", traced=False)
        edited = edit_folder(source, 0.01, args.seed)
        changed, _ = run(f"(c) {edited} files edited", source, work / "raw", traced=False)
        print(f"b/a = {again / first:.3f}   c/a = {changed / first:.3f}")
        if not args.no_trace:
            _, peak = run("(d) first import, traced", source, work / "raw-traced", traced=True)
            print(f"peak traced memory {peak / 1e6:.1f} MB = {peak / size:.3f} of the corpus size")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
