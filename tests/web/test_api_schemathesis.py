"""Issue #4: schemathesis against the served OpenAPI document, through the WSGI app in-process.

The run is schemathesis' own engine (what `schemathesis run` does), with its phases — the
documented examples, the coverage phase's boundary and invalid values, hypothesis fuzzing with
valid and invalid data, and the stateful phase following the Location links — a fixed seed,
deterministic generation and a bounded number of examples per operation. The caller is a commune
officer whose area holds products and a document. Every check runs; the test fails on any failed
check (a 5xx, a status, content type, header or body that breaks the document, an ignored token,
accepted invalid data, …) and on any error of the run.

(Schemathesis' pytest integration does not run on pytest 9 yet: it reads a private attribute
pytest removed. The engine needs no pytest plugin.)
"""

from __future__ import annotations

import traceback
from collections import Counter

import pytest
import schemathesis
from api_client import issue
from conftest import Env
from schemathesis.engine import Status, events
from schemathesis.engine import from_schema as engine_for

SEED = 20260423
MAX_EXAMPLES = 25
# hypothesis warns when it describes a large generated body (an upload); the run is not affected
pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr:hypothesis.errors.HypothesisWarning")


@pytest.fixture(autouse=True)
def _in_process_transport(monkeypatch: pytest.MonkeyPatch) -> None:
    """Schemathesis 4.32 hands socket options (max_redirects, …) to werkzeug's test client in some
    phases, which refuses them; in-process they mean nothing, so they are dropped."""
    from schemathesis.transport.wsgi import WSGITransport

    send = WSGITransport.send

    def without_socket_options(self, case, *, session=None, **kwargs):
        for name in ("max_redirects", "verify", "cert", "proxies"):
            kwargs.pop(name, None)
        return send(self, case, session=session, **kwargs)

    monkeypatch.setattr(WSGITransport, "send", without_socket_options)


@pytest.fixture
def api_schema(env: Env):
    # something to find: product #1 with document #1 and a second product in the area, one outside it
    first = env.product(name="Vải thiều Lục Ngạn")
    env.attach(first, "idea_registration")
    env.product(name="Mật ong Phượng Sơn", group="food")
    env.product(key="officer3", name="Gà đồi Yên Thế", producer=env.world.producer3)
    token = issue(env, "officer", name="schemathesis")
    config = schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True},
            "headers": {"Authorization": f"Bearer {token}"},
            "max-failures": 50,
            # schema-valid requests the rules refuse are 422 by design (a guard, a file that is not a PDF, …)
            "checks": {"positive_data_acceptance": {"expected-statuses": ["2xx", "401", "403", "404", "409", "422"]}},
        }
    )
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", buffered(env.app), config=config)


def buffered(app):
    """The app as a WSGI callable that reads each response whole and closes it (schemathesis' WSGI
    transport leaves a streamed download's file open)."""

    def wsgi(environ, start_response):
        result = app(environ, start_response)
        try:
            return [b"".join(result)]
        finally:
            if hasattr(result, "close"):
                result.close()

    return wsgi


def _describe(event: events.ScenarioFinished) -> list[str]:
    out = []
    for case_id, checks in event.recorder.checks.items():
        case = event.recorder.cases[case_id].value
        for check in checks:
            if check.status == Status.FAILURE and check.failure_info is not None:
                failure = check.failure_info.failure
                out.append(
                    f"{event.phase.value} {case.method} {case.formatted_path}: {check.name}: "
                    f"{failure.title} — {failure.message[:400]}"
                )
    return out or [f"{event.phase.value} {event.label}: {event.status}"]


@pytest.mark.slow
@pytest.mark.app_config(API_RATE_LIMIT="1000000 per minute")
def test_schemathesis_finds_no_server_error_and_no_response_breaking_the_schema(api_schema):
    problems: list[str] = []
    statuses: Counter = Counter()
    checked: Counter = Counter()
    finished = None
    for event in engine_for(api_schema).execute():
        if isinstance(event, events.ScenarioFinished):
            for interaction in event.recorder.interactions.values():
                if interaction.response is not None:
                    statuses[interaction.response.status_code] += 1
            for checks in event.recorder.checks.values():
                for check in checks:
                    checked[check.name] += 1
            if event.status in (Status.FAILURE, Status.ERROR):
                problems += _describe(event)
        elif isinstance(event, events.NonFatalError):
            where = "".join(traceback.format_exception(event.value)[-3:])
            problems.append(f"error in {event.label}: {event.info.title}: {event.info.message}\n{where}")
        elif isinstance(event, events.FatalError):
            raise event.exception
        elif isinstance(event, events.EngineFinished):
            finished = event
    assert finished is not None and finished.stop_reason.value == "completed"
    assert not problems, "\n".join(dict.fromkeys(problems))
    # the run did reach the API: successes, refusals of every kind, and the main checks ran
    assert not [code for code in statuses if code >= 500], statuses
    assert {200, 201, 400, 401, 404} <= set(statuses), statuses
    assert {
        "not_a_server_error",
        "response_schema_conformance",
        "status_code_conformance",
        "content_type_conformance",
    } <= set(checked), checked
    print(
        f"schemathesis: {sum(statuses.values())} requests, statuses {dict(sorted(statuses.items()))}, "
        f"checks {dict(sorted(checked.items()))}"
    )
