"""/api/v1 councils, rounds and score sheets: the same services as the web pages and the CLI
(`services.councils`, `services.rounds`, `services.sheets`, `exports`), with the caller's Actor.

Members' marks appear only once a product's scoring is closed (`EntryView.sheets_visible`); before
that a round shows who has submitted, drafted or recused, never the points. A sheet's save names the
version it was made from: a stale one is 409 `stale_version`, as for a product's step."""

from __future__ import annotations

from datetime import date, datetime

from flask import Response, url_for

from ocop_workflow.exports import (
    build_minutes,
    build_sheets_xlsx,
    close_round_and_file_minutes,
    minutes_filename,
    sheets_filename,
)
from ocop_workflow.i18n import Text
from ocop_workflow.models import Council, EvaluationRound
from ocop_workflow.services import councils, rounds, sheets
from ocop_workflow.services.documents import CONTENT_TYPES
from ocop_workflow.services.rounds import OUTCOME_LABELS, STATUS_LABELS, EntryView, RoundView

from ..context import db_session, registry, state
from .auth import api_actor
from .problems import api_locale, localized
from .routes import ID, bp, reply, ser
from .serialize import json_date, when
from .spec import Param, Reply, ok, operation, parse_json, parse_query

DOCX = CONTENT_TYPES["docx"]
XLSX = CONTENT_TYPES["xlsx"]


# --- JSON of the objects --------------------------------------------------------------------------
def _date(value: object, name: Text) -> date | None:
    return json_date(value, name)


def council_json(c: Council) -> dict:
    out, labels = ser(), api_actor().policy.council.positions
    return {
        "id": c.id,
        "name": c.name,
        "organisation": out.org(c.organisation),
        "level": c.level,
        "decision_number": c.decision_number,
        "decision_date": c.decision_date.isoformat(),
        "valid_from": c.valid_from.isoformat(),
        "valid_until": when(c.valid_until),
        "members": [
            {"user": out.user(m.user), "position": m.position, "position_label": out.t(labels.get(m.position))}
            for m in c.members
        ],
    }


def round_summary(r: EvaluationRound) -> dict:
    out = ser()
    return {
        "id": r.id,
        "name": r.name,
        "council": {"id": r.council.id, "name": r.council.name},
        "organisation": out.org(r.council.organisation),
        "level": r.council.level,
        "meeting_date": r.meeting_date.isoformat(),
        "status": r.status,
        "status_label": out.t(STATUS_LABELS.get(r.status), r.status),
        "opened_at": when(r.opened_at),
        "closed_at": when(r.closed_at),
    }


def _entry_json(ev: EntryView, scoring: list) -> dict:
    out, entry, tally = ser(), ev.entry, ev.tally
    by_user = {s.user_id: s for s in entry.sheets}
    people = {m.user_id: m.user for m in scoring}
    rows = []
    for uid in dict.fromkeys([*people, *by_user]):
        sheet = by_user.get(uid)
        user = people.get(uid) or (sheet.user if sheet is not None else None)
        shown = ev.sheets_visible and sheet is not None and sheet.status == "submitted"
        rows.append(
            {
                "user": out.user(user),
                "status": sheet.status if sheet is not None else "not_started",
                "total": sheet.total if shown else None,
                "part_totals": dict(sheet.part_totals or {}) if shown else None,
            }
        )
    closed = entry.status == "closed"
    return {
        "product": {
            "id": ev.product.id,
            "name": ev.product.name,
            "producer": ev.product.producer.name,
            "product_group": ev.product.product_group,
        },
        "status": entry.status,
        "left_reason": out.t(ev.left) if ev.left is not None else None,
        "sheet_key": entry.sheet_key,
        "review_state": entry.review_state,
        "members": tally.members,
        "needed": tally.needed,
        "submitted": len(tally.submitted),
        "recused": len(tally.recused),
        "drafts": len(tally.drafts),
        "quorum_met": tally.quorum_met,
        "average": entry.average if closed else None,
        "star": entry.star if closed else None,
        "star_cap": entry.star_cap if closed else None,
        "outcome": entry.outcome if closed else None,
        "outcome_label": out.t(OUTCOME_LABELS[entry.outcome]) if closed and entry.outcome in OUTCOME_LABELS else None,
        "to_state": entry.to_state if closed else None,
        "closed_at": when(entry.closed_at) if closed else None,
        "sheets": rows,
    }


def round_json(view: RoundView) -> dict:
    scoring = councils.scoring_members(api_actor(), view.council)
    body = round_summary(view.round)
    body.update(
        {
            "council": council_json(view.council),
            "seat": view.seat.position if view.seat is not None else None,
            "can_run": view.can_run,
            "can_close": view.can_close,
            "entries": [_entry_json(ev, scoring) for ev in view.entries],
            "minutes_url": url_for("api.round_minutes", round_id=view.round.id),
            "sheets_url": url_for("api.round_sheets", round_id=view.round.id),
        }
    )
    return body


