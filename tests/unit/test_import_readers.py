"""Each format's reader on real files: text arrives intact, broken inputs give a reason."""

import io
from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter

from ragtune.data.importer.readers import read_document, read_markdown, read_rst
from ragtune.data.importer.text import UnreadableFile, clean_text, decode_text, split_text

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "import" / "corpus"


def read(relative: str):
    path = CORPUS / relative
    return read_document(path, path.read_bytes())


def test_markdown_front_matter_gives_title_and_date_and_is_not_in_the_text():
    parsed = read("guides/getting-started.md")
    assert parsed.title == "Getting started with the pump controller"
    assert parsed.updated_at == "2024-02-01T09:30:00Z"
    assert "tags:" not in parsed.text
    assert "The status LED turns green — ready — within 10 s." in parsed.text
    assert "pumpctl init --port /dev/ttyUSB0" in parsed.text


def test_markdown_title_is_first_heading_outside_code_fences():
    text = "```\n# not me\n```\n\n## Real title ##\n\nBody text.\n"
    assert read_markdown(text.encode()).title == "Real title"
    assert read("guides/troubleshooting.md").title == "Troubleshooting the flow sensor"
    assert read_markdown(b"No heading here at all, just prose.").title == ""


def test_rst_title_is_first_underlined_heading():
    parsed = read("reference/config.rst")
    assert parsed.title == "Configuration options"
    assert "The default ``max_pressure`` is 6 bar" in parsed.text
    assert read_rst(b"Intro line\n\nSection\n~~~~~~~\n\ntext\n").title == "Section"


def test_html_drops_scripts_styles_comments_and_keeps_blocks_apart():
    parsed = read("web/warranty.html")
    assert parsed.title == "Warranty terms"
    assert parsed.updated_at == "2023-11-20T00:00:00Z"
    assert "SHOULD-NOT-APPEAR" not in parsed.text
    assert "color: red" not in parsed.text
    assert (
        "The pump carries a 24-month warranty from the date of purchase, "
        "provided the impeller was serviced on schedule." in parsed.text
    )
    assert "Parts: covered\n\nLabour: covered for 12 months" in parsed.text


def test_html_keeps_preformatted_code_verbatim():
    html = b"<html><body><p>Run:</p><pre>def f():\n    return 1</pre></body></html>"
    parsed = read_document(Path("x.html"), html)
    assert "def f():\n    return 1" in parsed.text
    assert parsed.title == ""


def test_pdf_text_of_every_page_title_and_date():
    parsed = read("manuals/pump-manual.pdf")
    assert parsed.title == "Pump Maintenance Manual"
    assert parsed.updated_at == "2024-03-15T12:00:00Z"
    assert "Replace the impeller gasket every 400 operating hours." in parsed.text
    assert "Calibrate the pressure sensor at 2.5 bar before first use." in parsed.text


def test_pdf_with_empty_user_password_is_readable():
    writer = PdfWriter(clone_from=PdfReader(CORPUS / "manuals" / "pump-manual.pdf"))
    writer.encrypt("", owner_password="owner", algorithm="AES-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    parsed = read_document(Path("open.pdf"), buffer.getvalue())
    assert "impeller gasket" in parsed.text


@pytest.mark.parametrize(
    ("relative", "reason"),
    [
        ("manuals/broken.pdf", "broken PDF"),
        ("manuals/locked.pdf", "encrypted PDF"),
        ("empty.md", "empty file"),
        ("binary.md", "binary content"),
    ],
)
def test_unreadable_files_raise_with_a_reason(relative, reason):
    with pytest.raises(UnreadableFile, match=reason):
        read(relative)


def test_latin1_text_arrives_intact():
    parsed = read("notes/cafe-latin1.txt")
    assert parsed.text.startswith("Le café crème coûte 3,50 € au comptoir;")
    assert "Naïve façade, señor Müller." in parsed.text
    assert parsed.title == ""


def test_decoding_rules():
    assert decode_text("Grüße".encode("utf-16")) == "Grüße"
    assert decode_text(b"\xef\xbb\xbfbom") == "bom"
    with pytest.raises(UnreadableFile, match="UTF-8 up to byte"):
        decode_text("héllo ".encode() + b"\xe9 broken")
    with pytest.raises(UnreadableFile, match="neither UTF-8 nor Windows-1252"):
        decode_text(b"plain \x81 text")
    with pytest.raises(UnreadableFile, match="control characters"):
        decode_text(bytes(range(1, 32)) * 4)


def test_clean_text_removes_what_validation_refuses():
    cleaned = clean_text("a\r\nb\x0cc\x07d\ufffde\x85f\n\n\n\n g  ")
    assert cleaned == "a\nb\ncdef\n\n g"


def test_split_text_keeps_every_word_in_parts_under_the_limit():
    paragraphs = [" ".join(f"w{p}x{i}" for i in range(40 + p * 7)) for p in range(30)]
    text = "\n\n".join(paragraphs)
    parts = split_text(text, 1500, 40)
    assert len(parts) > 1
    assert all(40 <= len(part) <= 1500 for part in parts)
    assert " ".join(" ".join(parts).split()) == " ".join(text.split())
    assert split_text("short", 1500) == ["short"]
    assert [len(p) for p in split_text("x" * 3200, 1500)] == [1500, 1500, 200]


def test_split_text_never_leaves_a_lone_heading_as_a_part():
    text = "### Commits\n\n" + "x " * 990 + "\n\n### Other\n\n" + "y " * 995 + "\n\nz"
    parts = split_text(text.strip(), 2000, 40)
    assert all(40 <= len(part) <= 2000 for part in parts)
    assert "".join("".join(parts).split()) == "".join(text.split())
