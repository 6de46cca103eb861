"""The certificate PDF read back with real readers: poppler's pdftotext/pdftoppm/pdffonts/pdfinfo
and zbar's zbarimg (Debian's poppler-utils and zbar-tools; scripts/system-deps installs them).

What a holder, a buyer and the checker at a market see: the Vietnamese names with their
diacritics as text (so the PDF is searchable and copyable), the dates, the code, the stars, and a
QR code that a phone decodes to exactly the verification address. The rendered pages are kept in
test-artifacts/certificates/ (gitignored) for a person to look at.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import unicodedata
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from PIL import Image

from ocop_workflow.exports.certificate_pdf import CertificateDoc, build_certificate_pdf, certificate_filename

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "certificates"
TOOLS = {
    "pdftotext": "poppler-utils",
    "pdftoppm": "poppler-utils",
    "pdffonts": "poppler-utils",
    "pdfinfo": "poppler-utils",
    "zbarimg": "zbar-tools",
}

DOC = CertificateDoc(
    code="OCOP-24-2026-00007",
    product_name="Vải thiều Lục Ngạn sấy khô",
    product_group="Thực phẩm",
    producer_name="Hợp tác xã Nông sản Phượng Sơn",
    commune_name="Xã Phượng Sơn",
    province_name="Tỉnh Bắc Giang",
    star=4,
    recognising_body="Ủy ban nhân dân tỉnh Bắc Giang",
    decision_number="1234/QĐ-UBND",
    decision_date=date(2026, 2, 3),
    issued_on=date(2026, 2, 5),
    expires_on=date(2029, 2, 5),
    signer_name="Nguyễn Văn Gấu",
    signer_title="Chủ tịch",
    verify_url="https://ocop.example.vn/xac-minh/OCOP-24-2026-00007",
)


def tool(name: str) -> str:
    """The path of a reader the test needs; its absence is a failure, never a skip."""
    found = shutil.which(name)
    if found is None:
        pytest.fail(
            f"{name} is missing: install Debian's {TOOLS[name]} (scripts/system-deps does it as root)",
            pytrace=False,
        )
    return found


def run(*args: str) -> str:
    done = subprocess.run([tool(args[0]), *args[1:]], capture_output=True, text=True, check=True, timeout=60)
    return done.stdout


def write(tmp_path: Path, doc: CertificateDoc, locale: str = "vi", name: str = "certificate") -> Path:
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(build_certificate_pdf(doc, locale))
    return path


def text_of(pdf: Path) -> str:
    return run("pdftotext", "-layout", str(pdf), "-")


def flat(text: str) -> str:
    """Whitespace (line breaks of wrapped text included) collapsed to single spaces."""
    return " ".join(text.split())


def render(pdf: Path, name: str, dpi: int = 150) -> Path:
    """The page as PNG, kept under test-artifacts/certificates/."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    stem = ARTIFACTS / name
    run("pdftoppm", "-r", str(dpi), "-png", "-singlefile", str(pdf), str(stem))
    return stem.with_suffix(".png")


def qr_of(png: Path) -> list[str]:
    out = run("zbarimg", "--raw", "-q", "-Sdisable", "-Sqrcode.enable", str(png))
    return [line for line in out.splitlines() if line]


def pages(pdf: Path) -> int:
    match = re.search(r"^Pages:\s+(\d+)", run("pdfinfo", str(pdf)), re.M)
    assert match is not None
    return int(match.group(1))


def test_the_text_carries_the_names_with_their_diacritics_the_code_and_the_dates(tmp_path):
    text = text_of(write(tmp_path, DOC))
    for expected in (
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "ỦY BAN NHÂN DÂN TỈNH BẮC GIANG",
        "GIẤY CHỨNG NHẬN SẢN PHẨM OCOP",
        "Vải thiều Lục Ngạn sấy khô",
        "Thực phẩm",
        "Hợp tác xã Nông sản Phượng Sơn",
        "Xã Phượng Sơn, Tỉnh Bắc Giang",
        "4 sao",
        "Số 1234/QĐ-UBND ngày 03/02/2026 của Ủy ban nhân dân tỉnh Bắc Giang",
        "05/02/2026",  # issued
        "Ngày 05 tháng 02 năm 2026",  # the signature date as Decree 30 writes it
        "CHỦ TỊCH",
        "Nguyễn Văn Gấu",
        "OCOP-24-2026-00007",
        DOC.verify_url,
    ):
        assert expected in text, expected
    # Valid BEFORE expires_on: the paper says "valid until the end of" the day before.
    assert re.search(r"Có giá trị đến hết ngày:\s+04/02/2029", text)
    assert "05/02/2029" not in text


