"""Hostile or huge documents: reports show them escaped and cut, never live or whole."""

import json
from html.parser import HTMLParser

from ragtune.data.load import load_all, write_jsonl
from ragtune.data.validate import validate_prepared

SCRIPT = "<script>alert(1)</script>"
IMAGE = "<img src=x onerror=alert(2)>"
HUGE = 20_000_000


class LiveMarkup(HTMLParser):
    """Collects script bodies and on* attributes: what a browser would run."""

    def __init__(self):
        super().__init__()
        self.scripts, self.handlers, self._in_script = [], [], False

    def handle_starttag(self, tag, attrs):
        self._in_script = tag == "script"
        self.handlers.extend(name for name, _ in attrs if name.startswith("on"))

    def handle_data(self, data):
        if self._in_script:
            self.scripts.append(data)


def test_failing_rows_are_escaped_in_data_docs_and_cut_everywhere(demo_project, settings, capsys):
    prepared = settings.path(settings.prepare.prepared_dir)
    docs = load_all(prepared)["docs"]
    docs[0]["text"], docs[2]["text"], docs[3]["text"] = SCRIPT, IMAGE, "y" * HUGE
    docs[4]["title"] = SCRIPT + "t" * 300
    write_jsonl(prepared / "docs.jsonl", docs)
    reports = settings.path(settings.validate_.reports_dir)
    report = validate_prepared(
        prepared,
        settings.validate_,
        reports_dir=reports,
        quarantine_dir=settings.path(settings.validate_.quarantine_dir),
    )
    assert not report.success
    rendered = report.render()
    assert len(rendered) < 5_000 and f"({HUGE:,} chars)" in rendered
    summary_text = (reports / "summary.json").read_text()
    assert len(summary_text) < 10_000 and f"({HUGE:,} chars)" in summary_text
    examples = [e for f in json.loads(summary_text)["failures"] for e in f["examples"]]
    assert {"line": 1, "doc_id": docs[0]["doc_id"], "text": SCRIPT} in examples
    pages = list((reports / "data_docs" / "validations").rglob("*docs.html"))
    assert len(pages) == 1
    page = pages[0].read_text(encoding="utf-8")
    assert len(page) < 1_000_000
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(2)&gt;" in page
    for html_file in (reports / "data_docs").rglob("*.html"):
        text = html_file.read_text(encoding="utf-8")
        assert SCRIPT not in text and IMAGE not in text, html_file
        live = LiveMarkup()
        live.feed(text)
        assert not any("alert(" in script for script in live.scripts), html_file
        assert "onerror" not in live.handlers, html_file
