"""The administrative ladder of the OCOP programme, written once.

Vietnam's units stand central > province > district > commune. A unit sits directly under the level above
it, except a commune, which may sit under a district (the tree until 2025) or directly under a province
(after the 2025 reform abolished districts; old units keep their rows, closed by `valid_to`).

Everything that compares levels asks this module: the organisation tree (services.directory), the
database's check constraint (models), the reminders' escalation (reminders.recipients) and the workflow
loader, which checks that the catalogue's `levels:` (workflows/catalogue.yaml, where their labels live)
name exactly these levels in this order. The order is the programme's law, not configuration.
"""

from __future__ import annotations

CENTRAL, PROVINCE, DISTRICT, COMMUNE = "central", "province", "district", "commune"
LEVELS: tuple[str, ...] = (CENTRAL, PROVINCE, DISTRICT, COMMUNE)  # highest first

_RANK = {level: i for i, level in enumerate(LEVELS)}
_PARENTS: dict[str, tuple[str, ...]] = {
    CENTRAL: (),
    PROVINCE: (CENTRAL,),
    DISTRICT: (PROVINCE,),
    COMMUNE: (DISTRICT, PROVINCE),
}


def is_level(value: object) -> bool:
    return isinstance(value, str) and value in _RANK


def rank(level: str) -> int:
    """0 for central, growing downwards; ValueError for a name that is not a level."""
    try:
        return _RANK[level]
    except (KeyError, TypeError):
        raise ValueError(f"not an administrative level: {level!r} (levels: {', '.join(LEVELS)})") from None


def parent_levels(level: str) -> tuple[str, ...]:
    """The levels a unit of `level` may sit under, the usual one first; () for central."""
    rank(level)
    return _PARENTS[level]


def is_above(a: str, b: str) -> bool:
    """True when level `a` stands strictly above level `b` (central is above everything)."""
    return rank(a) < rank(b)


def levels_below(level: str) -> tuple[str, ...]:
    """The levels strictly below `level`, highest first."""
    return LEVELS[rank(level) + 1 :]
