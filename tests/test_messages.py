"""Issue #11: every message a definition's guards give is whole in each language.

The guards are evaluated for every transition from every state of both definitions (every version)
on products made to fail each requirement: missing documents, documents to upload again, a
certificate held or not, a star out of range, the step's own inputs, a score no range takes, a step
not possible from a state, a role that may not take it. No message may mix languages ("và/and",
"/and"), write ">=", or name a raw trigger or state key where a person expects the step's label.
"""

from __future__ import annotations

import re
from datetime import date
from types import SimpleNamespace

import pytest

from ocop_workflow.engine import Registry, WorkflowDefinition
from ocop_workflow.engine.definition import Range
from ocop_workflow.errors import GuardFailed, InvalidData, InvalidTrigger, OcopError, PermissionDenied
from ocop_workflow.i18n import Text
from ocop_workflow.services import products
from ocop_workflow.services.access import Actor
from ocop_workflow.services.authz import TAKE_STEP, authorize
from ocop_workflow.services.certificates import Held

MIXED = ("/and", "và/and", ">=", "<=")


def _definitions(registry: Registry) -> list[WorkflowDefinition]:
    out = [registry.get(key, version) for key in ("ocop-148", "ocop-1489") for version in (1, 2)]
    assert {d.key for d in out} == {"ocop-148", "ocop-1489"}
    return out


def _product(definition: WorkflowDefinition, state: str, star: int | None, kind: str, group: str) -> SimpleNamespace:
    return SimpleNamespace(
        id=1,
        state=state,
        workflow_key=definition.key,
        workflow_version=definition.version,
        product_group=group,
        current_star=star,
        application_type="upgrade",
        producer=SimpleNamespace(kind=kind),
        producer_id=1,
        commune=None,
    )


def _collect(registry: Registry, definition: WorkflowDefinition) -> list[Text]:
    """Every refusal the guards and the step selection give for `definition`."""
    cat = registry.catalogue
    all_docs = set(cat.document_types)
    texts: list[Text] = []
    steps = products._steps(definition)
    nobody = Actor(None, [], registry.policy)
    for state in definition.states:
        for t in definition.transitions_from(state):
            for group in cat.product_groups:
                for kind in cat.producer_kinds:
                    for star in (None, 1, 3, 5):
                        product = _product(definition, state, star, kind, group)
                        for held in (None, Held(1, "OCOP-X", 3, "province", date(2030, 1, 1))):
                            # nothing in the dossier, no inputs: documents, star, certificate, comment, score
                            texts += products._missing_for(registry, t, product, set(), None, None, True, held, None)
                            # everything on file but older than the application: the documents to renew
                            texts += products._missing_for(
                                registry, t, product, all_docs, None, None, True, held, set()
                            )
            denied = authorize(nobody, TAKE_STEP, _product(definition, state, None, "household", "food"), transition=t)
            assert not denied
            texts.append(denied.reason)
            if t.score is not None:
                for score in (-1.0, 0.0, 29.5, 50.0, 85.5, 100.0):
                    if not t.score.contains(score):
                        try:
                            products._candidate_for_score([t], score)
                        except InvalidData as exc:
                            texts.append(exc.text)
        # every trigger of the definition from every state it is not possible in
        for trigger in {t.trigger for t in definition.transitions} - set(definition.triggers_from(state)):
            with pytest.raises(InvalidTrigger) as err:
                products._select_step(definition, steps, state, trigger, None, None, None)
            texts.append(err.value.text)
    return texts


def _forbidden(definition: WorkflowDefinition) -> tuple[list[str], list[str]]:
    """Keys that must never appear (any key with an underscore, as is) and the short keys that must
    not appear quoted as a step or state would be ("«idea»", "“rated”")."""
    keys = set(definition.states) | {t.trigger for t in definition.transitions}
    long = sorted(k for k in keys if "_" in k)
    quoted = sorted(f"{q[0]}{k}{q[1]}" for k in keys for q in ("«»", "“”", '""', "''"))
    return long, quoted


