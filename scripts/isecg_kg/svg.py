"""The picture of ISECG membership over time, as a self-contained SVG computed from the graph.

Each bar counts the member agencies that one source document lists, placed at the source's date
(marked "c." when the graph says that date is approximate); the formation event adds a bar for
the agencies that set the group up. Nothing is interpolated between bars: the sources give no
join dates for agencies first listed later, so the picture draws none (no lines, no steps).
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import escape

import pyoxigraph as ox

from isecg_kg.config import PREFIXES

_PREFIXES = "".join(f"PREFIX {p}: <{PREFIXES[p]}>\n" for p in
                    ("isecg", "org", "dcterms", "time", "rdfs", "skos"))

# Members listed per source, with the source's date. A membership counts for a source when the
# membership names it in dcterms:source.
_PER_SOURCE = _PREFIXES + """
SELECT ?doc ?issued ?approx (COUNT(DISTINCT ?member) AS ?n) WHERE {
  ?ms a isecg:Membership ; org:member ?member ; dcterms:source ?doc .
  ?doc dcterms:issued ?issued .
  OPTIONAL { ?doc isecg:dateIsApproximate ?approx }
} GROUP BY ?doc ?issued ?approx ORDER BY ?issued
"""
_MEMBERS_OF = _PREFIXES + """
SELECT DISTINCT ?member WHERE { ?ms a isecg:Membership ; org:member ?member ; dcterms:source ?doc }
"""
_FORMATION = _PREFIXES + """
SELECT ?event ?when ?n WHERE {
  ?event a isecg:FormationEvent ; isecg:participantCount ?n ; time:hasTime ?t .
  ?t time:inXSDgYearMonth|time:inXSDDate|time:inXSDgYear ?when .
} ORDER BY ?when
"""


@dataclass(frozen=True)
class Bar:
    when: str          # lexical date as the graph gives it: 2007-11, 2010, 2022-05-01
    approximate: bool
    count: int
    what: str          # "formation" or "listed"
    iri: str           # the source document, or the formation event
    title: str


def _label(store: ox.Store, iri: ox.NamedNode) -> str:
    from isecg_kg.describe import label

    return label(store, iri)


def attestations(store: ox.Store) -> list[Bar]:
    """Bars of the picture, in date order: the formation, then one per dated source."""
    bars = []
    for row in store.query(_FORMATION, use_default_graph_as_union=True):
        bars.append(Bar(row["when"].value, False, int(row["n"].value), "formation",
                        row["event"].value, _label(store, row["event"])))
    for row in store.query(_PER_SOURCE, use_default_graph_as_union=True):
        approx = row["approx"] is not None and row["approx"].value == "true"
        bars.append(Bar(row["issued"].value, approx, int(row["n"].value), "listed",
                        row["doc"].value, _label(store, row["doc"])))
    return sorted(bars, key=lambda b: (b.when, b.what))


def first_listed_last(store: ox.Store, bars: list[Bar]) -> int:
    """How many members the latest source lists that no earlier source does (their join dates
    are unknown)."""
    listed = [b for b in bars if b.what == "listed"]
    if not listed:
        return 0
    by_doc: dict[str, set[str]] = {}
    query = _PREFIXES + """SELECT ?doc ?member WHERE {
      ?ms a isecg:Membership ; org:member ?member ; dcterms:source ?doc }"""
    for row in store.query(query, use_default_graph_as_union=True):
        by_doc.setdefault(row["doc"].value, set()).add(row["member"].value)
    last = listed[-1].iri
    earlier = set().union(*(by_doc.get(b.iri, set()) for b in listed[:-1]))
    return len(by_doc.get(last, set()) - earlier)


def _year(when: str) -> float:
    """Position on the time axis: the middle of the year, month or day given."""
    parts = when.split("-")
    year = int(parts[0])
    if len(parts) == 1:
        return year + 0.5
    return year + (int(parts[1]) - 0.5) / 12


def _shown(b: Bar) -> str:
    if b.what == "formation":
        y, _, m = b.when.partition("-")
        months = ["January", "February", "March", "April", "May", "June", "July", "August",
                  "September", "October", "November", "December"]
        return f"{months[int(m) - 1]} {y}" if m else y
    return ("c. " if b.approximate else "") + b.when


def membership_svg(store: ox.Store, *, width: int = 720, height: int = 300) -> str:
    """The SVG document (a string), readable without JavaScript or external files."""
    bars = attestations(store)
    later = first_listed_last(store, bars)
    left, right, top, bottom = 50, 20, 30, 90
    plot_w, plot_h = width - left - right, height - top - bottom
    years = [_year(b.when) for b in bars] or [2007.0, 2022.0]
    y0, y1 = int(min(years)) - 1, int(max(years)) + 2
    peak = max([b.count for b in bars] or [1])
    ymax = max(5, -(-peak // 5) * 5)

    def x(v: float) -> float:
        return left + (v - y0) / (y1 - y0) * plot_w

    def y(n: float) -> float:
        return top + plot_h - n / ymax * plot_h

    out = [(f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
            f'width="{width}" height="{height}" role="img" class="ld-membership" '
            'aria-labelledby="ld-svg-title ld-svg-desc" font-family="sans-serif" font-size="12">'),
           '<title id="ld-svg-title">ISECG member agencies as listed by each source</title>']
    desc = "; ".join(
        f"{_shown(b)}: {'formed by' if b.what == 'formation' else 'listed in'} "
        f"{escape(b.title)}: {b.count}" for b in bars)
    out.append(f'<desc id="ld-svg-desc">{escape(desc)}. No source dates when the {later} '
               'agencies first listed last joined.</desc>')
    out.append(f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>')
    # Axes and grid.
    for n in range(0, ymax + 1, 5):
        out.append(f'<line x1="{left}" x2="{width - right}" y1="{y(n):.1f}" y2="{y(n):.1f}" '
                   'stroke="#dddddd"/>')
        out.append(f'<text x="{left - 6}" y="{y(n) + 4:.1f}" text-anchor="end" '
                   f'fill="#444444">{n}</text>')
    for yr in range(y0, y1 + 1):
        if yr % 2 == 0:
            out.append(f'<line x1="{x(yr):.1f}" x2="{x(yr):.1f}" y1="{top + plot_h}" '
                       f'y2="{top + plot_h + 4}" stroke="#444444"/>')
            out.append(f'<text x="{x(yr):.1f}" y="{top + plot_h + 16}" text-anchor="middle" '
                       f'fill="#444444">{yr}</text>')
    out.append(f'<line x1="{left}" x2="{width - right}" y1="{top + plot_h}" y2="{top + plot_h}" '
               'stroke="#444444"/>')
    out.append(f'<text x="{left}" y="{top - 12}" fill="#222222">member agencies</text>')
    bw = max(10.0, plot_w / (y1 - y0) * 0.7)
    for b in bars:
        cx = x(_year(b.when))
        colour = "#8a5a00" if b.what == "formation" else "#1f5f8b"
        pattern = ' stroke-dasharray="4 2"' if b.approximate else ""
        out.append(f'<g class="ld-bar"><title>{escape(_shown(b))}: {escape(b.title)}: '
                   f'{b.count}</title>')
        out.append(f'<rect x="{cx - bw / 2:.1f}" y="{y(b.count):.1f}" width="{bw:.1f}" '
                   f'height="{y(0) - y(b.count):.1f}" fill="{colour}" stroke="#000000"'
                   f'{pattern}/>')
        out.append(f'<text x="{cx:.1f}" y="{y(b.count) - 5:.1f}" text-anchor="middle" '
                   f'font-weight="bold" fill="#222222">{b.count}</text>')
        out.append('</g>')
    # Legend in words: which bar is which source.
    ly = top + plot_h + 34
    for i, b in enumerate(bars):
        verb = "agencies at the" if b.what == "formation" else "members listed in"
        out.append(f'<text x="{left}" y="{ly + i * 14}" fill="#222222">{escape(_shown(b))}: '
                   f'{b.count} {verb} \u201c{escape(b.title)}\u201d</text>')
    out.append(f'<text x="{width - right}" y="{top - 12}" text-anchor="end" fill="#444444">'
               f'no join dates known for the {later} agencies first listed last</text>')
    out.append("</svg>")
    return "\n".join(out)
