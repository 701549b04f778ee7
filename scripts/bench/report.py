"""The bench's tables: one rich table per section of a result (``run_bench``'s dict), then the
targets with met / not met."""

from __future__ import annotations


def _fmt(v, unit: str = "") -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        s = f"{v:.3f}" if v < 10 else f"{v:,.1f}"
    else:
        s = f"{v:,}"
    return f"{s} {unit}".strip()


def _table(console, title: str, columns: tuple[str, ...], rows, left: tuple[str, ...] = ()
           ) -> None:
    """Print one table: COLUMNS right-aligned but those in LEFT, then ROWS."""
    from rich.table import Table

    t = Table(title=title)
    for col in columns:
        t.add_column(col, justify="left" if col in left else "right")
    for row in rows:
        t.add_row(*row)
    console.print(t)


def _statuses(counts: dict) -> str:
    return ", ".join(f"{k}: {v}" for k, v in sorted(counts.items()))


def print_proportions(result: dict, console) -> None:
    """The synthetic graphs beside the real one: asserted : inferred, and entities per class
    per 1,000 data triples (the largest synthetic size against the real data)."""
    real = result["real"]
    sized = [r for r in result["scale"]["sizes"] if r.get("asserted")]
    rows = [("real data", real["proportions"]["data_triples"], real["triples"], real["inferred"])]
    rows += [(f"synthetic {r['triples']:,}", r["data_triples"], r["asserted"], r["inferred"])
             for r in sized]
    _table(console, "Proportions: synthetic beside real", (
        "graph", "data triples", "asserted", "inferred", "inferred ÷ asserted",
        "inferred ÷ data triple"), [(name, _fmt(d), _fmt(a), _fmt(i), _fmt(i / a), _fmt(i / d))
                                    for name, d, a, i in rows], left=("graph",))
    if not sized:
        return
    big = sized[-1]

    def per_k(classes: dict, n: int) -> dict:
        return {c: 1000 * k / n for c, k in classes.items()}

    mine = per_k(real["proportions"]["classes"], real["proportions"]["data_triples"])
    theirs = per_k(big["classes"], big["data_triples"])
    off = max((abs(theirs.get(c, 0) - v) / v for c, v in mine.items()), default=0.0)
    top = sorted(mine, key=lambda c: -mine[c])[:12]
    _table(console, f"Entities per class per 1,000 data triples: real beside synthetic "
                    f"{big['triples']:,} (largest difference over all {len(mine)} classes: "
                    f"{100 * off:.1f} %)", ("class", "real", "synthetic"),
           [(c.rsplit("#", 1)[-1].rsplit("/", 1)[-1], _fmt(mine[c]), _fmt(theirs.get(c, 0.0)))
            for c in top], left=("class",))


def print_growth(g: dict, console) -> None:
    _table(console, f"Validation time per constraint, each alone: {g['small']:,} and "
                    f"{g['large']:,} triples (growth normalised to 10× the data; under "
                    f"{g['floor_s'] * 1000:.0f} ms at the larger size it is noise, met)",
           ("constraint", "small", "large", "×time per 10×", "≤ 12×"),
           [(r["constraint"], _fmt(r["small_s"] * 1000, "ms"),
             _fmt(r["large_s"] * 1000 if r["large_s"] is not None else None, "ms"),
             _fmt(r["growth_per_10x"]), "[green]met[/]" if r["met"] else "[red]not met[/]")
            for r in g["rows"]], left=("constraint",))


def print_tables(result: dict, console) -> None:
    meta = result["meta"]
    m = meta["machine"]
    console.print(f"[bold]isecg-kg bench[/] ({meta['mode']}, medians of {meta['runs']} runs, "
                  f"{meta['wrk_runs']} wrk runs) — {meta['date']} — {m['cpu']}, {m['cores']} "
                  f"cores, {m['memory_mb']:,} MB — "
                  + ", ".join(f"{k} {v}" for k, v in meta["versions"].items()))

    if "real" in result:
        print_real(result, console)
    if "scale" in result:
        print_scale(result, console)
    if "growth" in result:
        print_growth(result["growth"], console)
    if "endpoint" in result:
        print_endpoint(result["endpoint"], console)
    if "store" in result:
        st = result["store"]
        _table(console, f"Through a store ({st['query']}, first-time, one request at a time, "
                        f"median of {st['requests']})", ("server", "median"),
               [(name, _fmt(ms, "ms")) for name, ms in st["median_ms"].items()],
               left=("server",))
    print_load(result, console)
    _table(console, "Targets (issues 6, 15, 21, 24 and 27)",
           ("target", "measured", "result", "note"),
           [(tg["target"], _fmt(tg["value"], tg["unit"]),
             ("[green]met[/]" if tg["met"] else "[red]not met[/]") if tg["met"] is not None
             else "[yellow]not measured[/]", (tg.get("note") or "")[:60])
            for tg in result["targets"]],
           left=("target", "result", "note"))


