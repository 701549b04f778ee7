"""SPARQL syntax errors a person can act on: the parser's position plus one plain sentence.

pyoxigraph reports where parsing stopped and what its grammar expected there; the expectation is
often misleading (``SELEC ?x`` "expected CONSTRUCT") or a wall of Unicode ranges (an undeclared
prefix). ``explain`` looks at the query with the same tokenizer the checks use and names the
likeliest cause first:

1. an empty query;
2. a string or IRI that is never closed;
3. unbalanced brackets: a closer with nothing open, a closer of the wrong kind, or an opener
   never closed (named with the line and column where it was opened);
4. an undeclared prefix (neither declared in the query nor predeclared);
5. an unknown keyword, with the closest keyword ("did you mean SELECT?");
6. a SELECT that groups (GROUP BY, or an aggregate) and selects a variable it neither groups
   nor aggregates, named where the SELECT uses it (the parser says only "a variable that is
   unbound", or nothing legible when the SELECT is a subquery);
7. otherwise the parser's own expectation, with character ranges and internal names replaced
   by words ("a name", "a number") and the text found there quoted.

The CLI, the endpoint and the query page all show this text (the page shows the endpoint's).
``syntax_error`` turns the parser's exception into a QueryError worded this way;
``engine_error`` and ``service_failure`` word what fails after parsing (an unsupported function,
an engine failure, a SERVICE endpoint that failed). Refusals and time limits are worded where
they are decided (guard, workers).
"""

from __future__ import annotations

import difflib
import re
from bisect import bisect_right

from isecg_kg.config import PREDECLARED
from isecg_kg.errors import (
    QueryError,
    QueryFailed,
    QueryServiceFailed,
    QuerySyntax,
    QueryUnsupported,
)
from isecg_kg.sparql.tokens import KEYWORDS, Token, offset, position, tokenize

# What people mean most often, for suggestions (a typo of a rare function is rarer).
SUGGEST = sorted(KEYWORDS - {"TZ", "IF", "IN", "AS", "BY", "TO"}) + ["a"]

_OPEN = {"{": "}", "(": ")", "[": "]"}
_CLOSE = {v: k for k, v in _OPEN.items()}
_RANGE = re.compile(r"\[[^\]]*\]")


def _found(text: str, at: int, tokens) -> str:
    """What stands where parsing stopped: the token there, or the end of the query."""
    if not text[at:].strip():
        return "end of the query"
    for t in tokens:
        if t.end > at:
            return f"`{t.text[:40]}`"
    return "end of the query"


_WORDS = {'"?"': "a variable", '"$"': "a variable", '"<"': "an IRI", '":"': "a prefixed name",
          '"_:"': "a blank node", '"\\""': "a string", '"\'"': "a string",
          '"\'\'\'"': "a string", '"\\"\\"\\""': "a string", '"["': "a blank node",
          '"true"': "a value", '"false"': "a value", '"<<"': "a quoted triple",
          '"<<("': "a quoted triple"}
_STRUCTURAL = {"SELECT", "CONSTRUCT", "DESCRIBE", "ASK", "WHERE", "FROM", "NAMED", "GROUP", "BY",
               "HAVING", "ORDER", "LIMIT", "OFFSET", "VALUES", "OPTIONAL", "GRAPH", "SERVICE",
               "BIND", "MINUS", "UNION", "FILTER", "LATERAL", "AS", "DISTINCT", "REDUCED",
               "ASC", "DESC", "UNDEF", "TRUE", "FALSE", "IN", "NOT", "EXISTS", "SEPARATOR",
               "PREFIX", "BASE"}