def test_the_qr_code_on_the_rendered_page_decodes_to_exactly_the_verification_address(tmp_path):
    png = render(write(tmp_path, DOC), "certificate-vi")
    assert qr_of(png) == [DOC.verify_url]


def test_the_qr_code_follows_the_address_it_is_given(tmp_path):
    other = replace(
        DOC, code="OCOP-24-2027-00123", verify_url="https://ocop.bacgiang.gov.vn/xac-minh/OCOP-24-2027-00123"
    )
    png = render(write(tmp_path, other), "certificate-other-url")
    assert qr_of(png) == [other.verify_url]


def test_the_fonts_are_embedded_dejavu(tmp_path):
    out = run("pdffonts", str(write(tmp_path, DOC)))
    rows = [line.split() for line in out.splitlines()[2:] if line.strip()]
    assert rows, out
    names = [row[0] for row in rows]
    assert any("DejaVuSans" in n and "Bold" not in n for n in names), out
    assert any("DejaVuSans-Bold" in n or "DejaVuSansBold" in n for n in names), out
    for row in rows:
        # columns: name, type (two words for "CID TrueType"), encoding, emb, sub, uni, object, generation
        assert row[-5] == "yes", f"font not embedded: {row}"
        assert "DejaVu" in row[0], f"a font that is not the shipped one: {row}"


def test_english_labels_with_the_same_data(tmp_path):
    text = text_of(write(tmp_path, DOC, "en"))
    for expected in (
        "SOCIALIST REPUBLIC OF VIETNAM",
        "OCOP PRODUCT CERTIFICATE",
        "4 stars",
        "Vải thiều Lục Ngạn sấy khô",
        "Hợp tác xã Nông sản Phượng Sơn",
        "No. 1234/QĐ-UBND of 03/02/2026 by Ủy ban nhân dân tỉnh Bắc Giang",
        "OCOP-24-2026-00007",
    ):
        assert expected in text, expected
    assert re.search(r"Valid until \(inclusive\):\s+04/02/2029", text)
    assert "GIẤY CHỨNG NHẬN" not in text
    assert "4 sao" not in text
    assert qr_of(render(tmp_path / "certificate.pdf", "certificate-en")) == [DOC.verify_url]


def gold_stars(png: Path) -> int:
    """How many separate gold shapes the page shows (the drawn stars), counted along x."""
    image = Image.open(png).convert("RGB")
    width, height = image.size
    pixels = image.load()
    columns = [
        any(
            abs(pixels[x, y][0] - 240) < 30 and abs(pixels[x, y][1] - 180) < 40 and pixels[x, y][2] < 90
            for y in range(height)
        )
        for x in range(width)
    ]
    runs, inside = 0, False
    for gold in columns:
        if gold and not inside:
            runs += 1
        inside = gold
    return runs


@pytest.mark.parametrize("star", [3, 4, 5])
def test_the_star_is_drawn_as_that_many_stars_and_written(tmp_path, star):
    pdf = write(tmp_path, replace(DOC, star=star), name=f"star-{star}")
    assert f"{star} sao" in text_of(pdf)
    assert gold_stars(render(pdf, f"certificate-{star}-stars", dpi=40)) == star


