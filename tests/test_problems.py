"""What /sparql answers when it does not answer (web/endpoint/problems.py): each refusal and
failure with its status, the Retry-After of each 503, and a failed SERVICE named as the query
wrote it."""

from __future__ import annotations

import json

import pytest
from isecg_kg import errors
from isecg_kg.sparql.engine import Limits
from isecg_kg.web.endpoint import problems

LIMITS = Limits(timeout=7.5)


@pytest.mark.parametrize(("exc", "status"), [
    (errors.QueryTooLarge("big"), 413), (errors.QueryRefused("no"), 403),
    (errors.QueryTimeout("late"), 503), (errors.QueryBusy("busy", retry_after=3), 503),
    (errors.QueryAborted("died"), 503), (errors.QueryUnsupported("fn"), 501),
    (errors.QueryFailed("bad"), 500), (errors.QueryServiceFailed("remote"), 502),
    (errors.QuerySyntax("syntax error at line 2, column 3: x", line=2, column=3), 400),
    (errors.QueryError("malformed"), 400)])
def test_each_error_has_its_status(exc, status):
    r = problems.query_error(exc, LIMITS, 1000)
    assert r.status_code == status and json.loads(r.body)["detail"] == str(exc)


def test_a_503_says_when_to_retry():
    busy = problems.query_error(errors.QueryBusy("busy", retry_after=3), LIMITS, 1000)
    assert busy.headers["retry-after"] == "3"
    late = problems.query_error(errors.QueryTimeout("late"), LIMITS, 1000)
    assert late.headers["retry-after"] == "8" and json.loads(late.body)["timeLimit"] == 7.5


def test_a_syntax_error_says_where():
    r = problems.query_error(errors.QueryError("x", line=2, column=3), LIMITS, 1000)
    body = json.loads(r.body)
    assert (body["line"], body["column"]) == (2, 3)


def test_a_failed_service_is_named_as_the_query_wrote_it():
    mirror = "http://127.0.0.1:9/sparql"
    exc = errors.QueryError(f"the query failed: {mirror} timed out")
    r = problems.service_failed(exc, ("https://query.wikidata.org/sparql",),
                                {"https://query.wikidata.org/sparql": mirror})
    body = json.loads(r.body)
    assert r.status_code == 504 and mirror not in body["detail"]
    assert "https://query.wikidata.org/sparql" in body["detail"]