def _expected(detail: str) -> str:
    """The parser's expectation in words: keywords and punctuation kept, character ranges and
    token classes named (a variable, an IRI, a number), function names summed up."""
    detail = re.sub(r"^expected (one of )?", "", detail.strip())
    items: list[str] = []
    functions = 0
    for part in re.split(r",\s*(?![^\[]*\])", detail):
        part = part.strip()
        if not part or part == "[_]" or part in ("Prefix not found", "IRI parsing failed"):
            continue
        if part.startswith("["):
            items.append("a number" if "'0'" in part and "'A'" not in part
                         else "a prefixed name")
        elif part in _WORDS:
            items.append(_WORDS[part])
        elif part.startswith('"'):
            items.append(f"`{part[1:-1]}`")
        elif " " in part:  # a sentence of the parser's own ("Duplicated variable name ...")
            # lower-cased as the rest of the message, unless it opens with a keyword (SELECT *)
            return part if part[:2].isupper() else part[0].lower() + part[1:]
        elif part.upper() in KEYWORDS and part.upper() not in _STRUCTURAL:
            functions += 1
        else:
            items.append(f"`{part}`")
    if functions >= 3:
        items.append("an expression (a variable, a value or a function call)")
    elif functions:
        items.append("a function call")
    items = list(dict.fromkeys(items))
    if not items:
        return ""
    more = f" (or {len(items) - 8} more)" if len(items) > 8 else ""
    return "expected " + (" or ".join(items) if len(items) == 2 else ", ".join(items[:8])) + more


_TERM = ("var", "iri", "pname", "string", "number", "bnode")


def _is_term(t) -> bool:
    return t.kind in _TERM or (t.kind == "word" and t.text.upper() in ("A", "TRUE", "FALSE")
                               and t.text != "A")


def _shape(text: str, tokens) -> tuple[int, int, str] | None:
    """Mistakes recognisable from the tokens alone: a triple pattern missing its object, a
    CONSTRUCT without a template, UNION outside the WHERE clause, a BIND to a variable the
    group already uses."""
    depth = 0
    seen_top: dict[str, int] = {}
    for i, t in enumerate(tokens):
        upper = t.text.upper() if t.kind == "word" else ""
        if depth == 0 and upper in ("LIMIT", "OFFSET", "HAVING", "ORDER", "GROUP"):
            if upper in seen_top:
                ln, col = position(text, t.start)
                oln, ocol = position(text, seen_top[upper])
                return ln, col, (f"`{upper}` appears a second time (first at line {oln}, "
                                 f"column {ocol}); a query has one")
            seen_top[upper] = t.start
        if upper == "CONSTRUCT" and i + 1 < len(tokens) and tokens[i + 1].text not in ("{",) \
                and tokens[i + 1].text.upper() != "WHERE":
            ln, col = position(text, tokens[i + 1].start)
            return ln, col, ("CONSTRUCT needs a template in braces: CONSTRUCT { ?s ?p ?o } "
                             "WHERE { … }")
        if t.kind == "other" and t.text == "{":
            depth += 1
        elif t.kind == "other" and t.text == "}":
            depth -= 1
        if upper == "UNION" and depth == 0:
            ln, col = position(text, t.start)
            return ln, col, ("UNION joins two groups inside the WHERE clause: "
                             "WHERE { { … } UNION { … } }")
        if upper == "BIND" and i + 1 < len(tokens):
            close = next((j for j in range(i + 2, len(tokens)) if tokens[j].text.upper() == "AS"
                          and j + 1 < len(tokens) and tokens[j + 1].kind == "var"), None)
            if close is not None:
                var = tokens[close + 1].text[1:]
                opened = max((j for j in range(i) if tokens[j].text == "{"), default=0)
                if any(x.kind == "var" and x.text[1:] == var for x in tokens[opened:i]):
                    ln, col = position(text, tokens[close + 1].start)
                    return ln, col, (f"BIND assigns ?{var}, which the group already uses "
                                     "before the BIND; bind a new variable")
    # a triple pattern with a subject and a predicate but no object: `{ ?s ?p }`, `?s ?p .`
    for i in range(1, len(tokens) - 2):
        prev, s, p, nxt = tokens[i - 1], tokens[i], tokens[i + 1], tokens[i + 2]
        if (prev.text in ("{", ".") and s.kind in ("var", "iri", "pname", "bnode")
                and _is_term(p) and nxt.text in ("}", ".")
                and not (prev.text == "{" and i > 1 and tokens[i - 2].kind == "var")):
            ln, col = position(text, s.start)
            return ln, col, ("this triple pattern has a subject and a predicate but no object "
                             "(write `?s ?p ?o`)")
    for i in range(1, len(tokens) - 1):
        if tokens[i - 1].text == ";" and _is_term(tokens[i]) and tokens[i + 1].text in ("}", "."):
            ln, col = position(text, tokens[i].start)
            return ln, col, "after `;` this predicate needs its object"
    return None