def _round_reply(round_id: int, status: int = 200, headers: dict | None = None) -> Response:
    return reply(round_json(rounds.round_view(db_session(), registry(), api_actor(), round_id)), status, headers)


def criteria_json(sheet) -> dict:
    out = ser()
    return {
        "key": sheet.key,
        "label": out.t(sheet.label),
        "transcribed": sheet.transcribed,
        "parts": [
            {
                "key": p.key,
                "label": out.t(p.label),
                "max_points": p.max_points,
                "criteria": [
                    {
                        "code": c.code,
                        "label": out.t(c.label),
                        "max_points": c.max_points,
                        "mandatory": c.mandatory,
                        "free": c.free,
                        "step": c.step,
                        "options": [{"points": o.points, "label": out.t(o.label)} for o in c.options],
                    }
                    for c in p.criteria
                ],
            }
            for p in sheet.parts
        ],
    }


def sheet_json(view: sheets.SheetView) -> dict:
    own = view.sheet
    return {
        "round_id": view.round.id,
        "product": {"id": view.product.id, "name": view.product.name},
        "criteria": criteria_json(view.criteria),
        "editable": view.editable,
        "left_reason": ser().t(view.left) if view.left is not None else None,
        "status": own.status if own is not None else "not_started",
        "answers": dict(own.answers or {}) if own is not None else {},
        "part_totals": dict(own.part_totals or {}) if own is not None else {},
        "total": own.total if own is not None else None,
        "failed_mandatory": list(own.failed_mandatory or []) if own is not None else [],
        "recusal_reason": own.recusal_reason if own is not None else None,
        "version": own.version if own is not None else 0,
        "updated_at": when(own.updated_at) if own is not None else None,
    }


def _sheet_reply(round_id: int, product_id: int) -> Response:
    return reply(sheet_json(sheets.sheet_view(db_session(), registry(), api_actor(), round_id, product_id)))


def _today() -> date:
    return datetime.now(state().tz).date()


