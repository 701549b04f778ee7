"""The named queries: the ``.rq`` files of queries/, their headers, and their parameters.

Each file's ``# title:``, ``# description:``, ``# returns:`` and ``# param: NAME TYPE text``
comment lines describe it, each one line followed by a blank line: SPARQLWrapper 2.0.0 strips
comments with a pattern that eats the line break the next comment line needs, so of two
consecutive ``#`` lines it keeps the second, and then finds its query type in that text ("ADD"
in "straddles": an update, sent by POST and refused). Separated by blank lines, every header
line is stripped, and every other client reads them as the comments they are.

A parameter's own value is written in the query, in standard SPARQL, as the first thing in its
WHERE clause: ``OPTIONAL { VALUES ?date { "2019-12-31"^^xsd:date } }``. A client that knows
nothing of parameters runs the text as it is and gets that value's answer (edit the value to
ask another); a value bound through the engine (``--param``, ``$date=`` on /sparql, the query
page's fields) binds the variable before the OPTIONAL, which then adds nothing.
``bind_params`` turns ``NAME=VALUE`` strings into the engine's substitutions, typed as the
header declares (never by string formatting).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pyoxigraph as ox

from isecg_kg.config import PREFIXES, QUERIES_DIR
from isecg_kg.errors import InputError, QueryError
from isecg_kg.sparql.guard import tokenize

XSD = "http://www.w3.org/2001/XMLSchema#"


@dataclass(frozen=True)
class Param:
    name: str
    type: str            # "iri" or an xsd datatype written as xsd:NAME
    description: str
    default: ox.NamedNode | ox.Literal | None = None  # the query's own value (see above)


@dataclass(frozen=True)
class NamedQuery:
    name: str
    path: Path
    text: str
    title: str = ""
    description: str = ""
    returns: str = ""
    params: dict[str, Param] = field(default_factory=dict)


_HEADER_LINE = re.compile(r"#\s*([A-Za-z]+)\s*:\s?(.*)$")


def parse_header(text: str, where: str = "<query>") -> dict:
    """The ``# key: value`` comment lines at the top of a .rq file (continuations: indented #)."""
    fields: dict[str, str] = {}
    params: dict[str, Param] = {}
    last: str | None = None
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        if not line.startswith("#"):
            break
        m = _HEADER_LINE.match(line)
        if m and m.group(1).lower() in ("title", "description", "returns", "param"):
            key, value = m.group(1).lower(), m.group(2).strip()
            if key == "param":
                parts = value.split(None, 2)
                if len(parts) < 2:
                    raise QueryError(f"{where}:{lineno}: a param line needs NAME TYPE description",
                                     line=lineno)
                name, ptype = parts[0].lstrip("?$"), parts[1]
                if ptype != "iri" and not ptype.startswith("xsd:"):
                    raise QueryError(f"{where}:{lineno}: parameter type {ptype!r} is neither "
                                     "'iri' nor an xsd: datatype", line=lineno)
                params[name] = Param(name, ptype, parts[2] if len(parts) > 2 else "")
                last = None
            else:
                fields[key] = (fields[key] + " " + value) if key in fields else value
                last = key
        elif last and line.lstrip("#").strip():
            fields[last] += " " + line.lstrip("#").strip()
    fields["params"] = params
    return fields


_FORMS = ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")


def _default_clauses(text: str):
    """Each ``OPTIONAL { VALUES ?name { term } }`` of TEXT: (name, start, end, the term's text)."""
    tokens = tokenize(text)
    for i in range(len(tokens) - 7):
        opt, brace, values, var, inner = tokens[i:i + 5]
        if not (opt.kind == "word" and opt.text.upper() == "OPTIONAL" and brace.text == "{"
                and values.kind == "word" and values.text.upper() == "VALUES"
                and var.kind == "var" and inner.text == "{"):
            continue
        end = next((j for j in range(i + 5, len(tokens)) if tokens[j].text == "}"), None)
        if end is None or end == i + 5 or end + 1 >= len(tokens) or tokens[end + 1].text != "}":
            continue
        yield (var.text[1:], opt.start, tokens[end + 1].end,
               text[tokens[i + 5].start:tokens[end - 1].end])


def parameter_defaults(text: str) -> dict[str, ox.NamedNode | ox.Literal]:
    """The values a query gives its variables itself, ``OPTIONAL { VALUES ?name { term } }``,
    read by the engine (with the query's prefixes) from the query's own tokens."""
    form = next((t.start for t in tokenize(text)
                 if t.kind == "word" and t.text.upper() in _FORMS), len(text))
    found: dict[str, ox.NamedNode | ox.Literal] = {}
    for name, _start, _end, term in _default_clauses(text):
        rows = list(ox.Store().query(
            f"{text[:form]}\nSELECT ?v WHERE {{ VALUES ?v {{ {term} }} }}"))
        if len(rows) == 1 and rows[0]["v"] is not None:
            found[name] = rows[0]["v"]
    return found


