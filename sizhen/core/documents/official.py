"""Official documents (公文) in the national format GB/T 9704-2012: A4, a 156 × 225 mm text
block (margins top 37, bottom 35, left 28, right 26 mm) of 22 lines × 28 characters of 三号
type, the issuing office's red mark (发文机关标志) with the document number (发文字号) and a red
rule under it, the title in 小标宋 二号, the body in 仿宋 三号 with 黑体/楷体 headings, the
signature (落款) and date kept with the last paragraph, and page numbers "— 1 —". Word documents
name the standard faces a government PC has; PDFs embed subsets of the closest faces Debian ships
(docs/decisions/0009-official-document-fonts.md)."""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sizhen.core.documents import A4_HEIGHT_MM, A4_WIDTH_MM, CJK_FONT_PATH

ARPHIC_MING_PATH = "/usr/share/fonts/truetype/arphic/uming.ttc"
ARPHIC_KAI_PATH = "/usr/share/fonts/truetype/arphic/ukai.ttc"

GB_MARGINS_MM = {"top": 37, "bottom": 35, "left": 28, "right": 26}
GB_TEXT_WIDTH_MM = A4_WIDTH_MM - GB_MARGINS_MM["left"] - GB_MARGINS_MM["right"]  # 156
GB_TEXT_HEIGHT_MM = A4_HEIGHT_MM - GB_MARGINS_MM["top"] - GB_MARGINS_MM["bottom"]  # 225
GB_LINES, GB_CHARS = 22, 28
#: 225 mm / 22 lines, as Word's document grid holds it (linePitch 579 twentieths of a point).
GB_LINE_PITCH_PT = 28.95
#: Chinese type sizes (字号) in points.
SIZE_2, SIZE_3, SIZE_4 = 22.0, 16.0, 14.0
#: 发文机关标志 is at most 15 mm wide a character (GB/T 9704 7.2.1); 42 pt is 14.8 mm.
ORGAN_MAX_PT = 42.0
RED = "FF0000"
MM_PER_PT = 25.4 / 72


@dataclass(frozen=True)
class Face:
    """A typeface of the standard: ``standard`` is the name a government PC's Word has (the
    DOCX names it), ``path`` the closest face Debian ships, embedded in PDFs under
    ``pdf_name``."""

    standard: str
    pdf_name: str
    path: str
    #: Set in PDFs on the character grid (28 a line at 三号), as Word's document grid does.
    #: reportlab keeps one font object per face file (the first registered), so faces sharing
    #: a file share its widths and must say the same here.
    on_grid: bool = False


FANGSONG = Face("仿宋_GB2312", "GB-FangSong", ARPHIC_MING_PATH, on_grid=True)
#: 小标宋 is a heavy Song and the free Ming face has no bold: PDFs stroke its outlines
#: (``heavy_paragraph``, ``official_head``).
XIAOBIAOSONG = Face("方正小标宋简体", "GB-XiaoBiaoSong", ARPHIC_MING_PATH, on_grid=True)
HEITI = Face("黑体", "GB-Heiti", CJK_FONT_PATH)
KAITI = Face("楷体_GB2312", "GB-Kaiti", ARPHIC_KAI_PATH)
#: Page numbers: 4号半角宋体.
SONGTI = Face("宋体", "GB-Songti", ARPHIC_MING_PATH, on_grid=True)
OFFICIAL_FACES = (FANGSONG, XIAOBIAOSONG, HEITI, KAITI, SONGTI)


