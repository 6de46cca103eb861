"""Read workflow YAML files and validate them, reporting file, line and mistake.

All problems of a file are collected before raising, so an author fixes them in one pass.
"""

from __future__ import annotations

from collections import deque
from datetime import date, datetime
from fractions import Fraction
from pathlib import Path
from typing import Any

import yaml

from ..errors import DefinitionError
from ..i18n import Text
from ..levels import LEVELS
from .definition import (
    LOWER_SCORE_POLICIES,
    REQUIRABLE_FIELDS,
    ROUNDING_RULES,
    Catalogue,
    CertificateRequirement,
    DocumentRequirement,
    Evaluation,
    Range,
    RatingRule,
    Recognition,
    RoleDef,
    Stage,
    StateDef,
    TransitionDef,
    WorkflowDefinition,
)

CATALOGUE_FILE = "catalogue.yaml"


class _LineDict(dict):
    """A mapping that remembers the line it starts on and the line of each key."""

    line: int = 0
    key_lines: dict[str, int]


class _LineList(list):
    line: int = 0


class _Loader(yaml.SafeLoader):
    pass


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> _LineDict:
    loader.flatten_mapping(node)
    result = _LineDict()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError:
            raise yaml.constructor.ConstructorError(
                None, None, "a key must be a plain value, not a list or mapping", key_node.start_mark
            ) from None
        if key in result:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = key_node.start_mark.line + 1
    return result


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode) -> _LineList:
    result = _LineList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    return result


def _construct_timestamp(loader: _Loader, node: yaml.ScalarNode) -> Any:
    """A date-looking value that is no date (2025-13-01) stays text, so the check that reads it reports
    it with its line instead of the YAML library raising a bare ValueError."""
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except ValueError:
        return loader.construct_scalar(node)


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


class _Problems:
    def __init__(self, path: str) -> None:
        self.path = path
        self.items: list[tuple[str, int | None, str]] = []

    def add(self, line: int | None, message: str) -> None:
        self.items.append((self.path, line, message))

    def raise_if_any(self) -> None:
        if self.items:
            raise DefinitionError(self.items)


