"""A bounded answer cache: the dataset is immutable for the life of a server process (one
release, one ETag), so a query's answer never changes and can be served again from memory."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable


class AnswerCache:
    """Least-recently-used, bounded by entries and by the bytes of the bodies it holds."""

    def __init__(self, max_entries: int = 1024, max_bytes: int = 64 << 20,
                 max_item_bytes: int = 1 << 20):
        self.max_entries, self.max_bytes, self.max_item_bytes = max_entries, max_bytes, \
            max_item_bytes
        self._items: OrderedDict[Hashable, tuple[object, int]] = OrderedDict()
        self._bytes = 0
        self.hits = self.misses = 0

    def get(self, key: Hashable):
        item = self._items.get(key)
        if item is None:
            self.misses += 1
            return None
        self._items.move_to_end(key)
        self.hits += 1
        return item[0]

    def put(self, key: Hashable, value: object, size: int) -> None:
        if size > self.max_item_bytes or key in self._items:
            return
        self._items[key] = (value, size)
        self._bytes += size
        while len(self._items) > self.max_entries or self._bytes > self.max_bytes:
            _, (_, old) = self._items.popitem(last=False)
            self._bytes -= old