def official_fonts() -> dict[str, str]:
    """Register the official faces with reportlab (once per process); standard name → the name
    to use in PDF styles. A face whose file is missing falls back to the CJK font of
    ``scripts/setup.sh``, so a document still renders, in the wrong style."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    registered = set(pdfmetrics.getRegisteredFontNames())
    for face in OFFICIAL_FACES:
        if face.pdf_name in registered:
            continue
        path = face.path if Path(face.path).exists() else CJK_FONT_PATH
        font = TTFont(face.pdf_name, path, subfontIndex=0)
        if face.on_grid:
            # Word's grid narrows the character pitch of 三号 type so that 28 fit the 156 mm
            # line; reportlab paragraphs have no character spacing, so the full-width advance
            # widths (which PDF readers take from the font dictionary) are narrowed instead.
            pitch = GB_TEXT_WIDTH_MM / MM_PER_PT / GB_CHARS / SIZE_3
            widths = font.face.charWidths
            for code, width in widths.items():
                if width >= 1000:
                    widths[code] = width * pitch
        pdfmetrics.registerFont(font)
    return {face.standard: face.pdf_name for face in OFFICIAL_FACES}


def text_ems(text: str) -> float:
    """Width of ``text`` in characters: Latin half, everything from the general punctuation
    on (Chinese fonts set “ ” — as full-width) whole."""
    return sum(0.5 if ord(ch) < 0x2000 else 1.0 for ch in text)


def signature_indents(organ: str, date_text: str) -> tuple[float, float]:
    """Right indents (in characters) of the signature (落款) and the date, GB/T 9704 7.3.5.2:
    the signature two characters from the right, the date on the next line starting two
    characters right of the signature's first character; a date longer than that keeps two
    characters from the right and pushes the signature left."""
    organ_ems, date_ems = text_ems(organ), text_ems(date_text)
    if organ_ems - date_ems >= 2:
        return 2.0, organ_ems - date_ems
    return date_ems + 4 - organ_ems, 2.0


def organ_size(organ: str) -> float:
    """Point size of the issuing office's mark: as large as the standard allows on one line."""
    return min(ORGAN_MAX_PT, float(int(GB_TEXT_WIDTH_MM / MM_PER_PT / max(text_ems(organ), 1))))


# DOCX ----------------------------------------------------------------------------------------


def set_run_fonts(element: Any, name: str) -> None:
    """Name ``name`` for every script of a style's or run's properties, dropping theme fonts
    (which Word prefers over a named one)."""
    from docx.oxml.ns import qn

    rpr = element.get_or_add_rPr()
    fonts = rpr.get_or_add_rFonts()
    for attribute in ("ascii", "hAnsi", "eastAsia", "cs"):
        fonts.set(qn(f"w:{attribute}"), name)
    for attribute in ("asciiTheme", "hAnsiTheme", "eastAsiaTheme", "cstheme"):
        fonts.attrib.pop(qn(f"w:{attribute}"), None)


#: Paragraph styles of the official DOCX: name → (face, size in points, alignment, red).
_DOCX_STYLES: dict[str, tuple[Face, float, str, bool]] = {
    "发文机关标志": (XIAOBIAOSONG, ORGAN_MAX_PT, "center", True),
    "发文字号": (FANGSONG, SIZE_3, "center", False),
    "公文标题": (XIAOBIAOSONG, SIZE_2, "center", False),
    "一级标题": (HEITI, SIZE_3, "justify", False),
    "二级标题": (KAITI, SIZE_3, "justify", False),
    "落款": (FANGSONG, SIZE_3, "right", False),
    "表格文字": (FANGSONG, SIZE_4, "center", False),
    "表头": (HEITI, SIZE_4, "center", False),
    "图表标题": (HEITI, SIZE_4, "center", False),
    "页码": (SONGTI, SIZE_4, "right", False),
}


