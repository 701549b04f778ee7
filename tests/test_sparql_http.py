"""The one SPARQL-over-HTTP client (sparql/http.py): credentials kept out of every URL that is
printed, a DTD refused before any parser sees it, and a body cut at its size, its deadline or
when its client went away."""

from __future__ import annotations

import threading
import time

import pytest
from isecg_kg.errors import RemoteError
from isecg_kg.sparql.http import bounded, refuse_dtd, split_credentials


def test_credentials_are_taken_out_of_the_url():
    assert split_credentials("http://user:p%40ss@host:8890/crud?x=1") == (
        "http://host:8890/crud?x=1", ("user", "p@ss"))
    assert split_credentials("http://u@[::1]/store") == ("http://[::1]/store", ("u", ""))
    assert split_credentials("https://host/sparql") == ("https://host/sparql", None)


@pytest.mark.parametrize("body", [
    b'<?xml version="1.0"?><!DOCTYPE sparql [<!ENTITY a "b">]><sparql/>',
    b'<!DOCTYPE rdf:RDF SYSTEM "http://127.0.0.1:9/dtd"><rdf:RDF/>',
])
def test_xml_with_a_dtd_is_refused(body):
    with pytest.raises(RemoteError, match="DTD"):
        refuse_dtd(body, "the endpoint")


def test_xml_without_one_passes_and_broken_xml_is_left_to_the_rdf_parser():
    refuse_dtd(b'<?xml version="1.0"?><sparql xmlns="x"/>', "the endpoint")
    refuse_dtd(b"<sparql><unclosed>", "the endpoint")


def test_a_body_is_cut_at_its_size_its_deadline_or_its_client_gone():
    def fail(why):
        return RuntimeError(why)

    far = time.monotonic() + 60
    assert b"".join(bounded([b"ab", b"cd"], deadline=far, fail=fail, limit=4)) == b"abcd"
    with pytest.raises(RuntimeError, match="size"):
        list(bounded([b"ab", b"cde"], deadline=far, fail=fail, limit=4))
    with pytest.raises(RuntimeError, match="time"):
        list(bounded([b"ab"], deadline=time.monotonic() - 1, fail=fail))
    gone = threading.Event()
    gone.set()
    with pytest.raises(RuntimeError, match="cancelled"):
        list(bounded([b"ab"], deadline=far, fail=fail, cancelled=gone))
