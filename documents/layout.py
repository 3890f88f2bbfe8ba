"""The built-in Word templates: GB/T 9704-2012 laid out with python-docx, Jinja tags for docxtpl.

A4, margins 37 mm top / 35 mm bottom / 28 mm left / 26 mm right; a grid of 22 lines of 28
characters (3号 = 16 pt characters, 28.95 pt lines); the red 版头 and its red rule; 份号 and
密级★保密期限 at the top left for classified incidents; 发文字号 (centred, or on the left with
签发人 on the right for 上行文); the title in 小标宋 2号; the body in 仿宋_GB2312 3号 with
first-line indents of two characters; 成文日期 on the right; page numbers "— 1 —" in 宋体 4号,
on the right of odd pages and the left of even pages. The 简报 layout (快报, 专报) replaces the
版头 with the bulletin's name, its 期号 and the editing unit. A unit that wants its own layout
downloads this template from the admin, edits it in Word and uploads it (DocumentTemplate)."""

import io
from functools import cache

from docx import Document
from docx.enum.section import WD_SECTION
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING, WD_TAB_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

# The official fonts, named in the DOCX as government PCs have them; the PDF converter maps
# each to a free substitute (documents/fonts/fonts.conf).
FANGSONG, XIAOBIAOSONG, HEITI, KAITI, SONGTI = "仿宋_GB2312", "方正小标宋简体", "黑体", "楷体_GB2312", "宋体"
OFFICIAL_FONTS = (FANGSONG, XIAOBIAOSONG, HEITI, KAITI)
RED = RGBColor(0xE6, 0x00, 0x12)
SIZE_2, SIZE_3, SIZE_4 = Pt(22), Pt(16), Pt(14)
LINE = Pt(28.95)  # 225 mm of text height / 22 lines
LINES_PER_PAGE, CHARS_PER_LINE = 22, 28


def _fonts(run_or_style, name):
    """Name a font for Latin and East Asian text alike (w:rFonts ascii/hAnsi/eastAsia)."""
    run_or_style.font.name = name
    rpr = run_or_style.element.get_or_add_rPr()
    rpr.rFonts.set(qn("w:eastAsia"), name)


def _run(paragraph, text, font=FANGSONG, size=SIZE_3, bold=False, color=None):
    run = paragraph.add_run(text)
    _fonts(run, font)
    run.font.size = size
    run.bold = bold
    if color is not None:
        run.font.color.rgb = color
    return run


def _para(doc, text="", *, align=None, font=FANGSONG, size=SIZE_3, color=None, indent_chars=0,
          right_chars=0, bold=False, exact=True):
    p = doc.add_paragraph()
    fmt = p.paragraph_format
    if align is not None:
        p.alignment = align
    if indent_chars:
        fmt.first_line_indent = Pt(16 * indent_chars)
    if right_chars:
        fmt.right_indent = Pt(16 * right_chars)
    if not exact:
        fmt.line_spacing_rule = WD_LINE_SPACING.SINGLE
    if text:
        _run(p, text, font, size, bold, color)
    return p


def _border(paragraph, edge="bottom", color="E60012", size=12):
    """A rule under (or over) the paragraph: the red 版头 rule, the 版记 lines."""
    ppr = paragraph._p.get_or_add_pPr()
    borders = ppr.find(qn("w:pBdr"))
    if borders is None:
        borders = OxmlElement("w:pBdr")
        ppr.append(borders)
    line = OxmlElement(f"w:{edge}")
    for key, value in (("val", "single"), ("sz", str(size)), ("space", "1"), ("color", color)):
        line.set(qn(f"w:{key}"), value)
    borders.append(line)


def _tag(doc, tag):
    """A docxtpl paragraph tag ({%p … %}): the paragraph disappears when rendered."""
    return _para(doc, "{%p " + tag + " %}")


def _page_number(footer, align):
    """— PAGE — in 宋体 4号 (a PAGE field between two em dashes)."""
    p = footer.paragraphs[0]
    p.alignment = align
    p.paragraph_format.left_indent = p.paragraph_format.right_indent = Pt(14)
    _run(p, "— ", SONGTI, SIZE_4)
    run = _run(p, "", SONGTI, SIZE_4)
    for kind, text in (("begin", None), (None, " PAGE "), ("separate", None), (None, "1"), ("end", None)):
        if kind:
            char = OxmlElement("w:fldChar")
            char.set(qn("w:fldCharType"), kind)
            run._r.append(char)
        elif text == " PAGE ":
            instr = OxmlElement("w:instrText")
            instr.set(qn("xml:space"), "preserve")
            instr.text = text
            run._r.append(instr)
        else:
            t = OxmlElement("w:t")
            t.text = text
            run._r.append(t)
    _run(p, " —", SONGTI, SIZE_4)