def print_real(result: dict, console) -> None:
    real = result["real"]
    total = real["stages"].get("total") or 1
    _table(console, f"Real data ({real['triples']:,} triples asserted, "
                    f"{real['inferred']:,} inferred)", ("step", "median", "share of build()"),
           [(f"build() {name}", _fmt(v, "s"), f"{100 * v / total:.0f} %")
            for name, v in real["stages"].items()]
           + [(f"process: isecg-kg {name}", _fmt(v, "s"), "")
              for name, v in real["process"].items()], left=("step",))


def print_scale(result: dict, console) -> None:
    growth = {g["to"]: g for g in result["scale"]["growth"]}
    rows = []
    for r in result["scale"]["sizes"]:
        g = growth.get(r["triples"])
        rows.append((_fmt(r["triples"]), _fmt(r["data_triples"]),
                     _fmt(r["build_s"], "s") if "error" not in r else "[red]failed[/]",
                     _fmt(r["peak_mb"], "MB"), _fmt(g["time_ratio_per_10x"]) if g else "",
                     _fmt(g["memory_ratio"]) if g else ""))
    _table(console, "Scale (synthetic data, full build in a child process)",
           ("triples", "data triples", "build", "peak RSS", "×time per 10×", "×memory"), rows)
    if "real" in result:
        print_proportions(result, console)


def print_endpoint(ep: dict, console) -> None:
    ratio = {(r["peer"], r["query"], r["mode"], r["connections"]): r for r in ep["ratios"]}
    rows = []
    for r in ep["results"]:
        rr = ratio.get((r["server"], r["query"], r["mode"], r["connections"])) or {}
        rows.append((r["query"], r["mode"], str(r["connections"]), r["server"], _fmt(r["rps"]),
                     _fmt(r["p50_ms"], "ms"), _fmt(r["p99_ms"], "ms"), str(r["errors"]),
                     _fmt(r.get("cpu_ms"), "ms"), _fmt(rr.get("throughput_ratio"), "×"),
                     _fmt(rr.get("cpu_ratio"), "×") if rr else ""))
    _table(console, f"Endpoint (wrk, {ep['duration_s']} s per run, 127.0.0.1; CPU per request: "
                    "the server and its descendants, from /proc)",
           ("query", "mode", "conns", "server", "req/s", "p50", "p99", "errors", "CPU/request",
            "req/s: ours ÷ this", "CPU: ours ÷ this"), rows, left=("query", "mode", "server"))


def print_load(result: dict, console) -> None:
    """The burst, fair, slow and reconcile sections (those run)."""
    b = result.get("burst")
    if b:
        _table(console, f"Light queries during bursts of {b['heavy']} heavy ({b['rounds']} "
                        f"rounds, {b['light_clients']} light clients)",
               ("light queries", "p50", "p99", "max", "light refused", "heavy answers"),
               [(_fmt(b["n"]), _fmt(b["p50_ms"], "ms"), _fmt(b["p99_ms"], "ms"),
                 _fmt(b["max_ms"], "ms"), str(b["light_failed"]),
                 _statuses(b["heavy_statuses"]))])

    f = result.get("fair")
    if f:
        _table(console, f"One client flooding heavy queries ({f['flood']} connections), another "
                        "asking for a heavy slot, a third sending light queries",
               ("heavy query answered after", "its attempts", "light queries", "p50", "p99",
                "max", "light refused", "flood answers"),
               [(_fmt(f["answered_after_s"], "s"),
                 f"{f['attempts']} ({', '.join(map(str, f['attempt_statuses']))})",
                 _fmt(f["light_n"]), _fmt(f["light_p50_ms"], "ms"),
                 _fmt(f["light_p99_ms"], "ms"), _fmt(f["light_max_ms"], "ms"),
                 str(f["light_failed"]), _statuses(f["flood_statuses"]))])

    slow = result.get("slow")
    if slow:
        _table(console, f"Slow connections from one address ({slow[0]['slow']:,}), another "
                        "client's ASK meanwhile",
               ("server", "held", "refused", "not opened", "asks", "p50", "p99", "max", "errors"),
               [(r["server"], _fmt(r["held"]), _fmt(r["refused"]), _fmt(r["unopened"]),
                 _fmt(r["asks"]), _fmt(r["ask_p50_ms"], "ms"), _fmt(r["ask_p99_ms"], "ms"),
                 _fmt(r["ask_max_ms"], "ms"), str(r["ask_errors"])) for r in slow])

    rc = result.get("reconcile")
    if rc:
        _table(console, f"One client flooding /reconcile ({rc['flood']} connections, 200-query "
                        "batches), another client's requests",
               ("request", "idle p50", "idle p99", "flooded p50", "flooded p99", "p99 ×",
                "flood answers"),
               [(what, _fmt(rc["idle"][f"{what}_p50_ms"], "ms"),
                 _fmt(rc["idle"][f"{what}_p99_ms"], "ms"),
                 _fmt(rc["flooded"][f"{what}_p50_ms"], "ms"),
                 _fmt(rc["flooded"][f"{what}_p99_ms"], "ms"), _fmt(rc[f"{what}_p99_ratio"], "×"),
                 _statuses(rc["flood_statuses"])) for what in ("healthz", "entity")])

