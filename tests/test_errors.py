"""The exceptions (errors.py): where an input error is, what each exit code is, and what a
failed store tells whom."""

from __future__ import annotations

from isecg_kg import errors


def test_an_input_error_says_where():
    assert str(errors.InputError("bad", path="data/x.ttl", line=3, column=7)) == \
        "data/x.ttl:3:7: bad"
    assert str(errors.InputError("bad", path="data/x.ttl")) == "data/x.ttl: bad"
    assert str(errors.InputError("bad")) == "bad"


def test_only_a_failed_check_exits_1():
    ones = {c.__name__ for c in vars(errors).values()
            if isinstance(c, type) and issubclass(c, errors.IsecgError) and c.exit_code == 1}
    assert ones == {"ValidationFailed", "InconsistencyError"}


def test_every_query_error_the_endpoint_answers_is_a_query_error():
    for name in ("QueryTooLarge", "QueryBusy", "QueryAborted", "QueryUnsupported",
                 "QueryFailed", "QueryServiceFailed", "QueryTimeout", "QuerySyntax"):
        assert issubclass(getattr(errors, name), errors.QueryError), name
    assert issubclass(errors.QueryTooLarge, errors.QueryRefused)


def test_a_failed_store_keeps_its_address_for_the_log_only():
    exc = errors.StoreError("http://store:7878/query", "is unavailable", status=503,
                            detail="x" * 1000)
    assert exc.reason == "is unavailable" and exc.status == 503
    assert "http://store:7878/query" in str(exc) and len(str(exc)) < 400
