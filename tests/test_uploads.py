"""Issue #8, Build 6 in the core: zip limits, download names, the two upload steps, `ocop uploads clean`."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import zipfile
import zlib
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from ocop_workflow.config import ConfigError, Settings
from ocop_workflow.db import Database
from ocop_workflow.engine import Registry
from ocop_workflow.errors import InvalidData, NotFound
from ocop_workflow.models import Document
from ocop_workflow.services.access import load_actor
from ocop_workflow.services.documents import attach_document
from ocop_workflow.services.uploads import (
    DEFAULT_MAX_UNZIPPED_BYTES,
    DEFAULT_MAX_ZIP_ENTRIES,
    ZipLimits,
    ZipTooLarge,
    check_zip,
    clean_uploads,
    download_name,
    store_upload,
)

from .helpers import PDF, attach, new_product
from .world import World, build_world
from .zips import GIB, MIB, docx, docx_bomb, raw_zip

HOUR = 3600


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ocop_workflow.cli", *args], capture_output=True, text=True, env=env, timeout=120
    )


def _no_inflating(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("an uploaded zip entry was opened")

    monkeypatch.setattr(zipfile.ZipFile, "open", refuse)


# --- zip limits ------------------------------------------------------------------------------------------
def test_a_zip_bomb_is_refused_without_inflating_it(db, registry, world, upload_dir, monkeypatch):
    officer = world.user("commune_officer", "C1")
    pid = new_product(db, registry, officer, world.producers["household"])
    bomb = docx_bomb()
    assert len(bomb) < 3 * MIB
    _no_inflating(monkeypatch)
    kw = {"upload_dir": upload_dir, "max_bytes": 4 * MIB, "known_types": registry.catalogue.document_types}
    with db.transaction() as s:
        with pytest.raises(ZipTooLarge) as refused:
            attach_document(s, load_actor(s, officer), pid, "business_plan", "Kế hoạch.docx", bomb, **kw)
        assert isinstance(refused.value, InvalidData)  # a 422 on the web and the API
        assert refused.value.message("vi").startswith("Tệp DOCX/XLSX này khi giải nén vượt quá giới hạn (200 MB")
        assert refused.value.message("en").startswith("This DOCX/XLSX file expands beyond the limits (200 MB")
        assert s.scalar(select(func.count()).select_from(Document)) == 0
    assert list(upload_dir.iterdir()) == []
    # the limit is what refuses it: allowed to expand to 3 GiB, the same file is a DOCX like any other
    with db.transaction() as s:
        doc = attach_document(
            s,
            load_actor(s, officer),
            pid,
            "business_plan",
            "Kế hoạch.docx",
            bomb,
            zip_limits=ZipLimits(max_unzipped_bytes=3 * GIB),
            **kw,
        )
        assert doc.content_type.endswith("wordprocessingml.document")


def test_zip_entries_are_counted_whatever_the_end_record_claims(tmp_path, monkeypatch):
    limits = ZipLimits(max_entries=20)
    ok, many = tmp_path / "ok.docx", tmp_path / "many.docx"
    ok.write_bytes(docx(parts=18))
    many.write_bytes(docx(parts=19))
    assert "word/document.xml" in check_zip(ok, limits)
    with pytest.raises(ZipTooLarge):
        check_zip(many, limits)
    entries = [(f"part{i}.xml", zipfile.ZIP_STORED, b"", zlib.crc32(b""), 0) for i in range(30)]
    lying = tmp_path / "lying.zip"  # says 1 entry, holds 30
    lying.write_bytes(raw_zip(entries, declared_count=1))
    with pytest.raises(ZipTooLarge):
        check_zip(lying, limits)
    # an end record announcing 60,000 entries is refused before the directory is parsed at all
    boasting = tmp_path / "boasting.zip"
    boasting.write_bytes(raw_zip(entries[:2], declared_count=60_000))
    # so is a real directory of 70,000 entries (a zip64 end record: the classic one counts to 65,535)
    huge = tmp_path / "huge.docx"
    huge.write_bytes(raw_zip([(f"p{i}", zipfile.ZIP_STORED, b"", 0, 0) for i in range(70_000)], zip64=True))
    with zipfile.ZipFile(huge) as zf:
        assert len(zf.infolist()) == 70_000  # a valid zip
    monkeypatch.setattr(zipfile, "ZipFile", None)
    for path in (boasting, huge):
        with pytest.raises(ZipTooLarge):
            check_zip(path, ZipLimits())


def test_zip_limits_are_settings(monkeypatch):
    monkeypatch.delenv("OCOP_MAX_UNZIPPED_MB", raising=False)
    monkeypatch.delenv("OCOP_MAX_ZIP_ENTRIES", raising=False)
    settings = Settings()
    assert (settings.max_unzipped_bytes, settings.max_zip_entries) == (200 * MIB, 10_000)
    assert (DEFAULT_MAX_UNZIPPED_BYTES, DEFAULT_MAX_ZIP_ENTRIES) == (200 * MIB, 10_000)
    monkeypatch.setenv("OCOP_MAX_UNZIPPED_MB", "50")
    monkeypatch.setenv("OCOP_MAX_ZIP_ENTRIES", "500")
    assert (Settings().max_unzipped_bytes, Settings().max_zip_entries) == (50 * MIB, 500)
    monkeypatch.setenv("OCOP_MAX_ZIP_ENTRIES", "many")
    with pytest.raises(ConfigError, match="OCOP_MAX_ZIP_ENTRIES must be a whole number"):
        Settings()


# --- download names -------------------------------------------------------------------------------------
PDF_TYPE, JPEG_TYPE = "application/pdf", "image/jpeg"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@pytest.mark.parametrize(
    "name,content_type,served",
    [
        ("poly.html", PDF_TYPE, "poly.pdf"),
        ("Phiếu đăng ký.pdf", PDF_TYPE, "Phiếu đăng ký.pdf"),
        ("ẢNH SẢN PHẨM.JPG", JPEG_TYPE, "ẢNH SẢN PHẨM.JPG"),
        ("ảnh.jpeg", JPEG_TYPE, "ảnh.jpeg"),
        ("ảnh.png", JPEG_TYPE, "ảnh.jpg"),
        ("Kế hoạch.doc", DOCX_TYPE, "Kế hoạch.docx"),
        ("Kế hoạch kinh doanh", DOCX_TYPE, "Kế hoạch kinh doanh.docx"),
        ("Báo cáo v1.2", PDF_TYPE, "Báo cáo v1.2.pdf"),
        ("tai-lieu", PDF_TYPE, "tai-lieu.pdf"),
        ("hồ sơ. bản cuối", PDF_TYPE, "hồ sơ. bản cuối.pdf"),
    ],
)
def test_the_download_name_carries_the_extension_of_the_detected_type(name, content_type, served):
    assert download_name(name, content_type) == served


# --- two steps: store and check (no database), then record ---------------------------------------------
def test_a_stored_upload_refused_at_recording_leaves_no_file(db, registry, world, upload_dir):
    officer = world.user("commune_officer", "C1")
    pid = new_product(db, registry, officer, world.producers["household"])
    stored = store_upload(PDF, upload_dir=upload_dir, max_bytes=MIB)
    assert stored.path.read_bytes() == PDF and stored.kind == "pdf"
    kw = {"upload_dir": upload_dir, "max_bytes": MIB, "known_types": registry.catalogue.document_types}
    with db.transaction() as s, pytest.raises(NotFound):  # another district's officer
        attach_document(
            s, load_actor(s, world.user("commune_officer", "C3")), pid, "business_plan", "a.pdf", stored, **kw
        )
    assert list(upload_dir.iterdir()) == []
    with pytest.raises(InvalidData):
        store_upload(b"<html>not a pdf</html>", upload_dir=upload_dir, max_bytes=MIB)
    assert list(upload_dir.iterdir()) == []
    stored = store_upload(PDF, upload_dir=upload_dir, max_bytes=MIB)
    with db.transaction() as s:
        doc = attach_document(s, load_actor(s, officer), pid, "business_plan", "kế hoạch.pdf", stored, **kw)
        assert (doc.stored_name, doc.size, doc.content_type) == (stored.stored_name, len(PDF), PDF_TYPE)


# --- ocop uploads clean ------------------------------------------------------------------------------------
def _age(path: Path, seconds: float) -> Path:
    when = time.time() - seconds
    os.utime(path, (when, when))
    return path


def _folder(db: Database, registry: Registry, world: World, upload_dir: Path) -> dict[str, Path]:
    """An upload folder after some interrupted uploads: every kind of file, old and new."""
    officer = world.user("commune_officer", "C1")
    pid = new_product(db, registry, officer, world.producers["household"])
    attach(db, registry, officer, pid, ["idea_registration"], upload_dir)
    with db.session() as s:
        (recorded,) = s.scalars(select(Document.stored_name))
    files = {
        "recorded": upload_dir / recorded,
        "old_part": upload_dir / f".{'1' * 32}.part",
        "new_part": upload_dir / f".{'2' * 32}.part",
        "old_orphan": upload_dir / ("3" * 32),
        "new_orphan": upload_dir / ("4" * 32),
        "not_ours": upload_dir / "ocop.sqlite3",
        "not_ours_part": upload_dir / "notes.part",
    }
    for key, path in files.items():
        if key != "recorded":
            path.write_bytes(b"x")
        if not key.startswith("new"):
            _age(path, 3 * HOUR)
    return files


def test_clean_removes_old_parts_and_orphans_only(db, registry, world, upload_dir):
    files = _folder(db, registry, world, upload_dir)
    with db.session() as s:
        report = clean_uploads(s, upload_dir, dry_run=True)
    assert report.removed == [files["old_part"], files["old_orphan"]]
    assert all(p.exists() for p in files.values())  # a dry run removes nothing
    with db.session() as s:
        report = clean_uploads(s, upload_dir)
    assert report.removed == [files["old_part"], files["old_orphan"]] and report.kept_recent == 2
    assert sorted(p.name for p in upload_dir.iterdir()) == sorted(
        files[k].name for k in ("recorded", "new_part", "new_orphan", "not_ours", "not_ours_part")
    )
    # with a shorter limit the newer leftovers go too; a file with a row never does, however old
    _age(files["recorded"], 1000 * HOUR)
    with db.session() as s:
        report = clean_uploads(s, upload_dir, older_than=timedelta(0))
    assert sorted(report.removed) == sorted([files["new_part"], files["new_orphan"]])
    assert files["recorded"].exists() and files["not_ours"].exists()


def test_clean_leaves_stored_files_alone_when_the_database_has_no_document(db, upload_dir):
    upload_dir.mkdir()
    stored, part = upload_dir / ("5" * 32), upload_dir / f".{'6' * 32}.part"
    for path in (stored, part):
        path.write_bytes(b"x")
        _age(path, 3 * HOUR)
    with db.session() as s:
        report = clean_uploads(s, upload_dir)
    assert report.skipped_orphans and report.removed == [part]
    assert stored.exists()
    assert "the wrong database?" in report.lines(dry_run=False)[-2].en


def test_ocop_uploads_clean_command(registry, tmp_path):
    env = {**os.environ, "OCOP_INSTANCE_DIR": str(tmp_path / "instance"), "OCOP_LANG": "en"}
    for name in ("OCOP_DATABASE_URL", "OCOP_UPLOAD_DIR"):
        env.pop(name, None)
    assert run(["db", "upgrade"], env).returncode == 0
    db = Database(f"sqlite:///{tmp_path / 'instance' / 'ocop.sqlite3'}")
    upload_dir = tmp_path / "instance" / "uploads"
    try:
        files = _folder(db, registry, build_world(db, registry), upload_dir)
    finally:
        db.dispose()
    dry = run(["uploads", "clean", "--dry-run"], env)
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.splitlines() == [
        f"would remove {files['old_part']}",
        f"would remove {files['old_orphan']}",
        "would remove 2 file(s); kept 2 recent file(s)",
    ]
    assert all(p.exists() for p in files.values())
    done = run(["uploads", "clean", "--older-than-minutes", "0"], {**env, "OCOP_LANG": "vi"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "đã xoá 4 tệp; giữ 0 tệp còn mới"
    assert sorted(p.name for p in upload_dir.iterdir()) == sorted(
        files[k].name for k in ("recorded", "not_ours", "not_ours_part")
    )
    bad = run(["uploads", "clean", "--older-than-minutes", "-5"], env)
    assert bad.returncode != 0 and "Traceback" not in bad.stderr


# --- the request session: a reader promoted to the writer (web.context) ----------------------------------
def test_promote_turns_a_read_transaction_into_the_writer_on_sqlite(sqlite_db):
    import sqlite3

    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError

    other = sqlite3.connect(sqlite_db.engine.url.database, timeout=0, isolation_level=None)

    def writer_is_free() -> bool:
        try:
            other.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError:
            return False
        other.execute("ROLLBACK")
        return True

    touch = text("UPDATE alembic_version SET version_num = version_num")
    try:
        # control: a deferred reader that writes after someone else committed fails outright
        with sqlite_db.session() as s:
            s.execute(select(func.count()).select_from(Document))
            other.execute(touch.text)
            with pytest.raises(OperationalError, match="locked"):
                s.execute(touch)
        # promoted, the same sequence waits for nobody and writes on a fresh snapshot
        with sqlite_db.session() as s:
            s.execute(select(func.count()).select_from(Document))
            assert writer_is_free()
            other.execute(touch.text)
            sqlite_db.promote(s)
            assert not writer_is_free()  # this session holds SQLite's single writer now
            s.execute(touch)
            s.commit()
            assert writer_is_free()
            s.execute(select(func.count()).select_from(Document))  # its next transactions write too
            assert not writer_is_free()
            s.rollback()
        with sqlite_db.session() as s:  # promoted before any transaction
            sqlite_db.promote(s)
            assert writer_is_free()
            s.execute(select(func.count()).select_from(Document))
            assert not writer_is_free()
    finally:
        other.close()
