"""Copy the real documents of the retrieval benchmark from installed packages (run once).

The benchmark reads the copies under ``docs/`` (so it does not drift with the installed
versions); this script says where each came from and rewrites ``provenance.md``'s table.

    .venv/bin/python benchmarks/realdocs/collect.py
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import shutil
from pathlib import Path

HERE = Path(__file__).resolve().parent

# Packages whose README (the METADATA long description) questions were written from.
ANSWERING = [
    "alembic",
    "appdirs",
    "attrs",
    "charset_normalizer",
    "cloudpickle",
    "diskcache",
    "dpath",
    "flatten_dict",
    "frozenlist",
    "funcy",
    "gitpython",
    "h11",
    "humanize",
    "idna",
    "joblib",
    "jsonschema",
    "multidict",
    "networkx",
    "peft",
    "pendulum",
    "portalocker",
    "psutil",
    "pygtrie",
    "python_dotenv",
    "python_slugify",
    "rich",
    "scikit_learn",
    "sqlalchemy",
    "starlette",
    "threadpoolctl",
    "toml",
    "typer",
    "tzlocal",
    "urllib3",
    "uvicorn",
    "voluptuous",
    "websockets",
]
# Neighbours on the same topics (dates, HTTP, web, validation, queues, ML) with no question.
DISTRACTORS = [
    "accelerate",
    "aiohttp",
    "beartype",
    "celery",
    "cyclopts",
    "dateparser",
    "fastapi",
    "httpx",
    "huggingface_hub",
    "kombu",
    "marshmallow",
    "oauthlib",
    "pandas",
    "prettytable",
    "pyasn1",
    "pydot",
    "pytz",
    "redis",
    "ruamel_yaml",
    "transformers",
]


def _licence(meta: importlib.metadata.PackageMetadata) -> str:
    return str(meta.get("License-Expression") or meta.get("License") or "").splitlines()[0][:40]


def main() -> None:
    target = HERE / "docs"
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir()
    rows = []
    for name in sorted(ANSWERING + DISTRACTORS):
        dist = importlib.metadata.distribution(name.replace("_", "-"))
        source = Path(str(dist._path)) / "METADATA"  # type: ignore[attr-defined]
        data = source.read_bytes()
        (target / f"{name}.txt").write_bytes(data)
        role = "answers" if name in ANSWERING else "distractor"
        digest = hashlib.sha256(data).hexdigest()[:12]
        rows.append(
            f"| {name} | {dist.version} | {_licence(dist.metadata)} | {role} | "
            f"`site-packages/{source.parent.name}/METADATA` | {digest} |"
        )
    table = "\n".join(
        [
            "| doc | version | licence | role | copied from | sha256[:12] |",
            "|---|---|---|---|---|---|",
        ]
        + rows
    )
    provenance = HERE / "provenance.md"
    head = provenance.read_text(encoding="utf-8").split("<!-- table -->")[0]
    provenance.write_text(f"{head}<!-- table -->\n{table}\n", encoding="utf-8")
    print(f"copied {len(rows)} documents into {target}")


if __name__ == "__main__":
    main()
