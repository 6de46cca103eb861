"""The permission file (`permissions.yaml` beside the catalogue): every right that is not a workflow step.

Rights are data for the same reason the steps are: they differ between provinces and change with
the decisions (1489/QĐ-TTg moved the dossier check to the commune), and a reviewer should read who
may do what in one file instead of in six modules. The file is validated like the definitions,
against the catalogue and the loaded definitions, with `file:line` for every mistake at once.
`ocop_workflow.services.authz.authorize` is the only reader.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import DefinitionError
from ..i18n import Text
from ..levels import COMMUNE
from ..models import COUNCIL_POSITIONS
from .definition import Catalogue, RoleDef, StateDef, WorkflowDefinition
from .loader import _check_keys, _line, _mapping, _name_list, _Problems, _text, read_yaml

PERMISSIONS_FILE = "permissions.yaml"

# The actions the code asks about (beside the workflow steps and attaching documents). The file must
# name each, and nothing else: a typo would otherwise silently grant or remove nothing.
ACTIONS = (
    "create_product",
    "edit_product",
    "create_producer",
    "edit_producer",
    "administer_users",
    "read_outbox",
    "manage_councils",
    "run_rounds",
    "draft_decisions",
    "sign_decisions",
    "revoke_certificates",
    "set_certificate_format",
    "record_support",
    "record_market",
    "record_programme",
    "manage_plans",
    "read_reports",
    "set_default_workflow",
)
PHASES = ("open", "review", "closed")


@dataclass(frozen=True)
class ActionRule:
    key: str
    label: Text
    roles: frozenset[str]


@dataclass(frozen=True)
class CouncilRules:
    """What a council position may do in a round: `score` positions fill score sheets and count for
    the quorum; `close` positions close a product's scoring and the round (the secretary records)."""

    positions: dict[str, Text]
    score: frozenset[str]
    close: frozenset[str]
    records: frozenset[str] = frozenset()  # document types a council files about a dossier


@dataclass
class Policy:
    """The loaded permission file."""

    actions: dict[str, ActionRule]
    acts_for_producer: frozenset[str]
    # phase -> role -> document types that role may attach in that phase
    attach: dict[str, dict[str, frozenset[str]]]
    review_states: dict[str, frozenset[str]]
    supervisors: dict[str, tuple[str, ...]]
    certificate_recipients: tuple[str, ...]
    council: CouncilRules | None = None
    roles: dict[str, RoleDef] = field(default_factory=dict)  # the catalogue's, for levels and labels
    path: str = ""

    def phase(self, workflow_key: str, state: StateDef) -> str:
        """The dossier's phase in a state: closed after a decision, open at the commune, else review."""
        if state.final:
            return "closed"
        if state.level == COMMUNE and state.key not in self.review_states.get(workflow_key, ()):
            return "open"
        return "review"

    def role_names(self, roles: frozenset[str] | tuple[str, ...]) -> Text:
        """The roles' labels, for a refusal's reason."""
        labels = [self.roles[r].label for r in sorted(roles) if r in self.roles]
        return Text(", ".join(t.vi for t in labels) or "—", ", ".join(t.en for t in labels) or "—")


def _roles(node: Any, cat: Catalogue, problems: _Problems, where: str, line: int | None) -> frozenset[str]:
    names = _name_list(node, problems, where, line)
    for name in names:
        if name not in cat.roles:
            problems.add(_line(node) or line, f"{where}: unknown role {name!r}")
    return frozenset(n for n in names if n in cat.roles)


def _actions(raw: dict, cat: Catalogue, problems: _Problems) -> dict[str, ActionRule]:
    node = _mapping(raw.get("actions"), problems, "actions", _line(raw, "actions"))
    out: dict[str, ActionRule] = {}
    for key, spec in node.items():
        where = f"actions.{key}"
        if key not in ACTIONS:
            problems.add(_line(node, key), f"{where}: unknown action (known: {', '.join(ACTIONS)})")
            continue
        spec = _mapping(spec, problems, where, _line(node, key))
        _check_keys(spec, {"label", "roles"}, {"label", "roles"}, problems, where)
        out[key] = ActionRule(
            key,
            _text(spec.get("label"), problems, where, _line(spec)),
            _roles(spec.get("roles"), cat, problems, where + ".roles", _line(spec, "roles")),
        )
    for key in ACTIONS:
        if key not in node:
            problems.add(_line(node), f"actions: missing action {key!r}")
    return out


