"""Bring your own knowledge base: import document folders and QA files into ``data/raw``.

``docs.py`` streams a folder into ``docs.jsonl`` with a manifest that makes re-imports report
exactly what changed; ``readers.py``/``html.py``/``tables.py`` turn one file into documents;
``qa.py`` imports a user's own evaluation questions; ``commands.py`` holds the CLI commands.
"""
