"""Office files and zip bombs for the upload tests, built in memory in milliseconds."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

MIB = 1024 * 1024
GIB = 1024 * MIB
CONTENT_TYPES_XML = (
    b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>'
)
CRC_OF_2_GIB_OF_ZEROS = 1304293916  # zlib.crc32 over 2 GiB of zero bytes (computing it takes a second)


def docx(parts: int = 0) -> bytes:
    """A minimal DOCX (as the upload check sees one), with `parts` extra empty entries."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", CONTENT_TYPES_XML)
        zf.writestr("word/document.xml", b"<w:document/>")
        for i in range(parts):
            zf.writestr(zipfile.ZipInfo(f"word/media/part{i}.xml"), b"")
    return out.getvalue()


def _zeros_crc(size: int) -> int:
    if size == 2 * GIB:
        return CRC_OF_2_GIB_OF_ZEROS
    crc, chunk = 0, bytes(MIB)
    for _ in range(size // MIB):
        crc = zlib.crc32(chunk, crc)
    return crc


def docx_bomb(expanded: int = 2 * GIB) -> bytes:
    """A real DOCX whose word/document.xml inflates to `expanded` zero bytes (a whole number of MiB).

    Nothing is compressed to build it: 1 MiB of zeros is deflated once into a self-contained block
    (a full flush), and a deflate stream may repeat such blocks; a final empty block ends it.
    2 GiB come out of about 2 MiB.
    """
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = comp.compress(bytes(MIB)) + comp.flush(zlib.Z_FULL_FLUSH)
    stream = block * (expanded // MIB) + b"\x03\x00"
    return raw_zip(
        [
            (
                "[Content_Types].xml",
                zipfile.ZIP_STORED,
                CONTENT_TYPES_XML,
                zlib.crc32(CONTENT_TYPES_XML),
                len(CONTENT_TYPES_XML),
            ),
            ("word/document.xml", zipfile.ZIP_DEFLATED, stream, _zeros_crc(expanded), expanded),
        ]
    )


def raw_zip(
    entries: list[tuple[str, int, bytes, int, int]], declared_count: int | None = None, zip64: bool = False
) -> bytes:
    """A zip written byte by byte: (name, method, data as stored, crc32, uncompressed size) per entry.

    `declared_count` makes the end record lie about the number of entries; `zip64` adds the zip64
    end record (needed beyond 65,535 entries) and leaves 0xFFFF in the classic one.
    """
    out, central = io.BytesIO(), io.BytesIO()
    for name, method, data, crc, size in entries:
        raw_name, offset = name.encode(), out.tell()
        out.write(
            struct.pack("<4s5H3I2H", b"PK\x03\x04", 20, 0, method, 0, 0x21, crc, len(data), size, len(raw_name), 0)
            + raw_name
            + data
        )
        central.write(
            struct.pack(
                "<4s6H3I5H2I",
                b"PK\x01\x02",
                20,
                20,
                0,
                method,
                0,
                0x21,
                crc,
                len(data),
                size,
                len(raw_name),
                0,
                0,
                0,
                0,
                0,
                offset,
            )
            + raw_name
        )
    count = len(entries) if declared_count is None else declared_count
    directory = central.getvalue()
    start = out.tell()
    out.write(directory)
    if zip64:
        end64 = out.tell()
        out.write(struct.pack("<4sQ2H2I4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, count, count, len(directory), start))
        out.write(struct.pack("<4sIQI", b"PK\x06\x07", 0, end64, 1))
        count = 0xFFFF
    out.write(struct.pack("<4s4H2IH", b"PK\x05\x06", 0, 0, count, count, len(directory), start, 0))
    return out.getvalue()
