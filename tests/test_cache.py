"""The answer cache: bounded by entries and bytes, least recently used evicted first."""

from __future__ import annotations

from isecg_kg.web.cache import AnswerCache


def test_returns_what_was_put_and_counts_hits():
    c = AnswerCache()
    assert c.get("q") is None
    c.put("q", "answer", 6)
    assert c.get("q") == "answer"
    assert (c.hits, c.misses) == (1, 1)


def test_evicts_the_least_recently_used_past_the_entry_bound():
    c = AnswerCache(max_entries=2)
    c.put("a", 1, 1)
    c.put("b", 2, 1)
    c.get("a")
    c.put("c", 3, 1)
    assert c.get("b") is None and c.get("a") == 1 and c.get("c") == 3


def test_stays_within_its_byte_budget_and_skips_large_answers():
    c = AnswerCache(max_bytes=10, max_item_bytes=6)
    c.put("big", "x", 7)
    assert c.get("big") is None
    c.put("a", 1, 6)
    c.put("b", 2, 6)
    assert c.get("a") is None and c.get("b") == 2
