"""Official documents (公文, GB/T 9704-2012) as core sets them up: the 22 × 28 grid of the PDF
text block, the signature's indents, Chinese line breaking, the head."""

from __future__ import annotations

import io

from pypdf import PdfReader

from sizhen.core.documents import official as documents
from sizhen.core.documents.official import (
    GB_TEXT_HEIGHT_MM,
    GB_TEXT_WIDTH_MM,
    MM_PER_PT,
    break_lines,
    build_official_pdf,
    official_paragraph,
    official_pdf_styles,
    signature_indents,
    text_ems,
)

WIDTH = GB_TEXT_WIDTH_MM / MM_PER_PT


def _lines(text: str, style: str = "addressee") -> list[str]:
    """How reportlab sets ``text`` in a paragraph of the style, line by line."""
    from reportlab.platypus import Paragraph

    paragraph = Paragraph(text, official_pdf_styles()[style])
    paragraph.wrap(WIDTH, 10_000)
    return ["".join(line[1]) for line in paragraph.blPara.lines]


def _broken(text: str, style: str = "addressee") -> list[str]:
    chosen = official_pdf_styles()[style]
    first = WIDTH - chosen.firstLineIndent
    return break_lines(text, chosen.fontName, chosen.fontSize, first, WIDTH)


def test_a_line_holds_28_characters_of_body_type() -> None:
    assert _lines("国" * 28) == ["国" * 28]
    assert _lines("国" * 29) == ["国" * 28, "国"]
    assert _broken("国" * 29) == ["国" * 28, "国"]
    # A body paragraph starts two characters in (左空二字).
    assert [len(line) for line in _broken("国" * 30, "body")] == [26, 4]


def test_a_page_holds_22_lines() -> None:
    from reportlab.platypus import Paragraph

    def pages(lines: int) -> int:
        style = official_pdf_styles()["addressee"]
        story = [Paragraph("国" * 28, style) for _ in range(lines)]
        return len(PdfReader(io.BytesIO(build_official_pdf(story, title="t"))).pages)

    assert round(GB_TEXT_HEIGHT_MM) == 225
    assert (pages(22), pages(23)) == (1, 2)


def test_lines_break_by_the_chinese_rules() -> None:
    # Two closing marks after a full line: the character before them goes down with them.
    assert _broken("国" * 27 + "）。国") == ["国" * 26, "国）。国"]
    # An opening mark never ends a line; figures are not split.
    assert _broken("国" * 27 + "“国”") == ["国" * 27, "“国”"]
    assert _broken("国" * 26 + "2240.72元") == ["国" * 26, "2240.72元"]
    paragraph = official_paragraph("国" * 27 + "）。国", official_pdf_styles()["addressee"])
    paragraph.wrap(WIDTH, 10_000)
    assert len(paragraph.blPara.lines) == 2


def test_signature_indents_follow_the_standard() -> None:
    # 落款 two characters from the right; the date two characters right of its first one.
    assert signature_indents("示范市营商环境建设局", "2026年12月7日") == (2.0, 3.5)
    # A date longer than the signature less two keeps two characters and pushes it left.
    assert signature_indents("营商局", "2026年12月17日") == (8.0, 2.0)
    assert text_ems("2026年12月7日") == 6.5
    assert text_ems("“国”—") == 4.0


def test_the_head_mark_is_as_large_as_the_standard_allows() -> None:
    assert documents.organ_size("示范市营商环境建设局") == 42.0
    assert documents.organ_size("示范市优化营商环境工作领导小组办公室") == 24.0
