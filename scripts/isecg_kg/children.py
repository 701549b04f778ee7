"""Child processes that the parent can always stop: the one way to start, wait for and kill them.

Work runs in a child when nothing else can stop it: a SPARQL query (pyoxigraph cannot be
interrupted), owlrl's closure (it has no budget of its own), and, for the tests and the
benchmark, a server. Here:

* ``context(method, preload)`` and ``start(ctx, target, *args)``: a multiprocessing child with a
  duplex pipe to it, ``target(conn, *args)`` (the server's query workers: long-lived, each loads
  the store once);
* ``run(fn, *args, timeout=..., method=...)``: ``fn(*args)`` in a child, its pickled return value
  back over a pipe read against the deadline; past it the child is killed (``TimeoutError``, or
  the caller's own exception); a child that dies without answering is described, with its
  signal and a Rust panic's message from its stderr (``ChildProcessError``, or the caller's):
  one wording for every caller. The CLI's one-shot query uses "fork" (milliseconds); a caller
  with threads running (the build's owlrl closure) passes "spawn";
* ``stop(proc, grace=...)``: SIGTERM with ``grace`` seconds to exit (none: SIGKILL at once),
  then SIGKILL, then reap; for a multiprocessing ``Process`` or a ``subprocess.Popen``; never
  raises.

This is the ground floor (the build and the sparql wing both use it); it imports nothing of the
package.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import select
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable
from typing import Any


def context(method: str, preload: Iterable[str] = ()):
    """A multiprocessing context; with "forkserver", children forked from a server that
    imported only ``preload`` (fast, and none of the parent's threads copied)."""
    ctx = multiprocessing.get_context(method)
    if preload:
        ctx.set_forkserver_preload(list(preload))
    return ctx


def start(ctx, target: Callable, *args, name: str | None = None):
    """(process, the parent's end of a duplex pipe) of a started daemon child running
    ``target(its end of the pipe, *args)``."""
    parent, child = ctx.Pipe(duplex=True)
    process = ctx.Process(target=target, args=(child, *args), daemon=True, name=name)
    process.start()
    child.close()
    return process, parent


def _running(proc) -> bool:
    return proc.poll() is None if isinstance(proc, subprocess.Popen) else proc.exitcode is None


def _wait(proc, seconds: float) -> None:
    if isinstance(proc, subprocess.Popen):
        try:
            proc.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            pass
    else:
        proc.join(seconds)


def stop(proc, *, grace: float = 0.0, reap: float = 10.0) -> None:
    """End ``proc`` and reap it: SIGTERM first when ``grace`` > 0, SIGKILL once it is still
    running; never raises (a child already gone is fine)."""
    try:
        if grace > 0 and _running(proc):
            proc.terminate()
            _wait(proc, grace)
        if _running(proc):
            proc.kill()
            _wait(proc, reap)
    except (OSError, ValueError, AssertionError):
        pass


def death(exitcode: int | None, stderr: bytes) -> str:
    """How a child ended, in a few words: its signal or exit status, and a Rust panic's message
    (pyoxigraph's, the only Rust that runs in our children)."""
    if exitcode is None:
        why = "still running"
    elif exitcode < 0:
        why = f"signal {signal.Signals(-exitcode).name}"
    else:
        why = f"exit status {exitcode}"
    lines = stderr.decode("utf-8", "replace").splitlines()
    panic = next((lines[i + 1].strip() for i, line in enumerate(lines[:-1])
                  if " panicked at " in line), None)
    return f"{why}; pyoxigraph panicked: {panic[:300]}" if panic else why


def _child(conn, errors: str, fn: Callable, args: tuple) -> None:
    # stderr goes to a file, so that a crash is reported in one line
    fd = os.open(errors, os.O_WRONLY)
    os.dup2(fd, 2)
    os.close(fd)
    data = memoryview(pickle.dumps(fn(*args)))
    out = conn.fileno()
    while data:
        data = data[os.write(out, data):]
    conn.close()


def run(fn: Callable, *args, timeout: float, method: str = "fork", what: str = "the child",
        hint: str = "", errors: tuple[type[Exception], type[Exception]] = (
            TimeoutError, ChildProcessError)) -> Any:
    """``fn(*args)`` computed in a child killed at ``timeout`` seconds: its return value.

    The one wording of a child's failure, in the caller's exceptions (``errors``): past the
    deadline, ``errors[0]``("WHAT ran past its time limit of T s" + HINT); a child that ends
    without an answer (a signal, a crash, or ``fn`` raised: return errors as values to keep
    them), ``errors[1]``("WHAT's process died before it answered (how, in ``death``'s words)").
    """
    timed_out, died = errors
    ctx = multiprocessing.get_context(method)
    with tempfile.NamedTemporaryFile(prefix="isecg-child-") as stderr:
        reader, writer = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=_child, args=(writer, stderr.name, fn, args), daemon=True)
        proc.start()
        writer.close()
        chunks, deadline = [], time.monotonic() + timeout
        try:
            fd = reader.fileno()
            while True:
                left = deadline - time.monotonic()
                if left <= 0 or not select.select([fd], [], [], left)[0]:
                    raise timed_out(f"{what} ran past its time limit of {timeout:g} s{hint}")
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    break
                chunks.append(chunk)
            proc.join()
        finally:
            stop(proc)
            reader.close()
        if not chunks:
            stderr.seek(0)
            raise died(f"{what}'s process died before it answered "
                       f"({death(proc.exitcode, stderr.read(65536))})")
    return pickle.loads(b"".join(chunks))
