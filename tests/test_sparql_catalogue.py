"""The named queries' catalogue (sparql/catalogue.py): headers, and `isecg-kg queries`. What
each named query answers is in test_named_queries.py.
"""

from __future__ import annotations

import pytest
from conftest import run_cli
from isecg_kg.errors import QueryError
from isecg_kg.sparql.catalogue import named_queries, parse_header


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
