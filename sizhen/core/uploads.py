"""Attachments (附件、佐证材料): one rule set for every uploaded file of every app.

A file is accepted when its name ends in an allowed extension *and* its content is that kind
of file (a renamed executable is refused as readily as an ``.exe``): PDF by its header, images
by their magic numbers, Office Open XML by its content-type map and the package part that
makes it a document, a workbook or a presentation, TXT as text (UTF-8 or GBK without NUL
bytes, or UTF-16 with its byte-order mark) and CSV as such text laid out in rows or delimited
columns. The size limit is ``SIZHEN_ATTACHMENT_MAX_BYTES``. Forms use
``AttachmentField``/``AttachmentsField`` so that a refused file is reported beside its field and
the rest of the form is kept; services call ``upload_error`` again, because the API reaches them
without a form.
"""

from __future__ import annotations

import codecs
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from django import forms
from django.conf import settings

#: Text files are checked on their first bytes only: a 20 MB CSV need not be decoded whole.
TEXT_PROBE_BYTES = 64 * 1024
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _head(upload: Any, size: int = 1024) -> bytes:
    upload.seek(0)
    head = upload.read(size)
    upload.seek(0)
    return bytes(head)


def _zip_has(*parts: str) -> Callable[[Any], bool]:
    def check(upload: Any) -> bool:
        if not _head(upload, 4).startswith(b"PK\x03\x04"):
            return False
        try:
            upload.seek(0)
            with zipfile.ZipFile(upload) as archive:
                names = set(archive.namelist())
        except (zipfile.BadZipFile, OSError, ValueError):
            return False
        finally:
            upload.seek(0)
        return all(part in names for part in parts)

    return check


def _text(upload: Any) -> str | None:
    """The file's first bytes as text, or None: UTF-8 or GBK without NUL bytes, or UTF-16 with
    its byte-order mark (what Excel and WPS write as "Unicode 文本")."""
    head = _head(upload, TEXT_PROBE_BYTES)
    marked = head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    if b"\x00" in head and not marked:
        return None
    for encoding in ("utf-16",) if marked else ("utf-8-sig", "gb18030"):
        # Incremental: the probe may end in the middle of a multi-byte character.
        try:
            return str(codecs.getincrementaldecoder(encoding)().decode(head, final=False))
        except UnicodeDecodeError:
            continue
    return None


def _is_text(upload: Any) -> bool:
    return _text(upload) is not None


#: A CSV is text laid out in rows or columns: a line break or a field delimiter (comma,
#: semicolon, tab or bar, as spreadsheet exports write them) among its first bytes.
CSV_LAYOUT = frozenset("\n\r,;\t|")


def _is_csv(upload: Any) -> bool:
    text = _text(upload)
    return text is not None and not CSV_LAYOUT.isdisjoint(text.strip())


def _ooxml(part: str) -> Callable[[Any], bool]:
    # An Office Open XML file is a ZIP package with a content-type map and its main part.
    return _zip_has("[Content_Types].xml", part)


def _starts(*magics: bytes) -> Callable[[Any], bool]:
    return lambda upload: _head(upload, 16).startswith(magics)


@dataclass(frozen=True)
class FileKind:
    label: str
    extensions: tuple[str, ...]
    matches: Callable[[Any], bool]


KINDS: tuple[FileKind, ...] = (
    FileKind("PDF", ("pdf",), lambda upload: b"%PDF" in _head(upload)),
    FileKind("Word", ("docx",), _ooxml("word/document.xml")),
    FileKind("Excel", ("xlsx",), _ooxml("xl/workbook.xml")),
    FileKind("PowerPoint", ("pptx",), _ooxml("ppt/presentation.xml")),
    # Office 97–2003 and WPS files share the compound-file container.
    FileKind("Office 97–2003/WPS", ("doc", "xls", "ppt", "wps"), _starts(OLE2_MAGIC)),
    FileKind("OFD", ("ofd",), _zip_has("OFD.xml")),
    FileKind("ZIP", ("zip",), _zip_has()),
    FileKind("CSV", ("csv",), _is_csv),
    FileKind("TXT", ("txt",), _is_text),
    FileKind("图片", ("png",), _starts(b"\x89PNG\r\n\x1a\n")),
    FileKind("图片", ("jpg", "jpeg"), _starts(b"\xff\xd8\xff")),
    FileKind("图片", ("gif",), _starts(b"GIF87a", b"GIF89a")),
)
_BY_EXTENSION = {extension: kind for kind in KINDS for extension in kind.extensions}
ALLOWED_EXTENSIONS = frozenset(_BY_EXTENSION)
ALLOWED_TEXT = "PDF、Word、Excel、CSV、PowerPoint、WPS、OFD、TXT、ZIP、图片（PNG/JPG/GIF）"

#: Videos are accepted only where a page plays them (training materials), never as
#: attachments in general: an MP4 by its ``ftyp`` box, a WebM by its EBML header.
VIDEO_KINDS: tuple[FileKind, ...] = (
    FileKind("MP4 视频", ("mp4",), lambda upload: _head(upload, 12)[4:8] == b"ftyp"),
    FileKind("WebM 视频", ("webm",), _starts(b"\x1a\x45\xdf\xa3")),
)
VIDEO_TEXT = "MP4、WebM"


def max_bytes() -> int:
    return int(settings.SIZHEN_ATTACHMENT_MAX_BYTES)


def upload_error(upload: Any, *, extra: tuple[FileKind, ...] = ()) -> str | None:
    """Why the file may not be attached (in Chinese), or None when it may. ``extra``: kinds a
    particular page accepts beside the shared ones (``VIDEO_KINDS``)."""
    name = PurePath(getattr(upload, "name", "") or "").name
    shown = name[:60]
    extension = PurePath(name).suffix.lower().lstrip(".")
    kind = _BY_EXTENSION.get(extension) or next(
        (k for k in extra if extension in k.extensions), None
    )
    if kind is None:
        allowed = "、".join([ALLOWED_TEXT, *(k.label for k in extra)])
        return f"文件“{shown}”的类型不允许上传（允许：{allowed}）"
    size = getattr(upload, "size", 0) or 0
    if not size:
        return f"文件“{shown}”是空文件"
    limit = max_bytes()
    if size > limit:
        return f"文件“{shown}”超过 {limit // 1024 // 1024} MB"
    if not kind.matches(upload):
        return f"文件“{shown}”的内容不是 {kind.label} 文件，类型不允许上传"
    return None


class AttachmentField(forms.FileField):
    """One attachment, checked by the shared rules (and the ``extra`` kinds the page accepts);
    the error shows beside the field."""

    def __init__(self, *args: Any, extra: tuple[FileKind, ...] = (), **kwargs: Any) -> None:
        self.extra = extra
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> Any:
        upload = super().clean(data, initial)
        if not upload:
            return upload
        error = upload_error(upload, extra=self.extra)
        if error:
            raise forms.ValidationError(error, code="attachment")
        return upload


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class AttachmentsField(forms.FileField):
    """Any number of attachments (optional unless ``required=True``); every refused file is
    named in the field's errors, so the user sees each one at once."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        single = super().clean
        items = data if isinstance(data, list | tuple) else [data]
        uploads = [single(item, initial) for item in items if item]
        if self.required and not uploads:
            raise forms.ValidationError(self.error_messages["required"], code="required")
        errors = [error for error in map(upload_error, uploads) if error]
        if errors:
            raise forms.ValidationError(errors, code="attachment")
        return uploads
