"""The web layer's response policy in one place: Content-Security-Policy strings, the headers
every page carries, and the headers cross-origin scripts may read.

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

# Headers of every linked-data response (pages, documents, dumps, redirects).
PAGE_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}

# Response headers a cross-origin script may read (CORS Access-Control-Expose-Headers).
EXPOSED_HEADERS = ["ETag", "Retry-After", "Isecg-Release", "Isecg-Row-Limit", "Isecg-Byte-Limit",
                   "Isecg-Result-Truncated", "Isecg-Result-Rows", "Content-Disposition"]
