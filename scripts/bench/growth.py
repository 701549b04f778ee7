"""The bench section ``growth``: validation time per constraint at two sizes, and how it grows.

A whole-build time at two sizes hides one constraint that grows quadratically until it is the
build (issue 27: ``shape:NameStatement-asserted`` took 42 s of a 43.6 s build at 100k triples,
and nothing said so). Here every constraint is timed alone, on the compiled validator the build
runs: each shape with targets is cut down to its targets and ONE of its constraints — a property
shape, a SPARQL constraint, or its node-level components — and validated on the synthetic
graphs of both sizes, loaded side by side, single-threaded. Time is the CPU time of the thread
that runs it (pyoxigraph evaluates on the calling thread), far steadier than wall time on a
shared machine, and the two sizes run in turn, small then large, a few times: the growth is the
median of the pairs' ratios, so a change of load during the run moves both sides alike.

A constraint whose time grows more than ``LIMIT``× for 10× the data is "not met"; one that stays
under ``FLOOR`` seconds at the larger size is too cheap to judge (a few queries' fixed cost and
scheduling noise dominate it) and is met.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable
from pathlib import Path

LIMIT = 12.0   # × time for 10× the data: linear is 10
FLOOR = 0.005  # CPU seconds at the larger size under which a growth factor is noise
BUDGET = 2.0   # CPU seconds per constraint and size after which it is not run again


def _name(term) -> str:
    import pyoxigraph as ox

    if isinstance(term, ox.NamedNode):
        return term.value.rsplit("#", 1)[-1].rsplit("/", 1)[-1]
    return "[]"


def units(shapes: list) -> list[tuple[str, object, list]]:
    """(label, shape, shapes triples) for every constraint of every shape with targets: the
    shapes graph with that shape cut down to its targets and that one constraint (a sh:property
    or sh:sparql node, or its own components)."""
    import pyoxigraph as ox
    from isecg_kg.builder.shacl_compile import NON_CONSTRAINT, ShapeCompiler, ShapesGraph
    from isecg_kg.rdf import SH

    g = ShapesGraph(shapes)
    probe = ShapeCompiler(ox.Store(), g, {})  # has_targets reads the shapes graph only
    nested = (SH + "property", SH + "sparql")
    out = []
    for shape in sorted(g.subjects(), key=str):
        if not probe.has_targets(shape):
            continue
        own = [p for p in g.predicates(shape) if p.startswith(SH) and p not in NON_CONSTRAINT
               and p not in nested]
        if g.value(shape, SH + "path") is not None:
            own.append(SH + "path")  # a targeted property shape: its components are its own
        parts = [(None, "own components")] if own else []
        parts += [(c, f"{p[len(SH):]} {_name(c)}") for p in nested for c in g.objects(shape, p)]
        for constraint, what in parts:
            keep = [t for t in shapes if t.subject != shape or (
                t.object == constraint if t.predicate.value in nested else constraint is None
                or t.predicate.value in NON_CONSTRAINT or not t.predicate.value.startswith(SH))]
            out.append((f"{_name(shape)} › {what}", shape, keep))
    return out


def _cpu(validator, shape) -> float:
    """CPU seconds of this thread to validate one shape."""
    start = time.thread_time()
    validator.results(shape)
    return time.thread_time() - start


def time_units(small: Path, large: Path, repeats: int) -> list[dict]:
    """Per constraint: CPU seconds on the graph of each source (loaded as the build loads it;
    medians), and the median ratio large ÷ small over `repeats` alternated pairs (fewer once a
    constraint has used BUDGET seconds)."""
    from isecg_kg.builder.load import load_sources
    from isecg_kg.builder.shacl_compile import ShapesGraph
    from isecg_kg.builder.shacl_sparql import Validator, load_store

    graphs = [load_sources(src) for src in (small, large)]
    stores = [load_store(s.triples("ontology", "data")) for s in graphs]
    rows = []
    for label, shape, triples in units(graphs[1].triples("shapes")):
        shapes = ShapesGraph(triples)
        runs = [Validator(store, shapes, {}) for store in stores]
        pairs: list[tuple[float, float]] = []
        while len(pairs) < repeats and sum(b for _, b in pairs) < BUDGET:
            pairs.append((_cpu(runs[0], shape), _cpu(runs[1], shape)))
        a = statistics.median(p[0] for p in pairs)
        b = statistics.median(p[1] for p in pairs)
        ratio = statistics.median(y / x for x, y in pairs if x > 0) if a > 0 else None
        rows.append({"constraint": label, "small_s": a, "large_s": b, "ratio": ratio,
                     "runs": len(pairs)})
    return rows


def bench_growth(sources: dict[int, Path], cfg: dict, log: Callable[[str], None]) -> dict:
    """Per-constraint validation time at the two sizes of cfg["growth_sizes"] (synthetic source
    directories by requested size) and each one's growth, normalised to 10× the data."""
    from bench.synth import count_triples

    small, large = (sources[n] for n in cfg["growth_sizes"])
    n = (count_triples(small), count_triples(large))
    if n[1] <= n[0]:  # no growth to measure (synth makes whole copies: both sizes one copy?)
        from bench.endpoint import BenchError

        raise BenchError(f"growth_sizes {cfg['growth_sizes']}: both synthetic sources have "
                         f"{n[0]:,} data triples; ask for sizes at least one copy of the data "
                         "apart")
    log(f"growth: each constraint alone at {n[0]:,} and {n[1]:,} data triples, in turn")
    rows = time_units(small, large, cfg["growth_repeats"])
    per_10x = 1 / math.log10(n[1] / n[0])
    for r in rows:
        r["growth_per_10x"] = r["ratio"] ** per_10x if r["ratio"] else None
        r["met"] = r["large_s"] < FLOOR or (r["growth_per_10x"] is not None
                                            and r["growth_per_10x"] <= LIMIT)
    rows.sort(key=lambda r: -r["large_s"])
    log(f"growth: {len(rows)} constraints, {sum(r['small_s'] for r in rows):.2f} s and "
        f"{sum(r['large_s'] for r in rows):.2f} s of CPU in all; "
        f"{sum(not r['met'] for r in rows)} grow more than {LIMIT:.0f}× per 10×")
    return {"small": n[0], "large": n[1], "limit": LIMIT, "floor_s": FLOOR, "rows": rows}
