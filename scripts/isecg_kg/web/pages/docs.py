"""The reference pages: the Markdown files of the package's docs/ folder (what README.md points
to for modelling, the endpoint, limits, releases, performance, ...), rendered as pages of the
site by markdown-it-py, the CommonMark parser, with tables on and raw HTML off (the Markdown is
ours, but a page of the site never passes HTML through that no template escaped).

A link to a sibling page (``releases.md``) becomes that page's address (``releases.html``), so
the same files read well on a forge, in a clone and on the site.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from markdown_it import MarkdownIt

DOCS = Path(__file__).resolve().parents[2] / "docs"
INDEX = "index"
_NAME = re.compile(r"[a-z][a-z0-9-]*")


def names() -> list[str]:
    """The pages, by file stem, the index first."""
    found = sorted(p.stem for p in DOCS.glob("*.md") if _NAME.fullmatch(p.stem))
    return sorted(found, key=lambda n: n != INDEX)


def exists(name: str) -> bool:
    return bool(_NAME.fullmatch(name)) and (DOCS / f"{name}.md").is_file()


@cache
def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "typographer": False}).enable("table")


def _page_links(tokens) -> None:
    """Links to a sibling page (``releases.md``, ``releases.md#x``) become its address."""
    for token in tokens:
        if token.children:
            _page_links(token.children)
        if token.type == "link_open":
            path, _, anchor = (token.attrGet("href") or "").partition("#")
            if path.endswith(".md") and _NAME.fullmatch(path[:-3]):
                token.attrSet("href", path[:-3] + ".html" + ("#" + anchor if anchor else ""))


def title(name: str) -> str:
    """The page's first heading (every page starts with one)."""
    first = (DOCS / f"{name}.md").read_text(encoding="utf-8").split("\n", 1)[0]
    return first.lstrip("# ").strip() or name


def html(name: str) -> str:
    """NAME's page body as HTML (not a whole document: the site's template wraps it)."""
    md = _parser()
    tokens = md.parse((DOCS / f"{name}.md").read_text(encoding="utf-8"))
    _page_links(tokens)
    return md.renderer.render(tokens, md.options, {})
