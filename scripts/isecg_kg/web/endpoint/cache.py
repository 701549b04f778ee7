"""A bounded answer cache: the dataset is immutable for the life of a server process (one
release, one ETag), so a query's answer never changes and can be served again from memory.

Keys are kept as SHA-256 digests, never as given: a key holds a query text of up to 64 KiB, which
Python stores at up to 4 bytes per character, and 1,100 such keys grew the server by 264 MB while
the budget counted answer bodies only. What the budget counts is what the cache holds: the
caller's size of each value, plus the digest and the bookkeeping of its entry. A caller that
needs a key's digest for more than one look-up (the endpoint: its ETag, get, then put) computes
it once with ``digest`` and passes it as ``hashed``.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Hashable

ENTRY_BYTES = 256  # a digest (33 B + object), a tuple, a dict slot and a list node, rounded up


def digest(key: Hashable) -> bytes:
    """32 bytes standing for a key (str, bytes, numbers, None and tuples of them)."""
    return hashlib.sha256(repr(key).encode("utf-8", "backslashreplace")).digest()


class AnswerCache:
    """Least-recently-used, bounded by entries and by bytes: values' sizes plus ENTRY_BYTES each."""

    def __init__(self, max_entries: int = 1024, max_bytes: int = 64 << 20,
                 max_item_bytes: int = 1 << 20):
        self.max_entries, self.max_bytes, self.max_item_bytes = max_entries, max_bytes, \
            max_item_bytes
        self._items: OrderedDict[bytes, tuple[object, int]] = OrderedDict()
        self._bytes = 0
        self.hits = self.misses = 0

    @property
    def bytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: Hashable | None, *, hashed: bytes | None = None):
        """The value kept for KEY (or for the key whose ``digest`` is HASHED), or None."""
        k = digest(key) if hashed is None else hashed
        item = self._items.get(k)
        if item is None:
            self.misses += 1
            return None
        self._items.move_to_end(k)
        self.hits += 1
        return item[0]

    def put(self, key: Hashable | None, value: object, size: int, *,
            hashed: bytes | None = None) -> None:
        k = digest(key) if hashed is None else hashed
        size += ENTRY_BYTES
        if size > self.max_item_bytes or k in self._items:
            return
        self._items[k] = (value, size)
        self._bytes += size
        while len(self._items) > self.max_entries or self._bytes > self.max_bytes:
            _, (_, old) = self._items.popitem(last=False)
            self._bytes -= old

    def clear(self) -> None:
        self._items.clear()
        self._bytes = 0