def read_yaml(path: Path) -> Any:
    """Parse one file; a syntax error becomes a DefinitionError with its line."""
    try:
        with open(path, encoding="utf-8") as fh:
            return yaml.load(fh, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        message = f"bad YAML: {exc.problem or exc}"
        if exc.context and exc.context_mark and exc.context_mark.line + 1 != line:
            message += f" ({exc.context} started on line {exc.context_mark.line + 1})"
        raise DefinitionError([(str(path), line, message)]) from None
    except OSError as exc:
        raise DefinitionError([(str(path), None, f"cannot read file: {exc.strerror}")]) from None


def _line(node: Any, key: str | None = None) -> int | None:
    if isinstance(node, _LineDict):
        return node.key_lines.get(key, node.line) if key else node.line
    return getattr(node, "line", None)


def _text(node: Any, problems: _Problems, where: str, line: int | None) -> Text:
    if not isinstance(node, dict) or not node.get("vi") or not node.get("en"):
        problems.add(line, f"{where}: needs a label with both 'vi' and 'en'")
        return Text(where, where)
    return Text(str(node["vi"]), str(node["en"]))


def _mapping(node: Any, problems: _Problems, where: str, line: int | None) -> dict:
    """`node` if it is a mapping (None counts as empty); otherwise report it and use an empty one."""
    if node is None:
        return {}
    if not isinstance(node, dict):
        problems.add(_line(node) or line, f"{where} must be a mapping")
        return {}
    return node


def _is_name(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _name_list(value: Any, problems: _Problems, where: str, line: int | None) -> list[str]:
    """A name or a list of names; anything else (numbers, nested lists, mappings) is reported."""
    if value is None:
        return []
    items = [value] if not isinstance(value, list) else value
    names = []
    for item in items:
        if _is_name(item):
            names.append(item)
        else:
            problems.add(_line(item) or line, f"{where}: expected a name or a list of names, got {item!r}")
    return names


def _check_keys(node: dict, allowed: set[str], required: set[str], problems: _Problems, where: str) -> None:
    for key in node:
        if key not in allowed:
            problems.add(_line(node, key), f"{where}: unknown key {key!r} (allowed: {', '.join(sorted(allowed))})")
    for key in sorted(required - set(node)):
        problems.add(_line(node), f"{where}: missing required key {key!r}")


def load_catalogue(path: Path) -> Catalogue:
    raw = read_yaml(path)
    problems = _Problems(str(path))
    if not isinstance(raw, dict):
        problems.add(1, "a catalogue must be a mapping")
        problems.raise_if_any()
    sections = {"levels", "roles", "producer_kinds", "product_groups", "document_types"}
    # Optional lists of the programme's records (issue #12): e-commerce platforms a product is listed
    # on, the kinds of people a training session counts.
    optional = {"ecommerce_platforms", "trainee_roles"}
    _check_keys(raw, sections | optional | {"kind", "stages"}, sections, problems, "catalogue")

    def labels(section: str) -> dict[str, Text]:
        if section in optional and section not in raw:
            return {}
        node = _mapping(raw.get(section), problems, section, _line(raw, section))
        return {k: _text(v, problems, f"{section}.{k}", _line(node, k)) for k, v in node.items()}

    levels = labels("levels")
    if isinstance(raw.get("levels"), dict) and tuple(levels) != LEVELS:
        problems.add(
            _line(raw, "levels"),
            f"levels must be exactly {', '.join(LEVELS)}, in this order (the "
            f"administrative ladder, ocop_workflow/levels.py); got {', '.join(levels)}",
        )
    roles: dict[str, RoleDef] = {}
    roles_node = _mapping(raw.get("roles"), problems, "roles", _line(raw, "roles"))
    for key, value in roles_node.items():
        level = value.get("level") if isinstance(value, dict) else None
        if level != "any" and (not isinstance(level, str) or level not in levels):
            problems.add(_line(roles_node, key), f"role {key!r}: unknown level {level!r}")
        roles[key] = RoleDef(key, str(level), _text(value, problems, f"roles.{key}", _line(roles_node, key)))
    catalogue = Catalogue(
        levels=levels,
        roles=roles,
        producer_kinds=labels("producer_kinds"),
        product_groups=labels("product_groups"),
        document_types=labels("document_types"),
        path=str(path),
        stages=_stages(raw.get("stages"), problems, _line(raw, "stages")),
        ecommerce_platforms=labels("ecommerce_platforms"),
        trainee_roles=labels("trainee_roles"),
    )
    problems.raise_if_any()
    return catalogue


def _stages(node: Any, problems: _Problems, line: int | None) -> list[Stage]:
    """The catalogue's `stages:` list (optional): each with a key, a bilingual label and, per
    definition key, the states it covers. Whether they cover every state is checked once the
    definitions are loaded (`_check_stages`)."""
    if node is None:
        return []
    if not isinstance(node, list):
        problems.add(line, "stages must be a list")
        return []
    stages: list[Stage] = []
    seen: set[str] = set()
    for item in node:
        if not isinstance(item, dict):
            problems.add(_line(item) or line, "stages: each stage must be a mapping")
            continue
        _check_keys(item, {"key", "vi", "en", "states"}, {"key", "states"}, problems, "stage")
        key = item.get("key")
        if not _is_name(key) or key in seen:
            problems.add(_line(item, "key"), f"stage: key must be a unique name, got {key!r}")
            continue
        seen.add(key)
        states_node = _mapping(item.get("states"), problems, f"stage {key!r} states", _line(item, "states"))
        states = {
            str(wf): tuple(_name_list(names, problems, f"stage {key!r} states.{wf}", _line(states_node, wf)))
            for wf, names in states_node.items()
        }
        stages.append(Stage(str(key), _text(item, problems, f"stage {key!r}", _line(item)), states))
    return stages


def _check_stages(cat: Catalogue, definitions: list[WorkflowDefinition]) -> list:
    """Every state of every definition lies in exactly one stage. A stage may name definitions or
    states the folder does not hold (a folder of drafts or of one definition shares the catalogue):
    a misspelt state shows as the real one being in no stage."""
    if not cat.stages:
        return []
    problems = []
    for d in definitions:
        for st in d.states:
            holders = [stage.key for stage in cat.stages if stage.covers(d.key, st)]
            if len(holders) != 1:
                where = "no stage" if not holders else f"several stages ({', '.join(holders)})"
                problems.append((d.path, None, f"state {st!r} of {d.ident} is in {where} of the catalogue"))
    return problems


def _range(node: Any, problems: _Problems, where: str, line: int | None) -> Range | None:
    if node is None:
        return None
    if not isinstance(node, dict) or not set(node) <= {"min", "below"} or not node:
        problems.add(line, f"{where}: expected a mapping with 'min' and/or 'below'")
        return None
    try:
        rng = Range(
            min=float(node["min"]) if "min" in node else None,
            below=float(node["below"]) if "below" in node else None,
        )
    except (TypeError, ValueError):
        problems.add(line, f"{where}: 'min' and 'below' must be numbers")
        return None
    if rng.min is not None and rng.below is not None and rng.min >= rng.below:
        problems.add(line, f"{where}: empty range ({rng.describe()})")
    return rng


def _documents(node: Any, cat: Catalogue, problems: _Problems, where: str) -> DocumentRequirement | None:
    if node is None:
        return None
    if not isinstance(node, dict):
        problems.add(_line(node), f"{where}: 'documents' must be a mapping with all/by_group/by_producer_kind")
        return None
    _check_keys(node, {"all", "by_group", "by_producer_kind"}, set(), problems, where)

    def check_docs(value: Any, line: int | None) -> tuple[str, ...]:
        names = _name_list(value, problems, f"{where} documents", line)
        for name in names:
            if name not in cat.document_types:
                problems.add(line, f"{where}: unknown document type {name!r}")
        return tuple(names)

    def by(key: str, known: dict[str, Text], what: str) -> dict[str, tuple[str, ...]]:
        sub = _mapping(node.get(key), problems, f"{where} documents.{key}", _line(node, key))
        result = {}
        for name, docs in sub.items():
            if name not in known:
                problems.add(_line(sub, name), f"{where}: unknown {what} {name!r}")
            result[str(name)] = check_docs(docs, _line(sub, name))
        return result

    return DocumentRequirement(
        all=check_docs(node.get("all"), _line(node, "all")),
        by_group=by("by_group", cat.product_groups, "product group"),
        by_producer_kind=by("by_producer_kind", cat.producer_kinds, "producer kind"),
    )


_TRANSITION_KEYS = {"trigger", "source", "dest", "roles", "label", "on_upgrade", "requires", "rating", "sets", "signs"}
_REQUIRES_KEYS = {"documents", "fields", "score", "star", "certificate", "renewed"}
_STATE_KEYS = {"key", "label", "level", "sla_days", "final"}
_TOP_KEYS = {
    "key",
    "version",
    "title",
    "legal_basis",
    "effective_from",
    "effective_to",
    "initial",
    "sla_calendar",
    "states",
    "transitions",
    "migrate_from",
    "evaluation",
    "recognition",
    "applications",
}
_EVALUATION_KEYS = {"lower_score", "quorum", "rounding", "decimals", "criteria_set", "source"}
SETTABLE = {"application_type": {"first_rating", "upgrade", "re_evaluation"}}


def load_definition(path: Path, cat: Catalogue) -> WorkflowDefinition:
    """Load and fully validate one definition file against the catalogue."""
    return _load_definition(path, cat)[0]


def _load_definition(path: Path, cat: Catalogue) -> tuple[WorkflowDefinition, _LineDict]:
    raw = read_yaml(path)
    problems = _Problems(str(path))
    if not isinstance(raw, dict):
        problems.add(1, "a workflow definition must be a mapping")
        problems.raise_if_any()
    _check_keys(raw, _TOP_KEYS, {"key", "version", "title", "initial", "states", "transitions"}, problems, "definition")
    problems.raise_if_any()
    effective, effective_to = _check_header(raw, problems)
    states = _load_states(_listed(raw, "states", problems), raw, cat, problems)
    check_state = _StateChecker(states, problems)
    initial = raw.get("initial")
    check_state(initial, _line(raw, "initial"), "initial")
    transitions = [
        _load_transition(node, states, cat, problems, check_state)
        for node in _listed(raw, "transitions", problems)
        if _is_transition_mapping(node, raw, problems)
    ]
    migrate_from = _load_migrate_from(raw, problems, check_state)
    evaluation = _load_evaluation(raw, problems)
    recognition = _load_recognition(raw, states, problems)
    renew = _load_applications(raw, cat, problems)

    definition = WorkflowDefinition(
        key=str(raw["key"]),
        version=raw["version"] if isinstance(raw["version"], int) else 0,
        title=_text(raw.get("title"), problems, "title", _line(raw, "title")),
        initial=str(initial),
        states=states,
        transitions=transitions,
        legal_basis=str(raw.get("legal_basis", "")),
        effective_from=effective,
        effective_to=effective_to,
        sla_calendar=str(raw.get("sla_calendar", "calendar")),
        migrate_from=migrate_from,
        evaluation=evaluation,
        recognition=recognition,
        renew=renew,
        path=str(path),
    )
    problems.raise_if_any()
    _check_recognition(definition, problems)
    _check_graph(definition, problems)
    problems.raise_if_any()
    return definition, raw


def _check_header(raw: _LineDict, problems: _Problems) -> tuple[date | None, date | None]:
    """Check key, version, sla_calendar and the dates in force; return (effective_from, effective_to),
    None where absent or wrong (reported)."""
    if not _is_name(raw["key"]):
        problems.add(_line(raw, "key"), f"key must be a name, got {raw['key']!r}")
    if isinstance(raw["version"], bool) or not isinstance(raw["version"], int) or raw["version"] < 1:
        problems.add(_line(raw, "version"), "version must be a positive whole number")
    if raw.get("sla_calendar", "calendar") not in ("calendar", "working"):
        problems.add(_line(raw, "sla_calendar"), "sla_calendar must be 'calendar' or 'working'")
    dates: dict[str, date | None] = {}
    for key in ("effective_from", "effective_to"):
        value = raw.get(key)
        # YAML reads 2025-07-05 as a date; a datetime ("2025-07-05 10:00") is a date too, so refuse it by name
        if value is not None and (not isinstance(value, date) or isinstance(value, datetime)):
            problems.add(_line(raw, key), f"{key} must be a date (YYYY-MM-DD), got {value!r}")
            value = None
        dates[key] = value
    start, end = dates["effective_from"], dates["effective_to"]
    if start is not None and end is not None and end < start:
        problems.add(
            _line(raw, "effective_to"),
            f"effective_to ({end.isoformat()}) is before effective_from ({start.isoformat()}): "
            "the definition would never be in force",
        )
    return start, end


def _listed(raw: _LineDict, section: str, problems: _Problems) -> list:
    value = raw.get(section)
    if not isinstance(value, list):
        problems.add(_line(raw, section), f"{section} must be a list")
        return []
    return value


def _load_states(nodes: list, raw: _LineDict, cat: Catalogue, problems: _Problems) -> dict[str, StateDef]:
    states: dict[str, StateDef] = {}
    for node in nodes:
        if not isinstance(node, dict) or not _is_name(node.get("key")):
            problems.add(_line(node) or _line(raw, "states"), "each state needs a 'key' that is a name")
            continue
        states[node["key"]] = _load_state(node, cat, problems, duplicate=node["key"] in states)
    return states


def _load_state(node: _LineDict, cat: Catalogue, problems: _Problems, duplicate: bool) -> StateDef:
    key = node["key"]
    where = f"state {key!r}"
    _check_keys(node, _STATE_KEYS, {"key", "label", "level"}, problems, where)
    if duplicate:
        problems.add(_line(node), f"{where} is defined twice")
    level = node.get("level")
    if not isinstance(level, str) or level not in cat.levels:
        problems.add(_line(node, "level"), f"{where}: unknown level {level!r}")
    sla = node.get("sla_days")
    if sla is not None and (isinstance(sla, bool) or not isinstance(sla, int) or sla < 1):
        problems.add(_line(node, "sla_days"), f"{where}: sla_days must be a positive whole number")
    if not isinstance(node.get("final", False), bool):
        problems.add(_line(node, "final"), f"{where}: final must be true or false")
    return StateDef(
        key=key,
        label=_text(node.get("label"), problems, where, _line(node, "label")),
        level=str(level),
        sla_days=sla,
        final=bool(node.get("final", False)),
        line=_line(node),
    )


class _StateChecker:
    """Reports a reference to a state the definition does not declare."""

    def __init__(self, states: dict[str, StateDef], problems: _Problems) -> None:
        self.states = states
        self.problems = problems

    def __call__(self, name: Any, line: int | None, where: str) -> None:
        if not isinstance(name, str) or name not in self.states:
            self.problems.add(line, f"{where}: unknown state {name!r} (known: {', '.join(self.states)})")


def _is_transition_mapping(node: Any, raw: _LineDict, problems: _Problems) -> bool:
    if not isinstance(node, dict):
        problems.add(_line(raw, "transitions"), "each transition must be a mapping")
        return False
    return True


def _load_transition(
    node: _LineDict, states: dict[str, StateDef], cat: Catalogue, problems: _Problems, check_state: _StateChecker
) -> TransitionDef:
    trigger = str(node.get("trigger", "?"))
    where = f"transition {trigger!r}"
    _check_keys(node, _TRANSITION_KEYS, {"trigger", "source", "dest", "roles", "label"}, problems, where)
    if not trigger.isidentifier():
        problems.add(_line(node, "trigger"), f"{where}: a trigger must be a plain identifier")
    sources = _transition_sources(node, states, problems, check_state, where)
    dest = str(node.get("dest"))
    check_state(dest, _line(node, "dest"), where)
    on_upgrade = node.get("on_upgrade")
    if on_upgrade is not None:
        check_state(on_upgrade, _line(node, "on_upgrade"), f"{where} on_upgrade")
    roles = _transition_roles(node, cat, problems, where)
    req = _mapping(node.get("requires"), problems, f"{where} requires", _line(node, "requires"))
    if req:
        _check_keys(
            req,
            {"documents", "fields", "score", "star", "certificate", "renewed"},
            set(),
            problems,
            f"{where} requires",
        )
    fields = tuple(_name_list(req.get("fields"), problems, f"{where} fields", _line(req, "fields")))
    for f in fields:
        if f not in REQUIRABLE_FIELDS:
            problems.add(_line(req, "fields"), f"{where}: unknown field {f!r} (allowed: comment, score)")
    rating = _load_rating(node, cat, problems, where)
    signs = node.get("signs")
    if signs is not None and signs not in LEVELS:
        problems.add(_line(node, "signs"), f"{where}: signs must be a level ({', '.join(LEVELS)}), got {signs!r}")
    if signs is not None and (rating is not None or req.get("score") is not None):
        problems.add(_line(node, "signs"), f"{where}: a signing step takes no score")
    renewed = req.get("renewed", False)
    if not isinstance(renewed, bool):
        problems.add(_line(req, "renewed"), f"{where}: renewed must be true or false")
        renewed = False
    sets = dict(_mapping(node.get("sets"), problems, f"{where} sets", _line(node, "sets")))
    for k, v in sets.items():
        if k not in SETTABLE or not isinstance(v, str) or v not in SETTABLE[k]:
            problems.add(_line(node, "sets"), f"{where}: cannot set {k!r} to {v!r}")
    return TransitionDef(
        trigger=trigger,
        sources=sources,
        dest=dest,
        roles=roles,
        label=_text(node.get("label"), problems, where, _line(node, "label")),
        on_upgrade=on_upgrade,
        documents=_documents(req.get("documents"), cat, problems, where),
        fields=fields,
        score=_range(req.get("score"), problems, f"{where} score", _line(req, "score")),
        star=_range(req.get("star"), problems, f"{where} star", _line(req, "star")),
        rating=rating,
        sets=sets,
        line=_line(node),
        signs=signs if isinstance(signs, str) else None,
        certificate=_certificate_requirement(req.get("certificate"), problems, where, _line(req, "certificate")),
        renewed=renewed,
    )


def _certificate_requirement(
    node: Any, problems: _Problems, where: str, line: int | None
) -> CertificateRequirement | None:
    """`requires: certificate: {valid: true|false, star: {min, below}}` (issue #10)."""
    if node is None:
        return None
    node = _mapping(node, problems, f"{where} certificate", line)
    _check_keys(node, {"valid", "star"}, {"valid"}, problems, f"{where} certificate")
    valid = node.get("valid")
    if not isinstance(valid, bool):
        problems.add(line, f"{where} certificate: valid must be true or false")
        valid = True
    star = _range(node.get("star"), problems, f"{where} certificate star", _line(node, "star"))
    if star is not None and not valid:
        problems.add(line, f"{where} certificate: a star condition needs valid: true")
    return CertificateRequirement(valid=valid, star=star)


def _transition_sources(
    node: _LineDict, states: dict[str, StateDef], problems: _Problems, check_state: _StateChecker, where: str
) -> tuple[str, ...]:
    """The source states; `*` means every state that is not final."""
    source = node.get("source")
    if source == "*":
        return tuple(k for k, s in states.items() if not s.final)
    sources = tuple(_name_list(source, problems, f"{where} source", _line(node, "source")))
    if isinstance(source, list) and not source:
        problems.add(_line(node, "source"), f"{where}: at least one source state is needed")
    for s in sources:
        check_state(s, _line(node, "source"), where)
    return sources


def _transition_roles(node: _LineDict, cat: Catalogue, problems: _Problems, where: str) -> tuple[str, ...]:
    roles = tuple(_name_list(node.get("roles"), problems, f"{where} roles", _line(node, "roles")))
    if not roles:
        problems.add(_line(node, "roles"), f"{where}: at least one role must be allowed")
    for role in roles:
        if role not in cat.roles:
            problems.add(_line(node, "roles"), f"{where}: unknown role {role!r}")
    return roles


def _load_rating(node: _LineDict, cat: Catalogue, problems: _Problems, where: str) -> RatingRule | None:
    rating_node = node.get("rating")
    if rating_node is None:
        return None
    if not isinstance(rating_node, dict):
        problems.add(_line(node, "rating"), f"{where}: rating must be a mapping")
        return None
    _check_keys(
        rating_node,
        {"level", "max_star", "min_star", "final"},
        {"level", "max_star"},
        problems,
        f"{where} rating",
    )
    lvl = rating_node.get("level")
    if lvl is not None and (not isinstance(lvl, str) or lvl not in cat.levels):
        problems.add(_line(rating_node), f"{where}: unknown level {lvl!r}")
    stars = {}
    for key, default in (("max_star", 5), ("min_star", 1)):
        value = rating_node.get(key, default)
        if isinstance(value, bool) or value not in (1, 2, 3, 4, 5):
            problems.add(_line(rating_node, key), f"{where}: {key} must be 1 to 5")
            value = default
        stars[key] = value
    if stars["min_star"] > stars["max_star"]:
        problems.add(_line(rating_node, "min_star"), f"{where}: min_star is above max_star")
    if not isinstance(rating_node.get("final", True), bool):
        problems.add(_line(rating_node, "final"), f"{where} rating: final must be true or false")
    return RatingRule(
        level=str(lvl),
        max_star=stars["max_star"],
        min_star=stars["min_star"],
        final=bool(rating_node.get("final", True)),
    )


def _load_evaluation(raw: _LineDict, problems: _Problems) -> Evaluation:
    """The `evaluation:` block (see `Evaluation`); every key is optional, with the documented default."""
    key = str(raw.get("key", ""))
    node = _mapping(raw.get("evaluation"), problems, "evaluation", _line(raw, "evaluation"))
    if not node:
        return Evaluation(criteria_set=key)
    _check_keys(node, _EVALUATION_KEYS, set(), problems, "evaluation")
    policy = node.get("lower_score", "own_band")
    if policy not in LOWER_SCORE_POLICIES:
        problems.add(
            _line(node, "lower_score"),
            f"evaluation: lower_score must be one of {', '.join(LOWER_SCORE_POLICIES)}, got {policy!r}",
        )
        policy = "own_band"
    quorum = _quorum(node.get("quorum", "2/3"), problems, _line(node, "quorum"))
    rounding = node.get("rounding", "half_up")
    if rounding not in ROUNDING_RULES:
        known = ", ".join(ROUNDING_RULES)
        problems.add(_line(node, "rounding"), f"evaluation: rounding must be one of {known}, got {rounding!r}")
        rounding = "half_up"
    decimals = node.get("decimals", 2)
    if isinstance(decimals, bool) or not isinstance(decimals, int) or not 0 <= decimals <= 4:
        problems.add(
            _line(node, "decimals"), f"evaluation: decimals must be a whole number from 0 to 4, got {decimals!r}"
        )
        decimals = 2
    criteria_set = node.get("criteria_set", key)
    if not _is_name(criteria_set) or "/" in criteria_set or criteria_set.startswith("."):
        problems.add(
            _line(node, "criteria_set"), f"evaluation: criteria_set must be a folder name, got {criteria_set!r}"
        )
        criteria_set = key
    source = node.get("source", "")
    if not isinstance(source, str):
        problems.add(_line(node, "source"), "evaluation: source must be text (the clause the rules come from)")
        source = ""
    return Evaluation(
        lower_score=policy,
        quorum=quorum,
        rounding=rounding,
        decimals=decimals,
        criteria_set=criteria_set,
        source=source,
    )


def _load_recognition(raw: _LineDict, states: dict[str, StateDef], problems: _Problems) -> Recognition | None:
    """The `recognition:` block: `by_star` {3..5: level}, `awaiting` {level: state of that level}."""
    node = raw.get("recognition")
    if node is None:
        return None
    node = _mapping(node, problems, "recognition", _line(raw, "recognition"))
    _check_keys(node, {"by_star", "awaiting", "source"}, {"by_star", "awaiting"}, problems, "recognition")
    by_star: dict[int, str] = {}
    stars = _mapping(node.get("by_star"), problems, "recognition by_star", _line(node, "by_star"))
    for star, level in stars.items():
        if isinstance(star, bool) or not isinstance(star, int) or not 3 <= star <= 5:
            problems.add(_line(stars, star), f"recognition by_star: stars are 3, 4 or 5, got {star!r}")
        elif level not in LEVELS:
            problems.add(_line(stars, star), f"recognition by_star {star}: unknown level {level!r}")
        else:
            by_star[star] = level
    missing = [s for s in (3, 4, 5) if s not in stars]
    if missing:
        problems.add(_line(node, "by_star"), f"recognition by_star: say who recognises {missing}")
    awaiting: dict[str, str] = {}
    waits = _mapping(node.get("awaiting"), problems, "recognition awaiting", _line(node, "awaiting"))
    for level, state in waits.items():
        where = f"recognition awaiting {level}"
        if state not in states:
            problems.add(_line(waits, level), f"{where}: unknown state {state!r}")
        elif states[state].level != level:
            problems.add(_line(waits, level), f"{where}: state {state!r} belongs to level {states[state].level!r}")
        else:
            awaiting[str(level)] = str(state)
    for level in dict.fromkeys(by_star.values()):
        if level not in waits:
            problems.add(_line(node, "awaiting"), f"recognition awaiting: no state for the {level} level's decision")
    source = node.get("source", "")
    return Recognition(by_star=by_star, awaiting=awaiting, source=source if isinstance(source, str) else "")


def _load_applications(raw: _LineDict, cat: Catalogue, problems: _Problems) -> dict[str, DocumentRequirement]:
    """`applications: renew: {application type: documents}`: what a new application uploads again."""
    node = raw.get("applications")
    if node is None:
        return {}
    node = _mapping(node, problems, "applications", _line(raw, "applications"))
    _check_keys(node, {"renew"}, {"renew"}, problems, "applications")
    renew: dict[str, DocumentRequirement] = {}
    types = _mapping(node.get("renew"), problems, "applications renew", _line(node, "renew"))
    for kind, docs in types.items():
        if kind not in SETTABLE["application_type"]:
            problems.add(_line(types, kind), f"applications renew: unknown application type {kind!r}")
            continue
        req = _documents(docs, cat, problems, f"applications renew {kind}")
        if req is not None:
            renew[str(kind)] = req
    return renew


def _check_recognition(d: WorkflowDefinition, problems: _Problems) -> None:
    """Every awaiting state is left by exactly one signing step of its level, and signing steps
    only leave awaiting states; `renewed` needs an `applications` block."""
    awaiting = d.recognition.awaiting if d.recognition else {}
    for t in d.transitions:
        if t.signs is not None:
            wanted = awaiting.get(t.signs)
            if wanted is None or set(t.sources) != {wanted}:
                problems.add(
                    t.line,
                    f"transition {t.trigger!r}: a step that signs the {t.signs} level's decision must leave "
                    f"its awaiting state ({wanted or 'none declared in recognition.awaiting'}) and only it",
                )
        if t.renewed and not d.renew:
            problems.add(t.line, f"transition {t.trigger!r}: requires renewed, but no applications.renew is declared")
    for level, state in awaiting.items():
        if not any(t.signs == level for t in d.transitions_from(state)):
            problems.add(d.states[state].line, f"state {state!r}: no step signs the {level} level's decision")


def _quorum(value: Any, problems: _Problems, line: int | None) -> Fraction:
    """A share of the council written "2/3", 0.75 or 1; it must lie in (0, 1]."""
    try:
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise ValueError
        quorum = Fraction(str(value).strip())
    except (ValueError, ZeroDivisionError):
        problems.add(line, f'evaluation: quorum must be a fraction such as "2/3" or 0.75, got {value!r}')
        return Fraction(2, 3)
    if not 0 < quorum <= 1:
        problems.add(line, f"evaluation: quorum must be above 0 and at most 1, got {value}")
        return Fraction(2, 3)
    return quorum


def _load_migrate_from(raw: _LineDict, problems: _Problems, check_state: _StateChecker) -> dict[str, dict[str, str]]:
    """`migrate_from`: old workflow key -> {old state: new state}; the new states are checked here, the old
    ones in `load_directory`, which sees every definition."""
    migrate_from: dict[str, dict[str, str]] = {}
    migrations = _mapping(raw.get("migrate_from"), problems, "migrate_from", _line(raw, "migrate_from"))
    for old_key, mapping in migrations.items():
        mapping = _mapping(mapping, problems, f"migrate_from {old_key}", _line(migrations, old_key))
        for old_state, new_state in mapping.items():
            check_state(new_state, _line(mapping, old_state), f"migrate_from {old_key}.{old_state}")
        migrate_from[str(old_key)] = {str(k): str(v) for k, v in mapping.items()}
    return migrate_from


def _check_graph(d: WorkflowDefinition, problems: _Problems) -> None:
    """Reachability, dead ends and ambiguous triggers."""
    edges = _edges(d)
    reachable = _reachable(edges, d.initial)
    finishing = _finishing(edges, {k for k, s in d.states.items() if s.final})
    for key, state in d.states.items():
        if key not in reachable:
            problems.add(state.line, f"state {key!r} is unreachable from the initial state {d.initial!r}")
        if state.final:
            continue
        if not edges[key] - {key}:
            problems.add(state.line, f"state {key!r} is not final but has no way out")
        elif key not in finishing:
            problems.add(
                state.line,
                f"state {key!r} is not final but has no way out: it only leads to "
                f"{', '.join(sorted(edges[key]))}, from which no final state can be reached",
            )
    _check_ambiguous_triggers(d, problems)


def _edges(d: WorkflowDefinition) -> dict[str, set[str]]:
    """State -> the states one transition can lead to (its destination, or its upgrade destination)."""
    edges: dict[str, set[str]] = {k: set() for k in d.states}
    for t in d.transitions:
        for s in t.sources:
            edges[s].add(t.dest)
            if t.on_upgrade:
                edges[s].add(t.on_upgrade)
            if t.rating is not None and d.recognition is not None:  # a result to recognise waits for it
                edges[s].update(d.recognition.awaiting.values())
    return edges


def _reachable(edges: dict[str, set[str]], start: str) -> set[str]:
    seen = {start}
    queue = deque([start])
    while queue:
        for nxt in edges[queue.popleft()]:
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return seen


def _finishing(edges: dict[str, set[str]], finals: set[str]) -> set[str]:
    """States from which some final state can be reached (walk the edges backwards until nothing changes)."""
    finishing = set(finals)
    changed = True
    while changed:
        changed = False
        for key, targets in edges.items():
            if key not in finishing and targets & finishing:
                finishing.add(key)
                changed = True
    return finishing


def _check_ambiguous_triggers(d: WorkflowDefinition, problems: _Problems) -> None:
    """A trigger defined twice from one state must be told apart by non-overlapping score ranges."""
    for state in d.states:
        for trigger in d.triggers_from(state):
            cands = d.candidates(state, trigger)
            for i, a in enumerate(cands):
                for b in cands[i + 1 :]:
                    if a.score is None or a.score.overlaps(b.score):
                        problems.add(
                            b.line,
                            f"trigger {trigger!r} from state {state!r} is defined more than once without "
                            f"mutually exclusive score conditions (see line {a.line})",
                        )


def load_directory(directory: Path) -> tuple[Catalogue, list[WorkflowDefinition]]:
    """Load the catalogue and every definition of a folder; all problems reported together."""
    cat = load_catalogue(directory / CATALOGUE_FILE)
    definitions: list[WorkflowDefinition] = []
    raws: dict[str, _LineDict] = {}
    problems: list[tuple[str, int | None, str]] = []
    seen: dict[tuple[str, int], str] = {}
    broken_keys: set[str] = set()  # keys of files that failed: not "unknown", only broken
    unreadable = False
    for path in sorted(directory.glob("*.yaml")):
        if path.name in (CATALOGUE_FILE, "permissions.yaml"):  # see engine/permissions.py
            continue
        try:
            d, raw = _load_definition(path, cat)
        except DefinitionError as exc:
            problems.extend(exc.problems)
            try:
                key = read_yaml(path).get("key")
            except (DefinitionError, AttributeError):
                key = None
            if isinstance(key, str):
                broken_keys.add(key)
            else:
                unreadable = True
            continue
        if (d.key, d.version) in seen:
            problems.append(
                (str(path), _line(raw, "version"), f"{d.ident} is also defined in {seen[(d.key, d.version)]}")
            )
        seen[(d.key, d.version)] = str(path)
        definitions.append(d)
        raws[d.path] = raw
    for d in definitions:
        node = raws[d.path].get("migrate_from")
        for old_key, mapping in d.migrate_from.items():
            olds = [o for o in definitions if o.key == old_key]
            if not olds:
                if old_key not in broken_keys and not unreadable:
                    problems.append((d.path, _line(node, old_key), f"migrate_from names unknown workflow {old_key!r}"))
                continue
            old_states = {s for o in olds for s in o.states}
            for old_state in mapping:
                if old_state not in old_states:
                    problems.append(
                        (
                            d.path,
                            _line(node.get(old_key), old_state),
                            f"migrate_from {old_key}.{old_state}: unknown state {old_state!r} of "
                            f"{old_key} (known: {', '.join(sorted(old_states))})",
                        )
                    )
    problems.extend(_check_stages(cat, definitions))
    if problems:
        raise DefinitionError(problems)
    return cat, definitions