_AGGREGATES = frozenset({"COUNT", "SUM", "MIN", "MAX", "AVG", "SAMPLE", "GROUP_CONCAT"})
_AFTER_GROUP = frozenset({"HAVING", "ORDER", "LIMIT", "OFFSET", "VALUES"})


def _closes_subquery(tokens, at: int) -> bool:
    """Whether parsing stopped at the `}` that closes a subquery (where pyoxigraph reports a
    subquery's grouping mistakes, with an expectation that names no cause)."""
    return any(t.start == at and t.text == "}" for t in tokens)


def _group_end(tokens, start: int) -> int:
    """The index of the `}` that closes the `{` at tokens[start] (len(tokens) if none)."""
    depth = 0
    for j in range(start, len(tokens)):
        if tokens[j].kind == "other" and tokens[j].text == "{":
            depth += 1
        elif tokens[j].kind == "other" and tokens[j].text == "}":
            depth -= 1
            if depth == 0:
                return j
    return len(tokens)


def _ungrouped(text: str, tokens) -> tuple[int, int, str] | None:
    """(line, column, sentence) naming the first variable a grouping SELECT (one with GROUP BY
    or an aggregate) selects without grouping or aggregating it, where the SELECT uses it."""
    for i, t in enumerate(tokens):
        if t.kind != "word" or t.text.upper() != "SELECT":
            continue
        # the projection: plain variables, and the variables of (expression AS ?v) that are
        # outside every aggregate's parentheses; ?v itself is a name, not a use
        uses: list[tuple[object, bool]] = []  # (token, in an expression)
        parens: list[bool] = []               # for each open `(`: is it an aggregate's?
        named: set[str] = set()
        grouping = False
        j = i + 1
        while j < len(tokens):
            tok = tokens[j]
            upper = tok.text.upper() if tok.kind == "word" else ""
            if not parens and (upper in ("WHERE", "FROM") or tok.text == "{"):
                break
            if tok.text == "(":
                parens.append(j > 0 and tokens[j - 1].kind == "word"
                              and tokens[j - 1].text.upper() in _AGGREGATES)
            elif tok.text == ")" and parens:
                parens.pop()
            elif upper in _AGGREGATES:
                grouping = True
            elif upper == "AS" and j + 1 < len(tokens) and tokens[j + 1].kind == "var":
                named.add(tokens[j + 1].text[1:])
                j += 2
                continue
            elif tok.kind == "var" and not any(parens):
                uses.append((tok, bool(parens)))
            j += 1
        # the WHERE group, then GROUP BY ?v … / (expression AS ?v) at this query's level
        brace = next((k for k in range(j, len(tokens)) if tokens[k].text == "{"), None)
        if brace is None:
            continue
        k = _group_end(tokens, brace) + 1
        grouped: set[str] = set()
        if (k + 1 < len(tokens) and tokens[k].text.upper() == "GROUP"
                and tokens[k + 1].text.upper() == "BY"):
            depth, k, first = 0, k + 2, k + 2
            while k < len(tokens):
                tok = tokens[k]
                if depth == 0 and (tok.text == "}" or tok.text.upper() in _AFTER_GROUP):
                    break
                depth += tok.text == "("
                depth -= tok.text == ")"
                if tok.kind == "var" and (depth == 0 or tokens[k - 1].text.upper() == "AS"):
                    grouped.add(tok.text[1:])
                k += 1
            if k == first:  # GROUP BY without a condition: that is the mistake, not this
                continue
            grouping = True
        if not grouping:
            continue
        for tok, in_expression in uses:
            var = tok.text[1:]
            if var in grouped or var in named:
                continue
            ln, col = position(text, tok.start)
            where = "the expression uses" if in_expression else "the SELECT selects"
            return ln, col, (f"{where} `?{var}`, which is neither grouped nor aggregated: a "
                             "SELECT with GROUP BY or an aggregate may select only what it "
                             f"groups by and aggregates; add ?{var} to GROUP BY, or select "
                             f"an aggregate of it, e.g. (SAMPLE(?{var}) AS ?any_{var})")
    return None