def _download(content: bytes, mimetype: str, name: str) -> Response:
    response = Response(content, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return localized(response)


ROUND = {"round_id": 1}
ROUND_PRODUCT = {"round_id": 1, "product_id": 1}
COUNCIL = {"council_id": 1}


# --- councils -------------------------------------------------------------------------------------
@operation(
    bp,
    "/councils",
    "GET",
    tag="councils",
    summary="The councils the caller may see (its area's, and those it sits on), newest decision first",
    replies={200: ok("The councils", "CouncilList")},
)
def list_councils_view() -> Response:
    return reply({"items": [council_json(c) for c in councils.list_councils(db_session(), api_actor())]})


@operation(
    bp,
    "/councils",
    "POST",
    tag="councils",
    body="CouncilCreate",
    summary="Set up a council of an organisation by its establishment decision (number, date)",
    description="Only the roles that set up councils at the organisation's own level (permissions.yaml, "
    "`manage_councils`).",
    replies={201: ok("The new council", "Council", headers={"Location": {"schema": {"type": "string"}}})},
    errors=(403, 404, 422),
)
def create_council_view() -> Response:
    body = parse_json()
    found = councils.create_council(
        db_session(),
        api_actor(),
        organisation_id=body["organisation_id"],
        name=body["name"],
        decision_number=body["decision_number"],
        decision_date=_date(body["decision_date"], Text("Ngày quyết định", "Decision date")),
        valid_from=_date(body.get("valid_from"), Text("Hiệu lực từ", "Valid from")),
        valid_until=_date(body.get("valid_until"), Text("Hiệu lực đến", "Valid until")),
    )
    return reply(council_json(found), 201, {"Location": url_for("api.council_view", council_id=found.id)})


@operation(
    bp,
    f"/councils/<{ID}:council_id>",
    "GET",
    tag="councils",
    path_examples=COUNCIL,
    summary="A council and its members",
    replies={200: ok("The council", "Council")},
    errors=(404,),
)
def council_view(council_id: int) -> Response:
    return reply(council_json(councils.get_visible_council(db_session(), api_actor(), council_id)))


@operation(
    bp,
    f"/councils/<{ID}:council_id>/members/<{ID}:user_id>",
    "PUT",
    tag="councils",
    body="MemberSeat",
    path_examples={"council_id": 1, "user_id": 1},
    summary="Seat a user on the council in a position, or change their position",
    replies={200: ok("The council", "Council")},
    errors=(403, 404, 409, 422),
)
def put_member_view(council_id: int, user_id: int) -> Response:
    body = parse_json()
    s, who = db_session(), api_actor()
    councils.set_member(s, who, council_id, user_id, body["position"])
    return reply(council_json(councils.get_visible_council(s, who, council_id)))


@operation(
    bp,
    f"/councils/<{ID}:council_id>/members/<{ID}:user_id>",
    "DELETE",
    tag="councils",
    path_examples={"council_id": 1, "user_id": 1},
    summary="Take a user off the council",
    replies={200: ok("The council", "Council")},
    errors=(403, 404, 422),
)
def delete_member_view(council_id: int, user_id: int) -> Response:
    s, who = db_session(), api_actor()
    councils.remove_member(s, who, council_id, user_id)
    return reply(council_json(councils.get_visible_council(s, who, council_id)))


# --- rounds ---------------------------------------------------------------------------------------
@operation(
    bp,
    "/rounds",
    "GET",
    tag="rounds",
    query=[Param("status", {"type": "string", "enum": ["draft", "open", "closed"]}, "only rounds in this status")],
    summary="The rounds of the councils the caller may see, latest meeting first",
    replies={200: ok("The rounds", "RoundList")},
)
def list_rounds_view() -> Response:
    args = parse_query()
    found = rounds.list_rounds(db_session(), api_actor(), status=args.get("status"))
    return reply({"items": [round_summary(r) for r in found]})


@operation(
    bp,
    "/rounds",
    "POST",
    tag="rounds",
    body="RoundCreate",
    summary="Create a round (draft) of a council for a meeting date within the council's validity",
    replies={201: ok("The new round", "RoundDetail", headers={"Location": {"schema": {"type": "string"}}})},
    errors=(403, 404, 422),
)
def create_round_view() -> Response:
    body = parse_json()
    found = rounds.create_round(
        db_session(),
        api_actor(),
        body["council_id"],
        name=body["name"],
        meeting_date=_date(body["meeting_date"], Text("Ngày họp", "Meeting date")),
    )
    return _round_reply(found.id, 201, {"Location": url_for("api.round_view", round_id=found.id)})


@operation(
    bp,
    f"/rounds/<{ID}:round_id>",
    "GET",
    tag="rounds",
    path_examples=ROUND,
    summary="A round: its council, its products with who has scored (marks once a product is closed), "
    "the quorum, and what the caller may do",
    replies={200: ok("The round", "RoundDetail")},
    errors=(404,),
)
def round_view(round_id: int) -> Response:
    return _round_reply(round_id)


@operation(
    bp,
    f"/rounds/<{ID}:round_id>/products",
    "POST",
    tag="rounds",
    body="RoundProductAdd",
    path_examples=ROUND,
    summary="Add a product at the council's review with a complete dossier (its fingerprint is recorded)",
    replies={200: ok("The round", "RoundDetail")},
    errors=(403, 404, 409, 422),
)
def add_round_product_view(round_id: int) -> Response:
    body = parse_json()
    rounds.add_product(db_session(), registry(), api_actor(), round_id, body["product_id"], today=_today())
    return _round_reply(round_id)


@operation(
    bp,
    f"/rounds/<{ID}:round_id>/products/<{ID}:product_id>",
    "DELETE",
    tag="rounds",
    path_examples=ROUND_PRODUCT,
    summary="Take a product out of a round (not once its scoring is closed)",
    replies={200: ok("The round", "RoundDetail")},
    errors=(403, 404, 409),
)
def remove_round_product_view(round_id: int, product_id: int) -> Response:
    rounds.remove_product(db_session(), api_actor(), round_id, product_id)
    return _round_reply(round_id)


@operation(
    bp,
    f"/rounds/<{ID}:round_id>/open",
    "POST",
    tag="rounds",
    path_examples=ROUND,
    summary="Open the round for scoring: the dossiers go to the members (≥ 1 working day before the meeting)",
    replies={200: ok("The round", "RoundDetail")},
    errors=(403, 404, 409, 422),
)
def open_round_view(round_id: int) -> Response:
    rounds.open_round(db_session(), api_actor(), round_id, today=_today())
    return _round_reply(round_id)


@operation(
    bp,
    f"/rounds/<{ID}:round_id>/products/<{ID}:product_id>/close",
    "POST",
    tag="rounds",
    path_examples=ROUND_PRODUCT,
    summary="Close a product's scoring (the council's secretary): the average of the submitted sheets "
    "fires the level's rating step",
    description="409 `conflict`: the quorum is not met, the product is already closed or has left the round, "
    "or the round is not open.",
    replies={200: ok("The round", "RoundDetail")},
    errors=(403, 404, 409, 422),
)
def close_round_product_view(round_id: int, product_id: int) -> Response:
    rounds.close_product(db_session(), registry(), api_actor(), round_id, product_id)
    return _round_reply(round_id)


@operation(
    bp,
    f"/rounds/<{ID}:round_id>/close",
    "POST",
    tag="rounds",
    path_examples=ROUND,
    summary="Close the round (the council's secretary) once no product is being scored; its minutes (DOCX) "
    "go into each closed product's dossier",
    replies={200: ok("The round", "RoundDetail")},
    errors=(403, 404, 409, 422),
)
def close_round_view(round_id: int) -> Response:
    st = state()
    close_round_and_file_minutes(
        db_session(),
        registry(),
        api_actor(),
        round_id,
        upload_dir=st.upload_dir,
        max_bytes=st.max_upload_bytes,
        zip_limits=st.zip_limits,
    )
    return _round_reply(round_id)


@operation(
    bp,
    f"/rounds/<{ID}:round_id>/minutes.docx",
    "GET",
    tag="rounds",
    path_examples=ROUND,
    summary="The round's minutes (biên bản) as a Word document, in the caller's language",
    replies={200: Reply("The minutes", {DOCX: {"schema": {"type": "string", "contentMediaType": DOCX}}})},
    errors=(404,),
)
def round_minutes(round_id: int) -> Response:
    view = rounds.round_view(db_session(), registry(), api_actor(), round_id)
    return _download(build_minutes(view, registry(), api_locale()), DOCX, minutes_filename(view.round))


@operation(
    bp,
    f"/rounds/<{ID}:round_id>/sheets.xlsx",
    "GET",
    tag="rounds",
    path_examples=ROUND,
    summary="Every score sheet of the round as an Excel workbook (marks only for closed products)",
    replies={200: Reply("The score sheets", {XLSX: {"schema": {"type": "string", "contentMediaType": XLSX}}})},
    errors=(404,),
)
def round_sheets(round_id: int) -> Response:
    view = rounds.round_view(db_session(), registry(), api_actor(), round_id)
    return _download(build_sheets_xlsx(view, registry(), api_locale()), XLSX, sheets_filename(view))


# --- the caller's own score sheet -----------------------------------------------------------------
@operation(
    bp,
    f"/rounds/<{ID}:round_id>/products/<{ID}:product_id>/sheet",
    "GET",
    tag="sheets",
    path_examples=ROUND_PRODUCT,
    summary="The caller's own score sheet of a product of the round, with the criteria it is scored on",
    description="403: the caller does not hold a scoring seat on the council. 404: the round is outside the "
    "caller's area and the caller does not sit on its council.",
    replies={200: ok("The sheet", "ScoreSheet")},
    errors=(403, 404),
)
def sheet_view(round_id: int, product_id: int) -> Response:
    return _sheet_reply(round_id, product_id)


@operation(
    bp,
    f"/rounds/<{ID}:round_id>/products/<{ID}:product_id>/sheet",
    "PUT",
    tag="sheets",
    body="ScoreSheetSave",
    path_examples=ROUND_PRODUCT,
    summary="Save the caller's sheet as a draft, or submit it (every criterion scored)",
    description="Each value is checked against the criteria set (its options, maximum and step): 422 with the "
    "criterion otherwise. 409: `stale_version` (the sheet changed since `version`), or `conflict` (the "
    "product's scoring is closed, or it left the round).",
    replies={200: ok("The saved sheet", "ScoreSheet")},
    errors=(403, 404, 409, 422),
)
def save_sheet_view(round_id: int, product_id: int) -> Response:
    body = parse_json()
    sheets.save_sheet(
        db_session(),
        registry(),
        api_actor(),
        round_id,
        product_id,
        dict(body["answers"]),
        submit=bool(body.get("submit")),
        expected_version=body.get("version"),
    )
    return _sheet_reply(round_id, product_id)


@operation(
    bp,
    f"/rounds/<{ID}:round_id>/products/<{ID}:product_id>/recusal",
    "POST",
    tag="sheets",
    body="Recusal",
    path_examples=ROUND_PRODUCT,
    summary="Declare a conflict of interest with its reason: the caller is left out of this product's scoring",
    replies={200: ok("The sheet (status recused)", "ScoreSheet")},
    errors=(403, 404, 409, 422),
)
def recusal_view(round_id: int, product_id: int) -> Response:
    body = parse_json()
    sheets.recuse(
        db_session(),
        registry(),
        api_actor(),
        round_id,
        product_id,
        body["reason"],
        expected_version=body.get("version"),
    )
    return _sheet_reply(round_id, product_id)


__all__ = ["round_json", "sheet_json"]