def new_official_docx() -> Any:
    """An empty official document (公文): GB/T 9704 page, the 22 × 28 document grid, body text
    (``Normal``) in 仿宋 三号 on exact 28.95 pt lines, the styles of ``_DOCX_STYLES`` and page
    numbers "— 1 —" right on odd pages, left on even ones."""
    from docx import Document
    from docx.enum.style import WD_STYLE_TYPE
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
    from docx.oxml.ns import qn
    from docx.shared import Mm, Pt, RGBColor

    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = Mm(A4_WIDTH_MM), Mm(A4_HEIGHT_MM)
    section.top_margin = Mm(GB_MARGINS_MM["top"])
    section.bottom_margin = Mm(GB_MARGINS_MM["bottom"])
    section.left_margin = Mm(GB_MARGINS_MM["left"])
    section.right_margin = Mm(GB_MARGINS_MM["right"])
    # The page number's rule sits 7 mm under the text block.
    section.footer_distance = Mm(GB_MARGINS_MM["bottom"] - 7 - SIZE_4 * MM_PER_PT)
    grid = section._sectPr.find(qn("w:docGrid"))
    if grid is None:
        grid = section._sectPr.makeelement(qn("w:docGrid"), {})
        section._sectPr.append(grid)
    # Character pitch 156 mm / 28 = 15.79 pt: 16 pt less 0.21 pt, in 4096ths of a point,
    # rounded down so that 28 characters always fit.
    char_space = math.floor((GB_TEXT_WIDTH_MM / MM_PER_PT / GB_CHARS - SIZE_3) * 4096)
    grid.set(qn("w:type"), "linesAndChars")
    grid.set(qn("w:linePitch"), str(round(GB_LINE_PITCH_PT * 20)))
    grid.set(qn("w:charSpace"), str(char_space))

    normal = document.styles["Normal"]
    set_run_fonts(normal.element, FANGSONG.standard)
    normal.font.size = Pt(SIZE_3)
    normal.paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    normal.paragraph_format.line_spacing = Pt(GB_LINE_PITCH_PT)
    normal.paragraph_format.space_before = normal.paragraph_format.space_after = Pt(0)
    normal.paragraph_format.widow_control = True
    alignments = {
        "center": WD_ALIGN_PARAGRAPH.CENTER,
        "right": WD_ALIGN_PARAGRAPH.RIGHT,
        "justify": WD_ALIGN_PARAGRAPH.JUSTIFY,
    }
    for name, (face, size, alignment, red) in _DOCX_STYLES.items():
        style = document.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        style.base_style = normal
        set_run_fonts(style.element, face.standard)
        style.font.size = Pt(size)
        style.paragraph_format.alignment = alignments[alignment]
        if red:
            style.font.color.rgb = RGBColor.from_string(RED)
        if size != SIZE_3:
            style.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
    for name, level in (("一级标题", 0), ("二级标题", 1)):
        # Outline levels put the headings in Word's navigation pane.
        ppr = document.styles[name].element.get_or_add_pPr()
        ppr.append(ppr.makeelement(qn("w:outlineLvl"), {qn("w:val"): str(level)}))
        document.styles[name].paragraph_format.first_line_indent = Pt(2 * SIZE_3)
        document.styles[name].paragraph_format.keep_with_next = True
    title = document.styles["公文标题"].paragraph_format
    title.line_spacing_rule, title.line_spacing = WD_LINE_SPACING.EXACTLY, Pt(GB_LINE_PITCH_PT + 6)
    _docx_page_numbers(document)
    return document


def _docx_page_numbers(document: Any) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Pt

    document.settings.odd_and_even_pages_header_footer = True
    section = document.sections[0]
    for footer, alignment in (
        (section.footer, WD_ALIGN_PARAGRAPH.RIGHT),
        (section.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT),
    ):
        footer.is_linked_to_previous = False
        paragraph = footer.paragraphs[0]
        paragraph.style = document.styles["页码"]
        paragraph.alignment = alignment
        # One character (四号) from the text block's edge: right on odd pages, left on even.
        if alignment == WD_ALIGN_PARAGRAPH.RIGHT:
            paragraph.paragraph_format.right_indent = Pt(SIZE_4)
        else:
            paragraph.paragraph_format.left_indent = Pt(SIZE_4)
        paragraph.add_run("— ")
        run = paragraph.add_run()
        for kind, text in (("begin", None), (None, " PAGE "), ("end", None)):
            if kind is None:
                code = run._r.makeelement(qn("w:instrText"), {qn("xml:space"): "preserve"})
                code.text = text
                run._r.append(code)
            else:
                run._r.append(run._r.makeelement(qn("w:fldChar"), {qn("w:fldCharType"): kind}))
        paragraph.add_run(" —")


def docx_official_head(document: Any, organ: str, number: str) -> None:
    """The red mark (发文机关标志) 35 mm under the top of the text block, the number
    (发文字号) two lines under it and the red rule 4 mm under the number (GB/T 9704 7.2)."""
    from docx.oxml.ns import qn
    from docx.shared import Mm, Pt

    mark = document.add_paragraph(organ, style="发文机关标志")
    size = organ_size(organ)
    mark.paragraph_format.space_before = Mm(35)
    mark.paragraph_format.space_after = Pt(2 * GB_LINE_PITCH_PT)
    for run in mark.runs:
        run.font.size = Pt(size)
    numbered = document.add_paragraph(number, style="发文字号")
    border = numbered._p.get_or_add_pPr()
    borders = border.makeelement(qn("w:pBdr"), {})
    borders.append(
        borders.makeelement(
            qn("w:bottom"),
            {qn("w:val"): "single", qn("w:sz"): "12", qn("w:space"): "11", qn("w:color"): RED},
        )
    )
    border.append(borders)
    numbered.paragraph_format.space_after = Pt(2 * GB_LINE_PITCH_PT)


