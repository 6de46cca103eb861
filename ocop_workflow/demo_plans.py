"""The demo's plans and the programme's records they are measured from (issue #12).

`ocop demo` calls `load` once the products have their histories: it records what the Farmers'
Association and the units did around those products — supports, e-commerce listings, raw-material
areas, value chains, sales points, declared revenues, trainings and outreach — and loads the two plan
files (`data/plans/`: Decision 615/QĐ-UBND's scheme 2022–2025 and the 2023 provincial plan) through the
same loader as `ocop plan load`.

The records are drawn so that the report of now tells a story a reader can check by hand: some targets
are met (products reaching 3★, revenue growth, trainings), some are behind (new supported products in
2022, before any product of the demo existed; sales points in every district in 2023), and one district,
**Huyện Lạng Giang** (217), is clearly lagging: no sales point, no support of its products, no listing,
no training or outreach, so it ranks last among the districts. Lục Ngạn (219), where the demo's
association officers work, is ahead.

Every record is dated relative to the products' own history (the idea's acceptance, the certificate's
issue) and drawn with a seeded `random.Random`, so the demo stays deterministic for a seed and `now`.
When each fact was written down is dated too, never after `now`: a revenue is declared on a working day of
January–March after its year (the report engine counts a declaration only from that moment on, so a
report of a past day sees the revenues declared by then), the other records a few working days after the
day they tell of, a plan some days after its decision.
The rows are written directly (the demo is a trusted caller, like `Actor.system_actor()`), after the
workflow has made the products, and name the demo's association officers as who recorded them.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .models import (
    Certificate,
    EcommerceListing,
    MaterialArea,
    MaterialAreaProduct,
    Organisation,
    Producer,
    Product,
    ProductEvent,
    ProductRevenue,
    ProductSupport,
    SalesPoint,
    Training,
    TrainingAttendance,
    User,
    ValueChain,
)

PLANS_DIR = Path(__file__).parent / "data" / "plans"
LAGGING = "217"  # Huyện Lạng Giang: the district the demo's report shows clearly behind
DOMAIN = "demo.ocop.vn"
ASSOCIATION_PEOPLE = {"07606": "hoind.phuongson", "219": "hoind.lucngan", "24": "hoind.tinh"}
PLATFORMS = ("postmart", "voso", "shopee", "lazada", "tiki", "tiktok_shop", "province_portal")
PLATFORM_HOSTS = {
    "postmart": "postmart.vn",
    "voso": "voso.vn",
    "shopee": "shopee.vn",
    "lazada": "lazada.vn",
    "tiki": "tiki.vn",
    "tiktok_shop": "shop.tiktok.com",
    "province_portal": "sanphamocop.bacgiang.gov.vn",
}

# (unit code, name, address, opened, closed): every district but the lagging one, three of them after 2023's
# first half (the 2023 plan's "a sales point in every district" is behind; Lạng Giang never has one)
SALES_POINTS: list[tuple[str, str, str, str, str | None]] = [
    (
        "213",
        "Điểm giới thiệu và bán sản phẩm OCOP tỉnh Bắc Giang",
        "Số 2 đường Hùng Vương, TP Bắc Giang",
        "2022-09-15",
        None,
    ),
    ("219", "Điểm bán sản phẩm OCOP Lục Ngạn", "Thị trấn Chũ, huyện Lục Ngạn", "2023-03-20", None),
    ("07606", "Gian hàng OCOP Phượng Sơn", "Chợ Phượng Sơn, xã Phượng Sơn", "2023-06-01", None),
    ("215", "Điểm bán sản phẩm OCOP Yên Thế", "Thị trấn Cầu Gồ, huyện Yên Thế", "2023-04-10", None),
    ("216", "Điểm bán sản phẩm OCOP Tân Yên", "Thị trấn Cao Thượng, huyện Tân Yên", "2023-08-05", None),
    ("218", "Điểm bán sản phẩm OCOP Lục Nam", "Thị trấn Đồi Ngô, huyện Lục Nam", "2023-05-18", None),
    ("222", "Điểm bán sản phẩm OCOP Việt Yên", "Thị xã Việt Yên", "2023-10-02", None),
    ("221", "Điểm bán sản phẩm OCOP Yên Dũng", "Thị trấn Nham Biền, huyện Yên Dũng", "2023-07-12", "2024-12-31"),
    ("07789", "Gian hàng OCOP Lãng Sơn", "Xã Lãng Sơn, huyện Yên Dũng", "2025-03-08", None),
    ("220", "Điểm bán sản phẩm OCOP Sơn Động", "Thị trấn An Châu, huyện Sơn Động", "2023-11-20", None),
    ("223", "Điểm bán sản phẩm OCOP Hiệp Hòa", "Thị trấn Thắng, huyện Hiệp Hòa", "2023-12-14", None),
]

# (commune code, name, hectares, growing code, producer keys whose products it feeds, linked from)
MATERIAL_AREAS: list[tuple[str, str, float, str | None, tuple[str, ...], str]] = [
    ("07606", "Vùng vải thiều VietGAP Phượng Sơn", 320.5, "VN-BGLN-0012", ("ps_htx", "ps_hh", "ps_dn"), "2022-06-01"),
    ("07660", "Vùng vải thiều Quý Sơn", 185.0, "VN-BGLN-0031", ("qs_hh", "qs_tht"), "2023-04-15"),
    ("07621", "Vùng trồng dong riềng Hồng Giang", 42.0, None, ("hg_htx",), "2023-02-01"),
    ("07261", "Vùng cam Bố Hạ", 96.3, "VN-BGYT-0007", ("bh_htx",), "2023-09-01"),
    ("07288", "Vùng chăn nuôi gà đồi Đồng Kỳ", 150.0, None, ("dk_htx", "dk_tht"), "2023-01-10"),
    ("07711", "Vùng trà hoa vàng An Lạc", 25.4, None, ("al_htx",), "2024-03-01"),
    ("07732", "Vùng dong riềng Tuấn Đạo", 18.0, None, ("td_hh",), "2024-06-10"),
    ("07975", "Vùng dược liệu Mai Đình", 30.0, None, ("md_dn",), "2024-09-01"),
]

# (unit code, name, lead producer key, member keys, started, working from, stopped)
VALUE_CHAINS: list[tuple[str, str, str, tuple[str, ...], str, str | None, str | None]] = [
    (
        "219",
        "Chuỗi liên kết sản xuất, tiêu thụ vải thiều VietGAP Lục Ngạn",
        "ps_htx",
        ("ps_hh", "ps_dn", "qs_tht"),
        "2022-05-10",
        "2023-03-01",
        None,
    ),
    ("215", "Chuỗi giá trị gà đồi Yên Thế", "dk_htx", ("dk_tht", "dk_hh"), "2023-02-15", "2023-10-01", None),
    ("219", "Chuỗi liên kết mỳ Chũ Hồng Giang", "hg_htx", (), "2023-06-01", "2024-02-01", "2025-09-30"),
    ("215", "Chuỗi liên kết cam Bố Hạ", "bh_htx", ("px_htx",), "2024-03-05", "2025-01-15", None),
    ("222", "Chuỗi liên kết rượu làng Vân", "vh_htx", (), "2024-08-01", "2025-06-01", None),
    ("220", "Chuỗi liên kết trà hoa vàng Sơn Động", "al_htx", ("td_hh",), "2025-04-01", None, None),
]

TRAINING_TOPICS = (
    "Tập huấn kỹ năng hướng dẫn chủ thể xây dựng hồ sơ sản phẩm OCOP",
    "Tập huấn quản trị hợp tác xã và tiếp cận thị trường",
    "Tập huấn bán hàng trên sàn thương mại điện tử",
    "Tập huấn tiêu chuẩn, bộ tiêu chí đánh giá sản phẩm OCOP",
)
OUTREACH_TOPIC = "Tuyên truyền Chương trình OCOP tới hội viên nông dân"
ICT = timezone(timedelta(hours=7), "ICT")  # office hours are Vietnam's


def _day(text: str) -> date:
    return date.fromisoformat(text)


def _clip(day: date, today: date) -> date | None:
    """`day`, or None when it lies after today (nothing is recorded in the future)."""
    return day if day <= today else None


def _office_time(day: date, rng: random.Random) -> datetime:
    """A moment of office hours (08:00–16:59 in Vietnam) on `day`, moved on to the Monday after a weekend."""
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime(day.year, day.month, day.day, rng.randint(8, 16), rng.randint(0, 59), tzinfo=ICT).astimezone(UTC)


class _Recorder:
    def __init__(self, session: Session, producers: dict[str, Producer], now: datetime, seed: int) -> None:
        self.s = session
        self.producers = producers
        self.now = now
        self.today = now.date()
        self.rng = random.Random(seed * 31 + 615)
        # the moments records were written: a stream of their own, so the records' story stays the same
        self.clock = random.Random(seed * 31 + 616)
        self.orgs = {o.code: o for o in session.scalars(select(Organisation))}
        self.district_of = {
            o.code: (self.orgs_by_id[o.parent_id].code if o.level == "commune" else o.code)
            for o in self.orgs.values()
            if o.level in ("commune", "district")
        }
        emails = {f"{local}@{DOMAIN}": code for code, local in ASSOCIATION_PEOPLE.items()}
        self.officers = {emails[u.email]: u for u in session.scalars(select(User).where(User.email.in_(list(emails))))}
        self.recorder = self.officers.get("24")

    def stamp(self, day: date, lag: tuple[int, int] = (0, 10)) -> datetime:
        """When a fact of `day` was written down: office hours some days later (`lag`), never after now."""
        when = _office_time(day + timedelta(days=self.clock.randint(*lag)), self.clock)
        return when if when < self.now else self.now - timedelta(minutes=self.clock.randint(5, 600))

    def declared(self, year: int) -> datetime | None:
        """When a producer declared a year's revenue: a working day of January–March of the year after,
        or None when that day has not come yet at now (the year is not declared yet)."""
        when = _office_time(date(year + 1, 1, 2) + timedelta(days=self.clock.randint(0, 86)), self.clock)
        return when if when < self.now else None

    @property
    def orgs_by_id(self) -> dict[int, Organisation]:
        return {o.id: o for o in self.orgs.values()}

    def _by(self, code: str) -> int | None:
        """Who recorded a unit's fact: its own association officer where the demo has one, else the province's."""
        user = self.officers.get(code) or self.officers.get(self.district_of.get(code, "")) or self.recorder
        return user.id if user is not None else None

    # --- the products' own facts ---------------------------------------------------------------
    def products(self) -> list[tuple[Product, str, date | None, date | None]]:
        """Each demo product with its commune's code, the day its idea was accepted and its first certificate."""
        accepted = dict(
            self.s.execute(
                select(ProductEvent.product_id, func.min(ProductEvent.at))
                .where(ProductEvent.from_state == "idea", ProductEvent.to_state == "production_plan")
                .group_by(ProductEvent.product_id)
            ).all()
        )
        first_cert = dict(
            self.s.execute(
                select(Certificate.product_id, func.min(Certificate.issued_on)).group_by(Certificate.product_id)
            ).all()
        )
        codes = {o.id: o.code for o in self.orgs.values()}
        out = []
        for p in self.s.scalars(select(Product).order_by(Product.id)):
            when = accepted.get(p.id)
            out.append((p, codes[p.commune_id], when.date() if when else None, first_cert.get(p.id)))
        return out

    def supports(self, products) -> None:
        """The association supports most products from the idea on: the commune association in Phượng Sơn,
        the district's in the rest of Lục Ngạn, elsewhere a commune's base or the province's; none in the
        lagging district."""
        for p, commune, accepted, _cert in products:
            district = self.district_of[commune]
            if district == LAGGING or self.rng.random() < 0.2:
                continue
            if commune == "07606":
                org = commune
            elif district == "219":
                org = "219"
            else:
                org = self.rng.choice((commune, "24"))
            start = (p.created_at.date() if p.created_at else accepted) or self.today
            start = min(start + timedelta(days=self.rng.randint(0, 5)), accepted or self.today)
            officer = self.officers.get(org)
            self.s.add(
                ProductSupport(
                    product_id=p.id,
                    organisation_id=self.orgs[org].id,
                    officer_id=officer.id if officer else None,
                    started_on=start,
                    note="Hướng dẫn hoàn thiện hồ sơ, kết nối tư vấn bao bì, nhãn mác",
                    recorded_by_id=self._by(org),
                    recorded_at=self.stamp(start),
                )
            )

    def listings(self, products) -> None:
        """Most certified products go on one or two platforms some weeks after their certificate; a few
        are taken off again."""
        for p, commune, _accepted, cert in products:
            if cert is None or self.district_of[commune] == LAGGING or self.rng.random() < 0.25:
                continue
            for platform in self.rng.sample(PLATFORMS, self.rng.choice((1, 1, 2))):
                listed = _clip(cert + timedelta(days=self.rng.randint(10, 120)), self.today)
                if listed is None:
                    continue
                removed = None
                if self.rng.random() < 0.12:
                    removed = _clip(listed + timedelta(days=self.rng.randint(90, 300)), self.today)
                self.s.add(
                    EcommerceListing(
                        product_id=p.id,
                        platform=platform,
                        url=f"https://{PLATFORM_HOSTS[platform]}/san-pham/ocop-{p.id}",
                        listed_on=listed,
                        removed_on=removed,
                        recorded_by_id=self._by(commune),
                        recorded_at=self.stamp(listed, (0, 14)),
                    )
                )

    def revenues(self, products) -> None:
        """Producers of certified products declare the years around the certificate (finished years only):
        the year before, the year of and the year after, growing about one and a half times."""
        for p, commune, _accepted, cert in products:
            if cert is None or self.district_of[commune] == LAGGING:
                continue
            base = self.rng.randint(3, 30) * 100_000_000
            growth = self.rng.uniform(1.25, 2.1)
            for year, factor in ((cert.year - 1, 1.0), (cert.year, (1 + growth) / 2), (cert.year + 1, growth)):
                declared = self.declared(year)
                if declared is None:
                    continue
                self.s.add(
                    ProductRevenue(
                        product_id=p.id,
                        year=year,
                        amount=int(round(base * factor, -6)),
                        declared_by_id=self._by(commune),
                        declared_at=declared,
                    )
                )

    # --- the units' facts ----------------------------------------------------------------------
    def material_areas(self, products) -> None:
        by_producer: dict[int, list[Product]] = defaultdict(list)
        for p, *_rest in products:
            by_producer[p.producer_id].append(p)
        for commune, name, hectares, code, keys, linked in MATERIAL_AREAS:
            area = MaterialArea(
                name=name,
                commune_id=self.orgs[commune].id,
                area_ha=hectares,
                growing_code=code,
                recorded_by_id=self._by(commune),
                recorded_at=self.stamp(_day(linked) - timedelta(days=30), (0, 20)),
            )
            self.s.add(area)
            for key in keys:
                producer = self.producers.get(key)
                for p in by_producer.get(producer.id if producer else -1, []):
                    start = max(_day(linked), p.created_at.date() if p.created_at else _day(linked))
                    if start > self.today:
                        continue
                    area.links.append(
                        MaterialAreaProduct(
                            product_id=p.id,
                            linked_on=start,
                            recorded_by_id=area.recorded_by_id,
                            recorded_at=self.stamp(start),
                        )
                    )

    def value_chains(self) -> None:
        for unit, name, lead, members, started, working, stopped in VALUE_CHAINS:
            lead_producer = self.producers[lead]
            chain = ValueChain(
                name=name,
                organisation_id=self.orgs[unit].id,
                lead_producer_id=lead_producer.id,
                lead_name=lead_producer.name,
                started_on=_day(started),
                working_from=_clip(_day(working), self.today) if working else None,
                stopped_on=_clip(_day(stopped), self.today) if stopped else None,
                recorded_by_id=self._by(unit),
                recorded_at=self.stamp(_day(started), (0, 20)),
            )
            chain.members = [self.producers[k] for k in (lead, *members)]
            chain.products = [
                p for p in self.s.scalars(select(Product).where(Product.producer_id.in_([m.id for m in chain.members])))
            ]
            self.s.add(chain)

    def sales_points(self) -> None:
        for unit, name, address, opened, closed in SALES_POINTS:
            if _day(opened) > self.today:
                continue
            self.s.add(
                SalesPoint(
                    name=name,
                    organisation_id=self.orgs[unit].id,
                    address=address,
                    opened_on=_day(opened),
                    closed_on=_clip(_day(closed), self.today) if closed else None,
                    recorded_by_id=self._by(unit),
                    recorded_at=self.stamp(_day(opened)),
                )
            )

    def trainings(self) -> None:
        """Each year from 2022: the province's association trains its officers and co-operative managers;
        every district's but the lagging one holds a session of its own; communes hold outreach meetings
        (more of them each year, none in the lagging district)."""
        districts = sorted(c for c, o in self.orgs.items() if o.level == "district")
        communes = sorted(c for c, o in self.orgs.items() if o.level == "commune")
        for year in range(2022, self.today.year + 1):
            for i, topic in enumerate(TRAINING_TOPICS[:2]):
                self._session(
                    "training",
                    "24",
                    date(year, 3 + 5 * i, 12 + i),
                    topic,
                    {
                        "association_officer": self.rng.randint(60, 90),
                        "cooperative_manager": self.rng.randint(40, 70),
                        "ocop_officer": self.rng.randint(10, 20),
                    },
                )
            for code in districts:
                if code == LAGGING:
                    continue
                self._session(
                    "training",
                    code,
                    date(year, self.rng.randint(4, 10), self.rng.randint(1, 28)),
                    self.rng.choice(TRAINING_TOPICS),
                    {
                        "association_officer": self.rng.randint(8, 20),
                        "cooperative_manager": self.rng.randint(5, 15),
                        "producer": self.rng.randint(15, 40),
                    },
                )
            share = min(0.95, 0.45 + 0.15 * (year - 2022))
            for code in communes:
                if self.district_of[code] == LAGGING or self.rng.random() > share:
                    continue
                self._session(
                    "outreach",
                    code,
                    date(year, self.rng.randint(2, 11), self.rng.randint(1, 28)),
                    OUTREACH_TOPIC,
                    {"producer": self.rng.randint(25, 80), "association_officer": self.rng.randint(2, 6)},
                )

    def _session(self, kind: str, code: str, held: date, topic: str, people: dict[str, int]) -> None:
        if held > self.today:
            return
        training = Training(
            kind=kind,
            organisation_id=self.orgs[code].id,
            held_on=held,
            topic=topic,
            recorded_by_id=self._by(code),
            recorded_at=self.stamp(held, (1, 10)),
        )
        training.attendance = [TrainingAttendance(role=role, people=n) for role, n in sorted(people.items())]
        self.s.add(training)


