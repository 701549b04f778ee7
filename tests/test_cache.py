"""The answer cache: bounded by entries and bytes, least recently used evicted first."""

from __future__ import annotations

import sys

from isecg_kg.web.endpoint.cache import ENTRY_BYTES, AnswerCache


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
    c = AnswerCache(max_bytes=10 + 2 * ENTRY_BYTES, max_item_bytes=6 + ENTRY_BYTES)
    c.put("big", "x", 7)
    assert c.get("big") is None
    c.put("a", 1, 6)
    c.put("b", 2, 6)
    assert c.get("a") is None and c.get("b") == 2
    assert c.bytes == 6 + ENTRY_BYTES


def test_keys_are_held_as_digests_whatever_their_size():
    # a 64 KiB query text with one character outside the BMP: Python holds it at 4 bytes per
    # character (256 KiB); the cache must hold 32 bytes for it, and count what it holds
    c = AnswerCache(max_entries=10_000, max_bytes=1 << 30)
    texts = [f"ASK {{}} # {i} \U0001F680" + "x" * 65_000 for i in range(50)]
    assert sys.getsizeof(texts[0]) > 4 * 65_000
    for t in texts:
        c.put((t, "json"), b"{}", 2)
    held = sum(sys.getsizeof(k) for k in c._items)
    assert held < 50 * 100, held
    assert c.bytes == 50 * (2 + ENTRY_BYTES)
    assert all(c.get((t, "json")) == b"{}" for t in texts)
    assert c.get((texts[0], "xml")) is None  # every part of the key counts
