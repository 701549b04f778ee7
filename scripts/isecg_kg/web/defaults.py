"""The web layer's defaults in one place: the response policy (Content-Security-Policy strings,
the headers every page carries, the headers cross-origin scripts may read) and the server's
limits that only the web layer reads. (Reconciliation's own limits stay in web/pages/reconcile.py.)

No page runs a script it did not ship: pages carry no inline script (the query page's scripts are
'self' only; its editor's one <style> element is allowed by a nonce new with every response,
the pyLODE ontology page's inline styles by their hashes). The static export writes the same
page policy into its nginx and Apache rules and into a <meta> of the ontology page.
"""

from __future__ import annotations

# Every HTML page; ``style`` adds sources to style-src (page_csp).
_PAGE_CSP = ("default-src 'none'; style-src 'self'{style}; img-src 'self' data:; "
             "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


def page_csp(style: str = "") -> str:
    """The page policy, with extra style sources (e.g. " 'sha256-…'") when a page needs them."""
    return _PAGE_CSP.format(style=style)


PAGE_CSP = page_csp()
# The query page: its scripts are 'self'; the editor's theme <style> carries the nonce.
QUERY_PAGE_CSP = ("default-src 'none'; script-src 'self'; style-src 'self' 'nonce-{nonce}'; "
                  "connect-src 'self'; img-src 'self' data:; form-action 'self'; "
                  "base-uri 'none'; frame-ancestors 'none'")
# An SVG picture served on its own: nothing in it may load or run anything.
SVG_CSP = "default-src 'none'"

# The methods the service answers (a read-only one): the Allow header of a 405 and of OPTIONS.
ALLOW = "GET, HEAD, POST, OPTIONS"

# Headers of every linked-data response (pages, documents, dumps, redirects).
PAGE_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}

# Response headers a cross-origin script may read (CORS Access-Control-Expose-Headers).
EXPOSED_HEADERS = ["ETag", "Retry-After", "Isecg-Release", "Isecg-Row-Limit", "Isecg-Byte-Limit",
                   "Isecg-Result-Truncated", "Isecg-Result-Rows", "Content-Disposition"]

# --- server limits ------------------------------------------------------------------------------
# (serve's limits the CLI also states — connections, timeouts, budgets — are in config.py)
MAX_PATH_BYTES = 8 * 1024  # no IRI of ours is longer than a few hundred bytes
MIN_WORKER_MEMORY = 640  # MiB of address space: 512 could not load even the real data
MEMORY_CHECK = 0.5  # seconds between two readings of the server's resident memory
# A query whose client hangs up may finish within this many seconds (its answer is cached and
# its worker kept); past it, the query is cancelled and its worker killed and replaced. Killing at
# once made a load generator's end, 100 clients hanging up on cheap queries, kill every worker.
DISCONNECT_GRACE = 0.5
# Bytes of request line and headers a connection may send before the request is complete.
# It must hold a GET whose query string carries a query at the size limit, percent-encoded
# (3 bytes per byte): with h11's default of 16 KiB such requests were cut off with a reset.
HEADER_ROOM = 16 * 1024
GRACE = 5.0  # seconds beyond the query time limit that a shutdown waits for requests in flight
