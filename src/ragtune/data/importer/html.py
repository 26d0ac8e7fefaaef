"""HTML → text with a real parser (lxml's libxml2): scripts and styles dropped, blocks kept apart."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ragtune.data.importer.text import UnreadableFile, clean_text, iso_timestamp

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
_DATE_META = ("dcterms.modified", "last-modified", "article:modified_time", "date", "dc.date")
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_WHITESPACE = re.compile(r"\s+")
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_BREAK = object()


@dataclass(frozen=True)
class HtmlContent:
    """What an HTML page contributes: its title (may be empty), text and modification date."""

    title: str
    text: str
    updated_at: str | None


def parse_html(markup: str) -> HtmlContent:
    """Extract the visible text, the ``<title>`` (else first ``<h1>``) and a modified-date meta."""
    import lxml.html
    from lxml.etree import LxmlError

    # lxml refuses str input that still declares an encoding (the text is decoded already) or
    # holds characters XML forbids; neither is visible text.
    markup = _NOT_XML.sub("", _XML_DECLARATION.sub("", markup, count=1))
    try:
        root = lxml.html.document_fromstring(markup)
    except (LxmlError, ValueError) as exc:
        raise UnreadableFile(f"no HTML content ({exc})") from None
    title = next((_text(node) for node in root.iter("title")), "")
    if not title:
        title = next((_text(node) for node in root.iter("h1", "h2")), "")
    return HtmlContent(title=title, text=visible_text(root), updated_at=_meta_date(root))


def _text(node: Any) -> str:
    return " ".join(node.text_content().split())


def visible_text(root: Any) -> str:
    """Text of the document as a reader sees it: inline runs joined, blocks on their own lines."""
    blocks: list[str] = []
    inline: list[str] = []

    def flush() -> None:
        lines = (" ".join(line.split()) for line in "".join(inline).split("\n"))
        blocks.append("\n".join(lines))
        inline.clear()

    # An explicit stack instead of recursion: generated pages nest deeper than Python's limit.
    # Items are elements, text runs, or _BREAK; an element's tail is text that follows it.
    stack: list[Any] = [root]
    while stack:
        item = stack.pop()
        if item is _BREAK:
            inline.append("\n")
            continue
        if isinstance(item, str):
            inline.append(_WHITESPACE.sub(" ", item))
            continue
        if item.tail and item is not root:
            stack.append(item.tail)
        name = item.tag.lower() if isinstance(item.tag, str) else ""
        if not name or name in DROPPED_TAGS:
            continue  # comments, processing instructions, scripts, styles
        if name == "br":
            stack.append(_BREAK)
        elif name == "pre":  # whitespace is content here: keep the code block verbatim
            flush()
            blocks.append(item.text_content())
        else:
            block = name in BLOCK_TAGS
            if block:
                stack.append(_BREAK)
            stack.extend(reversed(item))
            if item.text:
                stack.append(item.text)
            if block:
                stack.append(_BREAK)
    flush()
    return clean_text("\n\n".join(block.strip("\n") for block in blocks if block.strip()))


def _meta_date(root: Any) -> str | None:
    for meta in root.iter("meta"):
        key = (meta.get("name") or meta.get("property") or meta.get("http-equiv") or "").lower()
        if key in _DATE_META:
            stamp = iso_timestamp(meta.get("content"))
            if stamp:
                return stamp
    return None
