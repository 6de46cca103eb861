"""JSON Schemas of the councils, rounds and score sheets of the API (merged into `schemas.components`).

Criterion points are plain numbers here on purpose: which values a criterion takes (its options,
its maximum, its step) is the criteria set's rule, checked by `services.sheets.save_sheet`, so a
wrong value gets that translated refusal (422, "Tiêu chí A: 41 điểm không hợp lệ …") instead of
a JSON-Schema message in English.
"""

from __future__ import annotations

from ocop_workflow.models import COUNCIL_POSITIONS, ROUND_PRODUCT_STATUSES, ROUND_STATUSES, SHEET_STATUSES
from ocop_workflow.services.councils import MAX_DECISION_NUMBER
from ocop_workflow.services.councils import MAX_NAME as MAX_COUNCIL_NAME
from ocop_workflow.services.rounds import MAX_ROUND_NAME, OUTCOMES
from ocop_workflow.services.sheets import MAX_REASON

from .schemas import BOOL, DATETIME, ID, INT, STR, STRINGS, items_of, nullable, obj, ref, text

DATE = {"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"}
NUMBER = {"type": "number"}
VERSION = {"type": "integer", "minimum": 0, "maximum": 2**31 - 1}
POINTS = {"type": "object", "additionalProperties": NUMBER}
MAX_CRITERIA = 200  # a sheet has tens of criteria


def round_components() -> dict:
    position = {"type": "string", "enum": list(COUNCIL_POSITIONS)}
    round_summary = {
        "id": ID,
        "name": STR,
        "council": obj({"id": ID, "name": STR}),
        "organisation": ref("OrganisationRef"),
        "level": STR,
        "meeting_date": DATE,
        "status": {"type": "string", "enum": list(ROUND_STATUSES)},
        "status_label": STR,
        "opened_at": nullable(DATETIME),
        "closed_at": nullable(DATETIME),
    }
    return {
        "CouncilMember": obj({"user": ref("UserRef"), "position": position, "position_label": STR}),
        "Council": obj(
            {
                "id": ID,
                "name": STR,
                "organisation": ref("OrganisationRef"),
                "level": STR,
                "decision_number": STR,
                "decision_date": DATE,
                "valid_from": DATE,
                "valid_until": nullable(DATE),
                "members": {"type": "array", "items": ref("CouncilMember")},
            }
        ),
        "CouncilList": items_of("Council"),
        "CouncilCreate": obj(
            {
                "organisation_id": ID,
                "name": text(MAX_COUNCIL_NAME, 1),
                "decision_number": text(MAX_DECISION_NUMBER, 1),
                "decision_date": DATE,
                "valid_from": nullable(DATE),
                "valid_until": nullable(DATE),
            },
            ["organisation_id", "name", "decision_number", "decision_date"],
            closed=True,
        ),
        "MemberSeat": obj({"position": position}, closed=True),
        "RoundSummary": obj(round_summary),
        "RoundList": items_of("RoundSummary"),
        "RoundCreate": obj(
            {"council_id": ID, "name": text(MAX_ROUND_NAME, 1), "meeting_date": DATE}, closed=True
        ),
        "RoundProductAdd": obj({"product_id": ID}, closed=True),
        "MemberSheet": obj(
            {
                "user": ref("UserRef"),
                "status": {"type": "string", "enum": [*SHEET_STATUSES, "not_started"]},
                "total": nullable({**NUMBER, "description": "only once the product's scoring is closed"}),
                "part_totals": nullable(POINTS),
            }
        ),
        "RoundEntry": obj(
            {
                "product": obj({"id": ID, "name": STR, "producer": STR, "product_group": STR}),
                "status": {"type": "string", "enum": list(ROUND_PRODUCT_STATUSES)},
                "left_reason": nullable(STR),
                "sheet_key": STR,
                "review_state": STR,
                "members": INT,
                "needed": {**INT, "description": "submitted sheets needed to close (the quorum)"},
                "submitted": INT,
                "recused": INT,
                "drafts": INT,
                "quorum_met": BOOL,
                "average": nullable(NUMBER),
                "star": nullable(INT),
                "star_cap": nullable(INT),
                "outcome": nullable({"type": "string", "enum": list(OUTCOMES)}),
                "outcome_label": nullable(STR),
                "to_state": nullable(STR),
                "closed_at": nullable(DATETIME),
                "sheets": {"type": "array", "items": ref("MemberSheet")},
            }
        ),
        "RoundDetail": obj(
            {
                **round_summary,
                "council": ref("Council"),
                "seat": nullable({**STR, "description": "the caller's position on the council"}),
                "can_run": BOOL,
                "can_close": BOOL,
                "entries": {"type": "array", "items": ref("RoundEntry")},
                "minutes_url": STR,
                "sheets_url": STR,
            }
        ),
        "CriteriaSheet": obj(
            {
                "key": STR,
                "label": STR,
                "transcribed": STR,
                "parts": {
                    "type": "array",
                    "items": obj(
                        {
                            "key": STR,
                            "label": STR,
                            "max_points": NUMBER,
                            "criteria": {
                                "type": "array",
                                "items": obj(
                                    {
                                        "code": STR,
                                        "label": STR,
                                        "max_points": NUMBER,
                                        "mandatory": BOOL,
                                        "free": BOOL,
                                        "step": nullable(NUMBER),
                                        "options": {
                                            "type": "array",
                                            "items": obj({"points": NUMBER, "label": STR}),
                                        },
                                    }
                                ),
                            },
                        }
                    ),
                },
            }
        ),
        "ScoreSheet": obj(
            {
                "round_id": ID,
                "product": obj({"id": ID, "name": STR}),
                "criteria": ref("CriteriaSheet"),
                "editable": BOOL,
                "left_reason": nullable(STR),
                "status": {"type": "string", "enum": [*SHEET_STATUSES, "not_started"]},
                "answers": POINTS,
                "part_totals": POINTS,
                "total": nullable(NUMBER),
                "failed_mandatory": STRINGS,
                "recusal_reason": nullable(STR),
                "version": {**VERSION, "description": "send it back with a save (0: no sheet yet)"},
                "updated_at": nullable(DATETIME),
            }
        ),
        "ScoreSheetSave": obj(
            {
                "answers": {
                    **POINTS,
                    "additionalProperties": nullable(NUMBER),
                    "maxProperties": MAX_CRITERIA,
                    "propertyNames": {"maxLength": 40},
                    "description": "criterion code → points (null or absent: not scored yet)",
                },
                "submit": {**BOOL, "description": "submit the sheet (every criterion scored); false: save a draft"},
                "version": nullable({**VERSION, "description": "the sheet's version as last read (0: none yet)"}),
            },
            ["answers"],
            closed=True,
        ),
        "Recusal": obj(
            {"reason": text(MAX_REASON, 1), "version": nullable(VERSION)},
            ["reason"],
            closed=True,
        ),
    }