def _grid(section):
    """The document grid: 22 lines × 28 characters per page."""
    sect = section._sectPr
    grid = sect.find(qn("w:docGrid"))
    if grid is None:
        grid = OxmlElement("w:docGrid")
        sect.append(grid)
    grid.set(qn("w:type"), "linesAndChars")
    grid.set(qn("w:linePitch"), str(int(LINE.pt * 20)))
    grid.set(qn("w:charSpace"), "0")


def build(bulletin: bool) -> bytes:
    doc = Document()
    normal = doc.styles["Normal"]
    _fonts(normal, FANGSONG)
    normal.font.size = SIZE_3
    normal.paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    normal.paragraph_format.line_spacing = LINE
    normal.paragraph_format.space_before = normal.paragraph_format.space_after = Pt(0)
    normal.paragraph_format.widow_control = False

    section = doc.sections[0]
    section.start_type = WD_SECTION.NEW_PAGE
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    section.footer_distance = Mm(28) - Pt(14) * 1.5  # the page number 7 mm under the text block
    _grid(section)
    doc.settings.odd_and_even_pages_header_footer = True
    _page_number(section.footer, WD_ALIGN_PARAGRAPH.RIGHT)
    _page_number(section.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT)

    _tag(doc, "if classified")
    _para(doc, "{{ copy_no }}", font=HEITI)
    _para(doc, "{{ secrecy_mark }}", font=HEITI)
    _tag(doc, "endif")
    if bulletin:
        _para(doc, "{{ bulletin_title }}", align=WD_ALIGN_PARAGRAPH.CENTER, font=XIAOBIAOSONG,
              size=Pt(36), color=RED, exact=False)
        _para(doc, "{{ issue_label }}", align=WD_ALIGN_PARAGRAPH.CENTER, font=KAITI)
        p = _para(doc, "{{ bulletin_unit }}\t{{ date_text }}", font=KAITI)
        p.paragraph_format.tab_stops.add_tab_stop(Mm(156), WD_TAB_ALIGNMENT.RIGHT)
        _border(p)
    else:
        _para(doc, "{{r letterhead }}", align=WD_ALIGN_PARAGRAPH.CENTER, font=XIAOBIAOSONG,
              size=Pt(36), color=RED, exact=False)
        _para(doc)
        _tag(doc, "if upward")
        p = _para(doc, "{{ doc_number }}\t签发人：", indent_chars=1)
        _run(p, "{{ signer }}", KAITI)
        p.paragraph_format.tab_stops.add_tab_stop(Mm(140), WD_TAB_ALIGNMENT.RIGHT)
        _tag(doc, "else")
        _para(doc, "{{ doc_number }}", align=WD_ALIGN_PARAGRAPH.CENTER)
        _tag(doc, "endif")
        _border(_para(doc), size=18)
    _para(doc)
    _para(doc, "{{ title }}", align=WD_ALIGN_PARAGRAPH.CENTER, font=XIAOBIAOSONG, size=SIZE_2, exact=False)
    _para(doc)
    _tag(doc, "if addressee")
    _para(doc, "{{ addressee }}：")
    _tag(doc, "endif")
    _tag(doc, "for p in paragraphs")
    _para(doc, "{{r p }}", indent_chars=2)
    _tag(doc, "endfor")
    _para(doc)
    _para(doc, "{{ signature_unit }}", align=WD_ALIGN_PARAGRAPH.RIGHT, right_chars=4)
    _para(doc, "{{ date_text }}", align=WD_ALIGN_PARAGRAPH.RIGHT, right_chars=4)
    _tag(doc, "if distribution")
    _para(doc)
    p = _para(doc, "{{ distribution }}", font=FANGSONG, size=SIZE_4, indent_chars=0)
    _border(p, "top", "000000", 6)
    _border(p, "bottom", "000000", 6)
    _tag(doc, "endif")

    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


@cache
def default_template(bulletin: bool) -> bytes:
    return build(bulletin)
