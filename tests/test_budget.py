"""Query time per client (web/http/budget.py): spent in a sliding window, 429 with Retry-After
beyond, cached answers free, clients told apart by their address (loopback has many: 127.0.0.2
is another client) and by X-Forwarded-For only from a proxy given with --trust-proxy."""

from __future__ import annotations

import httpx
import pytest
from bench.endpoint import client_at
from conftest import run_cli
from isecg_kg.web.http.budget import ClientBudgets
from servers import isecg_server

# Uncached work: every run is a new text (the comment), ~0.1 s of engine time each.
HEAVY = ("SELECT (COUNT(*) AS ?n) {{ ?a ?b ?c . ?d ?e ?f FILTER(isLiteral(?c) && isLiteral(?f)) }}"
         " # {tag}")


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_client_over_its_budget_waits_until_its_spending_leaves_the_window():
    clock = Clock()
    b = ClientBudgets(10, 60, clock=clock)
    b.charge("a", 4)
    clock.now += 20
    b.charge("a", 7)           # 11 s in the window
    assert b.retry_after("b") is None
    assert b.retry_after("a") == 40  # the first 4 s leave the window 60 s after they were spent
    clock.now += 40
    assert b.retry_after("a") is None  # 7 s left in the window


def test_the_table_of_clients_is_bounded_and_forgets_idle_ones():
    clock = Clock()
    b = ClientBudgets(10, 60, clock=clock, max_clients=3)
    for c in "abcde":
        b.charge(c, 1)
    assert len(b) == 3
    clock.now += 61
    assert b.retry_after("e") is None and len(b) == 2  # e's record emptied and dropped


def heavy(client: httpx.Client, url: str, tag: str) -> httpx.Response:
    return client.get(url + "/sparql", params={"query": HEAVY.format(tag=tag)},
                      headers={"Accept": "application/sparql-results+json"})


def test_over_budget_is_429_naming_the_limit_and_others_still_run(dist):
    with isecg_server(dist, "--client-budget", "0.2", "--budget-window", "600") as url, \
            client_at("127.0.0.1") as greedy, client_at("127.0.0.2") as other:
        answers = [heavy(greedy, url, f"g{i}") for i in range(40)]
        refused = [r for r in answers if r.status_code == 429]
        assert refused, [r.status_code for r in answers]
        assert all(r.status_code in (200, 429) for r in answers)
        last = refused[-1]
        assert 1 <= int(last.headers["Retry-After"]) <= 600
        assert "--client-budget" in last.json()["detail"]
        assert "127.0.0.1" in last.json()["detail"]
        # a cached answer costs nothing; another address has its own budget
        assert heavy(greedy, url, "g0").status_code == 200
        assert heavy(other, url, "o0").status_code == 200


def test_forwarded_addresses_count_only_from_a_trusted_proxy(dist):
    with isecg_server(dist, "--client-budget", "0.2", "--budget-window", "600",
                      "--trust-proxy", "127.0.0.1") as url, client_at("127.0.0.1") as proxy, \
            client_at("127.0.0.2") as liar:
        def via(address: str, tag: str) -> int:
            return proxy.get(url + "/sparql", params={"query": HEAVY.format(tag=tag)},
                             headers={"X-Forwarded-For": f"{address}, 127.0.0.9"}).status_code

        codes = [via("192.0.2.1", f"a{i}") for i in range(40)]
        assert 429 in codes
        assert via("192.0.2.2", "b0") == 200  # the proxy's next client is not charged for it
        # from an address not trusted, the header is ignored: its own address is charged
        lies = [liar.get(url + "/sparql", params={"query": HEAVY.format(tag=f"l{i}")},
                         headers={"X-Forwarded-For": f"198.51.100.{i}"}).status_code
                for i in range(40)]
        assert 429 in lies


@pytest.mark.parametrize("args, message", [
    (["--client-budget", "-1"], "--client-budget must be 0 (none) or positive"),
    (["--budget-window", "0"], "--budget-window must be positive"),
    (["--trust-proxy", "proxy.example"], "--trust-proxy takes an IP address"),
])
def test_bad_budget_options_are_named(dist, args, message):
    proc = run_cli("serve", "--dist", str(dist), "--port", "0", *args)
    assert proc.returncode == 2 and message in proc.stderr, proc.stderr


def test_an_ipv4_mapped_address_is_the_same_client_as_its_ipv4(dist):
    """Issue 21: behind --trust-proxy, ::ffff:203.0.113.9 and 203.0.113.9 had two budgets."""
    with isecg_server(dist, "--client-budget", "0.2", "--budget-window", "600",
                      "--trust-proxy", "127.0.0.1") as url, client_at("127.0.0.1") as proxy:
        def via(address: str, tag: str) -> int:
            return proxy.get(url + "/sparql", params={"query": HEAVY.format(tag=tag)},
                             headers={"X-Forwarded-For": address}).status_code

        codes = [via("::ffff:203.0.113.9", f"m{i}") for i in range(40)]
        assert 429 in codes
        r = proxy.get(url + "/sparql", params={"query": HEAVY.format(tag="v4")},
                      headers={"X-Forwarded-For": "203.0.113.9"})
        assert r.status_code == 429 and "203.0.113.9" in r.json()["detail"], r.text
        assert "::ffff" not in r.json()["detail"]
        assert via("203.0.113.10", "other") == 200


# ~1 s of engine time on the test build: 1,500 x 1,500 literal pairs compared
SLOW = ("SELECT (COUNT(*) AS ?n) { { SELECT ?c { ?a ?b ?c FILTER isLiteral(?c) } LIMIT 1500 } "
        "{ SELECT ?f { ?d ?e ?f FILTER isLiteral(?f) } LIMIT 1500 } FILTER(STR(?c) < STR(?f)) }")
LIGHT = "SELECT * {{ ?s ?p ?o }} LIMIT 1 # {tag}"  # a few milliseconds, uncached (the comment)


def test_a_client_is_charged_the_time_its_query_held_a_worker_not_its_wait_for_one(dist):
    import concurrent.futures
    import time

    def light(tag: str) -> int:
        return waiting.get(url + "/sparql", params={"query": LIGHT.format(tag=tag)},
                           headers={"Accept": "application/sparql-results+json"}).status_code

    with isecg_server(dist, "--workers", "1", "--client-budget", "0.3", "--budget-window",
                      "600") as url, client_at("127.0.0.1") as busy, \
            client_at("127.0.0.2") as waiting, \
            concurrent.futures.ThreadPoolExecutor(1) as pool:
        slow = pool.submit(busy.get, url + "/sparql", params={"query": SLOW},
                           headers={"Accept": "application/sparql-results+json"}, timeout=60)
        time.sleep(0.2)  # the one worker is taken
        t0 = time.monotonic()
        queued = light("q0")
        waited = time.monotonic() - t0
        assert slow.result().status_code == 200
        assert queued == 200 and waited > 0.3, waited  # it waited past its whole budget...
        # ...and was charged only its own few milliseconds: its next queries still run
        assert [light(f"q{i}") for i in range(1, 4)] == [200] * 3
