"""The picture of who took part in which product: agencies by product, as a self-contained SVG.

It asks the named query ``product-participants`` (what the query page and the CLI answer) and
draws one row per space agency, one column per product an agency took part in, oldest first. A
filled square is a participation the source names; a hatched one is implied (a country named for
its agency, a member counted but not named). Column heads give each product's date as the graph
has it (a day, a month or a year), never a first day for a month or a year. Drawn for a phone's
width (360 units wide), it stays readable at 390 px.
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import escape

import pyoxigraph as ox

from isecg_kg.config import PREFIXES

ISECG = PREFIXES["isecg"]


@dataclass(frozen=True)
class Column:
    product: str
    short: str     # a short name for the column head
    issued: str    # the date as the graph gives it


def _short_names(store: ox.Store, products: list[str]) -> dict[str, str]:
    """Short column heads from the graph: 'GER 2' (an edition), 'GES', 'Suppl.'."""
    if not products:
        return {}
    values = " ".join(f"<{p}>" for p in products)
    q = f"""PREFIX isecg: <{ISECG}> PREFIX rdfs: <{PREFIXES['rdfs']}>
    SELECT ?p ?n ?kind WHERE {{ VALUES ?p {{ {values} }}
      OPTIONAL {{ ?p isecg:editionNumber ?n }}
      OPTIONAL {{ ?p a ?kind . VALUES ?kind {{ isecg:StrategyDocument isecg:Supplement }} }} }}"""
    out = {}
    for r in store.query(q, use_default_graph_as_union=True):
        p = r["p"].value
        if r["n"] is not None:
            out[p] = f"GER {r['n'].value}"
        elif r["kind"] is not None and r["kind"].value.endswith("StrategyDocument"):
            out.setdefault(p, "GES")
        elif r["kind"] is not None:
            out.setdefault(p, "Suppl.")
    return out


def table(store: ox.Store) -> tuple[list[Column], list[str], dict[tuple[str, str], tuple]]:
    """(columns, agency acronyms in row order, {(acronym, product): (role, implied)})."""
    from isecg_kg.web.pages.record import run_named

    agencies = {r["agency"].value for r in store.query(
        f"SELECT ?agency WHERE {{ ?agency a <{ISECG}SpaceAgency> }}",
        use_default_graph_as_union=True)}
    cells: dict[tuple[str, str], tuple[str, bool]] = {}
    issued: dict[str, str] = {}
    for r in run_named(store, "product-participants"):
        if r["agent"] not in agencies:
            continue
        key = (r["acronym"], r["product"])
        implied = r.get("certainty") == "implied"
        # an agency with several roles in one product: its strongest claim wins
        if key not in cells or (cells[key][1] and not implied):
            cells[key] = (r["role"], implied)
        issued[r["product"]] = r.get("issued", "")

    def lo(day: str) -> str:  # the first day a date allows, only to order the columns
        return day + "-01-01"[len(day) - 4:] if day else "9999"

    products = sorted(issued, key=lambda p: (lo(issued[p]), p))
    names = _short_names(store, products)
    columns = [Column(p, names.get(p, "other"), issued[p]) for p in products]
    first = {}
    for (acronym, product), _ in cells.items():
        first[acronym] = min(first.get(acronym, len(products)), products.index(product))
    rows = sorted(first, key=lambda a: (first[a], a.casefold()))
    return columns, rows, cells


def participation_svg(store: ox.Store) -> str:
    """The SVG document (a string), readable without JavaScript or external files."""
    columns, rows, cells = table(store)
    label_w, col_w, row_h, head_h, top = 112, 48, 17, 44, 26
    width = label_w + col_w * max(len(columns), 1) + 8
    legend_y = top + head_h + row_h * len(rows) + 18
    height = legend_y + 44
    out = [(f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
            f'width="{width}" height="{height}" role="img" class="ld-participation" '
            'aria-labelledby="ld-part-title ld-part-desc" font-family="sans-serif" '
            'font-size="11">'),
           ('<title id="ld-part-title">Which member agencies took part in which ISECG product, '
            'from the sourced contributions</title>')]
    counts = "; ".join(
        f"{c.short} ({c.issued}): {sum(1 for a in rows if (a, c.product) in cells)} agencies"
        for c in columns)
    out.append(f'<desc id="ld-part-desc">{escape(counts)}.</desc>')
    out.append(f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>')
    out.append('<defs><pattern id="ld-part-hatch" width="4" height="4" '
               'patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
               '<rect width="4" height="4" fill="#d7e6f2"/>'
               '<line x1="0" y1="0" x2="0" y2="4" stroke="#1f5f8b" stroke-width="1.6"/>'
               '</pattern></defs>')
    out.append('<text x="0" y="14" fill="#222222">agencies by product</text>')
    for i, c in enumerate(columns):
        cx = label_w + col_w * i + col_w / 2
        out.append(f'<text x="{cx:.1f}" y="{top + 14}" text-anchor="middle" '
                   f'fill="#222222" font-weight="bold">{escape(c.short)}</text>')
        out.append(f'<text x="{cx:.1f}" y="{top + 30}" text-anchor="middle" fill="#444444" '
                   f'font-size="9">{escape(c.issued)}</text>')
    for j, acronym in enumerate(rows):
        y = top + head_h + row_h * j
        if j % 2 == 0:
            out.append(f'<rect x="0" y="{y}" width="{width}" height="{row_h}" fill="#f4f6f9"/>')
        out.append(f'<text x="4" y="{y + 12}" fill="#222222">{escape(acronym)}</text>')
        for i, c in enumerate(columns):
            cell = cells.get((acronym, c.product))
            if cell is None:
                continue
            role, implied = cell
            x = label_w + col_w * i + col_w / 2 - 6
            tip = (f"{acronym}: {role} of {c.short} ({c.issued}), "
                   + ("implied" if implied else "named by the source"))
            fill = "url(#ld-part-hatch)" if implied else "#1f5f8b"
            out.append(f'<g class="ld-cell{" ld-implied" if implied else ""}">'
                       f'<title>{escape(tip)}</title>'
                       f'<rect x="{x:.1f}" y="{y + 2}" width="12" height="12" fill="{fill}" '
                       'stroke="#1f5f8b"/></g>')
    out.append(f'<rect x="4" y="{legend_y - 10}" width="12" height="12" fill="#1f5f8b"/>')
    out.append(f'<text x="22" y="{legend_y}" fill="#222222">named by the source</text>')
    out.append(f'<rect x="4" y="{legend_y + 8}" width="12" height="12" '
               'fill="url(#ld-part-hatch)" stroke="#1f5f8b"/>')
    out.append(f'<text x="22" y="{legend_y + 18}" fill="#222222">implied (a country named, '
               'or a count)</text>')
    out.append("</svg>")
    return "\n".join(out)
