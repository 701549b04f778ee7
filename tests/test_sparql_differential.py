"""The checks and the engine read the same query (issue 21), tested by generation, not by a list
of known tricks: every SPARQL keyword (in three spellings, and with each letter of the SERVICE
family written as a \\u escape) is glued to each of its neighbours — prefixed names, IRIs,
braces and punctuation, other keywords, variables, strings, numbers, escapes, comments — on
either side, and the SERVICE / SILENT / PREFIX / BASE / CONSTRUCT / WHERE family (as written
and with its first letter escaped) between every pair of the neighbours that reach a prologue,
a prefix, an IRI or a group; hypothesis then glues random runs of all the pieces. Each text
is placed in a group pattern (the SERVICE / PREFIX ones also in the prologue and before the
query form), under PREFIX and BASE declarations that point at a loopback canary (``SERVICE:``
is a declared prefix there, so is ``x:``, redefined).

For each, the checks refuse it, or the engine evaluates the checks' re-emission exactly as a
query worker does (``engine.execute``; here without the worker's network seal, so that any
SERVICE the engine reads would connect): the canary must count 0 connections, and the one
allowed endpoint (a second listener) none from queries in which the checks saw no SERVICE.
"""

from __future__ import annotations

import itertools
import time

import pyoxigraph as ox
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from isecg_kg.errors import QueryError
from isecg_kg.sparql.engine import QueryRequest, execute
from isecg_kg.sparql.guard import KEYWORDS, check_query
from servers import Canary

FAMILY = ("SERVICE", "SILENT", "PREFIX", "BASE", "CONSTRUCT", "WHERE", "SELECT", "FROM",
          "NAMED", "GRAPH")
BASE_IRI = "http://127.0.0.1:9/sparql"


class Listeners:
    def __init__(self):
        self.canary, self.allowed = Canary(), Canary()
        self.bad = f"http://127.0.0.1:{self.canary.port}"
        self.good = f"http://127.0.0.1:{self.allowed.port}/sparql"
        self.store = ox.Store()
        self.store.add(ox.Quad(ox.NamedNode("http://x.example/s"),
                               ox.NamedNode("http://x.example/p"), ox.Literal("o")))
        self.checked = self.quiet = 0
        self.calling: list[str] = []  # re-emissions with an approved SERVICE: run last

    def prologue(self) -> str:
        b = self.bad
        return (f"PREFIX x: <{self.good}> PREFIX : <{b}/> PREFIX SERVICE: <{b}/s> "
                f"PREFIX SILENT: <{b}/t> PREFIX x: <{b}/y> BASE <{b}/b/> ")

    def neighbours(self) -> list[str]:
        return ["x:", ":", "x:y", ":y", "SERVICE:", f"<{self.bad}/i>", f"<{self.good}>", "<i>",
                "{", "}", "(", ")", ".", ";", "*", "?x", '"s"', "1", "a", "SILENT", "WHERE",
                "SERVICE", "\\u0053", "\\u003A", "#c\n", "\n", "@en", "^^",
                f"x:<{self.bad}/z>"]

    def core(self) -> list[str]:
        """The neighbours that reach the prologue, a prefix, an IRI or a group."""
        return ["x:", ":", "SERVICE:", f"<{self.bad}/i>", f"<{self.good}>", "<i>", "{", "}", "(",
                "?x", '"s"', "SILENT", "WHERE", "\\u0053", "#c\n", f"x:<{self.bad}/z>"]

    def texts(self, fragment: str, everywhere: bool):
        group = "{ ?s ?p ?o }"
        yield f"{self.prologue()}SELECT * WHERE {{ ?s ?p ?o . {fragment} {group} }}"
        if everywhere:  # also where the prologue and the query form are read
            yield f"{self.prologue()}{fragment} {group}"
            yield f"{self.prologue()}{fragment} SELECT * WHERE {group}"

    def try_all(self, fragment: str, everywhere: bool = True) -> None:
        for text in self.texts(fragment, everywhere):
            self.checked += 1
            try:
                checked = check_query(text, service_allow=(self.good,), base_iri=BASE_IRI)
            except QueryError:
                continue
            if checked.services:
                self.calling.append(checked.text)
            else:
                self.quiet += 1
                self.evaluate(checked.text)

    def evaluate(self, text: str) -> None:
        """What a worker does with a re-emission (``engine.execute``)."""
        try:
            execute(self.store, QueryRequest(text, base_iri=BASE_IRI))
        except QueryError:
            pass

    def close(self):
        self.canary.close()
        self.allowed.close()


@pytest.fixture(scope="module")
def listeners():
    ls = Listeners()
    yield ls
    ls.close()


def spellings(word: str, every_escape: bool = True) -> list[str]:
    out = [word, word.lower()] + ([word.title()] if word in FAMILY else [])
    if word in FAMILY:  # each letter in turn as a \u escape (or the first one only)
        out += [word[:i] + f"\\u{ord(c):04X}" + word[i + 1:] for i, c in enumerate(word)
                if every_escape or i == 0]
    return out


def test_every_keyword_glued_to_each_neighbour(listeners):
    around = listeners.neighbours()
    for keyword in sorted(KEYWORDS | {"a"}):
        for word in spellings(keyword):
            for n in around:
                listeners.try_all(n + word, keyword in FAMILY)
                listeners.try_all(word + n, keyword in FAMILY)
    time.sleep(0.3)
    assert listeners.canary.count == 0
    assert listeners.allowed.count == 0, "the engine called a SERVICE the checks did not see"
    assert listeners.checked > 10_000 and listeners.quiet > 1000  # many pass: a real test


def test_the_service_family_between_every_pair_of_neighbours(listeners):
    around = listeners.core()
    quiet_before, calling_before = listeners.quiet, len(listeners.calling)
    for keyword in FAMILY:
        for word in spellings(keyword, every_escape=False)[:1] + spellings(keyword)[3:4]:
            for left, right in itertools.product(around, around):
                listeners.try_all(left + word + right, keyword in ("SERVICE", "PREFIX"))
    time.sleep(0.3)
    assert listeners.canary.count == 0
    assert listeners.allowed.count == 0, "the engine called a SERVICE the checks did not see"
    assert len(listeners.calling) > calling_before and listeners.quiet > quiet_before


def _piece(ls: Listeners):
    words = sorted(KEYWORDS | {"a"})
    return st.one_of(
        st.sampled_from(words).flatmap(lambda w: st.sampled_from(spellings(w))),
        st.sampled_from(ls.neighbours()),
    )


@pytest.fixture(scope="module")
def generated(listeners):
    return listeners


@settings(max_examples=300, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_random_runs_of_glued_pieces(generated, data):
    ls = generated
    pieces = data.draw(st.lists(_piece(ls), min_size=1, max_size=6))
    seps = data.draw(st.lists(st.sampled_from(["", "", " ", "\n"]), min_size=len(pieces),
                              max_size=len(pieces)))
    ls.try_all("".join(p + s for p, s in zip(pieces, seps, strict=True)))
    assert ls.canary.count == 0


def test_approved_calls_reach_only_the_allowed_endpoint(listeners):
    """Last: the texts in which the checks approved a SERVICE. They reach the allowed
    endpoint (so the listeners are not blind), never the canary."""
    time.sleep(0.3)
    assert listeners.allowed.count == 0  # nothing before: the quiet texts called nobody
    for text in dict.fromkeys(listeners.calling):
        listeners.evaluate(text)
    time.sleep(0.3)
    assert listeners.canary.count == 0
    assert listeners.allowed.count > 0
