"""The in-memory shape of a workflow definition and its catalogue.

Definitions are immutable once loaded; the engine and the services only read them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction

from ..formats import format_number
from ..i18n import Text

STAR_BANDS = ((30, 1), (50, 2), (70, 3), (90, 4))
CERTIFIED_MIN_STAR = 3
REQUIRABLE_FIELDS = ("comment", "score")


def star_for_score(score: float) -> int:
    """Star band of a 100-point score (Decision 148): 1★ < 30 ≤ 2★ < 50 ≤ 3★ < 70 ≤ 4★ < 90 ≤ 5★."""
    for upper, star in STAR_BANDS:
        if score < upper:
            return star
    return 5


@dataclass(frozen=True)
class Range:
    """A half-open interval [min, below) used for score and star conditions."""

    min: float | None = None
    below: float | None = None

    def contains(self, value: float | None) -> bool:
        if value is None:
            return False
        lo = -math.inf if self.min is None else self.min
        hi = math.inf if self.below is None else self.below
        return lo <= value < hi

    def overlaps(self, other: Range | None) -> bool:
        if other is None:
            return True
        lo = max(-math.inf if self.min is None else self.min, -math.inf if other.min is None else other.min)
        hi = min(math.inf if self.below is None else self.below, math.inf if other.below is None else other.below)
        return lo < hi

    def stars(self) -> Text:
        """The stars (1..5) the range holds, in words: "3 hoặc 4 sao" / "3 or 4 stars"."""
        held = [n for n in range(1, 6) if self.contains(n)]
        if not held:
            return Text("không hạng sao nào", "no star")
        if len(held) == 1:
            return Text(f"{held[0]} sao", f"{held[0]} star" + ("s" if held[0] > 1 else ""))
        head = ", ".join(str(n) for n in held[:-1])
        return Text(f"{head} hoặc {held[-1]} sao", f"{head} or {held[-1]} stars")

    def describe(self, locale: str | None = None) -> str:
        """The range in symbols ("≥ 70, < 90"): for the technical listings (`ocop workflow show`, definition
        errors) and a definition's page, with the numbers in `locale`'s format when given ("≥ 85,5").
        Sentences read `text()`."""
        parts = []
        if self.min is not None:
            parts.append(f"≥ {format_number(self.min, locale) if locale else f'{self.min:g}'}")
        if self.below is not None:
            parts.append(f"< {format_number(self.below, locale) if locale else f'{self.below:g}'}")
        return ", ".join(parts)

    def text(self, unit: str = "score") -> Text:
        """The range in words, each language whole, numbers in its format: "từ 70 đến dưới 90 điểm" /
        "from 70 to under 90 points"; a star range (`unit="star"`) "hạng sao hiện tại từ 3 đến dưới 5" /
        "the current star from 3 to under 5"."""
        lo_vi, lo_en = (format_number(self.min, lang) if self.min is not None else "" for lang in ("vi", "en"))
        hi_vi, hi_en = (format_number(self.below, lang) if self.below is not None else "" for lang in ("vi", "en"))
        if self.min is not None and self.below is not None:
            vi, en = f"từ {lo_vi} đến dưới {hi_vi}", f"from {lo_en} to under {hi_en}"
        elif self.min is not None:
            vi, en = f"từ {lo_vi} trở lên", f"{lo_en} or more"
        elif self.below is not None:
            vi, en = f"dưới {hi_vi}", f"under {hi_en}"
        else:
            vi, en = "bất kỳ", "any"
        if unit == "star":
            return Text(f"hạng sao hiện tại {vi}", f"the current star {en}")
        if self.min is not None and self.below is None:
            return Text(f"từ {lo_vi} điểm trở lên", f"{lo_en} points or more")
        if self.min is None and self.below is None:
            return Text("điểm bất kỳ", "any score")
        return Text(f"{vi} điểm", f"{en} points")


@dataclass(frozen=True)
class DocumentRequirement:
    all: tuple[str, ...] = ()
    by_group: dict[str, tuple[str, ...]] = field(default_factory=dict)
    by_producer_kind: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def required_for(self, group: str | None, producer_kind: str | None) -> list[str]:
        """Document types required for a product of this group made by this kind of producer."""
        needed = list(self.all)
        for extra in (self.by_group.get(group or "", ()), self.by_producer_kind.get(producer_kind or "", ())):
            needed.extend(d for d in extra if d not in needed)
        return needed


@dataclass(frozen=True)
class RatingRule:
    """A transition that records a council's score: the star is the band, capped at max_star.

    `final` is false where the council only forwards the dossier. `min_star` is the lowest star
    this level decides on: the central council decides only whether a product reaches 5★
    (`min_star: 5`); a band below it is "not recognised at 5★" and the forwarding level's result
    stands. What a level does with a forwarded product it scores lower is the definition's
    `evaluation.lower_score` (see `Evaluation`).
    """

    level: str
    max_star: int
    final: bool = True
    min_star: int = 1


LOWER_SCORE_POLICIES = ("own_band", "previous_level_stands")
ROUNDING_RULES = ("half_up",)


@dataclass(frozen=True)
class Evaluation:
    """How a definition turns council scores into results (the top-level `evaluation:` block).

    * `lower_score`: a product forwarded by a lower council that this council scores in a lower
      band (district 75 → province 60). `own_band`: this council's score decides, its star by its
      band, recognised by this level (not certified below 3★). `previous_level_stands`: the
      forwarding level's result stands (its score, its star capped at its maximum, recognised by
      it); this council's rating is kept, not final. Either way a band below the council's
      `min_star` (the central council, 5★ only) leaves the forwarding level's result standing.
    * `quorum`: the share of the council's members that must have submitted a sheet before the
      secretary may close a product (the round service reads it).
    * `rounding`, `decimals`: the recorded score is the average of the submitted totals rounded
      half-up (0.005 → 0.01) to `decimals` places (the round service reads them).
    * `criteria_set`: the folder under `workflows/criteria/` whose sheets the members score.
    """

    lower_score: str = "own_band"
    quorum: Fraction = Fraction(2, 3)
    rounding: str = "half_up"
    decimals: int = 2
    criteria_set: str = ""
    source: str = ""


@dataclass(frozen=True)
class Recognition:
    """Who recognises a council's result (the top-level `recognition:` block, issue #10): the level
    whose People's Committee decides each star (`by_star`), and the state a product waits in for that
    level's decision (`awaiting`). 148: district 3★, province 4★, centre 5★; 1489: province 3★-4★."""

    by_star: dict[int, str]
    awaiting: dict[str, str]
    source: str = ""

    def level_for(self, star: int | None) -> str | None:
        return self.by_star.get(star) if star is not None else None