def word_sentence(word: str, before: str = "") -> str:
    """Why WORD, a bare word that is no keyword, is wrong (BEFORE: the token ahead of it)."""
    before = before.upper()
    if before == "PREFIX":
        return f"a prefix name ends with a colon: PREFIX {word}: <…>"
    if before in ("LIMIT", "OFFSET"):
        return f"{before} takes a whole number, not `{word}`"
    upper = word.upper()
    # a ratio of 0.7 needs lengths within 0.3 of each other: others are not even compared
    near = [w for w in SUGGEST if 0.7 * (len(w) + len(upper)) <= 2 * min(len(w), len(upper))]
    close = difflib.get_close_matches(upper, near, n=1, cutoff=0.7)
    hint = f" — did you mean `{close[0]}`?" if close else (
        "; names need a prefix (`rdfs:label`), variables a `?` (`?x`)")
    return f"unknown keyword `{word}`{hint}"


def explain(text: str, line: int, column: int, detail: str,
            predeclared: dict[str, str] | None = None) -> tuple[int, int, str]:
    """(line, column, sentence) for a syntax error pyoxigraph reported at line:column."""
    found = cause(text, line, column, predeclared)
    if found is not None:
        return found
    tokens = tokenize(text)
    at = offset(text, line, column)
    # 6. a grouped SELECT with a variable neither grouped nor aggregated: the parser says so
    # ("unbound") at the end of the query, or, for a subquery, only lists expected words
    if "unbound" in detail or not text[at:].strip() or _closes_subquery(tokens, at):
        found = _ungrouped(text, tokens)
        if found is not None:
            return found
    # 7. the parser's expectation, in words
    expected = _expected(detail)
    found = _found(text, at, tokens)
    if "IRI parsing failed" in detail:
        return line, column, "invalid IRI"
    if found == "end of the query" and not text[at:].strip() and len(text.rstrip()) > at - 2:
        sentence = "the parser stopped at the end of the query"
    else:
        sentence = f"unexpected {found}"
    return line, column, sentence + (f"; {expected}" if expected else "")


