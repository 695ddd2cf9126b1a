"""Generated documents (DOCX and PDF) set up once: A4 pages, the same margins, Chinese fonts.
Official documents (公文) in the national format GB/T 9704-2012 are built on this in
``documents.official``.

Word documents name a font the reader's Word has (``DOCX_FONT``) for Latin and East Asian
text alike; PDFs and charts embed the CJK font file that ``scripts/setup.sh`` installs, because
a PDF reader or matplotlib has no Chinese font of its own. The document libraries are imported
when a document is built, not when a module using this one is imported (web and worker start).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

CJK_FONT_PATH = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
#: The name the CJK font is registered under in reportlab.
PDF_FONT = "WQY"
DOCX_FONT = "Microsoft YaHei"
A4_WIDTH_MM, A4_HEIGHT_MM = 210, 297
MARGIN_MM = 25


def new_docx(*, font_size: float = 11) -> Any:
    """An empty A4 Word document whose body text is ``DOCX_FONT`` at ``font_size`` points."""
    from docx import Document
    from docx.oxml.ns import qn
    from docx.shared import Mm, Pt

    document = Document()
    for section in document.sections:
        section.page_width, section.page_height = Mm(A4_WIDTH_MM), Mm(A4_HEIGHT_MM)
        section.left_margin = section.right_margin = Mm(MARGIN_MM)
        section.top_margin = section.bottom_margin = Mm(MARGIN_MM)
    normal = document.styles["Normal"]
    normal.font.name = DOCX_FONT
    normal.font.size = Pt(font_size)
    # Word picks the East Asian font from a separate attribute; without it Chinese falls back.
    normal.element.rPr.rFonts.set(qn("w:eastAsia"), DOCX_FONT)
    return document


def docx_table(
    document: Any,
    headers: list[str],
    rows: Any,
    *,
    header_style: str | None = None,
    cell_style: str | None = None,
) -> Any:
    """A gridded table: a header row, then one row per item of ``rows`` (values as text), the
    cells' paragraphs in the given styles (else the body style)."""
    table = document.add_table(rows=1, cols=len(headers))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, headers, strict=True):
        cell.text = text
        if header_style:
            cell.paragraphs[0].style = document.styles[header_style]
    for row in rows:
        for cell, value in zip(table.add_row().cells, row, strict=True):
            cell.text = str(value)
            if cell_style:
                cell.paragraphs[0].style = document.styles[cell_style]
    return table


def docx_bytes(document: Any) -> bytes:
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def pdf_font() -> str:
    """Register the CJK font with reportlab (once per process) and return its name."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if PDF_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(PDF_FONT, CJK_FONT_PATH, subfontIndex=0))
    return PDF_FONT


def build_pdf(story: list[Any], *, title: str) -> bytes:
    """An A4 PDF of the reportlab ``story`` with the shared margins."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import SimpleDocTemplate

    buffer = io.BytesIO()
    margin = MARGIN_MM * mm
    SimpleDocTemplate(
        buffer,
        pagesize=A4,
        title=title,
        leftMargin=margin,
        rightMargin=margin,
        topMargin=margin,
        bottomMargin=margin,
    ).build(story)
    return buffer.getvalue()


def chart_font() -> Any:
    """matplotlib font properties for Chinese labels, or None where the font is missing (the
    labels then fall back to matplotlib's default font)."""
    from matplotlib import font_manager

    if not Path(CJK_FONT_PATH).exists():
        return None
    return font_manager.FontProperties(fname=CJK_FONT_PATH)