def test_every_guard_message_is_whole_in_each_language(registry: Registry) -> None:
    seen = 0
    for definition in _definitions(registry):
        texts = _collect(registry, definition)
        assert len(texts) > 100, definition.ident
        long, quoted = _forbidden(definition)
        bad = []
        for text in {(t.vi, t.en) for t in texts}:
            for lang, message in zip(("vi", "en"), text, strict=True):
                seen += 1
                wrong = [m for m in MIXED if m in message]
                wrong += [k for k in long if re.search(rf"(?<![\w-]){re.escape(k)}(?![\w-])", message)]
                wrong += [k for k in quoted if k in message]
                if wrong:
                    bad.append((definition.ident, lang, wrong, message))
        assert not bad, "\n".join(map(str, bad[:20]))
    assert seen > 200


def test_guard_messages_are_in_their_own_language(registry: Registry) -> None:
    """The Vietnamese text has no English connective, the English one no Vietnamese word."""
    vi_only = re.compile(r"[ạảãàáâậầấẩẫăắằặẳẵđêềếệểễôốồộổỗơớờợởỡưứừựửữ]", re.IGNORECASE)
    for definition in _definitions(registry):
        for t in _collect(registry, definition):
            assert not re.search(r"\b(and|or|must|missing)\b", t.vi), t.vi
            # labels of the catalogue may quote a Vietnamese proper name; the sentence itself is English
            assert not re.search(r"\b(và|hoặc|phải|thiếu|cần)\b", t.en), t.en
            assert vi_only.search(t.vi) or t.vi == t.en, t.vi


def test_star_and_score_ranges_read_as_words() -> None:
    star = Range(3, 5).text("star")
    assert (star.vi, star.en) == ("hạng sao hiện tại từ 3 đến dưới 5", "the current star from 3 to under 5")
    score = Range(70, 90).text()
    assert (score.vi, score.en) == ("từ 70 đến dưới 90 điểm", "from 70 to under 90 points")
    assert Range(85.5, None).text().vi == "từ 85,5 điểm trở lên"
    assert Range(85.5, None).text().en == "85.5 points or more"
    assert Range(None, 50).text().get("en") == "under 50 points"
    assert Range(70, 90).describe() == "≥ 70, < 90"


def test_a_score_outside_the_steps_ranges_is_refused_in_the_readers_format(registry: Registry) -> None:
    definition = registry.latest("ocop-148")
    ranged = next(t for t in definition.transitions if t.score is not None and t.score.min is not None)
    with pytest.raises(InvalidData) as err:
        products._candidate_for_score([ranged], ranged.score.min - 0.5)
    below = ranged.score.min - 0.5
    assert f"{below:g}".replace(".", ",") in err.value.message("vi")
    assert f"{below:g}" in err.value.message("en")
    with pytest.raises(InvalidData) as err:
        products._validate_inputs(None, "100,5")
    assert "100,5" in err.value.message("vi") and "100.5" in err.value.message("en")
    assert products._validate_inputs(None, "85,5") == 85.5
    for bad in ("1_0", "+5", "1e3", "85.5.1"):
        with pytest.raises(InvalidData):
            products._validate_inputs(None, bad)


def test_a_step_not_possible_here_names_labels_on_a_real_product(world, db, registry: Registry) -> None:
    """The same messages reach a caller of `advance` (both backends): labels, never keys."""
    from ocop_workflow.services.access import load_actor

    with db.transaction() as s:
        commune = load_actor(s, world.user("commune_officer", "C1"))
        product = products.create_product(
            s, registry, commune, name="Mật ong bạc hà", product_group="food", producer_id=world.producers["household"]
        )
        pid, definition = product.id, products.definition_of(registry, product)
    later = next(t for t in definition.transitions if product.state not in t.sources and "_" in t.trigger)
    with db.transaction() as s, pytest.raises(InvalidTrigger) as err:
        products.advance(s, registry, pid, later.trigger, load_actor(s, world.user("commune_officer", "C1")))
    for lang in ("vi", "en"):
        message = err.value.message(lang)
        assert later.label.get(lang) in message and later.trigger not in message
        assert definition.state_label(product.state).get(lang) in message
    first = definition.transitions_from(product.state)[0]
    with db.transaction() as s, pytest.raises((GuardFailed, PermissionDenied)) as err:
        products.advance(s, registry, pid, first.trigger, load_actor(s, world.user("commune_officer", "C1")))
    assert isinstance(err.value, OcopError)
    for lang in ("vi", "en"):
        message = err.value.message(lang)
        assert not any(m in message for m in MIXED) and first.trigger not in message, message
