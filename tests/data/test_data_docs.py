"""Data Docs open with the network off, name the asset and the run, and are byte-stable."""

from html.parser import HTMLParser
from pathlib import Path

from ragtune.data.load import load_all, write_jsonl
from ragtune.data.suites import expectations_for
from ragtune.data.versioning import data_revision
from ragtune.errors import ValidationFailed
from ragtune.stages import validate_stage

BAD_SOURCE = "not-a-source"
SUITES = ("docs", "qa", "qa_citations", "behaviour", "behaviour_citations")


class Page(HTMLParser):
    """What a browser would fetch or run, the links, and the visible text of one page."""

    def __init__(self):
        super().__init__()
        self.fetched, self.links, self.scripts, self.text = [], [], 0, []

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        self.scripts += tag == "script"
        if tag == "a":
            self.links.append(values.get("href", ""))
        elif values.get("src") or (tag == "link" and values.get("href")):
            self.fetched.append(values.get("src") or values["href"])

    def handle_data(self, data):
        self.text.append(data)


def _parse(path: Path) -> Page:
    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def _visible(path: Path) -> str:
    """The page's text, whitespace collapsed."""
    return " ".join(" ".join(_parse(path).text).split())


def _validate_with_one_bad_doc(settings) -> Path:
    prepared = settings.path(settings.prepare.prepared_dir)
    docs = load_all(prepared)["docs"]
    docs[1]["source"] = BAD_SOURCE
    write_jsonl(prepared / "docs.jsonl", docs)
    try:
        validate_stage(settings)
    except ValidationFailed:
        pass
    else:
        raise AssertionError("a doc with an unknown source passed validation")
    return settings.path(settings.validate_.reports_dir) / "data_docs"


def test_data_docs_render_without_network_with_the_results_in_the_html(demo_project, settings):
    docs_dir = _validate_with_one_bad_doc(settings)
    revision = data_revision(demo_project, settings.path(settings.data.raw_dir)).id
    pages = sorted(docs_dir.rglob("*.html"))
    assert len(pages) == 1 + len(SUITES)
    for path in pages:
        page = _parse(path)
        assert page.scripts == 0, path
        assert page.fetched == [], path  # nothing to download: the style sheet is inline
        for link in page.links:
            assert "//" not in link, (path, link)
            assert (path.parent / link).resolve().is_file(), (path, link)
    index = _visible(docs_dir / "index.html")
    assert f"Run name (data revision): {revision}" in index
    for suite in SUITES:
        assert f"ragtune_{suite}" in index
    docs_page = _visible(docs_dir / "validations" / "ragtune_docs.html")
    assert "Data asset docs" in docs_page and f"Run name {revision}" in docs_page
    assert "None" not in docs_page and "__none__" not in docs_page
    assert "expect_column_values_to_be_in_set" in docs_page
    assert "1 of 60 rows unexpected" in docs_page and BAD_SOURCE in docs_page
    count = len(expectations_for("docs", settings.validate_, []))
    assert f"{count} evaluated, {count - 1} passed, 1 failed" in docs_page


def test_same_data_writes_the_same_bytes(demo_project, settings):
    reports = settings.path(settings.validate_.reports_dir)
    validate_stage(settings)
    first = {p.relative_to(reports): p.read_bytes() for p in reports.rglob("*") if p.is_file()}
    validate_stage(settings)
    second = {p.relative_to(reports): p.read_bytes() for p in reports.rglob("*") if p.is_file()}
    assert Path("data_docs/index.html") in first and Path("summary.json") in first
    assert second == first