def _dossier(
    raw: dict, cat: Catalogue, definitions: list[WorkflowDefinition] | None, problems: _Problems
) -> tuple[dict[str, dict[str, frozenset[str]]], dict[str, frozenset[str]]]:
    node = _mapping(raw.get("dossier"), problems, "dossier", _line(raw, "dossier"))
    _check_keys(node, {"review_states", "attach"}, {"attach"}, problems, "dossier")
    review: dict[str, frozenset[str]] = {}
    states_of = {d.key: set(d.states) for d in definitions or ()}
    rs = _mapping(node.get("review_states"), problems, "dossier.review_states", _line(node, "review_states"))
    for key, states in rs.items():
        where = f"dossier.review_states.{key}"
        names = _name_list(states, problems, where, _line(rs, key))
        if definitions is None:  # the shipped file used for a folder without one: its workflows may differ
            review[key] = frozenset(names)
            continue
        if key not in states_of:
            problems.add(_line(rs, key), f"{where}: unknown workflow {key!r}")
            continue
        for s in names:
            if s not in states_of[key]:
                problems.add(_line(rs, key), f"{where}: unknown state {s!r} of {key}")
        review[key] = frozenset(names)
    attach: dict[str, dict[str, frozenset[str]]] = {}
    at = _mapping(node.get("attach"), problems, "dossier.attach", _line(node, "attach"))
    for phase, by_role in at.items():
        where = f"dossier.attach.{phase}"
        if phase not in PHASES:
            problems.add(_line(at, phase), f"{where}: unknown phase (known: {', '.join(PHASES)})")
            continue
        by_role = _mapping(by_role, problems, where, _line(at, phase))
        attach[phase] = {}
        for role, types in by_role.items():
            if role not in cat.roles:
                problems.add(_line(by_role, role), f"{where}: unknown role {role!r}")
                continue
            names = _name_list(types, problems, f"{where}.{role}", _line(by_role, role))
            for t in names:
                if t not in cat.document_types:
                    problems.add(_line(types) or _line(by_role, role), f"{where}.{role}: unknown document type {t!r}")
            attach[phase][role] = frozenset(t for t in names if t in cat.document_types)
    return attach, review


def _notices(raw: dict, cat: Catalogue, problems: _Problems) -> tuple[dict[str, tuple[str, ...]], tuple[str, ...]]:
    node = _mapping(raw.get("notices"), problems, "notices", _line(raw, "notices"))
    _check_keys(node, {"supervisors", "certificate"}, {"supervisors", "certificate"}, problems, "notices")
    sup = _mapping(node.get("supervisors"), problems, "notices.supervisors", _line(node, "supervisors"))
    supervisors: dict[str, tuple[str, ...]] = {}
    for level, roles in sup.items():
        if level not in cat.levels:
            problems.add(_line(sup, level), f"notices.supervisors: unknown level {level!r}")
            continue
        supervisors[level] = tuple(
            sorted(_roles(roles, cat, problems, f"notices.supervisors.{level}", _line(sup, level)))
        )
    cert = tuple(
        sorted(_roles(node.get("certificate"), cat, problems, "notices.certificate", _line(node, "certificate")))
    )
    return supervisors, cert


def _council(raw: dict, cat: Catalogue, problems: _Problems) -> CouncilRules:
    node = _mapping(raw.get("councils"), problems, "councils", _line(raw, "councils"))
    _check_keys(node, {"positions", "score", "close", "records"}, {"positions", "score", "close"}, problems, "councils")
    pos = _mapping(node.get("positions"), problems, "councils.positions", _line(node, "positions"))
    positions = {
        key: _text(label, problems, f"councils.positions.{key}", _line(pos, key)) for key, label in pos.items()
    }
    for key in positions:
        if key not in COUNCIL_POSITIONS:
            problems.add(_line(pos, key), f"councils.positions: unknown position {key!r}")
    for key in COUNCIL_POSITIONS:
        if key not in positions:
            problems.add(_line(pos), f"councils.positions: missing position {key!r}")

    def names(what: str) -> frozenset[str]:
        listed = _name_list(node.get(what), problems, f"councils.{what}", _line(node, what))
        for name in listed:
            if name not in COUNCIL_POSITIONS:
                problems.add(_line(node, what), f"councils.{what}: unknown position {name!r}")
        return frozenset(listed)

    records = _name_list(node.get("records"), problems, "councils.records", _line(node, "records"))
    for name in records:
        if name not in cat.document_types:
            problems.add(_line(node, "records"), f"councils.records: unknown document type {name!r}")
    return CouncilRules(positions, names("score"), names("close"), frozenset(records))


def load_policy(path: Path, cat: Catalogue, definitions: list[WorkflowDefinition] | None) -> Policy:
    """Read and fully validate the permission file; every problem is reported at once. Without
    `definitions` the workflow states it names are not checked (the shipped file, used for a folder
    of definitions that has no permission file of its own)."""
    raw = read_yaml(path)
    problems = _Problems(str(path))
    if not isinstance(raw, dict):
        raise DefinitionError([(str(path), 1, "a permission file must be a mapping")])
    _check_keys(
        raw,
        {"kind", "acts_for_producer", "actions", "dossier", "notices", "councils"},
        {"kind", "actions", "dossier", "notices", "councils"},
        problems,
        "permissions",
    )
    if raw.get("kind") != "permissions":
        problems.add(_line(raw, "kind"), "kind must be 'permissions'")
    acts_for = _roles(raw.get("acts_for_producer"), cat, problems, "acts_for_producer", _line(raw, "acts_for_producer"))
    actions = _actions(raw, cat, problems)
    attach, review = _dossier(raw, cat, definitions, problems)
    supervisors, cert = _notices(raw, cat, problems)
    council = _council(raw, cat, problems)
    problems.raise_if_any()
    return Policy(
        actions=actions,
        acts_for_producer=acts_for,
        attach=attach,
        review_states=review,
        supervisors=supervisors,
        certificate_recipients=cert,
        council=council,
        roles=dict(cat.roles),
        path=str(path),
    )


__all__ = ["ACTIONS", "PERMISSIONS_FILE", "PHASES", "ActionRule", "CouncilRules", "Policy", "load_policy"]
