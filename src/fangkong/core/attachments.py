"""Files users attach to records (a task's documents): bounded, sealed at rest, and served
only as downloads.

An app keeps an attachment's bytes in its own table (a BinaryField) as `attachment_seal`
returns them: encrypted under the data key (core.crypto, which only core and people
import), so a database dump holds no readable document. `attachment_check` refuses, before
anything is written, a file that is empty, too large, or of a kind not on the list (no
HTML, SVG or script a browser would run); `attachment_response` serves the bytes as a
download (`Content-Disposition: attachment`, `nosniff`, never inline) to a request the
app's selector has already allowed.
"""

from __future__ import annotations

import os
import unicodedata
from urllib.parse import quote

from django.http import HttpResponse
from django.utils.translation import gettext as _

from fangkong.core.crypto import decrypt_bytes, encrypt_bytes
from fangkong.core.errors import InvalidInput

ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
ATTACHMENTS_MAX = 5
NAME_MAX = 120
_PURPOSE = "attachment"

# The kinds of document a task carries, by extension, and the type they are served as.
ALLOWED_TYPES: dict[str, str] = {
    ".pdf": "application/pdf",
    ".doc": "application/msword",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xls": "application/vnd.ms-excel",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".txt": "text/plain",
    ".csv": "text/csv",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".zip": "application/zip",
}


def attachment_name(raw: str) -> str:
    """A file name safe to store and to send back: the last path part, no control
    characters, at most NAME_MAX characters (the extension kept)."""
    name = os.path.basename(str(raw or "").replace("\\", "/")).strip()
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    if len(name) > NAME_MAX:
        stem, ext = os.path.splitext(name)
        name = stem[: NAME_MAX - len(ext)] + ext
    return name


def attachment_check(*, name: str, size: int) -> tuple[str, str]:
    """(the safe name, the content type) of an upload, or an InvalidInput."""
    safe = attachment_name(name)
    ext = os.path.splitext(safe)[1].lower()
    if not safe or ext not in ALLOWED_TYPES:
        raise InvalidInput(
            "attachment_type",
            _("附件类型不支持：仅限 PDF、Word、Excel、文本、图片和压缩包"),
            name=safe,
        )
    if size <= 0:
        raise InvalidInput("attachment_empty", _("附件是空文件"), name=safe)
    if size > ATTACHMENT_MAX_BYTES:
        raise InvalidInput(
            "attachment_too_large",
            _("附件过大，每个文件不超过 10 MB"),
            name=safe,
            limit=ATTACHMENT_MAX_BYTES,
        )
    return safe, ALLOWED_TYPES[ext]


def attachment_seal(data: bytes) -> bytes:
    return encrypt_bytes(data, purpose=_PURPOSE)


def attachment_open(sealed: bytes | memoryview) -> bytes:
    return decrypt_bytes(sealed, purpose=_PURPOSE)


def attachment_response(
    *, name: str, content_type: str, sealed: bytes | memoryview
) -> HttpResponse:
    """The attachment as a download, never rendered by the browser."""
    response = HttpResponse(
        attachment_open(sealed), content_type=content_type or "application/octet-stream"
    )
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    return response
