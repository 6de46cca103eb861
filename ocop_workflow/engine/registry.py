"""Loaded definitions and one cached `transitions` machine per definition version.

The machine is built once with `model=None`, `auto_transitions=False` and fired through
`machine.events[trigger].trigger(subject)` with a throw-away subject, so it holds no
reference to any product (no add_model leak) and is safe to share between threads.
Guards are evaluated by the engine first (to list everything missing); the machine
then performs the move and refuses anything the definition does not allow. Its verdict for
one (state, transition, upgrade) never changes, so it is kept after the first time (`fire`).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

from transitions import Machine, MachineError

from ..errors import DefinitionError, NotFound
from ..i18n import Text
from .criteria import CRITERIA_DIR, CriteriaSets, load_criteria, uncovered_workflows
from .definition import Catalogue, TransitionDef, WorkflowDefinition
from .loader import load_directory
from .permissions import PERMISSIONS_FILE, Policy, load_policy

log = logging.getLogger(__name__)


class _Subject:
    """What the machine moves: a state plus the transition the engine selected, whether it is an
    upgrade, and the state a result to recognise waits in (None: not one)."""

    __slots__ = ("state", "selected", "upgrade", "awaiting")

    def __init__(self, state: str, selected: TransitionDef, upgrade: bool, awaiting: str | None = None) -> None:
        self.state = state
        self.selected = selected
        self.upgrade = upgrade
        self.awaiting = awaiting


def _condition(tdef: TransitionDef, upgrade: bool, awaiting: str | None = None):
    def check(event_data) -> bool:
        model = event_data.model
        return model.selected is tdef and model.upgrade is upgrade and model.awaiting == awaiting

    return check


def build_machine(d: WorkflowDefinition) -> Machine:
    specs = []
    for tdef in d.transitions:
        for source in tdef.sources:
            specs.append(
                {"trigger": tdef.trigger, "source": source, "dest": tdef.dest, "conditions": [_condition(tdef, False)]}
            )
            specs.append(
                {
                    "trigger": tdef.trigger,
                    "source": source,
                    "dest": tdef.on_upgrade or tdef.dest,
                    "conditions": [_condition(tdef, True)],
                }
            )
            if tdef.rating is not None and d.recognition is not None:
                # a result the recognising level must decide on waits for its decision (issue #10)
                for state in dict.fromkeys(d.recognition.awaiting.values()):
                    specs.append(
                        {
                            "trigger": tdef.trigger,
                            "source": source,
                            "dest": state,
                            "conditions": [_condition(tdef, False, state)],
                        }
                    )
    return Machine(
        model=None,
        states=list(d.states),
        transitions=specs,
        initial=d.initial,
        auto_transitions=False,
        send_event=True,
        name=d.ident,
    )


@dataclass
class Registry:
    catalogue: Catalogue
    definitions: dict[tuple[str, int], WorkflowDefinition]
    default_key: str = "ocop-148"
    policy: Policy | None = None
    criteria: CriteriaSets | None = None

    def __post_init__(self) -> None:
        self._machines: dict[tuple[str, int], Machine] = {}
        self._fired: dict[tuple, tuple[WorkflowDefinition, TransitionDef, str]] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_directory(cls, directory: Path, default_key: str = "ocop-148") -> Registry:
        catalogue, defs = load_directory(Path(directory))
        own = Path(directory) / PERMISSIONS_FILE
        if own.exists():
            policy = load_policy(own, catalogue, defs)
        else:  # a folder of definitions without its own permission file (tests, drafts) gets the shipped one
            from ..config import _shipped_dir

            policy = load_policy(_shipped_dir("workflows") / PERMISSIONS_FILE, catalogue, None)
        criteria = load_sets(Path(directory), catalogue, defs)
        return cls(catalogue, {(d.key, d.version): d for d in defs}, default_key, policy, criteria)

    def get(self, key: str, version: int | None = None) -> WorkflowDefinition:
        if version is None:
            return self.latest(key)
        try:
            return self.definitions[(key, version)]
        except KeyError:
            raise NotFound(
                Text(f"Không có quy trình {key} phiên bản {version}", f"No workflow {key} version {version}")
            ) from None

    def latest(self, key: str) -> WorkflowDefinition:
        versions = [d for (k, _), d in self.definitions.items() if k == key]
        if not versions:
            raise NotFound(Text(f"Không có quy trình {key}", f"No workflow named {key}"))
        return max(versions, key=lambda d: d.version)

    def in_force(self, day: date) -> list[WorkflowDefinition]:
        """The newest version of each definition whose dates in force hold `day`, newest law first."""
        found = [self.latest(k) for k in self.keys()]
        found = [d for d in found if d.in_force(day)]
        return sorted(found, key=lambda d: (d.effective_from or date.min, d.key), reverse=True)

    def default_definition(self, day: date, province_choice: str | None = None) -> tuple[WorkflowDefinition, str]:
        """The definition a new product starts under on `day` (local date), and why:

        1. "province": the province's own setting (organisations.default_workflow), when it names a
           known definition;
        2. "operator": OCOP_DEFAULT_WORKFLOW when the operator set it (`default_key`): one definition
           for every province without its own setting;
        3. "date": the definition in force that day (its effective_from/effective_to), the newest law
           if more than one is;
        4. "newest": none is in force (a date before every definition): the newest law.
        """
        known = set(self.keys())
        if province_choice and province_choice in known:
            return self.latest(province_choice), "province"
        if self.default_key and self.default_key in known:
            return self.latest(self.default_key), "operator"
        current = self.in_force(day)
        if current:
            return current[0], "date"
        newest = max((self.latest(k) for k in known), key=lambda d: (d.effective_from or date.min, d.key))
        return newest, "newest"

    def keys(self) -> list[str]:
        return sorted({k for k, _ in self.definitions})

    def machine(self, d: WorkflowDefinition) -> Machine:
        ident = (d.key, d.version)
        machine = self._machines.get(ident)
        if machine is None:
            with self._lock:
                machine = self._machines.get(ident)
                if machine is None:
                    machine = self._machines[ident] = build_machine(d)
        return machine

    def fire(
        self, d: WorkflowDefinition, state: str, tdef: TransitionDef, upgrade: bool, awaiting: str | None = None
    ) -> str:
        """Run the move through the definition's machine and return the new state.

        The machine's answer depends only on (definition, state, transition, upgrade), so it is
        asked once per combination and its verdict kept: a step then costs a dict look-up instead
        of a trip through the machine's event, conditions and callbacks."""
        key = (id(d), state, id(tdef), upgrade, awaiting)
        known = self._fired.get(key)
        if known is not None and known[0] is d and known[1] is tdef:  # the ids are of these very objects
            return known[2]
        dest = self._fire(d, state, tdef, upgrade, awaiting)
        self._fired[key] = (d, tdef, dest)
        return dest

    def _fire(self, d: WorkflowDefinition, state: str, tdef: TransitionDef, upgrade: bool, awaiting: str | None) -> str:
        subject = _Subject(state, tdef, upgrade, awaiting)
        try:
            moved = self.machine(d).events[tdef.trigger].trigger(subject)
        except (MachineError, KeyError):
            moved = False
        if not moved:  # the engine selected a transition the machine does not have: a bug
            raise RuntimeError(f"{d.ident}: machine refused {tdef.trigger} from {state}")
        return subject.state


def load_sets(directory: Path, catalogue: Catalogue, defs: list[WorkflowDefinition]) -> CriteriaSets:
    """The criteria sets of a folder of definitions (`<folder>/criteria/`), checked against its catalogue
    and definitions; a folder without one (tests, drafts) gets the shipped sets, whose product groups
    are then not checked against the folder's catalogue, as for the permission file."""
    own = Path(directory) / CRITERIA_DIR
    if not own.is_dir():
        from ..config import _shipped_dir

        return load_criteria(_shipped_dir("workflows") / CRITERIA_DIR, catalogue, check_groups=False)
    criteria = load_criteria(own, catalogue)
    problems = uncovered_workflows(criteria, defs)
    if problems:
        raise DefinitionError(problems)
    return criteria


@lru_cache(maxsize=8)
def _cached(directory: str, default_key: str) -> Registry:
    return Registry.from_directory(Path(directory), default_key)


def get_registry(directory: Path | None = None, default_key: str | None = None) -> Registry:
    """The registry of a folder, loaded once per process."""
    from ..config import workflow_settings

    folder, default = workflow_settings() if directory is None or default_key is None else ("", "")
    return _cached(str(directory or folder), default_key or default)
