"""Realistic demo data for Bắc Giang province, loaded through the service layer only.

`load_demo` fills an empty, migrated database with the administrative tree of Bắc Giang
(10 district-level units, 3 communes each), one login per role, producers of every kind
and about fifty products spread over every state of both workflow definitions
(ocop-148, three tiers, and ocop-1489, two tiers). Every product gets where it is by the
same calls a user makes: documents are attached first, then the product is advanced by
the actor whose role the step needs, with back-dated `now=` timestamps so that the
history reads like 2023–2025 and some products have been waiting a long time.

Three councils (Lục Ngạn district, Bắc Giang province, the central council; `data/demo_people.yaml`)
rate through evaluation rounds, as issue #9 has it: for each of their rating steps the product is
added to the council's round of that half-year, every member fills a score sheet (one sometimes
recuses) whose totals average to the planned score, and the secretary closes the product, which
fires the rating step. Those rounds are closed; one more round of the province council is open
now, with its sheets half done. Ratings by the councils of other districts, which the demo does not
seat, are recorded by the system actor (historic records).

The result is deterministic for a given `seed` and `now` (apart from the random names
the document store gives files on disk).
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import random
import struct
import unicodedata
import zlib
from calendar import monthrange
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone
from pathlib import Path

import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from . import demo_plans
from .config import Settings
from .db import Database
from .engine import Registry, star_for_score
from .errors import Conflict, InvalidData
from .exports.recognition import sign_and_file_decision
from .i18n import Text
from .models import Certificate, Document, EvaluationRound, Organisation, Producer, Product, ProductEvent
from .notify.moves import ENABLED_KEY as MOVE_NOTICES
from .reminders.calendar import WorkingDays
from .services import councils as council_service
from .services import decisions as decision_service
from .services import rounds as round_service
from .services import sheets as sheet_service
from .services.access import Actor, load_actor
from .services.authz import ATTACH_DOCUMENT, TAKE_STEP, can
from .services.certificates import local_day, revoke_certificate
from .services.directory import add_membership, create_organisation, create_user
from .services.documents import attach_document, decided_level
from .services.producers import create_producer
from .services.products import advance, create_product, current_documents

DEMO_PASSWORD = "ocop-demo-2025"
DEMO_DOMAIN = "demo.ocop.vn"
MAX_UPLOAD_BYTES = 25 * 1024 * 1024

ICT = timezone(timedelta(hours=7), "ICT")  # Vietnam, for office hours
OCOP_148_FROM = date(2023, 3, 1)  # Decision 148/QĐ-TTg of 24 Feb 2023
OCOP_148_UNTIL = date(2025, 6, 30)  # district level abolished on 1 Jul 2025
OCOP_1489_FROM = date(2025, 7, 7)  # Decision 1489/QĐ-TTg in force from 6 Jul 2025
# a certificate signed under 148 (from March 2023) has run its 36 months out by then: the demo shows one expired
EARLIEST_NOW = datetime(2026, 6, 1, tzinfo=UTC)

__all__ = ["DEMO_PASSWORD", "DemoLogin", "load_demo", "summary"]


@dataclass(frozen=True)
class DemoLogin:
    email: str
    password: str
    role: str
    organisation: str


# --------------------------------------------------------------------------- the administrative tree

CENTRAL = ("VN", "Việt Nam (Bộ Nông nghiệp và Môi trường)")
PROVINCE = ("24", "Tỉnh Bắc Giang")
# (code, name, [(code, name), …]) – district codes as in the national list, commune codes made up
DISTRICTS: list[tuple[str, str, list[tuple[str, str]]]] = [
    ("213", "Thành phố Bắc Giang", [("07222", "Phường Dĩnh Kế"), ("07225", "Phường Đa Mai"), ("07231", "Xã Song Khê")]),
    ("215", "Huyện Yên Thế", [("07288", "Xã Đồng Kỳ"), ("07264", "Xã Phồn Xương"), ("07261", "Thị trấn Bố Hạ")]),
    (
        "216",
        "Huyện Tân Yên",
        [("07339", "Thị trấn Cao Thượng"), ("07363", "Xã Ngọc Thiện"), ("07396", "Xã Liên Chung")],
    ),
    ("217", "Huyện Lạng Giang", [("07444", "Xã Tân Dĩnh"), ("07456", "Xã Tiên Lục"), ("07486", "Xã Mỹ Thái")]),
    ("218", "Huyện Lục Nam", [("07591", "Xã Cẩm Lý"), ("07549", "Xã Huyền Sơn"), ("07525", "Xã Lục Sơn")]),
    ("219", "Huyện Lục Ngạn", [("07606", "Xã Phượng Sơn"), ("07621", "Xã Hồng Giang"), ("07660", "Xã Quý Sơn")]),
    ("220", "Huyện Sơn Động", [("07711", "Xã An Lạc"), ("07732", "Xã Tuấn Đạo"), ("07702", "Xã Vĩnh An")]),
    ("221", "Huyện Yên Dũng", [("07789", "Xã Lãng Sơn"), ("07804", "Xã Tư Mại"), ("07771", "Xã Nham Sơn")]),
    ("222", "Huyện Việt Yên", [("07858", "Xã Vân Hà"), ("07882", "Xã Quang Châu"), ("07864", "Xã Tiên Sơn")]),
    ("223", "Huyện Hiệp Hòa", [("07975", "Xã Mai Đình"), ("07939", "Xã Đoan Bái"), ("07906", "Xã Thái Sơn")]),
]
PHUONG_SON, DONG_KY, LUC_NGAN = "07606", "07288", "219"
_PREFIXES = ("Thành phố ", "Huyện ", "Thị trấn ", "Phường ", "Xã ")


def _fold(text: str) -> str:
    """ASCII letters only: 'Đồng Kỳ' -> 'Dong Ky' (for e-mail names and PDF text)."""
    text = text.replace("Đ", "D").replace("đ", "d").replace("★", "*")
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).encode("ascii", "ignore").decode()


def _short(name: str) -> str:
    for prefix in _PREFIXES:
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


def _slug(name: str) -> str:
    short = _short(name)
    slug = _fold(short).lower().replace(" ", "")
    return "tp" + slug if name.startswith("Thành phố") else slug


# --------------------------------------------------------------------------- people

# the demo's logins and staff roles (data, like every role): see the file's comments
PEOPLE = yaml.safe_load((Path(__file__).parent / "data" / "demo_people.yaml").read_text(encoding="utf-8"))
_STAFF_NAMES = (
    "Nguyễn Thị Hương",
    "Trần Văn Long",
    "Lê Thị Ngọc",
    "Phạm Văn Dũng",
    "Hoàng Văn Nam",
    "Vũ Thị Thảo",
    "Đặng Văn Quân",
    "Bùi Thị Yến",
    "Đỗ Văn Hải",
    "Ngô Thị Hoa",
    "Dương Văn Lợi",
    "Lý Thị Hằng",
)

# (key, name, kind, commune code, has a tax code)
PRODUCERS: list[tuple[str, str, str, str, bool]] = [
    ("ps_htx", "HTX Vải thiều Phượng Sơn", "cooperative", PHUONG_SON, True),
    ("ps_hh", "Hộ kinh doanh Nguyễn Văn Thắng", "household", PHUONG_SON, True),
    ("ps_dn", "Công ty TNHH Nông sản Phượng Sơn", "enterprise", PHUONG_SON, True),
    ("ps_tht", "Tổ hợp tác nuôi ong Phượng Sơn", "cooperative_group", PHUONG_SON, False),
    ("hg_htx", "HTX Mỳ Chũ Hồng Giang", "cooperative", "07621", True),
    ("qs_hh", "Hộ kinh doanh Hoàng Thị Lan", "household", "07660", False),
    ("qs_tht", "Tổ hợp tác vải thiều VietGAP Quý Sơn", "cooperative_group", "07660", False),
    ("dk_htx", "HTX Gà đồi Đồng Kỳ", "cooperative", DONG_KY, True),
    ("dk_tht", "Tổ hợp tác chăn nuôi gà đồi Đồng Kỳ", "cooperative_group", DONG_KY, False),
    ("dk_hh", "Hộ kinh doanh Lê Văn Bình", "household", DONG_KY, False),
    ("px_htx", "HTX Dịch vụ nông nghiệp và du lịch Phồn Xương", "cooperative", "07264", True),
    ("bh_htx", "HTX Cam Bố Hạ", "cooperative", "07261", True),
    ("dke_hh", "Hộ kinh doanh Bánh đa Kế Nguyễn Thị Hoa", "household", "07222", True),
    ("dm_htx", "HTX Bún Đa Mai", "cooperative", "07225", True),
    ("dm_dn", "Công ty TNHH Hoa lan Đa Mai", "enterprise", "07225", True),
    ("sk_tht", "Tổ hợp tác tương nếp Song Khê", "cooperative_group", "07231", False),
    ("vh_htx", "HTX Rượu làng Vân", "cooperative", "07858", True),
    ("vh_dn", "Công ty TNHH Gốm Thổ Hà", "enterprise", "07858", True),
    ("ts_tht", "Tổ hợp tác mây tre đan Tiên Sơn", "cooperative_group", "07864", False),
    ("al_htx", "HTX Trà hoa vàng Sơn Động", "cooperative", "07711", True),
    ("al_dl", "HTX Du lịch cộng đồng Khe Rỗ", "cooperative", "07711", False),
    ("td_hh", "Hộ kinh doanh Miến dong Tuấn Đạo", "household", "07732", True),
    ("td_tht", "Tổ hợp tác chổi chít Tuấn Đạo", "cooperative_group", "07732", False),
    ("ls_htx", "HTX Nông nghiệp Lục Sơn", "cooperative", "07525", True),
    ("hs_dn", "Công ty CP Du lịch Huyền Sơn", "enterprise", "07549", True),
    ("nt_htx", "HTX Nông sản Ngọc Thiện", "cooperative", "07363", True),
    ("lc_hh", "Hộ kinh doanh Đặng Văn Phúc", "household", "07396", False),
    ("tdi_hh", "Hộ kinh doanh Trần Văn Nam", "household", "07444", True),
    ("lgs_htx", "HTX Nếp cái hoa vàng Lãng Sơn", "cooperative", "07789", False),
    ("md_dn", "Công ty TNHH Dược liệu Hiệp Hòa", "enterprise", "07975", True),
]


def vn_tax_code(rng: random.Random, province: str = "24") -> str:
    """A 10-digit Vietnamese tax code (mã số thuế) with a correct check digit."""
    weights = (31, 29, 23, 19, 17, 13, 7, 5, 3)
    while True:
        body = province + "".join(str(rng.randint(0, 9)) for _ in range(7))
        check = 10 - sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11
        if check < 10 and body[2:] != "0000000":
            return body + str(check)


# --------------------------------------------------------------------------- products
#
# A route is a list of steps, each "token" or "token:argument":
#   accept, approve, submit, send (1489: the commune's request to the province),
#   district:<score>, province:<score>, central:<score>, return:<reason>, upgrade, reeval, withdraw:<reason>
# A council's result of 3★ or more waits for the recognising level's decision (definition v2): the
# demo's secretariat drafts it and the chair signs it a few days later, which issues the certificate;
# "<score>/draft" leaves the decision drafted for the chair to sign, "<score>/wait" leaves it undrafted.
# `start` and `end` bound the history: "YYYY-MM" (a day in that month), "-<n>d" (n days before now)
# or "exp±<n>d" (the last decision 36 months before now ± n days: a certificate about to expire, or expired).

BASE = "accept approve submit"


@dataclass(frozen=True)
class _Spec:
    producer: str
    name: str
    group: str
    subgroup: str
    start: str
    end: str
    route: str
    workflow: str = "ocop-148"
    idea_form: bool = True  # the idea registration form comes with the idea
    version: int | None = None  # started under this version of the definition (None: the latest)


FRESH = "Rau, củ, quả, hạt tươi"
PROCESSED = "Thực phẩm chế biến"
GRAIN = "Gạo, ngũ cốc và sản phẩm chế biến"
HONEY = "Mật ong, sản phẩm từ mật ong"
MEAT = "Thịt, trứng và sản phẩm sơ chế"
SOFT = "Đồ uống không cồn"
SPIRITS = "Đồ uống có cồn"
HERBAL = "Thực phẩm chức năng, thuốc dược liệu"
COMMUNITY = "Dịch vụ du lịch cộng đồng"
SITE = "Điểm du lịch"

PRODUCTS: list[_Spec] = [
    # ---- ocop-148 (three tiers), histories 2023 – June 2025
    _Spec(
        "ps_htx",
        "Vải thiều Lục Ngạn",
        "food",
        FRESH,
        "2023-03",
        "2025-01",
        f"{BASE} district:78 province:84 upgrade submit district:86 province:91 central:93",
    ),
    _Spec("ps_hh", "Vải thiều sấy khô Phượng Sơn", "food", PROCESSED, "2023-05", "exp+20d", f"{BASE} district:64"),
    _Spec("ps_tht", "Mật ong hoa vải Phượng Sơn", "food", HONEY, "2024-06", "2025-05", f"{BASE} district:74"),
    _Spec("ps_dn", "Nước cốt vải thiều Phượng Sơn", "beverages", SOFT, "2024-05", "2025-04", f"{BASE} return:lab"),
    _Spec("ps_dn", "Giấm vải thiều Phượng Sơn", "food", PROCESSED, "2025-03", "2025-04", "accept", version=1),
    _Spec(
        "ps_hh",
        "Homestay vườn vải Phượng Sơn",
        "tourism",
        COMMUNITY,
        "2025-06",
        "2025-06",
        "",
        idea_form=False,
        version=1,
    ),
    _Spec("ps_hh", "Mứt vải thiều Phượng Sơn", "food", PROCESSED, "2023-08", "2023-11", "accept withdraw:switch"),
    _Spec("ps_htx", "Rượu vải thiều Phượng Sơn", "beverages", SPIRITS, "2024-09", "2025-06", BASE),
    _Spec("hg_htx", "Mỳ Chũ", "food", GRAIN, "2023-03", "2023-10", f"{BASE} district:82 province:86"),
    _Spec("hg_htx", "Mỳ gạo lứt Chũ", "food", GRAIN, "2024-08", "2025-02", "accept approve", version=1),
    _Spec("qs_hh", "Mật ong vải thiều Quý Sơn", "food", HONEY, "2024-02", "2024-09", f"{BASE} withdraw:food_safety"),
    _Spec(
        "qs_tht",
        "Vải thiều VietGAP Quý Sơn",
        "food",
        FRESH,
        "2023-04",
        "2024-01",
        f"{BASE} return:label submit district:67",
    ),
    _Spec(
        "dk_htx",
        "Gà đồi Yên Thế",
        "food",
        MEAT,
        "2023-03",
        "2025-06",
        f"{BASE} district:80 province:88 reeval submit district:79 province:87",
    ),
    _Spec(
        "dk_tht",
        "Gà ủ muối hoa tiêu Yên Thế",
        "food",
        PROCESSED,
        "2023-10",
        "2025-05",
        f"{BASE} district:88 province:92 central:91/wait",
    ),
    _Spec("dk_hh", "Chả gà đồi Đồng Kỳ", "food", PROCESSED, "2024-11", "2024-11", ""),
    _Spec("px_htx", "Trứng gà đồi Phồn Xương", "food", MEAT, "2023-06", "2023-12", f"{BASE} district:46"),
    _Spec("px_htx", "Điểm du lịch Đồn Phồn Xương", "tourism", SITE, "2024-09", "2024-10", "accept"),
    _Spec(
        "bh_htx",
        "Cam Bố Hạ",
        "food",
        FRESH,
        "2023-04",
        "2024-11",
        f"{BASE} district:68 upgrade submit district:79 province:83",
    ),
    _Spec("bh_htx", "Nước cam Bố Hạ", "beverages", SOFT, "2024-10", "2025-06", BASE, version=1),
    _Spec("dke_hh", "Bánh đa Kế", "food", PROCESSED, "exp-230d", "exp-40d", f"{BASE} district:63"),
    _Spec("dke_hh", "Bánh đa vừng đen Kế", "food", PROCESSED, "2024-04", "2025-03", f"{BASE} district:75 return:chain"),
    _Spec("dm_htx", "Bún Đa Mai", "food", GRAIN, "2023-07", "2024-01", f"{BASE} district:72 province:68"),
    _Spec(
        "dm_dn",
        "Lan Hồ điệp Đa Mai",
        "ornamental",
        "Hoa",
        "2024-01",
        "2024-10",
        f"{BASE} district:76 province:81/draft",
    ),
    _Spec("sk_tht", "Tương nếp Song Khê", "food", "Gia vị", "2024-03", "2024-05", "withdraw:dissolved"),
    _Spec(
        "vh_htx",
        "Rượu làng Vân",
        "beverages",
        SPIRITS,
        "2023-03",
        "2024-02",
        f"{BASE} district:89 province:91 central:92",
    ),
    _Spec(
        "vh_dn", "Gốm Thổ Hà", "handicrafts", "Gốm sứ mỹ nghệ", "2023-09", "2024-06", f"{BASE} district:77 province:85"
    ),
    _Spec(
        "vh_dn",
        "Du lịch làng nghề gốm Thổ Hà",
        "tourism",
        COMMUNITY,
        "2024-08",
        "2025-06",
        f"{BASE} district:73",
        version=1,
    ),
    _Spec("ts_tht", "Mây tre đan Tiên Sơn", "handicrafts", "Mây tre đan", "2023-08", "exp+75d", f"{BASE} district:58"),
    _Spec(
        "al_htx",
        "Trà hoa vàng Sơn Động",
        "herbal",
        "Trà dược liệu",
        "2023-06",
        "2025-06",
        f"{BASE} district:84 province:87 upgrade submit district:87 province:91",
    ),
    _Spec("al_dl", "Du lịch cộng đồng Khe Rỗ", "tourism", COMMUNITY, "2024-02", "2024-10", f"{BASE} district:61"),
    _Spec(
        "td_hh",
        "Miến dong Sơn Động",
        "food",
        GRAIN,
        "2023-05",
        "2024-05",
        f"{BASE} district:86 province:90.5 central:84",
    ),
    _Spec("td_tht", "Chổi chít Tuấn Đạo", "handicrafts", "Đồ gia dụng thủ công", "2025-05", "2025-05", ""),
    _Spec(
        "ls_htx",
        "Cao gắm Lục Nam",
        "herbal",
        HERBAL,
        "2023-07",
        "2025-06",
        f"{BASE} district:82 province:91 return:active_ingredient submit",
    ),
    _Spec("ls_htx", "Nhãn chín muộn Lục Nam", "food", FRESH, "2024-07", "2025-01", f"{BASE} district:55/wait"),
    _Spec("hs_dn", "Du lịch sinh thái tâm linh Huyền Sơn", "tourism", SITE, "2025-01", "2025-03", "accept"),
    _Spec(
        "nt_htx",
        "Lạc nhân Tân Yên",
        "food",
        FRESH,
        "2023-05",
        "2025-02",
        f"{BASE} district:66 upgrade submit district:74 province:78",
    ),
    _Spec("lc_hh", "Vải sớm Phúc Hòa", "food", FRESH, "2024-09", "2024-12", "accept approve"),
    _Spec(
        "tdi_hh", "Cây cảnh nghệ thuật Tân Dĩnh", "ornamental", "Cây cảnh", "2024-05", "2025-02", f"{BASE} district:57"
    ),
    _Spec(
        "lgs_htx",
        "Gạo nếp cái hoa vàng Lãng Sơn",
        "food",
        GRAIN,
        "2024-03",
        "2024-11",
        "accept approve withdraw:food_safety_next_year",
    ),
    _Spec(
        "md_dn",
        "Tinh dầu sả chanh Hiệp Hòa",
        "herbal",
        "Mỹ phẩm, tinh dầu",
        "2024-08",
        "2025-04",
        f"{BASE} district:69.5",
    ),
    # ---- ocop-1489 (two tiers), from July 2025
    _Spec("ps_dn", "Vải thiều sấy lạnh Phượng Sơn", "food", PROCESSED, "-400d", "-20d", BASE, "ocop-1489"),
    _Spec("ps_htx", "Trà vải thiều túi lọc", "beverages", SOFT, "-6d", "-6d", "", "ocop-1489"),
    _Spec("dk_hh", "Lạp xưởng gà đồi Yên Thế", "food", PROCESSED, "-150d", "-40d", "accept", "ocop-1489"),
    _Spec("md_dn", "Nấm linh chi Hiệp Hòa", "herbal", HERBAL, "-330d", "-15d", f"{BASE} return:form", "ocop-1489"),
    _Spec("vh_htx", "Rượu mơ làng Vân", "beverages", SPIRITS, "-300d", "-35d", f"{BASE} send", "ocop-1489"),
    _Spec(
        "nt_htx",
        "Chè xanh Tân Yên",
        "beverages",
        "Chè và sản phẩm từ chè",
        "2025-07",
        "-60d",
        f"{BASE} send province:62",
        "ocop-1489",
    ),
    _Spec(
        "al_htx",
        "Mật ong rừng Sơn Động",
        "food",
        HONEY,
        "2025-08",
        "-45d",
        f"{BASE} send province:83/draft",
        "ocop-1489",
    ),
    _Spec(
        "al_htx",
        "Cao ba kích tím Sơn Động",
        "herbal",
        HERBAL,
        "2025-07",
        "-10d",
        f"{BASE} send province:92",
        "ocop-1489",
    ),
    _Spec(
        "vh_dn",
        "Gốm men rạn Thổ Hà",
        "handicrafts",
        "Gốm sứ mỹ nghệ",
        "2025-09",
        "-25d",
        f"{BASE} send province:93 central:91/wait",
        "ocop-1489",
    ),
    _Spec(
        "ls_htx",
        "Nhãn sấy Lục Nam",
        "food",
        PROCESSED,
        "2025-07",
        "-30d",
        f"{BASE} send province:66 upgrade submit send province:76",
        "ocop-1489",
    ),
    _Spec("hg_htx", "Mỳ Chũ gạo lứt đỏ", "food", GRAIN, "2025-07", "-20d", f"{BASE} send", "ocop-1489", version=1),
    _Spec(
        "qs_tht",
        "Vải thiều sấy nguyên cùi Quý Sơn",
        "food",
        PROCESSED,
        "2025-08",
        "-14d",
        f"{BASE} send",
        "ocop-1489",
        version=1,
    ),
    _Spec(
        "tdi_hh",
        "Bánh gai Tân Dĩnh",
        "food",
        PROCESSED,
        "-200d",
        "-50d",
        f"{BASE} withdraw:quality_declaration",
        "ocop-1489",
    ),
]

# reason key -> (document type the producer re-uploads, the reviewer's comment)
RETURN_REASONS: dict[str, tuple[str, str]] = {
    "lab": (
        "lab_test_report",
        "Phiếu kết quả kiểm nghiệm đã quá 6 tháng và thiếu chỉ tiêu vi sinh vật; "
        "đề nghị bổ sung phiếu kiểm nghiệm mới.",
    ),
    "label": (
        "label_packaging",
        "Nhãn sản phẩm chưa đủ nội dung bắt buộc theo Nghị định 111/2021/NĐ-CP "
        "(hạn sử dụng, hướng dẫn bảo quản); đề nghị chỉnh sửa nhãn.",
    ),
    "chain": (
        "raw_material_origin",
        "Chưa có hợp đồng liên kết vùng nguyên liệu nếp cái hoa vàng; đề nghị bổ sung trước khi trình Hội đồng tỉnh.",
    ),
    "active_ingredient": (
        "lab_test_report",
        "Hội đồng Trung ương đề nghị bổ sung kết quả kiểm nghiệm hàm lượng "
        "hoạt chất và đánh giá độ ổn định của sản phẩm.",
    ),
    "form": (
        "registration_form",
        "Phiếu đăng ký chưa có chữ ký, đóng dấu của chủ thể; báo cáo tự đánh giá chưa theo bộ tiêu chí sửa đổi.",
    ),
}
WITHDRAW_REASONS: dict[str, str] = {
    "switch": "Chủ thể chuyển sang tập trung sản phẩm vải sấy, không tiếp tục ý tưởng này.",
    "food_safety": "Chủ thể xin rút hồ sơ do chưa được cấp giấy chứng nhận cơ sở đủ điều kiện ATTP.",
    "dissolved": "Tổ hợp tác giải thể, không còn chủ thể đăng ký sản phẩm.",
    "food_safety_next_year": "Cơ sở chưa đáp ứng điều kiện ATTP; HTX xin rút để hoàn thiện và đăng ký lại năm sau.",
    "quality_declaration": "Chủ thể xin rút để bổ sung hồ sơ công bố chất lượng sản phẩm.",
}
COMMENTS: dict[str, tuple[str, ...]] = {
    "accept": (
        "Ý tưởng phù hợp với thế mạnh của địa phương; UBND xã tiếp nhận và hướng dẫn xây dựng phương án.",
        "Tiếp nhận phiếu đăng ký ý tưởng; đề nghị chủ thể phối hợp Hội Nông dân xã xây dựng phương án.",
        "Sản phẩm có vùng nguyên liệu ổn định, đồng ý tiếp nhận ý tưởng.",
    ),
    "approve": (
        "Phương án sản xuất kinh doanh khả thi; đồng ý cho triển khai.",
        "Phương án đã được góp ý và hoàn thiện, đồng ý triển khai.",
        "Phê duyệt phương án; đề nghị chủ thể chú trọng bao bì, truy xuất nguồn gốc.",
    ),
    "submit": (
        "Hồ sơ đủ thành phần theo quy định; đề nghị Hội đồng OCOP huyện đánh giá, phân hạng.",
        "Gửi hồ sơ lên Thường trực OCOP huyện để trình Hội đồng đánh giá, phân hạng.",
    ),
    "resubmit": ("Chủ thể đã bổ sung, hoàn thiện hồ sơ theo ý kiến trả lại; đề nghị xem xét lại.",),
    "submit_upgrade": ("Hồ sơ đăng ký nâng hạng đã đủ thành phần; đề nghị Hội đồng OCOP huyện đánh giá.",),
    "submit_reeval": ("Hồ sơ đánh giá lại đã đủ thành phần; đề nghị Hội đồng OCOP huyện đánh giá.",),
    "submit1489": (
        "Chủ thể nộp hồ sơ đánh giá, phân hạng tại UBND xã.",
        "Hội Nông dân xã hỗ trợ chủ thể hoàn thiện và nộp hồ sơ.",
    ),
    "submit_upgrade1489": ("Chủ thể nộp hồ sơ đăng ký nâng hạng tại UBND xã.",),
    "submit_reeval1489": ("Chủ thể nộp hồ sơ đánh giá lại tại UBND xã.",),
    "send": ("UBND xã đã kiểm tra hồ sơ, chấm 4 tiêu chí địa phương; gửi văn bản đề nghị UBND tỉnh đánh giá.",),
    "upgrade": (
        "Chủ thể đăng ký nâng hạng sau khi cải tiến bao bì, mở rộng vùng nguyên liệu và kênh phân phối.",
        "Đăng ký nâng hạng: sản phẩm đã có mã truy xuất và bán trên sàn thương mại điện tử.",
    ),
    "reeval": ("Đăng ký đánh giá lại do thay đổi mẫu mã bao bì và quy trình sản xuất.",),
}
# documents a producer often adds beyond the required ones
OPTIONAL_DOCS = (
    "traceability",
    "intellectual_property",
    "raw_material_origin",
    "environmental_commitment",
    "marketing_evidence",
    "awards",
)
# file names as a producer or an office would give them (the catalogue labels are category names)
DOC_TITLES = {
    "idea_registration": "Phiếu đăng ký ý tưởng sản phẩm",
    "business_plan": "Phương án sản xuất kinh doanh",
    "organisation_intro": "Giới thiệu bộ máy tổ chức",
    "registration_form": "Phiếu đăng ký tham gia đánh giá, phân hạng",
    "self_assessment_report": "Báo cáo tự đánh giá",
    "business_registration": "Giấy chứng nhận đăng ký kinh doanh",
    "cooperative_classification": "Kết quả phân loại hợp tác xã",
    "sample_handover": "Biên bản giao nhận mẫu sản phẩm",
    "food_safety_certificate": "Giấy chứng nhận cơ sở đủ điều kiện ATTP",
    "quality_declaration": "Bản tự công bố sản phẩm",
    "lab_test_report": "Phiếu kết quả kiểm nghiệm",
    "label_packaging": "Ảnh nhãn và bao bì sản phẩm",
    "traceability": "Mã QR truy xuất nguồn gốc",
    "intellectual_property": "Giấy chứng nhận đăng ký nhãn hiệu",
    "raw_material_origin": "Hợp đồng liên kết vùng nguyên liệu",
    "environmental_commitment": "Cam kết bảo vệ môi trường",
    "product_story": "Câu chuyện sản phẩm",
    "marketing_evidence": "Ảnh gian hàng tại hội chợ OCOP",
    "awards": "Giấy khen, giải thưởng",
    "commune_assessment_report": "Báo cáo đánh giá của UBND xã",
    "request_letter": "Văn bản đề nghị UBND tỉnh đánh giá, phân hạng",
    "council_minutes": "Biên bản họp Hội đồng OCOP",
    "recognition_decision": "Quyết định công nhận sản phẩm OCOP",
}
PHOTO_DOCS = {"label_packaging", "marketing_evidence"}
COMMUNE_DOCS = ("commune_assessment_report", "request_letter")
# relative weights of the time a step takes after the previous one
GAP_DAYS = {
    "create": 0,
    "accept": 25,
    "approve": 50,
    "submit": 150,
    "resubmit": 45,
    "send": 12,
    "district": 35,
    "province": 45,
    "central": 60,
    "return": 25,
    "upgrade": 240,
    "reeval": 300,
    "withdraw": 45,
}
TRIGGERS = {
    "accept": "accept_idea",
    "approve": "approve_plan",
    "send": "send_to_province",
    "district": "rate_district",
    "province": "rate_province",
    "central": "rate_central",
    "return": "return_for_revision",
    "upgrade": "apply_upgrade",
    "reeval": "apply_reevaluation",
    "withdraw": "withdraw",
}
RATING_CAP = {"district": 3, "province": 4, "central": 5}
# decision numbers of each level start above these (a People's Committee numbers all its decisions)
DECISION_BASE = {"district": 1300, "province": 2100, "central": 400}
# the certificate the recognising level revoked (timeline index in PRODUCTS, days ago)
REVOKED = ("Vải thiều VietGAP Quý Sơn", 45)


# --------------------------------------------------------------------------- files


def _pdf(lines: list[str]) -> bytes:
    """A small but well-formed one-page PDF (Helvetica, ASCII text)."""

    def esc(s: str) -> str:
        return _fold(s).replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    text = "BT /F1 12 Tf 56 790 Td 16 TL " + " ".join(f"({esc(line)}) '" for line in lines) + " ET"
    stream = text.encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> "
        b"/Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _png(lines: list[str], width: int = 96, height: int = 64) -> bytes:
    """A small valid PNG (a colour gradient derived from the text, the text in a tEXt chunk)."""
    digest = hashlib.sha256("\n".join(lines).encode()).digest()
    r0, g0, b0 = digest[0], digest[1], digest[2]
    rows = bytearray()
    for y in range(height):
        rows.append(0)
        for x in range(width):
            rows += bytes(((r0 + x * 2) % 256, (g0 + y * 3) % 256, (b0 + x + y) % 256))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    text = b"Description\x00" + _fold(" | ".join(lines)).encode("ascii")
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"tEXt", text)
        + chunk(b"IDAT", zlib.compress(bytes(rows), 9))
        + chunk(b"IEND", b"")
    )


# --------------------------------------------------------------------------- time


def _parse_when(spec: str, now: datetime, rng: random.Random) -> date:
    if spec.startswith(("exp+", "exp-")):
        days = int(spec[3:-1])
        try:
            base = now.date().replace(year=now.year - 3)
        except ValueError:  # 29 February
            base = now.date().replace(year=now.year - 3, day=28)
        return base + timedelta(days=days)
    if spec.startswith("-"):
        return (now - timedelta(days=int(spec[1:-1]))).date()
    year, month = (int(x) for x in spec.split("-"))
    return date(year, month, rng.randint(1, monthrange(year, month)[1]))


def _office_hours(day: date, rng: random.Random) -> datetime:
    """A moment of a working day (Monday–Friday, 8:00–17:00 Vietnam time), in UTC."""
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    local = datetime.combine(day, time(rng.randint(8, 16), rng.randint(0, 59)), tzinfo=ICT)
    return local.astimezone(UTC)


@dataclass
class _Step:
    token: str  # create, accept, approve, submit, send, district, province, central, return, upgrade, …
    arg: str | None
    at: datetime
    docs_at: datetime | None = None  # documents for this step are uploaded then
    after_at: datetime | None = None  # council minutes / decision after a rating


@dataclass
class _Timeline:
    index: int
    spec: _Spec
    steps: list[_Step] = field(default_factory=list)


def _plan(index: int, spec: _Spec, rng: random.Random, now: datetime) -> _Timeline:
    tokens = [t.partition(":") for t in spec.route.split()]
    if spec.workflow == "ocop-148":
        lo, hi = OCOP_148_FROM, min(OCOP_148_UNTIL - timedelta(days=7), (now - timedelta(days=1)).date())
    else:
        lo, hi = OCOP_1489_FROM, (now - timedelta(days=1)).date()
    start = min(max(_parse_when(spec.start, now, rng), lo), hi)
    end = min(max(_parse_when(spec.end, now, rng), lo), hi)
    if end < start:
        start = end
    kinds = ["create"]
    for i, (tok, _, _) in enumerate(tokens):
        previous = tokens[i - 1][0] if i else ""
        kinds.append("resubmit" if tok == "submit" and previous in ("return", "upgrade", "reeval") else tok)
    weights = [0.0] + [GAP_DAYS[k] * rng.uniform(0.7, 1.3) for k in kinds[1:]]
    total = sum(weights) or 1.0
    span = (end - start).days
    days, acc = [], 0.0
    for w in weights:
        acc += w
        days.append(start + timedelta(days=round(span * acc / total)) if len(weights) > 1 else end)
    moments = [_office_hours(d, rng) for d in days]
    for i in range(1, len(moments)):
        if moments[i] <= moments[i - 1]:
            moments[i] = moments[i - 1] + timedelta(minutes=rng.randint(30, 150))
    limit = now - timedelta(minutes=5)
    moments = [min(m, limit) for m in moments]
    timeline = _Timeline(index, spec)
    timeline.steps.append(_Step("create", None, moments[0]))
    for (tok, _, arg), at in zip(tokens, moments[1:], strict=True):
        timeline.steps.append(_Step(tok, arg or None, at))
    for i, step in enumerate(timeline.steps[1:], start=1):
        prev = timeline.steps[i - 1].at
        step.docs_at = _between(prev, prev + (step.at - prev) * rng.uniform(0.55, 0.9), step.at, rng)
    for i, step in enumerate(timeline.steps):
        if step.token in RATING_CAP:
            nxt = timeline.steps[i + 1].docs_at if i + 1 < len(timeline.steps) else limit
            wanted = step.at + min(timedelta(days=rng.uniform(1, 4)), (nxt - step.at) / 2)
            step.after_at = _between(step.at, wanted, nxt, rng)
    return timeline


def _between(lo: datetime, wanted: datetime, hi: datetime, rng: random.Random) -> datetime:
    """`wanted` moved into office hours when that keeps it strictly between `lo` and `hi`."""
    moved = _office_hours(wanted.astimezone(ICT).date(), rng)
    if lo < moved < hi:
        return moved
    return max(wanted.replace(second=0, microsecond=0), lo + timedelta(minutes=1))


def _jitter(score: float, rng: random.Random) -> float:
    """The average of council members' sheets: near the planned score, never across a band limit."""
    value = round(score + rng.uniform(-1.2, 1.2), 2)
    if not 0 <= value <= 100 or any((score >= limit) != (value >= limit) for limit in (30, 50, 70, 90)):
        return score
    return value