def docx_body(document: Any, text: str, *, style: str = "Normal", indent: bool = True) -> Any:
    """A body paragraph: two characters indented (左空二字), wrapped lines flush left."""
    from docx.shared import Pt

    paragraph = document.add_paragraph(text, style=style)
    if indent:
        paragraph.paragraph_format.first_line_indent = Pt(2 * SIZE_3)
    return paragraph


def docx_signature(document: Any, organ: str, date_text: str, *, keep: int = 1) -> None:
    """The signature (落款) a blank line under the last paragraph, the date under it, both
    kept on the page of the last ``keep`` paragraphs (keep with next from those on)."""
    from docx.shared import Pt

    for paragraph in document.paragraphs[-keep:]:
        paragraph.paragraph_format.keep_with_next = True
        paragraph.paragraph_format.keep_together = True
    organ_indent, date_indent = signature_indents(organ, date_text)
    blank = document.add_paragraph()
    blank.paragraph_format.keep_with_next = True
    signature = document.add_paragraph(organ, style="落款")
    signature.paragraph_format.right_indent = Pt(organ_indent * SIZE_3)
    signature.paragraph_format.keep_with_next = True
    date = document.add_paragraph(date_text, style="落款")
    date.paragraph_format.right_indent = Pt(date_indent * SIZE_3)
    date.paragraph_format.keep_together = True


def docx_picture(document: Any, png: bytes, *, width_mm: float) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
    from docx.shared import Mm

    paragraph = document.add_paragraph()
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    # An exact line height would clip the picture to one line.
    paragraph.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
    paragraph.paragraph_format.keep_with_next = True
    paragraph.add_run().add_picture(io.BytesIO(png), width=Mm(width_mm))


# PDF -----------------------------------------------------------------------------------------

#: Character pitch of the grid: 156 mm / 28 (a hair less, so that 28 characters always fit).
GB_CHAR_PITCH_PT = (GB_TEXT_WIDTH_MM / MM_PER_PT - 0.01) / GB_CHARS
#: Outline stroke of the emboldened (heavy) faces, as a share of the type size.
HEAVY_STROKE = 0.03


#: Line-breaking rules of Chinese typesetting (禁则, after GB/T 15834 标点符号用法): marks that
#: may not start a line and marks that may not end one.
CANNOT_START_A_LINE = "，。、；：？！）》”’」』】〕…%"
CANNOT_END_A_LINE = "（《“‘「『【〔"
#: A run of Latin letters and digits (12.5, 2026) is not broken, up to this many characters.
UNBROKEN_RUN = 12


def _latin(ch: str) -> bool:
    return ch.isascii() and (ch.isalnum() or ch in ".-")


def break_lines(text: str, font: str, size: float, first: float, rest: float) -> list[str]:
    """``text`` in lines no wider than ``first`` (the first line) and ``rest`` points, by the
    Chinese rules: a mark that may not start a line takes the character before it to the next
    line, an opening mark goes down with what it opens, figures stay whole. (reportlab's own
    CJK breaking hangs one mark in the margin and lets a second start the next line.)"""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    widths = [stringWidth(ch, font, size) for ch in text]
    lines: list[str] = []
    start, used, limit = 0, 0.0, first
    for index, width in enumerate(widths):
        if used + width > limit + 1e-6 and index > start:
            cut = index
            moved = True
            while moved and cut > start + 1:
                moved = (
                    text[cut] in CANNOT_START_A_LINE
                    or text[cut - 1] in CANNOT_END_A_LINE
                    or (_latin(text[cut - 1]) and _latin(text[cut]) and index - cut < UNBROKEN_RUN)
                )
                cut -= moved
            lines.append(text[start:cut])
            start, used, limit = cut, sum(widths[cut:index]), rest
        used += width
    lines.append(text[start:])
    return lines


