"""Errors as problem details (RFC 9457) in the caller's language.

The core's typed errors keep their status (the mapping of `web.errors.status_for`, shared with the
HTML pages) and their bilingual message; HTTP errors get the same shape. Each problem's `type` is
`/api/v1/problems/<code>`, which answers with a description of that kind of problem.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import Response, current_app, g, jsonify, request, url_for
from werkzeug.exceptions import HTTPException

from ocop_workflow.errors import GuardFailed, OcopError
from ocop_workflow.i18n import LOCALES, Text
from ocop_workflow.services.tokens import InvalidToken

from ..context import rollback_request_session
from ..errors import status_for

log = logging.getLogger(__name__)
PROBLEM = "application/problem+json"


@dataclass(frozen=True)
class ProblemType:
    status: int
    title: Text
    description: Text


PROBLEMS: dict[str, ProblemType] = {
    "invalid_request": ProblemType(
        400,
        Text("Yêu cầu không hợp lệ", "Invalid request"),
        Text(
            "Tham số hoặc nội dung yêu cầu không đúng mô tả OpenAPI; invalid_params chỉ rõ chỗ sai.",
            "A parameter or the body does not match the OpenAPI description; invalid_params says where.",
        ),
    ),
    "invalid_token": ProblemType(
        401,
        Text("Cần mã truy cập hợp lệ", "A valid API token is required"),
        Text(
            "Gửi 'Authorization: Bearer <mã>' với một mã còn hiệu lực của tài khoản đang hoạt động.",
            "Send 'Authorization: Bearer <token>' with a token that is neither revoked nor expired, "
            "of an active account.",
        ),
    ),
    "permission_denied": ProblemType(
        403,
        Text("Không được phép", "Not allowed"),
        Text("Vai trò của người dùng không được làm việc này.", "The user's role does not allow this."),
    ),
    "not_found": ProblemType(
        404,
        Text("Không tìm thấy", "Not found"),
        Text(
            "Không có đối tượng này, hoặc nó nằm ngoài địa bàn của người dùng.",
            "The object does not exist, or it lies outside the user's area.",
        ),
    ),
    "method_not_allowed": ProblemType(
        405,
        Text("Phương thức không được hỗ trợ", "Method not allowed"),
        Text(
            "Địa chỉ này không nhận phương thức HTTP này; xem tiêu đề Allow.",
            "This address does not accept this HTTP method; see the Allow header.",
        ),
    ),
    "stale_version": ProblemType(
        409,
        Text("Sản phẩm đã thay đổi", "The product has changed"),
        Text(
            "Phiên bản gửi lên đã cũ: đọc lại sản phẩm rồi thử lại.",
            "The version sent is stale: read the product again and retry.",
        ),
    ),
    "invalid_trigger": ProblemType(
        409,
        Text("Bước không hợp lệ ở trạng thái này", "Step not possible in this state"),
        Text(
            "Quy trình không có bước này từ trạng thái hiện tại của sản phẩm.",
            "The workflow has no such step from the product's current state.",
        ),
    ),
    "conflict": ProblemType(
        409,
        Text("Xung đột trạng thái", "Conflict with the current state"),
        Text(
            "Yêu cầu đúng nhưng đối tượng không còn ở trạng thái cho phép (ví dụ đợt đã kết thúc): đọc lại rồi xem.",
            "The request is valid but the object is no longer in a state that allows it (a round already "
            "closed, for example): read it again.",
        ),
    ),
    "too_large": ProblemType(
        413,
        Text("Tệp quá lớn", "The file is too large"),
        Text("Tệp hoặc yêu cầu vượt quá giới hạn kích thước.", "The file or the request is over the size limit."),
    ),
    "unsupported_media_type": ProblemType(
        415,
        Text("Kiểu nội dung không được hỗ trợ", "Unsupported media type"),
        Text(
            "Nội dung phải là JSON (Content-Type: application/json).",
            "The body must be JSON (Content-Type: application/json).",
        ),
    ),
    "guard_failed": ProblemType(
        422,
        Text("Chưa đủ điều kiện", "Requirements not met"),
        Text(
            "Quy tắc của bước chưa được đáp ứng; missing liệt kê mọi điều còn thiếu.",
            "The step's rules are not met; missing lists every unmet requirement.",
        ),
    ),
    "invalid_data": ProblemType(
        422,
        Text("Dữ liệu không hợp lệ", "Invalid data"),
        Text(
            "Dữ liệu đúng khuôn dạng nhưng quy tắc nghiệp vụ không chấp nhận.",
            "The data is well-formed but the rules do not accept it.",
        ),
    ),
    "rate_limited": ProblemType(
        429,
        Text("Quá nhiều yêu cầu", "Too many requests"),
        Text(
            "Mã truy cập đã dùng hết hạn mức yêu cầu; chờ theo Retry-After.",
            "The token has used up its request allowance; wait as Retry-After says.",
        ),
    ),
    "server_error": ProblemType(
        500,
        Text("Lỗi máy chủ", "Server error"),
        Text("Lỗi đã được ghi lại; hãy thử lại sau.", "The error has been logged; try again later."),
    ),
    "http_error": ProblemType(
        400,
        Text("Lỗi yêu cầu", "Request error"),
        Text("Lỗi HTTP khác; xem status và detail.", "Another HTTP error; see status and detail."),
    ),
}
HTTP_CODES = {
    400: "invalid_request",
    401: "invalid_token",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
    500: "server_error",
}


def api_locale() -> str:
    """The caller's language: Accept-Language, else the token user's language, else Vietnamese."""
    cached = g.get("api_locale")
    if cached is None:
        cached = request.accept_languages.best_match(LOCALES)
        if cached is None:
            auth = g.get("api_auth")
            cached = auth.actor.locale if auth is not None and auth.actor is not None else "vi"
        g.api_locale = cached
    return cached


def localized(response: Response) -> Response:
    response.headers["Content-Language"] = api_locale()
    response.vary.add("Accept-Language")
    return response


def problem(
    code: str,
    detail: Text | str | None = None,
    *,
    status: int | None = None,
    headers: dict | None = None,
    **extra: object,
) -> Response:
    loc = api_locale()
    kind = PROBLEMS.get(code, PROBLEMS["http_error"])
    status = status or kind.status
    if isinstance(detail, Text):
        detail = detail.get(loc)
    body = {
        "type": url_for("api.problem_type", code=code if code in PROBLEMS else "http_error"),
        "title": kind.title.get(loc),
        "status": status,
        "detail": detail or kind.description.get(loc),
        "code": code,
    }
    body.update({k: v for k, v in extra.items() if v is not None})
    response = jsonify(body)
    response.status_code = status
    response.mimetype = PROBLEM
    for name, value in (headers or {}).items():
        response.headers[name] = value
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="ocop", error="invalid_token"'
    return localized(response)


def from_ocop_error(exc: OcopError) -> Response:
    if isinstance(exc, InvalidToken):
        return problem("invalid_token", exc.text, status=401)
    status = status_for(exc)
    code = exc.code if exc.code in PROBLEMS else HTTP_CODES.get(status, "http_error")
    missing = None
    if isinstance(exc, GuardFailed):
        missing = [t.get(api_locale()) for t in exc.missing]
    return problem(code, exc.text, status=status, missing=missing)


def from_http_exception(exc: HTTPException) -> Response:
    status = exc.code or 500
    code = HTTP_CODES.get(status, "http_error")
    headers = {}
    if status == 405 and getattr(exc, "valid_methods", None):
        headers["Allow"] = ", ".join(sorted(exc.valid_methods))
    detail = None
    if code == "too_large":
        limit = current_app.config["MAX_UPLOAD_BYTES"] // (1024 * 1024)
        detail = Text(f"Tệp được tối đa {limit} MB", f"Files may be at most {limit} MB")
    elif code == "rate_limited":
        detail = Text(f"Hạn mức: {exc.description}", f"Limit: {exc.description}")
    return problem(code, detail, status=status, headers=headers)


def from_unexpected(exc: Exception) -> Response:
    if current_app.testing:
        raise exc  # let tests see the traceback, as the HTML pages do
    log.exception("unhandled error in the API")
    rollback_request_session()  # the session may be unusable after a failed statement
    return problem("server_error")
