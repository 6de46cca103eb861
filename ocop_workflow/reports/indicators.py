"""The fixed list of plan indicators: what each counts, exactly, so a target means one thing.

A plan's target names one of these keys (`PlanTarget.indicator`); nothing else can be measured, and a
plan file naming another key is refused at load with the list. Each indicator is computed from the
records and the products' history for a *window*:

* a target for year Y looks at 1 January Y to 31 December Y, a target for the whole period at
  1 January of the plan's first year to 31 December of its last year; the window is cut at the
  report's as-of day (a report as of 30/06/2024 sees the first half of 2024);
* `stock` indicators count what holds on one day: the window's last day (as cut);
* `flow` indicators count events inside the window.

"Certified" always means what `services.listing.certified_condition`/`services.certificates.valid_on`
say (issue #10), so the reports follow the certificate rules wherever they change. Every indicator
counts within an organisation's area: a product by its commune, a unit's record (a sales point, a
value chain, a training) by the unit that holds it.

The sources of the targets: Decision 615/QĐ-UBND (22/04/2022) approving the Bắc Giang Farmers'
Association scheme 2022–2025, and a 2023 provincial OCOP plan (see shared/domain/ocop.md, "The plan
targets in the source documents").
"""

from __future__ import annotations

from dataclasses import dataclass

from ..i18n import Text

COUNT, SHARE, RATIO = "count", "share", "ratio"  # what the figure is: a number, a per cent, a multiple
FLOW, STOCK = "flow", "stock"


@dataclass(frozen=True, slots=True)
class Indicator:
    key: str
    label: Text
    unit: str  # COUNT, SHARE (per cent of a denominator) or RATIO (a multiple)
    timing: str  # FLOW (events in the window) or STOCK (what holds on the window's last day)
    counts: str  # "products" or "units" (organisations) or "chains", "points", "people": what the drill-down lists
    rule: Text  # the exact rule, shown on the report page and in the Excel file