def record_programme(session: Session, producers: dict[str, Producer], now: datetime, seed: int) -> None:
    """The programme's records of the demo (see the module's docstring); the caller commits."""
    rec = _Recorder(session, producers, now, seed)
    products = rec.products()
    rec.supports(products)
    rec.listings(products)
    rec.revenues(products)
    rec.material_areas(products)
    rec.value_chains()
    rec.sales_points()
    rec.trainings()
    session.flush()


def load(session: Session, producers: dict[str, Producer], now: datetime, seed: int) -> None:
    """Everything the demo adds for issue #12: the programme's records, then the two plans."""
    record_programme(session, producers, now, seed)
    load_plans(session, now)


def load_plans(session: Session, now: datetime | None = None) -> None:
    """The plan files shipped in `data/plans/`, through the loader `ocop plan load` uses. With `now` (the
    demo's), each plan is dated as entered a week or two after its decision, not at the moment of loading."""
    from .reports.plans import read_yaml_plan
    from .services.access import Actor
    from .services.plans import load_plan

    system = Actor.system_actor()
    for path in sorted(PLANS_DIR.glob("*.yaml")):
        plan = load_plan(session, system, read_yaml_plan(path.read_bytes(), path.name))
        if now is not None:
            entered = datetime.combine(plan.basis_date + timedelta(days=10), datetime.min.time(), UTC)
            plan.created_at = min(entered + timedelta(hours=2), now)
    session.flush()


__all__ = ["LAGGING", "load", "load_plans", "record_programme"]