def without_defaults(text: str, names) -> str:
    """TEXT without the own values of the variables NAMES: where a binding replaces a
    parameter's own value, its clause adds nothing, and Virtuoso 7's compiler fails on a VALUES
    block beside an OPTIONAL one for the same variable (SP031, "sparp_gp_deprecate").
    Blanked, not cut: lines, columns and offsets into TEXT stay where they were."""
    names = set(names)
    for name, start, end, _term in reversed(list(_default_clauses(text))):
        if name in names:
            text = text[:start] + re.sub(r"[^\n]", " ", text[start:end]) + text[end:]
    return text


def load_named_query(path: Path) -> NamedQuery:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read query: {exc}", path=str(path)) from exc
    h = parse_header(text, str(path))
    try:
        defaults = parameter_defaults(text)
    except SyntaxError as exc:
        raise QueryError(f"{path}: a parameter's own value is not a SPARQL term: {exc}") from None
    params = {name: Param(p.name, p.type, p.description, defaults.get(name))
              for name, p in h["params"].items()}
    return NamedQuery(name=path.stem, path=path, text=text, title=h.get("title", ""),
                      description=h.get("description", ""), returns=h.get("returns", ""),
                      params=params)


def named_queries(directory: Path = QUERIES_DIR) -> dict[str, NamedQuery]:
    """The named queries: every ``.rq`` file of the package's queries/ folder, by file stem.

    Read once while the files stay as they are (name, size and modification time): reading
    and tokenizing all of them took 42 ms, and an agency's page asked twice, the home page's
    chart once per day it draws."""
    paths = sorted(Path(directory).glob("*.rq"))
    stamp = tuple((str(p), st.st_size, st.st_mtime_ns) for p in paths for st in (p.stat(),))
    return dict(_read_all(stamp))


@lru_cache(maxsize=4)
def _read_all(stamp: tuple) -> tuple[tuple[str, NamedQuery], ...]:
    return tuple((Path(path).stem, load_named_query(Path(path))) for path, _, _ in stamp)


# Parameters


_CHECKS = {
    "xsd:date": re.compile(r"-?\d{4,}-\d{2}-\d{2}(Z|[+-]\d{2}:\d{2})?$"),
    "xsd:dateTime": re.compile(r"-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?"
                               r"(Z|[+-]\d{2}:\d{2})?$"),
    "xsd:gYear": re.compile(r"-?\d{4,}(Z|[+-]\d{2}:\d{2})?$"),
    "xsd:integer": re.compile(r"[+-]?\d+$"),
    "xsd:decimal": re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)$"),
    "xsd:boolean": re.compile(r"(true|false|1|0)$"),
}


def _iri_value(value: str, what: str) -> ox.NamedNode:
    v = value.strip()
    if v.startswith("<") and v.endswith(">"):
        v = v[1:-1]
    else:
        prefix, sep, local = v.partition(":")
        if sep and prefix in PREFIXES and not local.startswith("//"):
            v = PREFIXES[prefix] + local
    if not re.match(r"[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|^`\\]*$", v):
        raise QueryError(f"{what}: {value!r} is not an IRI; write <http://...> or prefix:name")
    return ox.NamedNode(v)


def typed_value(param: Param | None, value: str, what: str) -> ox.NamedNode | ox.Literal:
    """The RDF term a ``--param`` value stands for, typed as the query header declares."""
    if param is None:  # undeclared: <iri> or a plain string
        if value.startswith("<") and value.endswith(">"):
            return _iri_value(value, what)
        return ox.Literal(value)
    if param.type == "iri":
        return _iri_value(value, what)
    check = _CHECKS.get(param.type)
    if check and not check.match(value.strip()):
        raise QueryError(f"{what}: {value!r} is not a valid {param.type}")
    if param.type in ("xsd:string", "xsd:"):
        return ox.Literal(value)
    return ox.Literal(value.strip(), datatype=ox.NamedNode(XSD + param.type[4:]))


def bind_params(raw: list[str] | dict[str, str], declared: dict[str, Param],
                variables: frozenset[str]) -> dict[str, ox.NamedNode | ox.Literal]:
    """``NAME=VALUE`` strings -> substitutions; an unknown NAME is an error naming it."""
    pairs = raw.items() if isinstance(raw, dict) else []
    if not isinstance(raw, dict):
        pairs = []
        for item in raw:
            name, sep, value = item.partition("=")
            if not sep or not name.strip():
                raise QueryError(f"--param {item!r}: write NAME=VALUE")
            pairs.append((name, value))
    bound: dict[str, ox.NamedNode | ox.Literal] = {}
    for name, value in pairs:
        name = name.strip().lstrip("?$")
        if declared:
            if name not in declared:
                raise QueryError(f"unknown parameter {name!r}: this query takes "
                                 f"{', '.join(sorted(declared)) or 'no parameters'}")
        elif name not in variables:
            raise QueryError(f"unknown parameter {name!r}: the query has no variable ?{name}")
        bound[name] = typed_value(declared.get(name), value, f"parameter {name!r}")
    return bound
