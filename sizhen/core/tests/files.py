"""Small real files for upload tests: the upload rules check content, not only names."""

from __future__ import annotations

import io
import zipfile

from django.core.files.uploadedfile import SimpleUploadedFile

PDF = b"%PDF-1.4\n%test\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
CSV_UTF8 = "区划,数值\n东湖区,12.5\n".encode()


def ooxml(part: str) -> bytes:
    """A minimal Office Open XML package holding ``part`` (word/document.xml for DOCX,
    xl/workbook.xml for XLSX)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr(part, "<x/>")
    return buffer.getvalue()


def docx_file(name: str = "通知.docx") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, ooxml("word/document.xml"))


def xlsx_file(name: str = "台账.xlsx") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, ooxml("xl/workbook.xml"))


def pdf_file(name: str = "佐证.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def csv_file(name: str = "数据.csv", content: bytes = CSV_UTF8) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="text/csv")
