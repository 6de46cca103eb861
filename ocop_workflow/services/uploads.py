"""The file side of dossier documents: stream, check, store, name for download, clean up. No database writes.

Why a module of its own: receiving a file is slow (a 25 MB body, a zip directory of thousands of
entries) and needs no database, whereas recording it is one short write. Keeping the two apart lets
a caller stream and check the file *before* it takes SQLite's single writer (`store_upload`, then
`documents.attach_document` with the `StoredUpload`), so a slow upload never holds up another
user's step.

Zip-based types (DOCX, XLSX) are checked from the zip's central directory only: the number of
entries and the sum of their declared uncompressed sizes must stay under the limits. Nothing is ever
decompressed here, so a bomb (a few MB expanding to GBs) costs no more than reading its directory,
and headers that lie about their sizes cannot make the server inflate anything. The entry count is
read from the end-of-central-directory record first (its zip64 form beyond 65,535 entries), so a
directory of 250,000 entries is refused before Python builds 250,000 objects for it.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import secrets
import struct
import unicodedata
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import InvalidData
from ..formats import format_number
from ..i18n import Text
from ..models import Document

CHUNK = 1024 * 1024
MB = 1024 * 1024
DEFAULT_MAX_UNZIPPED_BYTES = 200 * MB
DEFAULT_MAX_ZIP_ENTRIES = 10_000

CONTENT_TYPES = {
    "pdf": "application/pdf",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
# the extensions each detected kind may carry; the first is the one given to a file that has another
EXTENSIONS = {
    "pdf": ("pdf",),
    "jpeg": ("jpg", "jpeg", "jpe", "jfif"),
    "png": ("png",),
    "docx": ("docx",),
    "xlsx": ("xlsx",),
}
KIND_OF_CONTENT_TYPE = {ct: kind for kind, ct in CONTENT_TYPES.items()}

# names this module gives files on disk: only these are ever cleaned up (never a database or a key
# that happens to share the folder)
STORED_NAME = re.compile(r"[0-9a-f]{32}")
PART_NAME = re.compile(r"\.([0-9a-f]{32})\.part")


class UploadTooLarge(InvalidData):
    code = "too_large"


class ZipTooLarge(InvalidData):
    """A DOCX/XLSX whose contents would expand beyond the limits (a zip bomb, or simply too much);
    an `invalid_data` refusal (422) like any other content the rules do not accept."""


@dataclass(frozen=True)
class ZipLimits:
    max_unzipped_bytes: int = DEFAULT_MAX_UNZIPPED_BYTES
    max_entries: int = DEFAULT_MAX_ZIP_ENTRIES


@dataclass
class StoredUpload:
    """A checked file already in the upload folder under its generated name, not yet in the database."""

    path: Path
    kind: str
    size: int
    sha256: str

    @property
    def stored_name(self) -> str:
        return self.path.name

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.kind]

    def discard(self) -> None:
        """Remove the file (its database row was refused or rolled back)."""
        self.path.unlink(missing_ok=True)


def _zip_too_large(limits: ZipLimits) -> ZipTooLarge:
    mb, parts = limits.max_unzipped_bytes // MB, limits.max_entries
    mb_vi, mb_en, parts_vi, parts_en = (format_number(n, lang) for n in (mb, parts) for lang in ("vi", "en"))
    return ZipTooLarge(
        Text(
            f"Tệp DOCX/XLSX này khi giải nén vượt quá giới hạn ({mb_vi} MB nội dung, {parts_vi} tệp con); "
            "hãy lưu lại tài liệu gọn hơn (nén ảnh, tách thành nhiều tệp) rồi tải lên lại",
            f"This DOCX/XLSX file expands beyond the limits ({mb_en} MB of content, {parts_en} parts); "
            "save the document smaller (compress its pictures, split it into several files) and upload it again",
        )
    )


def _declared_entry_count(fh: BinaryIO) -> int | None:
    """The entry count of the end-of-central-directory record (the zip64 one when the count does not
    fit in 16 bits), without parsing the directory; None when there is no readable record."""
    fh.seek(0, os.SEEK_END)
    size = fh.tell()
    tail_len = min(size, 22 + 65535)
    fh.seek(size - tail_len)
    tail = fh.read(tail_len)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or at + 22 > len(tail):
        return None
    count = struct.unpack("<H", tail[at + 10 : at + 12])[0]
    if count != 0xFFFF:
        return count
    locator = tail[at - 20 : at] if at >= 20 else b""
    if not locator.startswith(b"PK\x06\x07"):
        return None
    offset = struct.unpack("<Q", locator[8:16])[0]
    if offset > size - 56:
        return None
    fh.seek(offset)
    record = fh.read(56)
    if not record.startswith(b"PK\x06\x06"):
        return None
    return struct.unpack("<Q", record[32:40])[0]


def check_zip(path: Path, limits: ZipLimits) -> set[str]:
    """The entry names of a zip within the limits; raises ZipTooLarge, or zipfile.BadZipFile.

    Only the central directory is read (declared sizes); no entry is decompressed.
    """
    with open(path, "rb") as fh:
        declared = _declared_entry_count(fh)
        if declared is not None and declared > limits.max_entries:
            raise _zip_too_large(limits)
        fh.seek(0)
        with zipfile.ZipFile(fh) as zf:
            infos = zf.infolist()  # every entry the directory holds, whatever count the end record claims
    if len(infos) > limits.max_entries or sum(i.file_size for i in infos) > limits.max_unzipped_bytes:
        raise _zip_too_large(limits)
    return {i.filename for i in infos}


def sniff(head: bytes, path: Path | None = None, limits: ZipLimits | None = None) -> str | None:
    """The accepted kind of a file from its first bytes (and, for Office files, its zip entries)."""
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"PK\x03\x04") and path is not None:
        try:
            names = check_zip(path, limits or ZipLimits())
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError):
            return None
        if "[Content_Types].xml" in names:
            if "word/document.xml" in names:
                return "docx"
            if "xl/workbook.xml" in names:
                return "xlsx"
    return None


def clean_filename(name: str) -> str:
    """Keep the user's name (Vietnamese included) but drop path parts and control characters."""
    name = unicodedata.normalize("NFC", name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip().strip(".")
    return name[:255] or "tai-lieu"


_EXTENSION = re.compile(r"[A-Za-z][A-Za-z0-9]{0,7}")


def download_name(original_name: str, content_type: str) -> str:
    """The name a document is served under: the original one, with the extension of its detected type.

    `poly.html` whose content is a PDF is served as `poly.pdf`: the extension is what the reader's
    computer opens a file with, so it must say what the bytes are. The wrong extension is replaced
    rather than kept in front (`poly.html.pdf`): a double extension is the classic disguise of a
    malicious attachment and mail filters flag it, and the uploader's exact name stays in the
    database and on the documents list. A suffix that is not an extension (`Báo cáo v1.2`, no
    suffix at all) is kept and the extension appended; an extension that fits (`ẢNH.JPG`) is left as it is.
    """
    kind = KIND_OF_CONTENT_TYPE.get(content_type)
    if kind is None:
        return original_name
    stem, dot, ext = original_name.rpartition(".")
    if dot and ext.lower() in EXTENSIONS[kind]:
        return original_name
    wanted = EXTENSIONS[kind][0]
    if dot and stem and _EXTENSION.fullmatch(ext):
        return f"{stem}.{wanted}"
    return f"{original_name}.{wanted}"


def _chunks(content: bytes | BinaryIO) -> Iterable[bytes]:
    stream = io.BytesIO(content) if isinstance(content, bytes | bytearray) else content
    while chunk := stream.read(CHUNK):
        yield chunk


def store_upload(
    content: bytes | BinaryIO,
    *,
    upload_dir: Path,
    max_bytes: int,
    zip_limits: ZipLimits | None = None,
) -> StoredUpload:
    """Stream a file to the upload folder under a random name and check it by content.

    Touches no database. The file is written to `.<name>.part` and renamed only once it passed
    every check, so a killed upload leaves a `.part` file (removed by `clean_uploads`), never a
    file that looks stored. Raises UploadTooLarge, ZipTooLarge or InvalidData (and leaves nothing).
    """
    upload_dir.mkdir(parents=True, exist_ok=True)
    stored_name = secrets.token_hex(16)
    target = upload_dir / stored_name
    tmp = upload_dir / f".{stored_name}.part"
    digest = hashlib.sha256()
    size = 0
    try:
        with open(tmp, "wb") as out:
            for chunk in _chunks(content):
                size += len(chunk)
                if size > max_bytes:
                    raise UploadTooLarge(
                        Text(
                            f"Tệp vượt quá giới hạn {format_number(max_bytes // MB, 'vi')} MB",
                            f"The file is larger than the {format_number(max_bytes // MB, 'en')} MB limit",
                        )
                    )
                digest.update(chunk)
                out.write(chunk)
        if size == 0:
            raise InvalidData(Text("Tệp rỗng", "The file is empty"))
        with open(tmp, "rb") as fh:
            kind = sniff(fh.read(16), tmp, zip_limits)
        if kind is None:
            raise InvalidData(
                Text(
                    "Chỉ nhận tệp PDF, JPEG, PNG, DOCX hoặc XLSX (nội dung tệp không khớp)",
                    "Only PDF, JPEG, PNG, DOCX or XLSX files are accepted (the content does not match)",
                )
            )
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return StoredUpload(target, kind, size, digest.hexdigest())


# --- cleaning the upload folder ---------------------------------------------------------------------
@dataclass
class CleanReport:
    removed: list[Path]
    kept_recent: int = 0
    skipped_orphans: bool = False  # the database lists no document at all: orphans were left alone

    def lines(self, dry_run: bool) -> list[Text]:
        verb = Text("sẽ xoá", "would remove") if dry_run else Text("đã xoá", "removed")
        out = [Text(f"{verb.vi} {p}", f"{verb.en} {p}") for p in self.removed]
        if self.skipped_orphans:
            out.append(
                Text(
                    "cơ sở dữ liệu không có tài liệu nào: không xoá tệp nào ngoài tệp .part "
                    "(có thể nhầm cơ sở dữ liệu?)",
                    "the database holds no document at all: only .part files were considered (the wrong database?)",
                )
            )
        n = len(self.removed)
        out.append(
            Text(
                f"{verb.vi} {n} tệp; giữ {self.kept_recent} tệp còn mới",
                f"{verb.en} {n} file(s); kept {self.kept_recent} recent file(s)",
            )
        )
        return out


def clean_uploads(
    session: Session,
    upload_dir: Path,
    *,
    older_than: timedelta = timedelta(hours=1),
    dry_run: bool = False,
    now: datetime | None = None,
) -> CleanReport:
    """Remove what interrupted uploads left in the upload folder: `.part` files, and stored files
    that no document row names, both only when last written more than `older_than` ago.

    The age limit protects uploads in flight: a file is stored before its row is committed.
    Only names this module generates are considered (32 hex digits, `.<32 hex>.part`), so nothing
    else in the folder is touched; a file a row names is never removed, whatever its age. When the
    database holds no document at all while the folder holds stored files, the database is most
    likely the wrong one, and only `.part` files are removed.
    """
    report = CleanReport(removed=[])
    if not upload_dir.is_dir():
        return report
    cutoff = (now or datetime.now(UTC)).timestamp() - older_than.total_seconds()
    parts: list[Path] = []
    stored: list[Path] = []
    for entry in os.scandir(upload_dir):
        if not entry.is_file(follow_symlinks=False):
            continue
        if PART_NAME.fullmatch(entry.name):
            parts.append(Path(entry.path))
        elif STORED_NAME.fullmatch(entry.name):
            stored.append(Path(entry.path))
    # listed first, then the rows: a file whose row was committed before this query is known
    known = set(session.scalars(select(Document.stored_name))) if stored else set()
    orphans = [p for p in stored if p.name not in known]
    if stored and not known:  # `known` is every stored name: the database has no document at all
        report.skipped_orphans, orphans = True, []
    for path in sorted(parts) + sorted(orphans):
        try:
            if path.stat().st_mtime > cutoff:
                report.kept_recent += 1
                continue
            if not dry_run:
                path.unlink()
        except FileNotFoundError:  # removed meanwhile (the upload finished or failed)
            continue
        report.removed.append(path)
    return report