def _broken(text: str | Sequence[str], style: Any) -> str:
    """Paragraph markup of ``text`` broken by ``break_lines``; a sequence is lines the caller
    set apart already (a title), each broken further only if too long."""
    from xml.sax.saxutils import escape

    width = GB_TEXT_WIDTH_MM / MM_PER_PT - style.leftIndent - style.rightIndent
    lines: list[str] = []
    for part in [text] if isinstance(text, str) else text:
        first = width - (0 if lines else style.firstLineIndent)
        lines += break_lines(part, style.fontName, style.fontSize, first, width)
    return "<br/>".join(escape(line) for line in lines)


def official_paragraph(text: str | Sequence[str], style: Any) -> Any:
    """A paragraph of the text block broken by ``break_lines`` (then each line fits, and
    reportlab breaks nothing more)."""
    from reportlab.platypus import Paragraph

    return Paragraph(_broken(text, style), style)


def official_pdf_styles() -> dict[str, Any]:
    """Paragraph styles of an official PDF: body (正文, 仿宋 三号, two characters indented),
    addressee (主送机关, flush left), heading1 (黑体), heading2 (楷体), title (小标宋 二号),
    signature (落款, right), table/table_head (四号) and caption (图表标题)."""
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY, TA_LEFT, TA_RIGHT
    from reportlab.lib.styles import ParagraphStyle

    fonts = official_fonts()
    body = ParagraphStyle(
        "body",
        fontName=fonts[FANGSONG.standard],
        fontSize=SIZE_3,
        leading=GB_LINE_PITCH_PT,
        firstLineIndent=2 * GB_CHAR_PITCH_PT,
        alignment=TA_JUSTIFY,
        wordWrap="CJK",
        textColor=colors.black,
    )
    table = ParagraphStyle(
        "table",
        parent=body,
        fontSize=SIZE_4,
        leading=SIZE_4 * 1.3,
        firstLineIndent=0,
        alignment=TA_CENTER,
    )
    return {
        "body": body,
        "addressee": ParagraphStyle("addressee", parent=body, firstLineIndent=0, alignment=TA_LEFT),
        "heading1": ParagraphStyle(
            "heading1", parent=body, fontName=fonts[HEITI.standard], keepWithNext=1
        ),
        "heading2": ParagraphStyle(
            "heading2", parent=body, fontName=fonts[KAITI.standard], keepWithNext=1
        ),
        "title": ParagraphStyle(
            "title",
            parent=body,
            fontName=fonts[XIAOBIAOSONG.standard],
            fontSize=SIZE_2,
            leading=GB_LINE_PITCH_PT + 6,
            firstLineIndent=0,
            alignment=TA_CENTER,
        ),
        "signature": ParagraphStyle(
            "signature", parent=body, firstLineIndent=0, alignment=TA_RIGHT
        ),
        "table": table,
        "table_head": table.clone("table_head", fontName=fonts[HEITI.standard]),
        "caption": table.clone("caption", fontName=fonts[HEITI.standard], leading=GB_LINE_PITCH_PT),
    }


def _heavy_text(canvas: Any, size: float, colour: Any) -> None:
    """Fill and stroke the glyphs that follow (PDF text render mode 2): a bold of a face that
    has none. Text state lives in the graphics state, so the caller's restoreState ends it."""
    canvas.setLineWidth(size * HEAVY_STROKE)
    canvas.setStrokeColor(colour)
    canvas.addLiteral("2 Tr")


def heavy_paragraph(text: str | Sequence[str], style: Any) -> Any:
    """A paragraph in a heavy face (the title in 小标宋), broken as ``official_paragraph``."""
    from reportlab.platypus import Paragraph

    class HeavyParagraph(Paragraph):
        def draw(self) -> None:
            self.canv.saveState()
            _heavy_text(self.canv, self.style.fontSize, self.style.textColor)
            super().draw()
            self.canv.restoreState()

    return HeavyParagraph(_broken(text, style), style)