def _score_text(score: float) -> str:
    return f"{score:.2f}".rstrip("0").rstrip(".").replace(".", ",")


def _round(at: datetime) -> str:
    local = at.astimezone(ICT)
    return f"Đợt {1 if local.month <= 6 else 2}/{local.year}"


# --------------------------------------------------------------------------- councils and rounds

SPREAD = (-1.5, -1.0, -0.75, -0.5, -0.25, 0.0, 0.25, 0.5, 0.75, 1.0, 1.5)  # how far members' totals stray
BAND_LIMITS = (30, 50, 70, 90)
RECUSAL = "Thành viên có người thân là thành viên của chủ thể; xin không chấm điểm sản phẩm này."
# the open round's sheets, member by member: submitted, draft, recused, or not started (None)
HALF_DONE = (
    ("submitted", "submitted", "submitted", "submitted", "draft"),
    ("draft", "submitted", "submitted", "recused", None),
    ("submitted", "submitted", "draft", None, None),
)


@dataclass
class _Council:
    id: int
    org: str
    scorers: list[str]  # e-mails of the scoring seats, in the decision's order
    secretary: str
    round_id: int | None = None  # its round being filled now (historic rounds: one a half-year)
    period: str | None = None
    last_at: datetime | None = None


def _sheet_totals(score: float, n: int, rng: random.Random) -> list[float]:
    """Members' totals (quarter points) near `score`, whose average stays in the score's band."""
    base = math.floor(score * 4) / 4
    totals = [min(100.0, max(0.0, base + rng.choice(SPREAD))) for _ in range(n)]
    average = round_service.average_of(totals)
    if any((score >= limit) != (average >= limit) for limit in BAND_LIMITS):
        return [base] * n
    return totals


