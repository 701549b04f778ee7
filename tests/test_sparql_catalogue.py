"""The named queries' catalogue (sparql/catalogue.py): headers, and `isecg-kg queries`. What
each named query answers is in test_named_queries.py.
"""

from __future__ import annotations

import pytest
from conftest import run_cli
from isecg_kg.errors import QueryError
from isecg_kg.sparql.catalogue import (
    named_queries,
    parameter_defaults,
    parse_header,
    without_defaults,
)


def test_header_parsing(tmp_path):
    text = ("# title: Members on a date\n# description: Agencies that were members\n"
            "#   on the given day.\n# param: date xsd:date the day\n"
            "# param: agency iri one agency\n"
            "# returns: one row per agency\nSELECT ?date ?agency WHERE { }\n")
    h = parse_header(text)
    assert h["title"] == "Members on a date"
    assert h["description"] == "Agencies that were members on the given day."
    assert h["params"]["date"].type == "xsd:date" and h["params"]["agency"].type == "iri"
    assert h["returns"] == "one row per agency"
    (tmp_path / "bad.rq").write_text("# param: x notatype\nSELECT * {}")
    with pytest.raises(QueryError, match="bad.rq:1"):
        named_queries(tmp_path)


def test_named_queries_listed_one_per_line():
    queries = named_queries()
    proc = run_cli("queries", check=True)
    lines = [line for line in proc.stdout.splitlines() if line]
    assert len(lines) == len(queries)
    for line, (name, q) in zip(lines, queries.items(), strict=True):
        assert line == f"{name}\t{q.title}"
        assert q.title, f"{name}.rq has no '# title:' header"


def test_a_bound_parameter_loses_its_own_value_and_only_it():
    """A binding replaces a parameter's own value: its OPTIONAL { VALUES ... } clause is cut (an
    external store such as Virtuoso 7 fails on both at once), the rest of the query kept."""
    text = ('PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>\n'
            'SELECT ?a ?d WHERE {\n  OPTIONAL { VALUES ?a { <http://example.org/x> } }\n'
            '  OPTIONAL { VALUES ?d { "2019-12-31"^^xsd:date } }\n  ?s ?p ?o .\n}')
    cut = without_defaults(text, ["a"])
    assert set(parameter_defaults(text)) == {"a", "d"}
    assert set(parameter_defaults(cut)) == {"d"}
    assert "<http://example.org/x>" not in cut and "?s ?p ?o ." in cut
    assert without_defaults(text, ["nothing"]) == text
    for query in named_queries().values():
        assert parameter_defaults(without_defaults(query.text, list(query.params))) == {}
