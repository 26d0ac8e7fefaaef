"""Prefect flows: they orchestrate the stage functions of :mod:`ragtune.stages`, nothing more.

``flows/*.py`` at the project root are thin entry files for path entrypoints
(``flows/refresh_index.py:refresh_index_flow``); the code lives here, inside the package.
"""
