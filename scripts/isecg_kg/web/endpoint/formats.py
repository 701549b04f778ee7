"""Which format a SPARQL answer is written in: the offers (the format registry's answers to each
query form), the names and media types format= may give, and the choice from format= or Accept
(a 406 or 400 problem when there is none)."""

from __future__ import annotations

from isecg_kg import formats
from isecg_kg.web.http import conneg
from isecg_kg.web.http.responses import problem

# Media type -> format name, in the server's order of preference.
RESULT_OFFER = {**{f.media_type: f.name for f in formats.answers("SELECT", served_only=True)},
                "application/json": "json"}
GRAPH_OFFER = {f.media_type: f.name for f in formats.graph_answers()}
GRAPH_OFFER_JSON = {**GRAPH_OFFER, "application/json": "jsonld"}  # Accept, not format= lists
# format= values (names or media types) -> format name, per kind of query. Clients send either:
# SPARQLWrapper sends a short name and the media types of its Accept header together
# (format=tsv&format=text/tab-separated-values, format=json-ld&format=application/ld+json,...).
RESULT_FORMAT_PARAM = formats.param_names(formats.answers("SELECT", served_only=True))
GRAPH_FORMAT_PARAM = formats.param_names(formats.graph_answers())


def format_names(value: str, table: dict[str, str]) -> set[str]:
    """The format names one format= value stands for: a name, a media type, or a list of media
    types as an Accept header writes them (parameters and q-values ignored). A space inside a
    media type is read as the '+' an unencoded URL turned into one."""
    out = set()
    for part in value.split(","):
        key = part.split(";")[0].strip().lower().replace(" ", "+")
        if key in table:
            out.add(table[key])
    return out


def agreed_format(values: list[str], table: dict[str, str], offer: dict[str, str], what: str):
    """The one format all format= values agree on, or a 406 (none offered) / 400 (they ask
    for different formats, each named)."""
    agreed: set[str] | None = None
    for value in values:
        names = format_names(value, table)
        if not names:
            return problem(406, "Not acceptable", f"format={value} is not offered for "
                           f"{what}; offered: {', '.join(dict.fromkeys(offer.values()))}",
                           offered=list(offer), headers={"Vary": "Accept"})
        if agreed is not None and not agreed & names:
            first = next(v for v in values if format_names(v, table) & agreed)
            return problem(400, "Conflicting formats", f"format={first} and format={value} "
                           f"ask for different formats ({', '.join(sorted(agreed))} and "
                           f"{', '.join(sorted(names))}); send one")
        agreed = names if agreed is None else agreed & names
    # a value listing several types leaves a choice: the server's order of preference
    return next(n for n in dict.fromkeys(table.values()) if n in agreed)


def choose_format(form: str | None, fmt_param: list[str] | None, accept: str | None):
    """The format name to answer in, "html" for the page, or a 406 response."""
    graph_kind = form in ("CONSTRUCT", "DESCRIBE")
    table = GRAPH_FORMAT_PARAM if graph_kind else RESULT_FORMAT_PARAM
    offer = GRAPH_OFFER if graph_kind else RESULT_OFFER
    if fmt_param:
        return agreed_format(fmt_param, table, offer, f"{form or 'these'} queries")
    if graph_kind:
        offer = GRAPH_OFFER_JSON
    media = conneg.negotiate(accept, [*offer, "text/html"])
    if media is None:
        return problem(406, "Not acceptable", f"nothing in Accept: {accept} is offered for "
                       f"{form or 'this'} queries; offered: {', '.join(offer)}",
                       offered=list(offer), headers={"Vary": "Accept"})
    return "html" if media == "text/html" else offer[media]