INDICATORS: tuple[Indicator, ...] = (
    Indicator(
        "new_supported",
        Text("Sản phẩm mới được Hội hỗ trợ", "New products supported by the association"),
        COUNT,
        FLOW,
        "products",
        Text(
            "Sản phẩm có ý tưởng được chấp nhận trong kỳ (lần đầu rời bước «Ý tưởng sản phẩm» sang «Phương án sản "
            "xuất kinh doanh») và có ghi nhận Hội Nông dân hỗ trợ bắt đầu không muộn hơn ngày báo cáo, chưa kết thúc "
            "trước ngày ý tưởng được chấp nhận",
            "Products whose idea was accepted in the window (first move from “Product idea” to “Production "
            "plan”) with a Farmers' Association support record starting on or before the report's day and not "
            "ended before the idea was accepted",
        ),
    ),
    Indicator(
        "reached_3_star",
        Text("Sản phẩm đạt 3 sao trở lên", "Products reaching 3★ or more"),
        COUNT,
        FLOW,
        "products",
        Text(
            "Sản phẩm có giấy chứng nhận OCOP đầu tiên từ 3 sao trở lên cấp trong kỳ; mỗi sản phẩm tính một lần",
            "Products whose first OCOP certificate of 3★ or more was issued in the window; each product once",
        ),
    ),
    Indicator(
        "reached_4_star",
        Text("Sản phẩm đạt 4 sao trở lên", "Products reaching 4★ or more"),
        COUNT,
        FLOW,
        "products",
        Text(
            "Sản phẩm có giấy chứng nhận OCOP đầu tiên từ 4 sao trở lên cấp trong kỳ; mỗi sản phẩm tính một lần",
            "Products whose first OCOP certificate of 4★ or more was issued in the window; each product once",
        ),
    ),
    Indicator(
        "registered_3_star_share",
        Text("Tỷ lệ sản phẩm đăng ký đạt 3 sao trở lên", "Share of registered products reaching 3★ or more"),
        SHARE,
        FLOW,
        "products",
        Text(
            "Trong các sản phẩm lần đầu gửi hồ sơ đánh giá trong kỳ (lần đầu vào một bước thẩm định: xã, huyện, "
            "tỉnh hoặc Trung ương), tỷ lệ sản phẩm đã được cấp giấy chứng nhận từ 3 sao trở lên đến ngày báo cáo",
            "Of the products first submitted for assessment in the window (first entry into a review stage: "
            "commune, district, province or central), the share issued a certificate of 3★ or more by the "
            "report's day",
        ),
    ),
    Indicator(
        "upgraded",
        Text("Sản phẩm được củng cố, nâng cấp", "Recognised products consolidated and upgraded"),
        COUNT,
        FLOW,
        "products",
        Text(
            "Sản phẩm được cấp giấy chứng nhận trong kỳ khi đã có giấy chứng nhận cấp trước đó (đánh giá lại, "
            "nâng hạng); mỗi sản phẩm tính một lần",
            "Products issued a certificate in the window that already had an earlier certificate (re-rated or "
            "upgraded); each product once",
        ),
    ),
    Indicator(
        "recognised",
        Text("Sản phẩm OCOP còn hiệu lực", "Recognised OCOP products"),
        COUNT,
        STOCK,
        "products",
        Text(
            "Sản phẩm có giấy chứng nhận OCOP còn hiệu lực vào ngày cuối kỳ (chưa hết hạn, chưa bị thu hồi, "
            "chưa bị thay thế)",
            "Products holding a valid OCOP certificate on the window's last day (not expired, revoked or superseded)",
        ),
    ),
    Indicator(
        "on_ecommerce",
        Text("Sản phẩm OCOP trên sàn thương mại điện tử", "OCOP products on e-commerce platforms"),
        COUNT,
        STOCK,
        "products",
        Text(
            "Sản phẩm có giấy chứng nhận OCOP còn hiệu lực và đang có mặt trên ít nhất một sàn thương mại điện tử "
            "vào ngày cuối kỳ",
            "Products holding a valid OCOP certificate and listed on at least one e-commerce platform on the "
            "window's last day",
        ),
    ),
    Indicator(
        "material_linked",
        Text(
            "Sản phẩm có chuỗi sản xuất gắn với vùng nguyên liệu",
            "Products with production chains tied to raw-material areas",
        ),
        COUNT,
        STOCK,
        "products",
        Text(
            "Sản phẩm đang gắn với ít nhất một vùng nguyên liệu vào ngày cuối kỳ",
            "Products tied to at least one raw-material area on the window's last day",
        ),
    ),
    Indicator(
        "value_chains_started",
        Text("Mô hình liên kết chuỗi giá trị mới", "New value-chain models"),
        COUNT,
        FLOW,
        "chains",
        Text(
            "Mô hình liên kết chuỗi giá trị bắt đầu xây dựng trong kỳ",
            "Value-chain models whose building started in the window",
        ),
    ),
    Indicator(
        "value_chains_working",
        Text("Mô hình liên kết chuỗi giá trị đang hoạt động", "Working value-chain models"),
        COUNT,
        STOCK,
        "chains",
        Text(
            "Mô hình liên kết chuỗi giá trị đã đi vào hoạt động và chưa dừng vào ngày cuối kỳ",
            "Value-chain models working (and not stopped) on the window's last day",
        ),
    ),
    Indicator(
        "sales_point_districts",
        Text("Huyện có điểm bán sản phẩm OCOP", "District-level units with an OCOP sales point"),
        SHARE,
        STOCK,
        "units",
        Text(
            "Trong các đơn vị cấp huyện còn tồn tại vào ngày cuối kỳ, tỷ lệ đơn vị có ít nhất một điểm bán sản phẩm "
            "OCOP đang mở (ở huyện hoặc một xã của huyện)",
            "Of the district-level units existing on the window's last day, the share with at least one open OCOP "
            "sales point (in the district or one of its communes)",
        ),
    ),
    Indicator(
        "revenue_growth",
        Text("Doanh thu sau 1 năm công nhận (lần)", "Revenue one year after recognition (×)"),
        RATIO,
        FLOW,
        "products",
        Text(
            "Với các sản phẩm có giấy chứng nhận đầu tiên từ 3 sao trở lên cấp trong năm Y thuộc kỳ và đã kê khai "
            "doanh thu cả năm Y−1 và năm Y+1 đến ngày báo cáo: tổng doanh thu năm Y+1 chia tổng doanh thu năm Y−1",
            "For the products whose first certificate of 3★ or more was issued in a year Y of the window and whose "
            "revenue for both Y−1 and Y+1 was declared by the report's day: total revenue of Y+1 divided by the "
            "total of Y−1",
        ),
    ),
    Indicator(
        "trained_association_officers",
        Text("Lượt cán bộ Hội được tập huấn", "Association officers trained (attendances)"),
        COUNT,
        FLOW,
        "people",
        Text(
            "Tổng số lượt cán bộ Hội Nông dân dự các buổi tập huấn tổ chức trong kỳ",
            "Farmers' Association officers attending training sessions held in the window",
        ),
    ),
    Indicator(
        "trained_cooperative_managers",
        Text("Lượt cán bộ quản lý HTX được tập huấn", "Co-operative managers trained (attendances)"),
        COUNT,
        FLOW,
        "people",
        Text(
            "Tổng số lượt cán bộ quản lý HTX, tổ hợp tác dự các buổi tập huấn tổ chức trong kỳ",
            "Co-operative managers attending training sessions held in the window",
        ),
    ),
    Indicator(
        "outreach_communes",
        Text("Cơ sở Hội triển khai tuyên truyền OCOP", "Association bases running OCOP outreach"),
        SHARE,
        FLOW,
        "units",
        Text(
            "Trong các xã còn tồn tại vào ngày cuối kỳ, tỷ lệ xã có ít nhất một buổi tuyên truyền OCOP tổ chức trong "
            "kỳ",
            "Of the communes existing on the window's last day, the share that held at least one OCOP outreach "
            "session in the window",
        ),
    ),
)

BY_KEY: dict[str, Indicator] = {i.key: i for i in INDICATORS}


def indicator(key: str) -> Indicator:
    """The indicator named `key`; KeyError for any other name (plan loaders turn it into a message)."""
    return BY_KEY[key]
