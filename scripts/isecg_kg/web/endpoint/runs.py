"""Query runs on the engines, shared and cut short: one run for every request of the same
uncached query in flight at once (a burst of one query took every worker and queued the rest
past the admission wait), cancelled, freeing its worker, when the last request waiting for it is
gone; a request whose client hangs up lets its run finish for DISCONNECT_GRACE (its answer is
then cached) and no longer."""

from __future__ import annotations

import asyncio

from starlette.requests import Request

from isecg_kg.errors import QueryError
from isecg_kg.sparql.engine import Engine, QueryRequest, QueryResult
from isecg_kg.web.defaults import DISCONNECT_GRACE


class ClientLeft(Exception):
    """The client hung up before its answer (499: nobody is left to answer)."""


class Runs:
    """The runs in flight, by answer key (QueryRequest.key)."""

    def __init__(self, grace: float = DISCONNECT_GRACE):
        self.grace = grace
        self._inflight: dict = {}  # answer key -> [task of the engine run, requests awaiting it]

    def __contains__(self, key) -> bool:
        return key in self._inflight

    async def run(self, engine: Engine, req: QueryRequest, request: Request,
                  client: str) -> QueryResult:
        """REQ's answer from ENGINE, from the run another request started if there is one; the
        run takes heavy slots in the name of the client that started it. ClientLeft when this
        request's client hung up first."""
        key = req.key
        shared = self._inflight.get(key)
        if shared is None or shared[0].cancelling():  # a run being cancelled is not joined
            shared = self._inflight[key] = [asyncio.ensure_future(engine.run(req, client)), 0]

            def forget(_, entry=shared):
                if self._inflight.get(key) is entry:
                    del self._inflight[key]

            shared[0].add_done_callback(forget)
        shared[1] += 1
        try:
            return await self._unless_disconnected(request, asyncio.shield(shared[0]))
        finally:
            shared[1] -= 1
            if shared[1] == 0 and not shared[0].done():
                shared[0].cancel()

    async def _unless_disconnected(self, request: Request, work):
        """Run ``work`` but cancel it (freeing its worker) when the client hangs up and it does
        not end within the grace."""
        task = asyncio.ensure_future(work)

        async def watch():
            while True:
                message = await request.receive()
                if message["type"] == "http.disconnect":
                    return

        watcher = asyncio.ensure_future(watch())
        try:
            done, _ = await asyncio.wait({task, watcher}, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            task.cancel()
            watcher.cancel()
            raise
        if task in done:
            watcher.cancel()
            return task.result()
        try:
            done, _ = await asyncio.wait({task}, timeout=self.grace)
        except asyncio.CancelledError:
            task.cancel()
            raise
        if task in done and not task.exception():
            return task.result()  # nobody will read it, but the cache will
        task.cancel()
        try:
            await task
        except (asyncio.CancelledError, QueryError):
            pass
        raise ClientLeft