def cause(text: str, line: int, column: int,
          predeclared: dict[str, str] | None = None) -> tuple[int, int, str] | None:
    """(line, column, sentence) of the likeliest cause of a syntax error found at line:column
    that the tokens show (1-6 of the module's list), or None. The checks (guard) word what
    they refuse with it too, so the engine and the checks name a mistake alike."""
    if not text.strip() or not [t for t in tokenize(text)]:
        return 1, 1, "the query is empty: write a SELECT, ASK, CONSTRUCT or DESCRIBE query"
    tokens = tokenize(text)
    at = offset(text, line, column)

    # 2. a string or IRI never closed: the tokenizer saw a lone quote or '<' with no '>'
    for t in tokens:
        if t.kind == "other" and t.text in "\"'":
            ln, col = position(text, t.start)
            return ln, col, (f"a string opened here is never closed: end it with {t.text} "
                             f"on the same line (or use {t.text * 3} for several lines)")
        if t.kind == "other" and t.text == "<" and ">" not in text[t.start:text.find(
                "\n", t.start) if "\n" in text[t.start:] else len(text)] and \
                re.match(r"<[A-Za-z][\w+.-]*:", text[t.start:]):
            ln, col = position(text, t.start)
            return ln, col, "an IRI opened here with < is never closed with >"
        if t.kind == "other" and t.text == "<" and re.match(r"<[^>\s]*\s[^>]*>", text[t.start:]):
            ln, col = position(text, t.start)
            return ln, col, "this IRI contains a space; IRIs cannot (write %20)"

    # 3. brackets
    stack: list = []
    for t in tokens:
        if t.kind != "other":
            continue
        if t.text in _OPEN:
            stack.append(t)
        elif t.text in _CLOSE:
            ln, col = position(text, t.start)
            if not stack:
                return ln, col, (f"unbalanced brackets: this `{t.text}` closes nothing (no "
                                 f"`{_CLOSE[t.text]}` is open here); remove it")
            opener = stack.pop()
            if _OPEN[opener.text] != t.text:
                oln, ocol = position(text, opener.start)
                return ln, col, (f"unbalanced brackets: this `{t.text}` does not match the "
                                 f"`{opener.text}` opened at line {oln}, column {ocol}; close "
                                 f"that with `{_OPEN[opener.text]}` first")
    if stack:
        opener = stack[-1]
        oln, ocol = position(text, opener.start)
        if at >= opener.start:
            return line, column, (f"unbalanced brackets: the `{opener.text}` opened at line "
                                  f"{oln}, column {ocol} is never closed; add "
                                  f"`{_OPEN[opener.text]}`")

    # 4. undeclared prefixes
    declared = set(predeclared or {})
    for i, t in enumerate(tokens):
        if (t.kind == "word" and t.text.upper() == "PREFIX" and i + 1 < len(tokens)
                and tokens[i + 1].kind == "pname"):
            declared.add(tokens[i + 1].text.partition(":")[0])
    for t in tokens:
        if t.kind == "pname":
            prefix = t.text.partition(":")[0]
            if prefix not in declared:
                ln, col = position(text, t.start)
                return ln, col, (f"undeclared prefix `{prefix}:`; add `PREFIX {prefix}: <…>` "
                                 "before the query"
                                 + (" (predeclared prefixes are listed in the service "
                                    "description and on the query page)" if predeclared else ""))

    # 5. unknown keywords, before the point where parsing stopped
    for i, t in enumerate(tokens):
        if t.start > at:
            break
        if t.kind == "word" and t.text.upper() not in KEYWORDS and t.text != "a":
            ln, col = position(text, t.start)
            return ln, col, word_sentence(t.text, tokens[i - 1].text if i else "")

    # 6. shapes the parser words poorly
    return _shape(text, tokens)


def is_service_failure(exc: QueryError, services: tuple[str, ...]) -> bool:
    """Whether EXC, raised by a query with SERVICE, is the remote end's failure, not the
    query's: the query parsed (no line), and the error is of the kinds a failed SERVICE gives."""
    return bool(services) and exc.line is None and (
        isinstance(exc, QueryServiceFailed) or type(exc) is QueryError
        or isinstance(exc, QueryFailed) and "Parser error" in str(exc))


def service_failure(message: str, services: tuple[str, ...],
                    service_map: dict[str, str] | None = None) -> tuple[int, str]:
    """(HTTP status, sentence) for a query with SERVICE whose evaluation failed: the remote
    endpoint was unreachable, answered an error or something unparsable (502), or timed out
    (504). The query itself was fine, so this is never "malformed". Where a SERVICE IRI is
    redirected (a Wikidata mirror), the message names the IRI the query wrote."""
    reason = message.removeprefix("the query failed: ")
    for public, actual in (service_map or {}).items():
        reason = reason.replace(actual, public)
    endpoints = ", ".join(f"<{s}>" for s in dict.fromkeys(services))
    status = 504 if re.search(r"timed? ?out", reason, re.IGNORECASE) else 502
    what = "did not answer in time" if status == 504 else "failed"
    return status, (f"the remote endpoint of SERVICE {endpoints} {what}: {reason} (the query "
                    "itself is well-formed; add SILENT to SERVICE to go on without it)")


_SYNTAX = re.compile(r"error at (\d+):(\d+): (.*)", re.DOTALL)


