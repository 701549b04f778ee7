"""What stops a query from reaching the network when the checks (guard.py) were wrong.

The checks approve each SERVICE endpoint and hand the engine their own re-emission of the
query, so the engine reads what they read. This is the second line, in the processes that
evaluate queries:

* ``deny_network()``: a seccomp filter (libseccomp, through pyseccomp) under which socket()
  fails with EACCES for every address family but AF_UNIX, and io_uring_setup (whose rings can
  open sockets too) with EPERM, for the rest of the process's life, in all its threads; a
  syscall of another ABI (the 32-bit ``int 0x80`` door) kills it. The server's query workers
  install it before they load the store, and so does the CLI's one-shot child for a query
  without SERVICE: pyoxigraph's SERVICE client then fails (502) before any packet is sent,
  whatever the query says.
* ``confirm_services(text, approved)``: the only processes left able to connect are the
  server's SERVICE workers, which evaluate nothing but queries the checks approved a SERVICE
  for. Before evaluating, they read the text again with rdflib's SPARQL parser (an independent
  grammar and implementation) and refuse it unless the SERVICE endpoints found there are
  exactly those approved, in number and in order. (A query the engine's parser rejects is
  told so first, by ``sealed_syntax_error``: a parse on a thread sealed like a worker.)
"""

from __future__ import annotations

import errno
import socket

from isecg_kg.errors import QueryError, QueryRefused


class SealError(QueryError):
    """The network could not be denied to a worker (no libseccomp, or the kernel refused)."""


def deny_network(*, this_thread_only: bool = False) -> None:
    """From now on, this process and its threads (or this thread and those it starts) can
    open no socket but AF_UNIX ones."""
    try:
        import pyseccomp as seccomp

        f = seccomp.SyscallFilter(seccomp.ALLOW)
        if not this_thread_only:
            f.set_attr(seccomp.Attr.CTL_TSYNC, 1)  # every thread of the process
        f.add_rule(seccomp.ERRNO(errno.EACCES), "socket",
                   seccomp.Arg(0, seccomp.NE, socket.AF_UNIX))
        f.add_rule(seccomp.ERRNO(errno.EPERM), "io_uring_setup")
        f.load()
    except (ImportError, OSError, RuntimeError, ValueError, AttributeError) as exc:
        raise SealError(f"cannot deny network access to query workers (seccomp: {exc}); this "
                        "server needs Linux with libseccomp (Debian: libseccomp2)") from None


def services_read_by_rdflib(text: str) -> list[str]:
    """The SERVICE endpoints of TEXT as rdflib's SPARQL parser reads it, in order."""
    from rdflib.plugins.sparql.parser import parseQuery
    from rdflib.plugins.sparql.parserutils import CompValue

    found: list[str] = []

    def walk(node) -> None:
        if isinstance(node, CompValue):
            if node.name == "ServiceGraphPattern":
                found.append(str(node.get("term")))
            for value in node.values():
                walk(value)
        elif isinstance(node, (list, tuple)) or hasattr(node, "as_list"):
            for value in node:
                walk(value)

    walk(parseQuery(text))
    return found


def sealed_syntax_error(text: str, base_iri: str | None) -> SyntaxError | None:
    """The engine's syntax error for TEXT, if it has one, found on a thread that can open no
    network socket (the query is evaluated there over an empty store: a SERVICE fails at
    once). A SERVICE worker asks first, so a malformed query is told its mistake in the
    engine's words rather than refused by the second reading."""
    import threading

    import pyoxigraph as ox

    from isecg_kg.sparql.engine import WORKER_STACK

    found: list = []

    def parse() -> None:
        try:
            deny_network(this_thread_only=True)
            result = ox.Store().query(text, base_iri=base_iri)
            if not isinstance(result, (bool, ox.QueryBoolean)):
                for _ in result:
                    pass
        except SyntaxError as exc:
            found.append(exc)
        except Exception:  # noqa: BLE001 - not a syntax error: the second reading decides
            pass

    old = threading.stack_size(WORKER_STACK)
    try:
        thread = threading.Thread(target=parse, name="isecg-sealed-parse", daemon=True)
        thread.start()
    finally:
        threading.stack_size(old)
    thread.join()
    return found[0] if found else None


def confirm_services(text: str, approved: tuple[str, ...]) -> None:
    """Raise QueryRefused unless rdflib reads in TEXT exactly the APPROVED SERVICE endpoints."""
    try:
        found = services_read_by_rdflib(text)
    except Exception as exc:  # noqa: BLE001 - pyparsing's errors, or rdflib's own
        raise QueryRefused("a query that calls a SERVICE endpoint is read twice before it may "
                           "connect, and the second reading (rdflib's SPARQL parser) could not "
                           f"read this one ({' '.join(str(exc).split())[:200]}); nothing was "
                           "sent") from None
    if found != list(approved):
        raise QueryRefused(f"the SERVICE endpoints read a second time ({', '.join(found) or 'none'}"
                           f") are not those the checks approved ({', '.join(approved) or 'none'}"
                           "); nothing was sent")
