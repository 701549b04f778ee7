// The query page: named queries with their parameters as form fields, a shareable link for any
// query, results with IRIs opening our own pages, a bar chart for label + count and a timeline
// for dates. Renders with textContent and DOM calls only (no HTML from the data is ever parsed),
// links only http(s) IRIs. Uses the bundled editor when present, a plain textarea otherwise.
"use strict";

(function () {
  const form = document.getElementById("query-form");
  const source = document.getElementById("query");
  const picker = document.getElementById("example");
  const about = document.getElementById("example-description");
  const paramBox = document.getElementById("params");
  const paramFields = document.getElementById("param-fields");
  const share = document.getElementById("share");
  const statusLine = document.getElementById("status");
  const downloads = document.getElementById("downloads");
  const views = document.getElementById("views");
  const results = document.getElementById("results");
  const endpoint = form.getAttribute("action");
  const data = JSON.parse(document.getElementById("page-data").textContent || "{}");
  const examples = data.examples || [];
  const byName = Object.fromEntries(examples.map((q) => [q.name, q]));
  const XSD = "http://www.w3.org/2001/XMLSchema#";
  const SVG = "http://www.w3.org/2000/svg";
  const NUMERIC = ["integer", "decimal", "double", "float", "int", "long", "short",
    "nonNegativeInteger", "positiveInteger"].map((t) => XSD + t);
  const DATES = ["date", "dateTime", "gYear", "gYearMonth"].map((t) => XSD + t);

  if (window.isecgEditor) {
    window.isecgEditor(source, { prefixes: data.predeclared, vocabulary: data.vocabulary,
      nonce: data.nonce });
  }

  function el(tag, text, cls) {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = text;
    if (cls) e.className = cls;
    return e;
  }

  function svg(tag, attrs, text) {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

  function setQuery(text) {
    source.value = text;
    source.dispatchEvent(new Event("input", { bubbles: true }));  // the editor follows
  }

  // ---- named queries and their parameters

  // The named query the text came from: the menu names it while the text is its own, and says
  // "Your own query" (edited from it) once the text differs; its parameters still apply.
  let origin = byName[picker.value] || null;

  function current() { return origin; }

  function follow() {
    const edited = origin && source.value !== origin.query;
    picker.value = origin && !edited ? origin.name : "";
    if (edited) {
      about.textContent = "Your own query, edited from the named query “" + origin.title +
        "”" + (origin.params.length ? "; its parameters apply where the query still uses them." : ".");
    } else describe(origin);
  }

  function showParams(q, values) {
    clear(paramFields);
    const params = q ? q.params : [];
    paramBox.hidden = params.length === 0;
    for (const p of params) {
      const id = "param-" + p.name;
      const row = el("div", null, "q-row");
      const label = el("label", p.name + (p.required ? " (required)" : " (optional)"));
      label.htmlFor = id;
      const input = el("input");
      input.id = id;
      input.name = "$" + p.name;
      input.dataset.param = p.name;
      input.dataset.type = p.type;
      input.type = p.type === "xsd:date" ? "date" : p.type === "xsd:integer" ? "number" : "text";
      input.required = p.required;
      const example = (p.description.match(/e\.g\.\s*(\S+)/) || [])[1];
      if (example) input.placeholder = example.replace(/[;,]$/, "");
      if (values && values[p.name] !== undefined) input.value = values[p.name];
      input.addEventListener("input", updateLinks);
      row.appendChild(label);
      row.appendChild(input);
      row.appendChild(el("small", p.description, "q-note"));
      paramFields.appendChild(row);
    }
  }

  function describe(q) {
    about.textContent = q ? q.description : "Write any SPARQL 1.1 query; the prefixes below need no declaration.";
  }

  picker.addEventListener("change", function () {
    origin = byName[picker.value] || null;
    const q = current();
    describe(q);
    showParams(q, {});
    if (q) setQuery(q.query);
    clear(results); clear(views); views.hidden = true; statusLine.textContent = "";
    updateLinks();
  });

  // A parameter value as one RDF term in Turtle syntax, typed as the query's header declares.
  function term(type, value) {
    const v = value.trim();
    if (type === "iri") {
      if (/^<.*>$/.test(v) || /^[A-Za-z][\w-]*:[^/]/.test(v) && !/^https?:/.test(v)) return v;
      return "<" + v + ">";
    }
    const quoted = '"' + v.replace(/\\/g, "\\\\").replace(/"/g, '\\"') + '"';
    return type && type.startsWith("xsd:") && type !== "xsd:string" ? quoted + "^^" + type : quoted;
  }

  function uses(name) { return new RegExp("[?$]" + name + "\\b").test(source.value); }

  // The filled parameters whose variable the query (perhaps edited since) still has.
  function bindings() {
    const out = [];
    for (const input of paramFields.querySelectorAll("input")) {
      if (uses(input.dataset.param) && input.value.trim() !== "") {
        out.push([input.dataset.param, input.dataset.type, input.value]);
      }
    }
    return out;
  }

  // ---- links: share this query, download its results

  function updateLinks() {
    const q = current();
    const text = source.value;
    const p = new URLSearchParams();
    if (!q || text !== q.query) p.set("query", text);
    if (q) p.set("name", q.name);
    for (const [name, , value] of bindings()) p.set(name, value);
    share.href = "/query?" + p.toString();
    clear(downloads);
    const graph = isGraphQuery(text);
    const kinds = (data.downloads || {})[graph ? "graphs" : "solutions"] || [];
    downloads.appendChild(el("span", "Download: "));
    for (const [fmt, label, suffix] of kinds) {
      const d = new URLSearchParams({ query: text, format: fmt });
      for (const [name, type, value] of bindings()) d.set("$" + name, term(type, value));
      const a = el("a", label);
      a.href = endpoint + "?" + d.toString();
      a.setAttribute("download", "query-result." + suffix);
      downloads.appendChild(a);
    }
  }

  source.addEventListener("input", () => { follow(); updateLinks(); });

  function isGraphQuery(text) {
    const stripped = text.replace(/#[^\n]*/g, " ").replace(/"[^"]*"|'[^']*'|<[^>\s]*>/g, " ");
    const m = stripped.match(/\b(SELECT|ASK|CONSTRUCT|DESCRIBE)\b/i);
    return !!m && /CONSTRUCT|DESCRIBE/i.test(m[1]);
  }

  // ---- results

  function compact(iri) {
    let best = null;
    for (const [p, ns] of Object.entries(data.prefixes || {})) {
      if (iri.startsWith(ns) && (!best || ns.length > best[1].length)) best = [p, ns];
    }
    if (best && /^[\w.-]*$/.test(iri.slice(best[1].length))) return best[0] + ":" + iri.slice(best[1].length);
    return iri;
  }

  // Our IRIs open our own pages (this server maps the data's base onto itself).
  function href(iri) {
    if (data.ontology && iri.startsWith(data.ontology)) return "/ontology#" + iri.slice(data.ontology.length);
    if (data.dataBase && iri.startsWith(data.dataBase)) return "/" + iri.slice(data.dataBase.length);
    return /^https?:\/\//.test(iri) ? iri : null;
  }

  function cell(t) {
    const td = el("td");
    if (!t) return td;
    if (t.type === "uri") {
      td.className = "uri";
      const a = el("a", compact(t.value));
      a.title = t.value;
      const target = href(t.value);
      if (target) a.href = target;
      td.appendChild(a);
    } else if (t.type === "literal") {
      td.appendChild(el("span", t.value));
      if (t["xml:lang"]) td.appendChild(el("span", " @" + t["xml:lang"], "lang"));
      else if (t.datatype) td.appendChild(el("span", " " + compact(t.datatype), "dt"));
      if (t.datatype && NUMERIC.includes(t.datatype)) td.className = "num";
      else if (isDate(t)) td.className = "date";  // a date is one word: never broken at its hyphens
    } else if (t.type === "bnode") {
      td.textContent = "_:" + t.value;
    } else {
      td.textContent = JSON.stringify(t.value);
    }
    return td;
  }

  function table(vars, rows) {
    const wrap = el("div", null, "q-table");
    const tableEl = el("table");
    const head = el("tr");
    for (const v of vars) head.appendChild(el("th", "?" + v));
    const thead = el("thead"); thead.appendChild(head); tableEl.appendChild(thead);
    const tbody = el("tbody");
    for (const row of rows) {
      const tr = el("tr");
      for (const v of vars) tr.appendChild(cell(row[v]));
      tbody.appendChild(tr);
    }
    tableEl.appendChild(tbody);
    wrap.appendChild(tableEl);
    return wrap;
  }

  function text(t) {
    if (!t) return "";
    return t.type === "uri" ? compact(t.value) : t.value;
  }

  function column(vars, rows, test) {
    return vars.find((v) => rows.length && rows.every((r) => r[v] && test(r[v])));
  }

  // The column that names each row in a chart: a literal one before an IRI; ?acronym, ?label,
  // ?title or ?name where the answer has one, else the shortest names.
  const NAMES = ["acronym", "label", "title", "name"];
  function nameColumn(vars, rows, skip) {
    const candidates = vars.filter((v) => !skip.includes(v) &&
      rows.every((r) => !r[v] || !NUMERIC.includes(r[v].datatype) && !isDate(r[v])));
    const filled = candidates.filter((v) => rows.every((r) => r[v]));
    const literal = filled.filter((v) => rows.every((r) => r[v].type === "literal"));
    const named = NAMES.find((v) => literal.includes(v));
    if (named) return named;
    const mean = (v) => rows.reduce((n, r) => n + r[v].value.length, 0) / rows.length;
    return literal.sort((a, b) => mean(a) - mean(b))[0] || filled[0] || candidates[0] || null;
  }

  // A bar chart when the rows have a label and a count.
  function barChart(vars, rows) {
    const count = column(vars, rows, (t) => t.type === "literal" && NUMERIC.includes(t.datatype));
    const label = count && nameColumn(vars, rows, [count]);
    if (!count || !label || rows.length > 200) return null;
    const max = Math.max(...rows.map((r) => Number(r[count].value)), 1);
    const rowH = 22, labelW = 150, barW = 260, width = labelW + barW + 50;
    const chart = svg("svg", { viewBox: `0 0 ${width} ${rows.length * rowH + 4}`, class: "q-chart",
      role: "img", "aria-label": `bar chart of ?${count} by ?${label}` });
    rows.forEach((r, i) => {
      const value = Number(r[count].value);
      const y = i * rowH + 2;
      const name = text(r[label]);
      const g = svg("g", { class: "q-bar" });
      g.appendChild(svg("title", {}, name + ": " + value));
      g.appendChild(svg("text", { x: labelW - 6, y: y + 15, "text-anchor": "end" },
        name.length > 22 ? name.slice(0, 21) + "…" : name));
      g.appendChild(svg("rect", { x: labelW, y: y + 3, height: rowH - 6,
        width: Math.max(1, (value / max) * barW) }));
      g.appendChild(svg("text", { x: labelW + (value / max) * barW + 4, y: y + 15 }, String(value)));
      chart.appendChild(g);
    });
    return chart;
  }

  // ---- dates, by the graph's own precision rule (the named query members-as-of's): a year or
  // a month is the whole year or month, never its first day. A value is the span of days it
  // allows; a pair of date columns (earliest/latest, begins/ends) is the span from the first
  // day the one allows to the last day the other allows.

  const DATE = /^(-?\d{4,})(?:-(\d{2}))?(?:-(\d{2}))?/;

  function utc(y, m, d) { const t = new Date(0); t.setUTCFullYear(y, m - 1, d); return t; }  // any year

  function iso(t) { return t.toISOString().slice(0, 10); }

  // [first day, day after the last] of a date value, as Date objects.
  function days(t) {
    const m = DATE.exec(t.value);
    if (!m) return null;
    const y = Number(m[1]);
    if (!m[2]) return [utc(y, 1, 1), utc(y + 1, 1, 1)];
    if (!m[3]) return [utc(y, Number(m[2]), 1), utc(y, Number(m[2]) + 1, 1)];
    return [utc(y, Number(m[2]), Number(m[3])), utc(y, Number(m[2]), Number(m[3]) + 1)];
  }

  function yearOf(t) {  // a day as a fractional year
    const y = t.getUTCFullYear(), start = utc(y, 1, 1), next = utc(y + 1, 1, 1);
    return y + (t - start) / (next - start);
  }

  // How a span reads: as the graph gives it where it is one year, month or day, else its ends.
  function spanText(from, to) {
    const first = iso(from), last = iso(new Date(to - 864e5));
    if (first === last) return first;
    if (first.endsWith("-01-01") && iso(to).endsWith("-01-01") &&
        to.getUTCFullYear() === from.getUTCFullYear() + 1) return first.slice(0, 4);
    if (first.endsWith("-01") && iso(to).endsWith("-01") &&
        iso(utc(from.getUTCFullYear(), from.getUTCMonth() + 2, 1)) === iso(to)) return first.slice(0, 7);
    return first + " – " + last;
  }

  // A timeline when a column holds dates (xsd:date, gYear, gYearMonth, dateTime, or plain
  // YYYY[-MM[-DD]] text); the column with the most distinct dates wins, and a second date
  // column that never comes before it (earliest → latest, begins → ends) closes each span.
  function isDate(t) {
    return !!t && t.type === "literal" && (DATES.includes(t.datatype) ||
      (!t.datatype || t.datatype === XSD + "string") && /^-?\d{4}(-\d{2}){0,2}$/.test(t.value));
  }

  function timeline(vars, rows) {
    const dateVars = vars.filter((v) => {
      const values = rows.filter((r) => r[v]);
      return values.length && values.every((r) => isDate(r[v]) && days(r[v]));
    });
    const distinct = (v) => new Set(rows.filter((r) => r[v]).map((r) => r[v].value)).size;
    let when = null, best = 0;
    for (const v of dateVars) if (distinct(v) > best) { when = v; best = distinct(v); }  // ties: first
    if (!when) return null;
    const dated = rows.filter((r) => r[when]);
    if (dated.length > 300) return null;
    // the closing column: every row's span from `from` to `to` runs forward, some are wider
    let from = when, to = null;
    for (const [a, b] of dateVars.flatMap((a) => dateVars.map((b) => [a, b]))) {
      if (a === b || (a !== when && b !== when) || distinct(a) < 2 || distinct(b) < 2) continue;
      if (dated.every((r) => !r[a] === !r[b] && (!r[a] || days(r[a])[0] <= days(r[b])[0])) &&
          dated.some((r) => r[a] && r[a].value !== r[b].value)) { from = a; to = b; break; }
    }
    const spans = dated.map((r) => {
      const lo = days(r[from]), hi = days(r[to && r[to] ? to : from]);
      return { row: r, start: lo[0], end: hi[1] };
    });
    const label = nameColumn(vars, dated, dateVars);
    spans.sort((a, b) => a.start - b.start || a.end - b.end);
    const lo = Math.floor(yearOf(spans[0].start));
    const hi = Math.max(Math.ceil(Math.max(...spans.map((s) => yearOf(s.end)))), lo + 1);
    const rowH = 20, left = 24, axisW = 340, width = left + axisW + 170, top = 24;
    const x = (y) => left + ((y - lo) / (hi - lo)) * axisW;
    const chart = svg("svg", { viewBox: `0 0 ${width} ${top + spans.length * rowH + 6}`,
      class: "q-timeline", role: "img",
      "aria-label": `timeline of ?${from}` + (to ? ` to ?${to}` : "") });
    const step = Math.max(1, Math.ceil((hi - lo) / 8));
    for (let y = lo; y <= hi; y += step) {
      chart.appendChild(svg("line", { x1: x(y), x2: x(y), y1: top - 6, y2: top + spans.length * rowH,
        class: "q-grid", "data-year": y }));
      chart.appendChild(svg("text", { x: x(y), y: top - 10, "text-anchor": "middle" }, String(y)));
    }
    spans.forEach((s, i) => {
      const x0 = x(yearOf(s.start)), x1 = x(yearOf(s.end));
      const cy = top + i * rowH + rowH / 2;
      const when = spanText(s.start, s.end);
      const oneDay = s.end - s.start <= 864e5;
      const g = svg("g", { class: "q-event", "data-from": iso(s.start),
        "data-to": iso(new Date(s.end - 864e5)) });
      const name = label && s.row[label] ? text(s.row[label]) : when;
      g.appendChild(svg("title", {}, name + " — " + when + (oneDay ? "" : " (any day of it)")));
      if (oneDay) g.appendChild(svg("circle", { cx: x0, cy, r: 5 }));
      else g.appendChild(svg("rect", { x: x0, y: cy - 5, height: 10, width: Math.max(x1 - x0, 2), rx: 2 }));
      g.appendChild(svg("text", { x: Math.max(x1, x0 + 5) + 4, y: cy + 4 },
        (name.length > 24 ? name.slice(0, 23) + "…" : name) + " (" + when + ")"));
      chart.appendChild(g);
    });
    return chart;
  }

  // Draws the answer; returns what the status line adds to "Done" (the row count).
  function renderSolutions(payload) {
    if (typeof payload.boolean === "boolean") {
      results.appendChild(el("p", "Answer: " + payload.boolean, "q-answer"));
      return "";
    }
    const vars = payload.head.vars || [];
    const rows = payload.results.bindings || [];
    const panes = [["Table", table(vars, rows)], ["Bar chart", barChart(vars, rows)],
      ["Timeline", timeline(vars, rows)]].filter(([, node]) => node);
    clear(views);
    views.hidden = panes.length < 2;
    panes.forEach(([name, node], i) => {
      const button = el("button", name, "q-view");
      button.type = "button";
      button.setAttribute("role", "tab");
      button.setAttribute("aria-selected", String(i === 0));
      const pane = el("div", null, "q-pane");
      pane.appendChild(node);
      pane.hidden = i !== 0;
      button.addEventListener("click", () => {
        for (const b of views.children) b.setAttribute("aria-selected", String(b === button));
        for (const p of results.querySelectorAll(".q-pane")) p.hidden = p !== pane;
      });
      views.appendChild(button);
      results.appendChild(pane);
    });
    return " " + rows.length + " row" + (rows.length === 1 ? "" : "s") + ".";
  }

  async function run(event) {
    if (event) event.preventDefault();
    const q = current();
    for (const input of paramFields.querySelectorAll("input")) {  // required while it is used
      const p = q && q.params.find((x) => x.name === input.dataset.param);
      input.required = !!(p && p.required && uses(p.name));
    }
    if (!form.reportValidity()) {  // a required parameter left empty: say so, send nothing
      statusLine.className = "error";
      statusLine.textContent = "Fill in the required parameters first.";
      return;
    }
    const textValue = source.value;
    clear(results); clear(views); views.hidden = true;
    statusLine.className = "";
    statusLine.textContent = "Running…";
    updateLinks();
    const started = performance.now();
    const graph = isGraphQuery(textValue);
    const body = new URLSearchParams({ query: textValue });
    for (const [name, type, value] of bindings()) body.set("$" + name, term(type, value));
    let response;
    try {
      response = await fetch(endpoint, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded",
          "Accept": graph ? "text/turtle" : "application/sparql-results+json" },
        body,
      });
    } catch (e) {
      statusLine.className = "error";
      statusLine.textContent = "The endpoint could not be reached: " + e;
      return;
    }
    const seconds = ((performance.now() - started) / 1000).toFixed(2);
    const type = response.headers.get("Content-Type") || "";
    if (!response.ok) {
      let detail = response.status + " " + response.statusText;
      if (type.includes("json")) {
        const p = await response.json();
        detail = (p.title || detail) + ": " + (p.detail || "");
        const retry = response.headers.get("Retry-After");
        if (retry) detail += " (retry after " + retry + " s)";
      }
      statusLine.className = "error";
      statusLine.textContent = detail;
      return;
    }
    if (response.headers.get("Isecg-Result-Truncated")) {
      results.appendChild(el("p", "Only the first " + response.headers.get("Isecg-Result-Rows") +
        " results are shown: the endpoint's row limit applies. Add LIMIT/OFFSET to page through.", "warning"));
    }
    // "Done" only once the answer is on the page: the body may still be arriving after the head
    let rows = "";
    if (type.includes("sparql-results+json")) rows = renderSolutions(await response.json());
    else results.appendChild(el("pre", await response.text()));
    statusLine.textContent = "Done in " + seconds + " s." + rows;
  }

  form.addEventListener("submit", run);

  // ---- start: a named query and its parameters from the URL, or the text given
  const params = new URLSearchParams(location.search);
  const start = current();
  const values = {};
  if (start) for (const p of start.params) if (params.has(p.name)) values[p.name] = params.get(p.name);
  showParams(start, values);
  follow();
  updateLinks();
  if (source.dataset.autorun === "true") run();
})();
