// The query page: runs the query with fetch, renders results with textContent only (no HTML
// from the data is ever parsed), offers downloads. No dependencies, works offline.
"use strict";

(function () {
  const form = document.getElementById("query-form");
  const editor = document.getElementById("query");
  const picker = document.getElementById("example");
  const about = document.getElementById("example-description");
  const statusLine = document.getElementById("status");
  const downloads = document.getElementById("downloads");
  const results = document.getElementById("results");
  const endpoint = form.getAttribute("action");
  const examples = JSON.parse(document.getElementById("examples-data").textContent || "[]");

  function el(tag, text, cls) {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = text;
    if (cls) e.className = cls;
    return e;
  }

  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

  picker.addEventListener("change", function () {
    const q = examples[Number(picker.value)];
    if (!q || picker.value === "") return;
    editor.value = q.query;
    about.textContent = q.description + (q.params.length ? " Parameters: " + q.params.join(", ") + " (edit the query to bind them)." : "");
  });

  function isGraphQuery(text) {
    const stripped = text.replace(/#[^\n]*/g, " ").replace(/"[^"]*"|'[^']*'|<[^>\s]*>/g, " ");
    const m = stripped.match(/\b(SELECT|ASK|CONSTRUCT|DESCRIBE)\b/i);
    return !!m && /CONSTRUCT|DESCRIBE/i.test(m[1]);
  }

  function downloadLinks(text) {
    clear(downloads);
    const kinds = isGraphQuery(text)
      ? [["turtle", "Turtle"], ["nt", "N-Triples"], ["jsonld", "JSON-LD"], ["xml", "RDF/XML"]]
      : [["json", "JSON"], ["xml", "XML"], ["csv", "CSV"], ["tsv", "TSV"]];
    downloads.appendChild(el("span", "Download: "));
    for (const [fmt, label] of kinds) {
      const a = el("a", label);
      a.href = endpoint + "?query=" + encodeURIComponent(text) + "&format=" + encodeURIComponent(fmt);
      a.setAttribute("download", "query-result." + fmt);
      downloads.appendChild(a);
    }
  }

  function cell(term) {
    const td = el("td");
    if (!term) return td;
    if (term.type === "uri") {
      td.className = "uri";
      const a = el("a", term.value);
      if (/^https?:\/\//.test(term.value)) a.href = term.value;
      td.appendChild(a);
    } else if (term.type === "literal") {
      td.appendChild(el("span", term.value));
      if (term["xml:lang"]) td.appendChild(el("span", " @" + term["xml:lang"], "lang"));
      else if (term.datatype) td.appendChild(el("span", " ^^" + term.datatype.replace("http://www.w3.org/2001/XMLSchema#", "xsd:"), "dt"));
    } else if (term.type === "bnode") {
      td.textContent = "_:" + term.value;
    } else {
      td.textContent = JSON.stringify(term.value);
    }
    return td;
  }

  function renderResults(data) {
    if (typeof data.boolean === "boolean") {
      results.appendChild(el("p", "Answer: " + data.boolean));
      return;
    }
    const vars = data.head.vars || [];
    const rows = data.results.bindings || [];
    const table = el("table");
    const head = el("tr");
    for (const v of vars) head.appendChild(el("th", "?" + v));
    const thead = el("thead"); thead.appendChild(head); table.appendChild(thead);
    const tbody = el("tbody");
    for (const row of rows) {
      const tr = el("tr");
      for (const v of vars) tr.appendChild(cell(row[v]));
      tbody.appendChild(tr);
    }
    table.appendChild(tbody);
    results.appendChild(table);
    statusLine.textContent += " " + rows.length + " row" + (rows.length === 1 ? "" : "s") + ".";
  }

  async function run(event) {
    if (event) event.preventDefault();
    const text = editor.value;
    clear(results);
    statusLine.className = "";
    statusLine.textContent = "Running…";
    const started = performance.now();
    const graph = isGraphQuery(text);
    let response;
    try {
      response = await fetch(endpoint, {
        method: "POST",
        headers: {
          "Content-Type": "application/x-www-form-urlencoded",
          "Accept": graph ? "text/turtle" : "application/sparql-results+json",
        },
        body: new URLSearchParams({ query: text }),
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
    statusLine.textContent = "Done in " + seconds + " s.";
    downloadLinks(text);
    if (response.headers.get("Isecg-Result-Truncated")) {
      results.appendChild(el("p", "Only the first " + response.headers.get("Isecg-Result-Rows") +
        " results are shown: the endpoint's row limit applies. Add LIMIT/OFFSET to page through.", "warning"));
    }
    if (type.includes("sparql-results+json")) renderResults(await response.json());
    else results.appendChild(el("pre", await response.text()));
  }

  form.addEventListener("submit", run);
  if (editor.dataset.autorun === "true") run();
})();
