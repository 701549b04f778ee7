"""Child processes the parent can always stop (children.py): an answer back, the deadline kept,
a death described in one line, and a child stopped whichever way it was started."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from isecg_kg import children


def _square(n: int) -> int:
    return n * n


def _sleep(seconds: float) -> None:
    time.sleep(seconds)


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_run_gives_back_the_answer(method):
    assert children.run(_square, 12, timeout=30, method=method) == 144


def test_run_kills_the_child_at_its_deadline():
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        children.run(_sleep, 30, timeout=0.5)
    assert time.monotonic() - started < 20  # the child sleeps 30 s: killed, not awaited


def test_a_child_that_dies_is_described():
    with pytest.raises(ChildProcessError, match="signal SIGKILL"):
        children.run(_die, timeout=30)


def test_death_names_a_rust_panic_in_one_line():
    stderr = (b"thread '<unnamed>' panicked at library/core/src/slice/sort.rs:1:1:\n"
              b"user-provided comparison function does not correctly implement a total order\n")
    assert children.death(-6, stderr) == ("signal SIGABRT; pyoxigraph panicked: user-provided "
                                          "comparison function does not correctly implement a "
                                          "total order")
    assert children.death(1, b"") == "exit status 1"


def test_stop_ends_a_popen_that_ignores_sigterm():
    script = ("import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
              "print(1, flush=True); time.sleep(60)")
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE)
    proc.stdout.readline()  # SIGTERM is ignored from here on
    children.stop(proc, grace=0.2)
    assert proc.returncode == -signal.SIGKILL


def test_stop_kills_a_multiprocessing_child_at_once():
    ctx = children.context("fork")
    proc, conn = children.start(ctx, _wait_on_pipe, name="isecg-test-child")
    children.stop(proc)
    conn.close()
    assert proc.exitcode == -signal.SIGKILL


def _wait_on_pipe(conn) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    conn.recv()