def test_long_names_wrap_and_stay_on_the_one_page_clear_of_the_qr_code(tmp_path):
    phrase = "Vải thiều Lục Ngạn sấy khô đặc sản vùng đồi Phượng Sơn"
    product = (phrase + " ") * 5
    producer = "Hợp tác xã Nông sản Phượng Sơn huyện Lục Ngạn " * 5
    long = replace(DOC, product_name=product[:200].strip(), producer_name=producer[:200].strip())
    assert len(long.product_name) >= 195 and len(long.producer_name) >= 195
    pdf = write(tmp_path, long)
    assert pages(pdf) == 1
    text = flat(text_of(pdf))
    assert long.product_name in text
    assert long.producer_name in text
    assert "OCOP-24-2026-00007" in text
    assert qr_of(render(pdf, "certificate-long-names")) == [DOC.verify_url]
    # Every word lies on the page, and the data rows end above the QR code and the signer (150 mm).
    page = re.search(r'<page width="([\d.]+)" height="([\d.]+)"', run("pdftotext", "-bbox", str(pdf), "-"))
    assert page is not None
    page_w, page_h = float(page.group(1)), float(page.group(2))
    qr_top = 150 / 25.4 * 72
    for x_min, _y_min, x_max, y_max, word in words(pdf):
        assert x_min >= 0 and x_max <= page_w and y_max <= page_h, word
        if word in ("Vải", "Lục", "Ngạn", "Hợp", "Nông"):
            assert y_max < qr_top, f"{word} runs into the QR code / signature block"
    assert overlaps(pdf) == []


def words(pdf: Path) -> list[tuple[float, float, float, float, str]]:
    """Every word on the page with its box (x_min, y_min, x_max, y_max in points, from the top)."""
    bbox = run("pdftotext", "-bbox", str(pdf), "-")
    return [
        (float(a), float(b), float(c), float(d), w)
        for a, b, c, d, w in re.findall(
            r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>', bbox
        )
    ]


def overlaps(pdf: Path) -> list[tuple[str, str]]:
    """Pairs of words whose boxes overlap by more than a point both ways: text printed over text."""
    found = []
    boxes = words(pdf)
    for i, (ax0, ay0, ax1, ay1, a) in enumerate(boxes):
        for bx0, by0, bx1, by1, b in boxes[i + 1 :]:
            if min(ax1, bx1) - max(ax0, bx0) > 1 and min(ay1, by1) - max(ay0, by0) > 1:
                found.append((a, b))
    return found


def test_no_text_is_printed_over_other_text(tmp_path):
    assert overlaps(write(tmp_path, DOC)) == []


def test_every_field_at_its_longest_still_fits_one_page_without_overlaps(tmp_path):
    """Names are at most 200 characters in the database; with all of them that long (wide capitals),
    the page shrinks or shortens them but keeps one page, readable text and a readable QR code."""
    wide = ("ĐƯỜNG MƯỜNG WỪNG " * 20)[:200]
    worst = replace(
        DOC,
        product_name=wide,
        product_group=wide,
        producer_name=wide,
        commune_name=wide,
        province_name=wide,
        recognising_body=wide,
        signer_title=wide,
        signer_name=wide,
    )
    pdf = write(tmp_path, worst)
    assert pages(pdf) == 1
    assert overlaps(pdf) == []
    assert "GIẤY CHỨNG NHẬN SẢN PHẨM OCOP" in text_of(pdf)
    assert qr_of(render(pdf, "certificate-every-field-long")) == [DOC.verify_url]


def test_a_historic_certificate_without_decision_or_signer_builds(tmp_path):
    historic = replace(DOC, decision_number=None, decision_date=None, signer_name="", signer_title="Chủ tịch")
    text = text_of(write(tmp_path, historic))
    assert "hồ sơ lưu trữ" in text
    assert "None" not in text
    assert "Vải thiều Lục Ngạn sấy khô" in text
    assert pages(tmp_path / "certificate.pdf") == 1


def test_decomposed_input_prints_as_the_same_letters(tmp_path):
    nfd = replace(DOC, product_name=unicodedata.normalize("NFD", DOC.product_name))
    assert nfd.product_name != DOC.product_name
    assert "Vải thiều Lục Ngạn sấy khô" in text_of(write(tmp_path, nfd))


def test_the_same_certificate_builds_to_the_same_bytes():
    assert build_certificate_pdf(DOC) == build_certificate_pdf(DOC)
    assert build_certificate_pdf(DOC) != build_certificate_pdf(replace(DOC, star=5))


def test_the_file_name_is_ascii():
    assert certificate_filename(DOC) == "giay-chung-nhan-OCOP-24-2026-00007.pdf"
    odd = certificate_filename(replace(DOC, code="OCOP/Đặc biệt 1"))
    assert odd.isascii() and "/" not in odd and " " not in odd and odd.endswith(".pdf")
