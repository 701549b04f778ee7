"""serve's options in one place (web/options.py): checked whenever options are made, and what
the server's parts take from them. (Each flag's refusal through the CLI: test_server_options.)"""

from __future__ import annotations

import pytest
from isecg_kg.config import WIKIDATA_SPARQL
from isecg_kg.errors import InputError
from isecg_kg.web.defaults import HEADER_ROOM
from isecg_kg.web.options import ServerOptions


@pytest.mark.parametrize(("options", "message"), [
    ({"query_timeout": 0}, "--query-timeout must be positive, not 0"),
    ({"worker_memory": -5 << 20}, "--worker-memory must be positive, not -5"),
    ({"worker_memory": 512 << 20}, "--worker-memory must be at least 640 MiB"),
    ({"client_budget": -1.0}, "--client-budget must be 0 (none) or positive"),
    ({"trust_proxy": ("proxy.example",)}, "--trust-proxy takes an IP address"),
    ({"disconnect_grace": 0}, "--disconnect-grace must be positive"),
])
def test_options_are_checked_however_they_are_made(options, message):
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        ServerOptions(**options)


def test_a_wikidata_mirror_is_allowed_and_wikidata_s_iri_sent_there():
    assert ServerOptions().services() == ((WIKIDATA_SPARQL,), {})
    mirror = "http://127.0.0.1:9/sparql"
    allow, where = ServerOptions(wikidata_endpoint=mirror).services()
    assert allow == (WIKIDATA_SPARQL, mirror) and where == {WIKIDATA_SPARQL: mirror}
    assert ServerOptions(service_allow=(), wikidata_endpoint=mirror).services() == ((), {})


def test_what_the_parts_take():
    options = ServerOptions(query_timeout=3, max_rows=7, max_answer_bytes=99,
                            max_query_bytes=1000, trust_proxy=("::ffff:10.0.0.1",))
    assert (options.limits().timeout, options.limits().max_rows,
            options.limits().max_bytes) == (3, 7, 99)
    assert options.head_limit() == 3 * 1000 + 2 * HEADER_ROOM
    assert options.clients().of_connection("10.0.0.1") is None  # a trusted proxy
    assert ServerOptions(client_budget=None).budgets() is None
    assert ServerOptions(client_budget=5, budget_window=9).budgets().seconds == 5