def _answers(sheet, total: float) -> dict[str, float]:
    """A sheet's answers adding up to `total`: shared out in proportion to the criteria's maxima (the
    council sheets are scored per part, in quarter points); an option criterion takes its nearest option."""
    full = sum(c.max_points for c in sheet.criteria)
    answers: dict[str, float] = {}
    left = total
    for c in sheet.criteria:
        share = total * c.max_points / full
        if c.free:
            value = min(c.max_points, math.floor(share * 4) / 4)
        else:
            value = min((o.points for o in c.options), key=lambda p, share=share: abs(p - share))
        answers[c.code] = value
        left -= value
    for c in sheet.criteria:  # the rounding remainder, where there is room
        if c.free and left > 0:
            extra = min(c.max_points - answers[c.code], math.floor(left * 4) / 4)
            answers[c.code] += extra
            left -= extra
    return answers


# --------------------------------------------------------------------------- loading


class _Loader:
    def __init__(
        self, session: Session, registry: Registry, upload_dir: Path, rng: random.Random, now: datetime
    ) -> None:
        self.s = session
        self.registry = registry
        self.upload_dir = upload_dir
        self.rng = rng
        self.now = now
        self.orgs: dict[str, Organisation] = {}
        self.district_of: dict[str, str] = {}  # commune code -> district code
        self.emails: dict[tuple[str, str], str] = {}  # (role, organisation code) -> e-mail
        self.actors: dict[str, Actor] = {}
        self.system = Actor.system_actor(registry.policy)
        self.producers: dict[str, Producer] = {}
        self.products: dict[int, Product] = {}  # timeline index -> product
        self.refresh: dict[int, set[str]] = {}  # timeline index -> documents to upload again
        self.versions: dict[tuple[int, str], int] = {}
        self.written: list[Path] = []
        self.councils: dict[str, _Council] = {}  # organisation code -> its council
        self.calendar = WorkingDays()
        self.earlier: dict[int, Registry] = {}  # the registry as of an earlier version
        self.settings = dataclasses.replace(Settings(), upload_dir=upload_dir, max_upload_bytes=MAX_UPLOAD_BYTES)
        self.decision_numbers: dict[str, int] = {}  # organisation code -> decisions numbered so far
        self.certificates: dict[int, list[str]] = {}  # timeline index -> codes of its certificates

    # ---- directory
    def organisations(self) -> None:
        s = self.s
        self.orgs[CENTRAL[0]] = create_organisation(s, code=CENTRAL[0], name=CENTRAL[1], level="central")
        self.orgs[PROVINCE[0]] = create_organisation(
            s, code=PROVINCE[0], name=PROVINCE[1], level="province", parent_code=CENTRAL[0]
        )
        for code, name, communes in DISTRICTS:
            self.orgs[code] = create_organisation(s, code=code, name=name, level="district", parent_code=PROVINCE[0])
            for c_code, c_name in communes:
                self.orgs[c_code] = create_organisation(s, code=c_code, name=c_name, level="commune", parent_code=code)
                self.district_of[c_code] = code

    def users(self) -> list[DemoLogin]:
        logins = []
        shared_hash: str | None = None
        for person in PEOPLE["logins"]:
            local, name, role, org_code, locale = (person[k] for k in ("local", "name", "role", "org", "locale"))
            email = f"{local}@{DEMO_DOMAIN}"
            if shared_hash is None:
                user = create_user(self.s, email=email, name=name, password=DEMO_PASSWORD, locale=locale)
                shared_hash = user.password_hash
            else:
                # argon2 takes ~0.2 s a hash: the logins share the demo password, so they share its hash
                user = create_user(self.s, email=email, name=name, password=None, locale=locale)
                user.password_hash = shared_hash
            producer = self.producers.get(person.get("producer", ""))
            add_membership(self.s, self.registry, user, self.orgs[org_code], role, actor=self.system, producer=producer)
            self.emails.setdefault((role, org_code), email)
            logins.append(DemoLogin(email, DEMO_PASSWORD, role, self.orgs[org_code].name))
        # staff of the other units act in the histories; they have no password (no demo login)
        staff = iter(_STAFF_NAMES * 10)
        for code, _name, communes in DISTRICTS:
            for role, prefix in PEOPLE["staff"]["district"].items():
                self._staff(f"{prefix}.{_slug(self.orgs[code].name)}", next(staff), role, code)
            for c_code, _c_name in communes:
                for role, prefix in PEOPLE["staff"]["commune"].items():
                    self._staff(f"{prefix}.{_slug(self.orgs[c_code].name)}", next(staff), role, c_code)
        return logins

    def _staff(self, local: str, name: str, role: str, org_code: str) -> None:
        if (role, org_code) in self.emails:
            return
        email = f"{local}@{DEMO_DOMAIN}"
        user = create_user(self.s, email=email, name=name, password=None)
        add_membership(self.s, self.registry, user, self.orgs[org_code], role, actor=self.system)
        self.emails[(role, org_code)] = email

    def seat_councils(self) -> None:
        """The councils of `demo_people.yaml`, set up by their decisions, with their seats."""
        rules = self.registry.policy.council
        for spec in PEOPLE.get("councils", []):
            decision = spec["decision"]
            council = council_service.create_council(
                self.s,
                self.system,
                organisation_id=self.orgs[spec["org"]].id,
                name=spec["name"],
                decision_number=decision["number"],
                decision_date=decision["date"],
            )
            council.created_at = datetime.combine(decision["date"], time(9), tzinfo=ICT).astimezone(UTC)
            scorers, secretary = [], None
            for seat in spec["seats"]:
                email = f"{seat['local']}@{DEMO_DOMAIN}"
                council_service.set_member(self.s, self.system, council.id, email, seat["position"])
                if seat["position"] in rules.score:
                    scorers.append(email)
                elif seat["position"] in rules.close and secretary is None:
                    secretary = email
            if secretary is None or not scorers:
                raise InvalidData(Text(f"Hội đồng {spec['name']}: thiếu thư ký", f"{spec['name']}: no secretary"))
            self.councils[spec["org"]] = _Council(council.id, spec["org"], scorers, secretary)

    def person(self, email: str) -> Actor:
        if email not in self.actors:
            self.actors[email] = load_actor(self.s, email, self.now.date(), policy=self.registry.policy)
        return self.actors[email]

    def _new_round(self, council: _Council, name: str, period: str, at: datetime) -> EvaluationRound:
        meeting = at.astimezone(ICT).date()
        found = round_service.create_round(self.s, self.system, council.id, name=name, meeting_date=meeting)
        sent = meeting - timedelta(days=1)  # the dossiers reach the members a working day before
        while self.calendar.add(sent, 1) > meeting:
            sent -= timedelta(days=1)
        found.created_at = _office_hours(sent - timedelta(days=7), self.rng)
        council.round_id, council.period = found.id, period
        return found

    def _end_round(self, council: _Council) -> None:
        if council.round_id is None:
            return
        at = min((council.last_at or self.now) + timedelta(hours=4), self.now - timedelta(minutes=1))
        round_service.close_round(self.s, self.registry, self.person(council.secretary), council.round_id, now=at)
        council.round_id = council.period = None

    def _add(self, council: _Council, product: Product, at: datetime) -> int:
        """Put the product in the council's round of the half-year (a new one when the product was already
        rated in it: returned and sent again within the half-year); open the round if it is new."""
        period = _round(at)
        if council.period != period:
            self._end_round(council)
            self._new_round(council, period, period, at)
        added = at - timedelta(hours=3)
        try:
            round_service.add_product(self.s, self.registry, self.system, council.round_id, product.id, now=added)
        except Conflict:
            self._end_round(council)
            self._new_round(council, f"{period} (phiên bổ sung)", period, at)
            round_service.add_product(self.s, self.registry, self.system, council.round_id, product.id, now=added)
        found = self.s.get(EvaluationRound, council.round_id)
        if found.status == "draft":
            sent_at = found.created_at + timedelta(days=7)
            round_service.open_round(self.s, self.system, found.id, today=sent_at.astimezone(ICT).date(), now=sent_at)
        return found.id

    def _score(self, council: _Council, round_id: int, product: Product, planned: float, at: datetime) -> None:
        """Every scoring member submits a sheet near the planned score; one may recuse if the quorum allows."""
        definition = self.registry.get(product.workflow_key, product.workflow_version)
        needed = round_service.quorum_needed(len(council.scorers), definition.evaluation.quorum)
        recused = None
        if len(council.scorers) > needed and self.rng.random() < 0.25:
            recused = self.rng.choice(council.scorers)
        voting = [e for e in council.scorers if e != recused]
        totals = dict(zip(voting, _sheet_totals(planned, len(voting), self.rng), strict=True))
        entry = round_service._entry(self.s, round_id, product.id)
        sheet = self.registry.criteria.get(entry.sheet_key)
        for i, email in enumerate(council.scorers):
            when = at - timedelta(minutes=100 - 12 * i)
            if email == recused:
                sheet_service.recuse(self.s, self.registry, self.person(email), round_id, product.id, RECUSAL, now=when)
            else:
                answers = _answers(sheet, totals[email])
                sheet_service.save_sheet(
                    self.s, self.registry, self.person(email), round_id, product.id, answers, submit=True, now=when
                )

    def rate_in_round(self, t: _Timeline, council: _Council, planned: float, at: datetime) -> ProductEvent:
        """A council's rating step as it happens: the round, the members' sheets, the secretary's close."""
        product = self.products[t.index]
        round_id = self._add(council, product, at)
        self._score(council, round_id, product, planned, at)
        entry = round_service.close_product(
            self.s, self.registry, self.person(council.secretary), round_id, product.id, now=at
        )
        council.last_at = at
        return self.s.get(ProductEvent, entry.event_id)

    def finish_rounds(self) -> None:
        """Close the historic rounds, then open the province council's round of now, its sheets half done."""
        for council in self.councils.values():
            self._end_round(council)
        council = self.councils.get(PROVINCE[0])
        if council is None:
            return
        waiting = []
        for product in sorted(self.products.values(), key=lambda p: p.id):
            definition = self.registry.get(product.workflow_key, product.workflow_version)
            newest = self.registry.latest(definition.key).version == definition.version  # v1: migrate first
            if newest and product.state == round_service.review_state_of(self.registry, definition, "province"):
                waiting.append(product)
        if not waiting:
            return
        today = self.now.astimezone(ICT).date()
        meeting = self.calendar.add(today, 3)
        sent = today - timedelta(days=2)
        found = round_service.create_round(
            self.s,
            self.person(council.secretary),
            council.id,
            name=f"{_round(self.now)} – họp ngày {meeting:%d/%m}",
            meeting_date=meeting,
        )
        found.created_at = self.now - timedelta(days=4)
        secretariat = self.system
        for product in waiting:
            round_service.add_product(
                self.s, self.registry, secretariat, found.id, product.id, now=self.now - timedelta(days=3)
            )
        round_service.open_round(self.s, secretariat, found.id, today=sent, now=self.now - timedelta(days=2))
        for n, product in enumerate(waiting):
            plan = HALF_DONE[n % len(HALF_DONE)]
            entry = round_service._entry(self.s, found.id, product.id)
            sheet = self.registry.criteria.get(entry.sheet_key)
            planned = self.rng.choice((62.5, 71.0, 78.25, 84.5))
            totals = _sheet_totals(planned, len(council.scorers), self.rng)
            for i, email in enumerate(council.scorers):
                what = plan[i] if i < len(plan) else None
                when = self.now - timedelta(hours=30 - 3 * i - n)
                actor = self.person(email)
                if what == "recused":
                    sheet_service.recuse(self.s, self.registry, actor, found.id, product.id, RECUSAL, now=when)
                elif what == "draft":
                    half = dict(list(_answers(sheet, totals[i]).items())[:-1])  # the last part not scored yet
                    sheet_service.save_sheet(self.s, self.registry, actor, found.id, product.id, half, now=when)
                elif what == "submitted":
                    answers = _answers(sheet, totals[i])
                    sheet_service.save_sheet(
                        self.s, self.registry, actor, found.id, product.id, answers, submit=True, now=when
                    )

    def create_producers(self) -> None:
        for key, name, kind, commune, taxed in PRODUCERS:
            self.producers[key] = create_producer(
                self.s,
                self.system,
                name=name,
                kind=kind,
                commune=self.orgs[commune],
                tax_code=vn_tax_code(self.rng) if taxed else None,
            )

    # ---- who acts
    def actor(self, role: str, org_code: str) -> Actor:
        email = self.emails[(role, org_code)]
        if email not in self.actors:
            self.actors[email] = load_actor(self.s, email, self.now.date(), policy=self.registry.policy)
        return self.actors[email]

    def _org_at(self, t: _Timeline, level: str) -> str | None:
        """The demo unit of a product at a level (None for roles of any level, such as the admin)."""
        return {
            "commune": self._commune(t),
            "district": self._district(t),
            "province": PROVINCE[0],
            "central": CENTRAL[0],
        }.get(level)

    def _people(self, t: _Timeline, roles: Iterable[str]) -> Iterator[Actor]:
        """The demo's people with one of `roles` in the product's units, in the order of `roles`."""
        for role in roles:
            org = self._org_at(t, self.registry.catalogue.roles[role].level)
            if (role, org) in self.emails:
                yield self.actor(role, org)

    def step_actor(self, t: _Timeline, trigger: str) -> Actor:
        """Who takes a step: the first role the definition lists for it with a demo person in the unit
        (so under 1489 the association, listed first, sends the dossier where it has an officer)."""
        product = self.products[t.index]
        definition = self.registry.get(product.workflow_key, product.workflow_version)
        if any(tdef.rating is not None for tdef in definition.candidates(product.state, trigger)):
            # a council's score comes from a round's sheets; the demo's past rounds are history it
            # records as the system (the rating is credited to the product's unit at that level)
            return self.system
        for tdef in definition.candidates(product.state, trigger):
            for actor in self._people(t, tdef.roles):
                if can(actor, TAKE_STEP, product, transition=tdef):
                    return actor
        raise LookupError(f"no demo person takes {trigger} from {product.state}")

    def _attach_order(self) -> list[str]:
        """Roles in the permission file's order (the producer first, then the association, the officer …)."""
        return list(dict.fromkeys(r for by_role in self.registry.policy.attach.values() for r in by_role))

    def attacher(self, t: _Timeline, doc_type: str) -> Actor:
        """Who files a document now: the first role the permission file lets attach it in the dossier's
        present phase, with a demo person in the unit (the producer's own account only for its producer)."""
        product = self.products[t.index]
        definition = self.registry.get(product.workflow_key, product.workflow_version)
        decided = decided_level(self.s, product, definition, self.registry.policy)
        for actor in self._people(t, self._attach_order()):
            if can(actor, ATTACH_DOCUMENT, product, doc_type=doc_type, definition=definition, decided_level=decided):
                return actor
        raise LookupError(f"no demo person may attach {doc_type} in {product.state}")

    def creator(self, t: _Timeline) -> Actor:
        """Who registers the idea: the first role of the preparers that may create for this producer."""
        producer = self.producers[t.spec.producer]
        for actor in self._people(t, self._attach_order()):
            if can(actor, "create_product", producer):
                return actor
        raise LookupError("no demo person registers products here")

    def _commune(self, t: _Timeline) -> str:
        return self.producers[t.spec.producer].commune.code

    def _district(self, t: _Timeline) -> str:
        return self.district_of[self._commune(t)]

    # ---- documents
    def attach(self, t: _Timeline, actor: Actor, doc_type: str, at: datetime, title: str | None = None) -> None:
        product = self.products[t.index]
        version = self.versions[(t.index, doc_type)] = self.versions.get((t.index, doc_type), 0) + 1
        label = title or DOC_TITLES.get(doc_type) or self.registry.catalogue.document_types[doc_type].vi
        lines = [
            f"OCOP {PROVINCE[1]} - {label}",
            f"San pham: {product.name}",
            f"Chu the: {product.producer.name}",
            f"Don vi: {product.commune.name}",
            f"Ngay lap: {at.astimezone(ICT):%d/%m/%Y}",
            f"Phien ban: {version}",
            f"Nguoi nop: {actor.user.name}",
        ]
        photo = doc_type in PHOTO_DOCS
        content = _png(lines) if photo else _pdf(lines)
        suffix = f" - bản {version}" if version > 1 and title is None else ""
        filename = f"{label} - {product.name}{suffix}.{'png' if photo else 'pdf'}"
        doc = attach_document(
            self.s,
            actor,
            product.id,
            doc_type,
            filename,
            content,
            upload_dir=self.upload_dir,
            max_bytes=MAX_UPLOAD_BYTES,
            known_types=self.registry.catalogue.document_types,
            now=at,
            registry=self.registry,
        )
        self.written.append(self.upload_dir / doc.stored_name)

    def trigger(self, t: _Timeline, token: str) -> str:
        if token == "submit":
            return "submit_to_district" if t.spec.workflow == "ocop-148" else "submit_for_commune_review"
        return TRIGGERS[token]

    def prepare(self, t: _Timeline, step: _Step) -> None:
        """Upload what the next step needs (and the revised files a reviewer asked for)."""
        product = self.products[t.index]
        trigger = self.trigger(t, step.token)
        definition = self.registry.get(product.workflow_key, product.workflow_version)
        needed: list[str] = []
        for cand in definition.candidates(product.state, trigger):
            if cand.documents:
                needed += [
                    d
                    for d in cand.documents.required_for(product.product_group, product.producer.kind)
                    if d not in needed
                ]
        have = {d.doc_type for d in current_documents(self.s, product.id)}
        todo = [d for d in needed if d not in have and d not in COMMUNE_DOCS]
        if step.token == "submit" and not any(k[0] == t.index and k[1] in OPTIONAL_DOCS for k in self.versions):
            todo += [d for d in self.rng.sample(OPTIONAL_DOCS, self.rng.randint(1, 3)) if d not in have]
        todo += sorted(self.refresh.pop(t.index, set()) - set(todo))
        at = step.docs_at or step.at
        for i, doc_type in enumerate(todo):
            self.attach(t, self.attacher(t, doc_type), doc_type, at + timedelta(minutes=7 * i))
        if step.token == "send":  # the commune's own report and request, new for every request
            for i, doc_type in enumerate(COMMUNE_DOCS):
                self.attach(t, self.attacher(t, doc_type), doc_type, at + timedelta(hours=2, minutes=9 * i))

    # ---- steps
    def _registry_of(self, version: int | None) -> Registry:
        """The registry as it was when `version` was the newest (products started before version 2)."""
        if version is None:
            return self.registry
        if version not in self.earlier:
            definitions = {k: d for k, d in self.registry.definitions.items() if k[1] <= version}
            self.earlier[version] = dataclasses.replace(self.registry, definitions=definitions)
        return self.earlier[version]

    def create(self, t: _Timeline, step: _Step) -> None:
        spec = t.spec
        product = create_product(
            self.s,
            self._registry_of(spec.version),
            self.creator(t),
            name=spec.name,
            product_group=spec.group,
            producer_id=self.producers[spec.producer].id,
            subgroup=spec.subgroup,
            workflow_key=spec.workflow,
            now=step.at,
        )
        self.products[t.index] = product
        if spec.idea_form:
            self.attach(t, self.attacher(t, "idea_registration"), "idea_registration", step.at + timedelta(minutes=20))

    def move(self, t: _Timeline, i: int) -> None:
        step = t.steps[i]
        product = self.products[t.index]
        tok, arg = step.token, step.arg
        trigger = self.trigger(t, tok)
        data: dict = {}
        comment: str | None
        actor: Actor | None = None
        if tok in RATING_CAP:
            score = _jitter(float((arg or "0").partition("/")[0]), self.rng)
            council = self.councils.get(self._org_at(t, tok) or "")
            product = self.products[t.index]
            latest = self.registry.latest(product.workflow_key).version == product.workflow_version
            if council is not None and latest:  # a round rates only products on the newest version
                event = self.rate_in_round(t, council, score, step.at)
                if step.after_at is not None:
                    self._after_rating(t, tok, event, step.after_at)
                return
            # that district's council is not in the demo, or the product is still on version 1 (rated before
            # version 2 came): the system records its result (a historic record)
            data = {"score": score}
            comment = self._rating_comment(t, tok, score)
            actor = self.system
        elif tok == "return":
            doc_type, comment = RETURN_REASONS[arg or "lab"]
            self.refresh.setdefault(t.index, set()).add(doc_type)
        elif tok == "withdraw":
            comment = WITHDRAW_REASONS[arg or "switch"]
        elif tok == "submit":
            previous = t.steps[i - 1].token
            key = {"return": "resubmit", "upgrade": "submit_upgrade", "reeval": "submit_reeval"}.get(previous, "submit")
            if t.spec.workflow != "ocop-148" and key != "resubmit":
                key += "1489"
            comment = self.rng.choice(COMMENTS[key])
        else:
            comment = self.rng.choice(COMMENTS[tok])
            if tok in ("upgrade", "reeval"):
                # a new application files its dossier's renewed documents again (the definition's list)
                definition = self.registry.get(product.workflow_key, product.workflow_version)
                kind = "upgrade" if tok == "upgrade" else "re_evaluation"
                renew = definition.renew.get(kind)
                again = {"registration_form", "self_assessment_report"}
                if renew is not None:
                    again |= set(renew.required_for(product.product_group, product.producer.kind))
                self.refresh.setdefault(t.index, set()).update(again)
        actor = actor or self.step_actor(t, trigger)
        event = advance(self.s, self.registry, product.id, trigger, actor, comment=comment, data=data, now=step.at)
        if tok in RATING_CAP and step.after_at is not None:
            self._after_rating(t, tok, event, step.after_at)

    def _rating_comment(self, t: _Timeline, tok: str, score: float) -> str:
        points = _score_text(score)
        band = star_for_score(score)
        if tok == "district":
            if score >= 70:
                return f"Hội đồng OCOP huyện chấm {points} điểm (≥ 70); đề nghị Hội đồng tỉnh đánh giá, phân hạng."
            star = min(band, 3)
            if star < 3:
                return (
                    f"Hội đồng OCOP huyện chấm {points} điểm ({star} sao); sản phẩm chưa đủ điều kiện "
                    "công nhận, đề nghị chủ thể tiếp tục hoàn thiện."
                )
            return f"Hội đồng OCOP huyện chấm {points} điểm, đạt 3 sao; trình UBND huyện ra quyết định công nhận."
        if tok == "province":
            if score >= 90:
                return f"Hội đồng OCOP tỉnh chấm {points} điểm (≥ 90); đề nghị Bộ NN&MT đánh giá, công nhận 5 sao."
            star = min(band, 4)
            return (
                f"Hội đồng OCOP tỉnh chấm {points} điểm, đạt {star} sao; trình Chủ tịch UBND tỉnh "
                "ký quyết định công nhận."
            )
        if band == 5:
            return f"Hội đồng OCOP Trung ương chấm {points} điểm; công nhận sản phẩm OCOP 5 sao."
        return (
            f"Hội đồng OCOP Trung ương chấm {points} điểm, chưa đạt 5 sao; "
            "sản phẩm giữ hạng sao do UBND tỉnh công nhận."
        )

    def _after_rating(self, t: _Timeline, tok: str, event: ProductEvent, at: datetime) -> None:
        """The secretariat files the council minutes and, for a recognition, the decision."""
        council = {"district": "huyện", "province": "tỉnh", "central": "Trung ương"}[tok]
        meeting = _round(event.at).replace("/", "-")
        self.attach(
            t,
            self.attacher(t, "council_minutes"),
            "council_minutes",
            at,
            f"Biên bản họp Hội đồng OCOP {council} {meeting}",
        )
        product = self.products[t.index]
        definition = self.registry.get(product.workflow_key, product.workflow_version)
        awaiting = definition.recognition.awaiting if definition.recognition else {}
        waiting = {state: level for level, state in awaiting.items()}
        level = waiting.get(product.state)
        if level is None:
            return
        step = next(s for s in t.steps if s.token == tok and s.after_at == at)
        hold = (step.arg or "").partition("/")[2]
        if hold == "wait":
            return
        self.recognise(t, level, at + timedelta(hours=2), draft_only=hold == "draft")

    def _level_person(self, t: _Timeline, level: str, action: str, obj) -> Actor:
        """The first demo person of the level's unit whose role the permission file gives `action`."""
        roles = self.registry.policy.actions[action].roles
        for role in roles:
            if self.registry.catalogue.roles[role].level != level:
                continue
            org = self._org_at(t, level)
            if (role, org) in self.emails and can(self.actor(role, org), action, obj):
                return self.actor(role, org)
        raise LookupError(f"no demo person may {action} at the {level} level")

    def recognise(self, t: _Timeline, level: str, at: datetime, *, draft_only: bool = False) -> None:
        """The level's secretariat drafts the recognition decision; its chair signs it the same day (the
        certificate is issued on the decision's date); its DOCX goes into the dossier."""
        product = self.products[t.index]
        org = self.orgs[self._org_at(t, level) or ""]
        drafter = self._level_person(t, level, "draft_decisions", org)
        decision = decision_service.draft_decision(
            self.s, self.registry, drafter, organisation_id=org.id, product_ids=[product.id], now=at
        )
        if draft_only:
            return
        signed_at = at + timedelta(hours=1)
        signer = self._level_person(t, level, "sign_decisions", decision)
        n = self.decision_numbers[org.code] = self.decision_numbers.get(org.code, 0) + 1
        suffix = "QĐ-BNNMT" if level == "central" else "QĐ-UBND"
        number = f"{DECISION_BASE[level] + n}/{suffix}"
        signed = sign_and_file_decision(
            self.s,
            self.registry,
            self.settings,
            signer,
            decision.id,
            number=number,
            signed_on=local_day(signed_at),
            now=signed_at,
        )
        self.certificates.setdefault(t.index, []).extend(c.code for c in signed.certificates)
        # the decision's DOCX, filed in the dossier by the signing (kept for the clean-up on failure)
        docs = self.s.scalars(
            select(Document).where(Document.product_id == product.id, Document.doc_type == "recognition_decision")
        )
        self.written.extend(self.upload_dir / d.stored_name for d in docs)

    def revoke(self, index: int, days_ago: int) -> None:
        """The recognising level revokes the product's certificate (a food-safety breach found later)."""
        product = self.products[index]
        code = self.certificates[index][-1]
        t = next(t for t in self.timelines if t.index == index)
        on = local_day(self.now) - timedelta(days=days_ago)
        cert = self.s.scalar(select(Certificate).where(Certificate.code == code))
        chair = self._level_person(t, cert.level, "revoke_certificates", cert)
        revoke_certificate(
            self.s,
            chair,
            code,
            reason=(
                f"Kiểm tra hậu kiểm phát hiện sản phẩm «{product.name}» không duy trì chất lượng như hồ sơ "
                "đánh giá (kết quả kiểm nghiệm không đạt chỉ tiêu vi sinh vật)."
            ),
            decision_number=f"{DECISION_BASE[cert.level] + 900}/QĐ-UBND",
            revoked_on=on,
            now=self.now,
        )

    def run(self, timelines: list[_Timeline]) -> None:
        self.timelines = timelines
        ops: list[tuple[datetime, int, int, str, int]] = []
        for t in timelines:
            for i, step in enumerate(t.steps):
                if step.token == "create":
                    ops.append((step.at, t.index, 2 * i, "create", i))
                    continue
                ops.append((step.docs_at or step.at, t.index, 2 * i - 1, "prepare", i))
                ops.append((step.at, t.index, 2 * i, "move", i))
        ops.sort(key=lambda op: (op[0], op[1], op[2]))
        by_index = {t.index: t for t in timelines}
        for _at, index, _order, kind, i in ops:
            t = by_index[index]
            if kind == "create":
                self.create(t, t.steps[i])
            elif kind == "prepare":
                self.prepare(t, t.steps[i])
            else:
                self.move(t, i)