def syntax_error(exc: SyntaxError, text: str | None = None,
                 predeclared: dict[str, str] | None = PREDECLARED) -> QueryError:
    """The parser's error as one line; with the query ``text``, in plain words (``explain``)
    at the position of the likeliest cause. The parser's own words stay in ``detail``."""
    msg = str(exc)
    m = _SYNTAX.match(msg)
    if not m:
        return QueryError(f"syntax error: {msg[:500]}")
    line, col, detail = int(m.group(1)), int(m.group(2)), " ".join(m.group(3).split())
    if text is not None:
        at_line, at_col, sentence = explain(text, line, col, detail, predeclared)
        return QuerySyntax(f"syntax error at line {at_line}, column {at_col}: {sentence}",
                           line=at_line, column=at_col, detail=detail, at=(line, col))
    short = detail[:400] + " ..." if len(detail) > 400 else detail
    return QuerySyntax(f"syntax error at line {line}, column {col}: {short}", line=line,
                       column=col, detail=detail, at=(line, col))


def origin(checked, line: int, column: int) -> tuple[int, int]:
    """Where in the client's text (``checked.source``) LINE:COLUMN of ``checked.text`` is
    (``checked``: a guard.CheckedQuery).
    The re-emission holds one token for each token of the source but the PREFIX and BASE
    declarations, in order: the n-th of one is the n-th of the other."""
    source = checked.source
    if not source or source == checked.text:
        return line, column
    emitted, theirs = tokenize(checked.text), tokenize(source)
    if emitted and emitted[0].kind == "word" and emitted[0].text == "BASE":
        emitted = emitted[2:]  # the query's BASE, said once on line 1
    kept: list[Token] = []
    k = 0
    while k < len(theirs) and theirs[k].kind == "word":
        upper = theirs[k].text.upper()
        if upper == "BASE":
            k += 2
        elif upper == "PREFIX":
            k += 3
        elif upper == "VERSION":
            kept += theirs[k:k + 2]
            k += 2
        else:
            break
    kept += theirs[k:]
    if len(kept) != len(emitted):  # cannot happen; then the emission's own place is the best
        return line, column
    text = checked.text
    start = 0
    for _ in range(line - 1):
        nl = text.find("\n", start)
        if nl < 0:
            break
        start = nl + 1
    at = start + max(column - 1, 0)
    k = bisect_right([t.start for t in emitted], at) - 1
    if k < 0:
        return position(source, kept[0].start if kept else 0)
    inside = at - emitted[k].start
    if inside < emitted[k].end - emitted[k].start:
        where = kept[k].start + min(inside, kept[k].end - kept[k].start - 1)
    else:  # between two tokens: the next one
        where = kept[k + 1].start if k + 1 < len(kept) else len(source)
    return position(source, where)


def in_source(exc: QueryError, checked,
              predeclared: dict[str, str] | None = PREDECLARED) -> QueryError:
    """EXC, the engine's syntax error in the re-emission ``checked.text``, worded again for the
    client's own text: the parser's place mapped back, then explained there."""
    if not isinstance(exc, QuerySyntax) or exc.at is None or checked.source in ("",
                                                                               checked.text):
        return exc
    line, col = origin(checked, *exc.at)
    line, col, sentence = explain(checked.source, line, col, exc.detail, predeclared)
    return QuerySyntax(f"syntax error at line {line}, column {col}: {sentence}", line=line,
                       column=col, detail=exc.detail, at=exc.at)


def engine_error(exc: Exception) -> QueryError:
    """A non-syntax pyoxigraph error as what it is (pyoxigraph 0.5 raises RuntimeError
    "The custom function <...> is not supported" for an unknown function)."""
    msg = " ".join(str(exc).split())[:500]
    if isinstance(exc, OSError):  # pyoxigraph's SERVICE client: the remote end failed
        return QueryServiceFailed(f"a SERVICE endpoint failed: {msg}")
    if isinstance(exc, RuntimeError) and "is not supported" in msg:
        return QueryUnsupported(f"the query could not be evaluated: {msg}")
    return QueryFailed(f"the query could not be evaluated: {type(exc).__name__}: {msg}")