@dataclass(frozen=True)
class CertificateRequirement:
    """A step's condition on the product's certificate today (`requires: certificate:`): `valid`
    true needs a valid certificate (its star in `star` when given), false needs none."""

    valid: bool
    star: Range | None = None

    def describe(self) -> Text:
        if not self.valid:
            return Text(
                "sản phẩm không được có giấy chứng nhận OCOP còn hiệu lực",
                "the product must not hold a valid OCOP certificate",
            )
        if self.star is None:
            return Text("cần giấy chứng nhận OCOP còn hiệu lực", "a valid OCOP certificate is needed")
        stars = self.star.stars()
        return Text(
            f"cần giấy chứng nhận OCOP {stars.vi} còn hiệu lực",
            f"a valid OCOP certificate of {stars.en} is needed",
        )


@dataclass(frozen=True)
class StateDef:
    key: str
    label: Text
    level: str
    sla_days: int | None = None
    final: bool = False
    line: int | None = None


@dataclass(frozen=True)
class TransitionDef:
    trigger: str
    sources: tuple[str, ...]
    dest: str
    roles: tuple[str, ...]
    label: Text
    on_upgrade: str | None = None
    documents: DocumentRequirement | None = None
    fields: tuple[str, ...] = ()
    score: Range | None = None
    star: Range | None = None
    rating: RatingRule | None = None
    sets: dict[str, str] = field(default_factory=dict)
    line: int | None = None
    # issue #10: the level whose recognition decision this step records (fired only from a signed
    # decision); the step's condition on the certificate; whether the documents the application
    # type renews must be newer than the application (a new dossier generation)
    signs: str | None = None
    certificate: CertificateRequirement | None = None
    renewed: bool = False

    @property
    def needs_score(self) -> bool:
        return "score" in self.fields or self.score is not None or self.rating is not None


@dataclass(frozen=True)
class RoleDef:
    key: str
    level: str
    label: Text


@dataclass(frozen=True)
class Stage:
    """A step of the programme's cycle by meaning, across definitions (the dashboard groups by it):
    `states` maps a definition key to the states of that definition (any version) it covers."""

    key: str
    label: Text
    states: dict[str, tuple[str, ...]]

    def covers(self, workflow_key: str, state: str) -> bool:
        return state in self.states.get(workflow_key, ())


@dataclass
class Catalogue:
    levels: dict[str, Text]
    roles: dict[str, RoleDef]
    producer_kinds: dict[str, Text]
    product_groups: dict[str, Text]
    document_types: dict[str, Text]
    path: str = ""
    # the cycle in order (catalogue `stages:`); every state of every definition lies in exactly one
    stages: list[Stage] = field(default_factory=list)
    # the programme's records (issue #12): platforms a product is sold on, people a training counts
    ecommerce_platforms: dict[str, Text] = field(default_factory=dict)
    trainee_roles: dict[str, Text] = field(default_factory=dict)

    def stage_of(self, workflow_key: str, state: str) -> Stage | None:
        for stage in self.stages:
            if stage.covers(workflow_key, state):
                return stage
        return None


@dataclass
class WorkflowDefinition:
    key: str
    version: int
    title: Text
    initial: str
    states: dict[str, StateDef]
    transitions: list[TransitionDef]
    legal_basis: str = ""
    # the days the definition applies to (its legal basis in force), both inclusive; None: open-ended.
    # New products start under the definition in force that day (services.products.default_definition).
    effective_from: date | None = None
    effective_to: date | None = None
    sla_calendar: str = "calendar"
    migrate_from: dict[str, dict[str, str]] = field(default_factory=dict)
    evaluation: Evaluation = field(default_factory=Evaluation)
    recognition: Recognition | None = None
    # application type -> the documents a new application of that type must upload again
    renew: dict[str, DocumentRequirement] = field(default_factory=dict)
    path: str = ""

    @property
    def ident(self) -> str:
        return f"{self.key}@v{self.version}"

    def in_force(self, day: date) -> bool:
        """Whether the definition applies on `day` (local date)."""
        return (self.effective_from is None or self.effective_from <= day) and (
            self.effective_to is None or day <= self.effective_to
        )

    def transitions_from(self, state: str) -> list[TransitionDef]:
        return [t for t in self.transitions if state in t.sources]

    def triggers_from(self, state: str) -> list[str]:
        seen: list[str] = []
        for t in self.transitions_from(state):
            if t.trigger not in seen:
                seen.append(t.trigger)
        return seen

    def candidates(self, state: str, trigger: str) -> list[TransitionDef]:
        return [t for t in self.transitions_from(state) if t.trigger == trigger]

    def state_label(self, state: str) -> Text:
        s = self.states.get(state)
        return s.label if s else Text(state, state)
