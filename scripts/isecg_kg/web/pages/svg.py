"""The picture of ISECG membership over time, as a self-contained SVG computed from the graph.

It asks the named query ``members-as-of`` (the rule the query page and the CLI use) on every day
where an answer can change: the first and last day each membership may have begun, and the day a
membership ended. Between two such days nothing changes, so the picture is a step chart: a solid
band for the members for certain and a hatched band above it for the possible members (a claim
whose year or month contains the day, or sources that disagree). Nothing is interpolated.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from xml.sax.saxutils import escape

import pyoxigraph as ox

from isecg_kg.config import PREFIXES

_XSD_DATE = ox.NamedNode(PREFIXES["xsd"] + "date")


@dataclass(frozen=True)
class Step:
    day: str           # ISO date from which the counts hold
    members: int       # members for certain
    possibly: int      # possible members beyond those
    joined: tuple[str, ...]  # acronyms that became certain members on this day
    left: tuple[str, ...]    # acronyms whose membership ended on this day


def _standing(store: ox.Store, day: str) -> list[dict[str, str]]:
    from isecg_kg.sparql.catalogue import named_queries

    text = named_queries()["members-as-of"].text
    rows = store.query(text, use_default_graph_as_union=True,
                       substitutions={ox.Variable("date"): ox.Literal(day, datatype=_XSD_DATE)})
    return [{k: row[k].value for k in ("acronym", "status", "earliest", "latest")
             if row[k] is not None} for row in rows]


def _next_day(day: str) -> str:
    return (date.fromisoformat(day) + timedelta(days=1)).isoformat()


def steps(store: ox.Store) -> list[Step]:
    """The days on which the answer of members-as-of changes, with the counts from each."""
    first = _standing(store, "1900-01-01")
    days = {r["earliest"] for r in first} | {r["latest"] for r in first}
    # Former members: the day their membership ended is where the answer says "former" first.
    ends = _ends(store)
    days |= set(ends)
    out: list[Step] = []
    before: dict[str, str] = {r["acronym"]: r["status"] for r in first}
    for day in sorted(d for d in days if d):
        rows = _standing(store, day)
        now = {r["acronym"]: r["status"] for r in rows}
        joined = tuple(sorted(a for a, s in now.items()
                              if s == "member" and before.get(a) != "member"))
        left = tuple(sorted(a for a, s in now.items()
                            if s == "former" and before.get(a) != "former"))
        counts = (sum(s == "member" for s in now.values()),
                  sum(s == "possibly" for s in now.values()))
        if not out or (out[-1].members, out[-1].possibly) != counts or joined or left:
            out.append(Step(day, counts[0], counts[1], joined, left))
        before = now
    return out


def _ends(store: ox.Store) -> list[str]:
    query = (f"PREFIX isecg: <{PREFIXES['isecg']}> PREFIX time: <{PREFIXES['time']}> "
             "SELECT ?v WHERE { ?m isecg:endClaim/isecg:claimedTime/time:inXSDDate ?v }")
    return [row["v"].value for row in store.query(query, use_default_graph_as_union=True)]


def _year(day: str) -> float:
    d = date.fromisoformat(day)
    return d.year + (d.timetuple().tm_yday - 1) / 365.25


def caption(found: list[Step]) -> str:
    """What the picture draws, in words, from the same steps: the home page's caption."""
    def change(s: Step) -> str:
        moves = ([f"{', '.join(s.joined)} joined"] if s.joined else []) + (
            [f"{', '.join(s.left)} left"] if s.left else [])
        return f"{s.members} from {s.day}" + (f" ({'; '.join(moves)})" if moves else "")

    certain = "; ".join(change(s) for s in found if s.joined or s.left)
    most = max((s.possibly for s in found), default=0)
    hatched = (f" Hatched: the agencies that were possibly members on a day (at most {most} at "
               "once), where a claim gives only the year or month that contains the day (a year "
               "is the whole year, a month the whole month, never its first day) or the sources "
               "disagree." if most else "")
    return ("Member agencies over time, by the rule of the named query members-as-of, asked on "
            f"every day its answer changes. Members for certain (solid): {certain}." + hatched)