def official_head(organ: str, number: str) -> Any:
    """The head of an official PDF as one flowable: the red mark 35 mm under the top of the
    text block, the number two lines under it, the red rule 4 mm under the number, and two
    blank lines before the title (GB/T 9704 7.2)."""
    from reportlab.lib import colors
    from reportlab.lib.units import mm
    from reportlab.platypus import Flowable

    fonts = official_fonts()
    size = organ_size(organ)
    red = colors.HexColor(f"#{RED}")

    class OfficialHead(Flowable):
        def __init__(self) -> None:
            super().__init__()
            # Offsets down from the flowable's top edge.
            self.mark_baseline = 35 * mm + size * 0.88
            self.number_baseline = self.mark_baseline + 3 * GB_LINE_PITCH_PT
            self.rule = self.number_baseline + SIZE_3 * 0.12 + 4 * mm
            self.height = self.rule + 2 * GB_LINE_PITCH_PT

        def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
            self.width = available_width
            return self.width, self.height

        def draw(self) -> None:
            canvas, top, centre = self.canv, self.height, self.width / 2
            canvas.saveState()
            canvas.setFillColor(red)
            _heavy_text(canvas, size, red)
            canvas.setFont(fonts[XIAOBIAOSONG.standard], size)
            canvas.drawCentredString(centre, top - self.mark_baseline, organ)
            canvas.restoreState()
            canvas.saveState()
            canvas.setFont(fonts[FANGSONG.standard], SIZE_3)
            canvas.drawCentredString(centre, top - self.number_baseline, number)
            canvas.setStrokeColor(red)
            canvas.setLineWidth(1.5)
            canvas.line(0, top - self.rule, self.width, top - self.rule)
            canvas.restoreState()

    return OfficialHead()


def official_closing(last: list[Any], organ: str, date_text: str) -> Any:
    """The last paragraphs, a blank line, the signature and the date kept on one page
    (GB/T 9704 7.3.5: the signature never stands alone on a page)."""
    from reportlab.platypus import KeepTogether, Spacer

    styles = official_pdf_styles()
    organ_indent, date_indent = signature_indents(organ, date_text)
    signature = styles["signature"]
    return KeepTogether(
        [
            *last,
            Spacer(1, GB_LINE_PITCH_PT),
            official_paragraph(organ, signature.clone("organ", rightIndent=organ_indent * SIZE_3)),
            official_paragraph(
                date_text, signature.clone("date", rightIndent=date_indent * SIZE_3)
            ),
        ]
    )


def _official_page_number(canvas: Any, document: Any) -> None:
    """ "— 1 —" in 4号 Song, its rule 7 mm under the text block, one character in from the
    right edge on odd pages and from the left edge on even ones (GB/T 9704 7.5)."""
    from reportlab.lib.units import mm

    number = canvas.getPageNumber()
    text = f"— {number} —"
    baseline = (GB_MARGINS_MM["bottom"] - 7) * mm - SIZE_4 * 0.7
    canvas.saveState()
    canvas.setFont(official_fonts()[SONGTI.standard], SIZE_4)
    if number % 2:
        right = (A4_WIDTH_MM - GB_MARGINS_MM["right"]) * mm - SIZE_4
        canvas.drawRightString(right, baseline, text)
    else:
        canvas.drawString(GB_MARGINS_MM["left"] * mm + SIZE_4, baseline, text)
    canvas.restoreState()


def build_official_pdf(story: list[Any], *, title: str) -> bytes:
    """An A4 PDF of ``story`` on the GB/T 9704 text block (no frame padding, so 22 lines of
    28.95 pt fill its 225 mm) with page numbers; the faces are embedded as subsets."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import BaseDocTemplate, Frame, PageTemplate

    official_fonts()
    buffer = io.BytesIO()
    frame = Frame(
        GB_MARGINS_MM["left"] * mm,
        GB_MARGINS_MM["bottom"] * mm,
        GB_TEXT_WIDTH_MM * mm,
        GB_TEXT_HEIGHT_MM * mm,
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
        id="text",
    )
    # The canvas starts each page in a font of its own (Helvetica, not embedded) unless told.
    document = BaseDocTemplate(buffer, pagesize=A4, title=title, initialFontName=FANGSONG.pdf_name)
    document.addPageTemplates(
        [PageTemplate(id="official", frames=[frame], onPage=_official_page_number)]
    )
    document.build(story)
    return buffer.getvalue()
