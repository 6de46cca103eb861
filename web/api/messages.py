"""The API's request-validation errors in the caller's language, per field.

JSON Schema validators speak English ("101 is not valid under any of the given schemas"); a
Vietnamese caller gets the same words the CLI and the web forms use ("Điểm phải từ 0 đến 100").
Every field the domain validates has a label here; a schema error is turned into one bilingual
`Text` from the field, the kind of rule broken and the limit (for a nullable field the error under
`anyOf` that is not "must be null" is the one explained).
"""

from __future__ import annotations

from typing import Any

from jsonschema.exceptions import ValidationError

from ocop_workflow.i18n import Text

# the fields of the requests and query parameters the API declares (web/api/routes.py, schemas.py)
FIELDS: dict[str, Text] = {
    "score": Text("Điểm", "The score"),
    "comment": Text("Ý kiến", "The comment"),
    "name": Text("Tên", "The name"),
    "subgroup": Text("Nhóm con", "The sub-group"),
    "product_group": Text("Nhóm sản phẩm", "The product group"),
    "producer_id": Text("Mã chủ thể", "The producer id"),
    "product_id": Text("Mã sản phẩm", "The product id"),
    "workflow_key": Text("Quy trình", "The workflow"),
    "trigger": Text("Bước", "The step"),
    "version": Text("Phiên bản", "The version"),
    "data": Text("Dữ liệu của bước", "The step's data"),
    "doc_type": Text("Loại tài liệu", "The document type"),
    "file": Text("Tệp", "The file"),
    "state": Text("Bước quy trình", "The workflow state"),
    "group": Text("Nhóm sản phẩm", "The product group"),
    "q": Text("Từ khóa tìm kiếm", "The search text"),
    "page": Text("Trang", "The page"),
    "per_page": Text("Số dòng mỗi trang", "The page size"),
    "unread": Text("Chỉ tin chưa đọc", "Unread only"),
    "since": Text("Mốc thời gian", "The date and time"),
    "at": Text("Thời điểm", "The date and time"),
    "date": Text("Ngày", "The date"),
    "body": Text("Nội dung yêu cầu", "The request body"),
    "form": Text("Biểu mẫu", "The form"),
    "reason": Text("Lý do", "The reason"),
    "decision_number": Text("Số quyết định", "The decision number"),
    "revoked_on": Text("Ngày thu hồi", "The revocation date"),
    "organisation_id": Text("Mã đơn vị", "The organisation id"),
    "round_id": Text("Mã đợt đánh giá", "The round id"),
    "product_ids": Text("Danh sách sản phẩm", "The list of products"),
    "title": Text("Trích yếu", "The title"),
    "number": Text("Số quyết định", "The decision number"),
    "signed_on": Text("Ngày ký", "The signing date"),
    "signer_title": Text("Chức vụ người ký", "The signer's title"),
    "status": Text("Trạng thái", "The status"),
    "code": Text("Số giấy chứng nhận", "The certificate number"),
}
SCORE_RANGE = ("Điểm phải từ 0 đến 100", "The score must be from 0 to 100")
_TYPES = {
    "integer": Text("một số nguyên", "a whole number"),
    "number": Text("một số", "a number"),
    "string": Text("chữ", "text"),
    "boolean": Text("true hoặc false", "true or false"),
    "object": Text("một đối tượng JSON", "a JSON object"),
    "array": Text("một danh sách", "a list"),
    "null": Text("null", "null"),
}


def label(name: str) -> Text:
    known = FIELDS.get(name)
    return known if known is not None else Text(f"Trường «{name}»", f"The field “{name}”")


def _shown(value: Any) -> str:
    text = repr(value) if not isinstance(value, (int, float)) or isinstance(value, bool) else f"{value:g}"
    return text if len(text) <= 40 else text[:37] + "..."


def _field_of(err: ValidationError, where: str) -> str:
    names = [p for p in err.absolute_path if isinstance(p, str)]
    return names[-1] if names else where


def _explained(err: ValidationError) -> ValidationError:
    """For `anyOf` (a nullable field) the alternative that is not "null" says what was wrong."""
    while err.validator in ("anyOf", "oneOf") and err.context:
        useful = [e for e in err.context if not (e.validator == "type" and e.validator_value == "null")]
        err = min(useful or err.context, key=lambda e: (e.validator == "type", len(e.relative_schema_path)))
    return err


def reason(err: ValidationError, where: str) -> tuple[str, Text]:
    """The problem's name (where.path) and its reason in both languages."""
    path = ".".join(str(p) for p in err.absolute_path)
    name = f"{where}.{path}" if path else where
    err = _explained(err)
    kind, limit, value = err.validator, err.validator_value, err.instance
    field = _field_of(err, where)
    what = label(field)
    if field == "score" and kind in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "type"):
        got = _shown(value)
        return name, Text(f"{SCORE_RANGE[0]} (nhận được {got})", f"{SCORE_RANGE[1]} (got {got})")
    if kind == "required":
        missing = [p for p in limit if isinstance(value, dict) and p not in value]
        texts = [label(p) for p in missing] or [what]
        return name, Text(
            "; ".join(f"{t.vi}: bắt buộc phải có" for t in texts), "; ".join(f"{t.en} is required" for t in texts)
        )
    if kind == "additionalProperties":
        known = err.schema.get("properties", {})
        extra = sorted(str(k) for k in value if k not in known) if isinstance(value, dict) else []
        names = ", ".join(extra)
        return name, Text(f"Trường không được nhận: {names}", f"Fields not accepted: {names}")
    if kind == "type":
        kinds = limit if isinstance(limit, list) else [limit]
        expected = [_TYPES.get(k, Text(k, k)) for k in kinds]
        return name, Text(
            f"{what.vi} phải là {' hoặc '.join(t.vi for t in expected)}",
            f"{what.en} must be {' or '.join(t.en for t in expected)}",
        )
    if kind in ("minimum", "exclusiveMinimum"):
        return name, Text(f"{what.vi} phải từ {limit} trở lên", f"{what.en} must be at least {limit}")
    if kind in ("maximum", "exclusiveMaximum"):
        return name, Text(f"{what.vi} không được quá {limit}", f"{what.en} must be at most {limit}")
    if kind == "maxLength":
        return name, Text(f"{what.vi} dài quá {limit} ký tự", f"{what.en} is over {limit} characters")
    if kind == "minLength":
        return name, Text(f"{what.vi} không được để trống", f"{what.en} is required")
    if kind == "pattern":
        return name, Text(f"{what.vi} chứa ký tự không hợp lệ", f"{what.en} contains a character that is not allowed")
    if kind == "enum":
        choices = ", ".join(str(c) for c in limit)
        got = _shown(value)
        return name, Text(
            f"{what.vi} không hợp lệ: {got} (chọn một trong: {choices})",
            f"{what.en} is not valid: {got} (one of: {choices})",
        )
    if kind == "format":
        return name, Text(f"{what.vi} không đúng định dạng {limit}", f"{what.en} is not a valid {limit}")
    return name, Text(f"{what.vi} không hợp lệ", f"{what.en} is not valid")


# the problems the request readers raise themselves (not from a schema)
REQUIRED = Text("bắt buộc phải có", "required")
NOT_JSON = Text("không phải JSON hợp lệ", "not valid JSON")


def too_deep(levels: int) -> Text:
    return Text(f"lồng sâu quá {levels} cấp", f"nested deeper than {levels} levels")


def required(name: str) -> Text:
    what = label(name)
    return Text(f"{what.vi}: bắt buộc phải có", f"{what.en} is required")