def membership_svg(store: ox.Store, *, width: int = 400, height: int = 250,
                   found: list[Step] | None = None) -> str:
    """The SVG document (a string), readable without JavaScript or external files. Drawn 400
    units wide, so that its 12-unit text stays readable on a phone (390 px)."""
    found = steps(store) if found is None else found
    left, right, top, bottom = 34, 12, 26, 74
    plot_w, plot_h = width - left - right, height - top - bottom
    y0 = int(_year(found[0].day)) - 1 if found else 2006
    # never today's date: builds are deterministic
    y1 = int(_year(found[-1].day)) + 3 if found else 2025
    peak = max([s.members + s.possibly for s in found] or [1])
    ymax = max(5, -(-peak // 5) * 5)

    def x(v: float) -> float:
        return left + (v - y0) / (y1 - y0) * plot_w

    def y(n: float) -> float:
        return top + plot_h - n / ymax * plot_h

    out = [(f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
            f'width="{width}" height="{height}" role="img" class="ld-membership" '
            'aria-labelledby="ld-svg-title ld-svg-desc" font-family="sans-serif" font-size="12">'),
           ('<title id="ld-svg-title">ISECG member agencies over time, from the sourced '
            'claims of when each joined</title>')]
    desc = "; ".join(f"from {s.day}: {s.members} members" +
                     (f" and {s.possibly} possible" if s.possibly else "") for s in found)
    out.append(f'<desc id="ld-svg-desc">{escape(desc)}.</desc>')
    out.append(f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>')
    out.append('<defs><pattern id="ld-hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
               'patternTransform="rotate(45)"><rect width="6" height="6" fill="#d7e6f2"/>'
               '<line x1="0" y1="0" x2="0" y2="6" stroke="#1f5f8b" stroke-width="2"/>'
               '</pattern></defs>')
    for n in range(0, ymax + 1, 5):
        out.append(f'<line x1="{left}" x2="{width - right}" y1="{y(n):.1f}" y2="{y(n):.1f}" '
                   'stroke="#dddddd"/>')
        out.append(f'<text x="{left - 6}" y="{y(n) + 4:.1f}" text-anchor="end" '
                   f'fill="#444444">{n}</text>')
    for yr in range(y0, y1 + 1):
        if yr % 4 == 0:
            out.append(f'<line x1="{x(yr):.1f}" x2="{x(yr):.1f}" y1="{top + plot_h}" '
                       f'y2="{top + plot_h + 4}" stroke="#444444"/>')
            out.append(f'<text x="{x(yr):.1f}" y="{top + plot_h + 16}" text-anchor="middle" '
                       f'fill="#444444">{yr}</text>')
    out.append(f'<line x1="{left}" x2="{width - right}" y1="{top + plot_h}" y2="{top + plot_h}" '
               'stroke="#444444"/>')
    out.append(f'<text x="{left}" y="{top - 12}" fill="#222222">member agencies</text>')
    # One rectangle per interval between two steps: certain below, possible (hatched) above.
    for i, s in enumerate(found):
        x_from = x(_year(s.day))
        x_to = x(_year(found[i + 1].day)) if i + 1 < len(found) else x(y1)
        w = max(x_to - x_from, 0.5)
        tip = f"from {s.day}: {s.members} members" + (
            f", {s.possibly} possibly" if s.possibly else "") + (
            f"; joined: {', '.join(s.joined)}" if s.joined else "") + (
            f"; left: {', '.join(s.left)}" if s.left else "")
        out.append(f'<g class="ld-step"><title>{escape(tip)}</title>')
        out.append(f'<rect x="{x_from:.1f}" y="{y(s.members):.1f}" width="{w:.1f}" '
                   f'height="{y(0) - y(s.members):.1f}" fill="#1f5f8b"/>')
        if s.possibly:
            out.append(f'<rect x="{x_from:.1f}" y="{y(s.members + s.possibly):.1f}" '
                       f'width="{w:.1f}" height="{y(s.members) - y(s.members + s.possibly):.1f}" '
                       'fill="url(#ld-hatch)"/>')
        out.append('</g>')
    ly = top + plot_h + 32
    out.append(f'<rect x="{left}" y="{ly - 10}" width="12" height="12" fill="#1f5f8b"/>')
    out.append(f'<text x="{left + 18}" y="{ly}" fill="#222222">members for certain</text>')
    out.append(f'<rect x="{left}" y="{ly + 8}" width="12" height="12" fill="url(#ld-hatch)"/>')
    out.append(f'<text x="{left + 18}" y="{ly + 18}" fill="#222222">possibly members (only '
               'the year or month</text>')
    out.append(f'<text x="{left + 18}" y="{ly + 33}" fill="#222222">is known, or sources '
               'disagree)</text>')
    out.append("</svg>")
    return "\n".join(out)
