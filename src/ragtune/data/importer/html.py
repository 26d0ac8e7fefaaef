"""HTML → text with a real parser (BeautifulSoup): scripts and styles dropped, blocks kept apart."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ragtune.data.importer.text import clean_text, iso_timestamp

# Never visible text: code, styling, embedded media and the <head> (its <title> is read apart).
DROPPED_TAGS = frozenset(
    {"script", "style", "noscript", "template", "head", "svg", "canvas", "iframe", "object"}
)
BLOCK_TAGS = frozenset(
    {
        "address", "article", "aside", "blockquote", "caption", "dd", "details", "div", "dl",
        "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4",
        "h5", "h6", "header", "hr", "li", "main", "nav", "ol", "p", "pre", "section",
        "summary", "table", "tbody", "td", "th", "thead", "tr", "ul", "body", "html",
    }
)  # fmt: skip
_BREAK = "\n"
_DATE_META = ("dcterms.modified", "last-modified", "article:modified_time", "date", "dc.date")


@dataclass(frozen=True)
class HtmlContent:
    """What an HTML page contributes: its title (may be empty), text and modification date."""

    title: str
    text: str
    updated_at: str | None


def parse_html(markup: str) -> HtmlContent:
    """Extract the visible text, the ``<title>`` (else first ``<h1>``) and a modified-date meta."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(markup, "html.parser")
    title_tag = soup.find("title")
    title = title_tag.get_text(" ", strip=True) if title_tag else ""
    if not title:
        heading = soup.find(["h1", "h2"])
        title = heading.get_text(" ", strip=True) if heading else ""
    return HtmlContent(title=title, text=visible_text(soup), updated_at=_meta_date(soup))


def visible_text(soup: object) -> str:
    """Text of the document as a reader sees it: inline runs joined, blocks on their own lines."""
    from bs4 import NavigableString, Tag
    from bs4.element import PreformattedString

    blocks: list[str] = []
    inline: list[str] = []

    def flush() -> None:
        lines = (" ".join(line.split()) for line in "".join(inline).split("\n"))
        blocks.append("\n".join(lines))
        inline.clear()

    # An explicit stack instead of recursion: generated pages nest deeper than Python's limit.
    stack: list[object] = [soup]
    while stack:
        node = stack.pop()
        if isinstance(node, PreformattedString):
            continue  # comments, doctype, CDATA, processing instructions
        if isinstance(node, NavigableString):
            inline.append(re.sub(r"\s+", " ", str(node)))
        elif isinstance(node, str):
            inline.append(node)  # a block boundary pushed below
        elif isinstance(node, Tag):
            name = node.name.lower()
            if name in DROPPED_TAGS:
                continue
            if name == "br":
                inline.append("\n")
            elif name == "pre":  # whitespace is content here: keep the code block verbatim
                flush()
                blocks.append(node.get_text())
            else:
                block = name in BLOCK_TAGS
                stack.extend([_BREAK] if block else [])
                stack.extend(reversed(node.contents))
                stack.extend([_BREAK] if block else [])
    flush()
    return clean_text("\n\n".join(block.strip("\n") for block in blocks if block.strip()))


def _meta_date(soup: object) -> str | None:
    for meta in soup.find_all("meta"):  # type: ignore[attr-defined]
        key = (meta.get("name") or meta.get("property") or meta.get("http-equiv") or "").lower()
        if key in _DATE_META:
            stamp = iso_timestamp(meta.get("content"))
            if stamp:
                return stamp
    return None
