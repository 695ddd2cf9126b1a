"""The shared attachment rules: allowed by name and by content, the size from the setting, the
form fields' errors in Chinese; the shared deadline and the A4 document setup."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from typing import Any

import pytest
from django import forms
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils.datastructures import MultiValueDict

from sizhen.core.deadlines import Deadline, resolve_deadline
from sizhen.core.documents import docx_bytes, new_docx
from sizhen.core.tests.files import CSV_UTF8, PDF, PNG, ooxml
from sizhen.core.uploads import VIDEO_KINDS, AttachmentsField, upload_error

OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 8


def _zip_without_content_types() -> bytes:
    """A ZIP holding a workbook part but no content-type map: not an Office Open XML file."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("xl/workbook.xml", "<x/>")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("方案.pdf", PDF),
        ("通知.docx", ooxml("word/document.xml")),
        ("台账.xlsx", ooxml("xl/workbook.xml")),
        ("汇报.pptx", ooxml("ppt/presentation.xml")),
        ("旧版.doc", OLE2),
        ("旧表.XLS", OLE2),
        ("电子公文.ofd", ooxml("OFD.xml")),
        ("材料.zip", ooxml("any.txt")),
        ("数据.csv", CSV_UTF8),
        ("数据gbk.csv", "区划,数值\n东湖区,1\n".encode("gbk")),
        ("分号.csv", "区划;数值\r\n东湖区;1\r\n".encode()),
        ("单列.csv", "企业名称\n东湖示范科技有限公司\n".encode()),
        ("unicode.csv", "区划\t数值\n东湖区\t1\n".encode("utf-16")),
        ("Unicode文本.txt", "情况说明".encode("utf-16")),
        ("说明.txt", "情况说明".encode()),
        ("截图.png", PNG),
        ("照片.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 8),
        ("动图.gif", b"GIF89a" + b"\x00" * 8),
    ],
)
def test_allowed_kinds(name: str, content: bytes) -> None:
    upload = SimpleUploadedFile(name, content)
    assert upload_error(upload) is None
    assert upload.read() == content  # the check leaves the file at its start


@pytest.mark.parametrize(
    ("name", "content", "error"),
    [
        ("run.exe", b"MZ", "文件“run.exe”的类型不允许上传（允许："),
        ("无扩展名", b"%PDF", "文件“无扩展名”的类型不允许上传（允许："),
        ("empty.pdf", b"", "文件“empty.pdf”是空文件"),
        ("run.pdf", b"MZ\x90\x00", "文件“run.pdf”的内容不是 PDF 文件，类型不允许上传"),
        ("zip.docx", ooxml("xl/workbook.xml"), "文件“zip.docx”的内容不是 Word 文件"),
        ("pdf.xlsx", PDF, "文件“pdf.xlsx”的内容不是 Excel 文件"),
        ("zip.xlsx", _zip_without_content_types(), "文件“zip.xlsx”的内容不是 Excel 文件"),
        ("prose.csv", "这是一段说明文字而不是表格".encode(), "文件“prose.csv”的内容不是 CSV 文件"),
        ("utf16.csv", "区划,数值".encode("utf-16-le"), "文件“utf16.csv”的内容不是 CSV 文件"),
        ("binary.csv", b"a,b\n\x00\x01\x02", "文件“binary.csv”的内容不是 CSV 文件"),
        ("bad.csv", b"\xff\xfe\xfa\xfb" * 4, "文件“bad.csv”的内容不是 CSV 文件"),
        ("pdf.png", PDF, "文件“pdf.png”的内容不是 图片 文件"),
    ],
)
def test_refused(name: str, content: bytes, error: str) -> None:
    message = upload_error(SimpleUploadedFile(name, content))
    assert message is not None and message.startswith(error)


def test_videos_only_where_a_page_accepts_them() -> None:
    mp4 = b"\x00\x00\x00\x18ftypisom" + b"\x00" * 16
    webm = b"\x1a\x45\xdf\xa3" + b"\x00" * 16
    refused = upload_error(SimpleUploadedFile("a.mp4", mp4))
    assert refused is not None and refused.startswith("文件“a.mp4”的类型不允许上传")
    assert upload_error(SimpleUploadedFile("a.mp4", mp4), extra=VIDEO_KINDS) is None
    assert upload_error(SimpleUploadedFile("a.webm", webm), extra=VIDEO_KINDS) is None
    assert upload_error(SimpleUploadedFile("a.webm", mp4), extra=VIDEO_KINDS) == (
        "文件“a.webm”的内容不是 WebM 视频 文件，类型不允许上传"
    )
    assert upload_error(SimpleUploadedFile("a.pdf", PDF), extra=VIDEO_KINDS) is None


def test_size_limit_comes_from_the_setting(settings: Any) -> None:
    settings.SIZHEN_ATTACHMENT_MAX_BYTES = 2 * 1024 * 1024
    assert upload_error(SimpleUploadedFile("a.pdf", PDF + b"0" * (2 * 1024 * 1024))) == (
        "文件“a.pdf”超过 2 MB"
    )
    assert upload_error(SimpleUploadedFile("a.pdf", PDF)) is None


class _Form(forms.Form):
    note = forms.CharField()
    files = AttachmentsField(label="附件")


def test_attachments_field_names_every_refused_file_and_keeps_the_rest() -> None:
    files = MultiValueDict(
        {
            "files": [
                SimpleUploadedFile("ok.csv", CSV_UTF8),
                SimpleUploadedFile("a.exe", b"MZ"),
                SimpleUploadedFile("b.pdf", b"no"),
            ]
        }
    )
    form = _Form({"note": "保留的文字"}, files)
    assert not form.is_valid()
    assert form.errors["files"][0].startswith("文件“a.exe”的类型不允许上传")
    assert form.errors["files"][1] == "文件“b.pdf”的内容不是 PDF 文件，类型不允许上传"
    assert form.cleaned_data["note"] == "保留的文字"
    ok = _Form({"note": "x"}, MultiValueDict({"files": [SimpleUploadedFile("ok.csv", CSV_UTF8)]}))
    assert ok.is_valid() and [f.name for f in ok.cleaned_data["files"]] == ["ok.csv"]
    assert _Form({"note": "x"}).is_valid()


@pytest.mark.django_db
def test_one_deadline_rule() -> None:
    # 30 September 2025 + 5 working days: National Day runs 1-8 October, 11 October is worked.
    start = dt.date(2025, 9, 30)
    assert resolve_deadline(start, deadline=None, working_days=5) == Deadline(
        dt.date(2025, 10, 14), 5, False
    )
    assert resolve_deadline(start, deadline=dt.date(2025, 12, 1), working_days=5) == Deadline(
        dt.date(2025, 12, 1), None, False
    )
    assert resolve_deadline(start, deadline=None, working_days=None) is None


def test_documents_are_a4_with_the_chinese_font() -> None:
    from docx import Document

    document = Document(io.BytesIO(docx_bytes(new_docx(font_size=12))))
    section = document.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    assert round(section.left_margin.mm) == 25
    normal = document.styles["Normal"]
    assert (normal.font.name, normal.font.size.pt) == ("Microsoft YaHei", 12)
    assert normal.element.rPr.rFonts.get(
        "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}eastAsia"
    ) == ("Microsoft YaHei")