def load_demo(
    db: Database,
    registry: Registry,
    upload_dir: Path,
    *,
    seed: int = 2024,
    now: datetime | None = None,
) -> list[DemoLogin]:
    """Fill an empty, migrated database with the Bắc Giang demo and return the demo logins.

    `now` (aware, at least October 2025) is the moment the demo is seen from; histories run from
    March 2023 (Decision 148) and, for the two-tier products, from July 2025 (Decision 1489).
    Everything lands in one transaction; on failure the files written so far are removed.
    """
    now = now or datetime.now(UTC)
    if now.tzinfo is None:
        raise InvalidData(Text("Thời điểm `now` phải có múi giờ", "`now` must be timezone-aware"))
    now = now.astimezone(UTC)
    if now < EARLIEST_NOW:
        raise InvalidData(
            Text(
                f"Dữ liệu mẫu cần thời điểm từ {EARLIEST_NOW:%d/%m/%Y} trở đi",
                f"The demo needs a `now` on or after {EARLIEST_NOW:%Y-%m-%d}",
            )
        )
    rng = random.Random(seed)
    loader: _Loader | None = None
    try:
        with db.transaction() as session:
            if session.scalar(select(func.count()).select_from(Organisation)):
                raise InvalidData(
                    Text(
                        "Cơ sở dữ liệu đã có dữ liệu; chỉ nạp dữ liệu mẫu vào cơ sở dữ liệu trống",
                        "The database is not empty; the demo loads into an empty database only",
                    )
                )
            session.info[MOVE_NOTICES] = False  # the demo's history is the past: its moves tell nobody now
            loader = _Loader(session, registry, Path(upload_dir), rng, now)
            loader.organisations()
            loader.create_producers()
            logins = loader.users()
            loader.seat_councils()
            timelines = [_plan(i, spec, rng, now) for i, spec in enumerate(PRODUCTS)]
            loader.run(timelines)
            loader.finish_rounds()
            loader.revoke(next(i for i, spec in enumerate(PRODUCTS) if spec.name == REVOKED[0]), REVOKED[1])
            demo_plans.load(session, loader.producers, now, seed)  # issue #12: the programme's records, the plans
    except BaseException:
        if loader is not None:
            for path in loader.written:
                path.unlink(missing_ok=True)
        raise
    return logins


def summary(db: Database, *, by_workflow: bool = False) -> dict[str, int]:
    """Products per state ("rated": 12), or per workflow and state ("ocop-148/rated": 10)."""
    with db.session() as session:
        if by_workflow:
            rows = session.execute(
                select(Product.workflow_key, Product.state, func.count()).group_by(Product.workflow_key, Product.state)
            )
            return {f"{key}/{state}": n for key, state, n in sorted(rows)}
        rows = session.execute(select(Product.state, func.count()).group_by(Product.state))
        return {state: n for state, n in sorted(rows)}
