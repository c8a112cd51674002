// The SPARQL page: named queries as editable examples; results as a table built with textContent.
(function () {
  const examples = JSON.parse(document.getElementById("example-data").textContent);
  const area = document.getElementById("sparql");
  const status = document.getElementById("status");
  const out = document.getElementById("results");
  document.getElementById("examples").addEventListener("change", function (e) {
    const ex = examples.find(function (x) { return x.name === e.target.value; });
    if (ex) area.value = ex.text;
  });
  document.getElementById("run").addEventListener("click", async function () {
    status.textContent = "running…";
    out.replaceChildren();
    const t0 = performance.now();
    const res = await fetch("/sparql", {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", "Accept": "application/sparql-results+json" },
      body: new URLSearchParams({ query: area.value }),
    });
    const ms = Math.round(performance.now() - t0);
    if (!res.ok) {
      const p = document.createElement("p");
      p.className = "error";
      p.textContent = res.status + ": " + (await res.text());
      out.appendChild(p);
      status.textContent = "";
      return;
    }
    const data = await res.json();
    if (data.boolean !== undefined) { status.textContent = String(data.boolean) + " (" + ms + " ms)"; return; }
    const table = document.createElement("table");
    table.className = "results";
    const head = table.insertRow();
    data.head.vars.forEach(function (v) { const th = document.createElement("th"); th.textContent = v; head.appendChild(th); });
    // where a value links: an IRI of a concept, paper or topic to its page; a label or title to the page
    // of the row's one concept or paper (or, without one, to search, which opens the single match);
    // a ?concept literal is a concept id, a ?pid / ?id / ?other literal without spaces a paper id
    const LABELS = /^(label|title|method|task|dataset|metric|name|neighbour)$/i;
    function page(t) {
      const m = t.type === "uri" && t.value.match(/\/id\/(concept|paper|topic)\/([^/]+)$/);
      return m ? "/" + m[1] + "/" + m[2] : null;
    }
    data.results.bindings.forEach(function (b) {
      const row = table.insertRow();
      const pages = data.head.vars.map(function (v) { return b[v] ? page(b[v]) : null; })
        .filter(function (h) { return h && !h.startsWith("/topic/"); });
      data.head.vars.forEach(function (v) {
        const cell = row.insertCell();
        const t = b[v];
        if (!t) return;
        let href = page(t);
        if (!href && t.type === "literal" && t.value) {
          if (/^concept$/i.test(v)) href = "/concept/" + t.value.replace(/[^\w%.~-]/g, encodeURIComponent);
          else if (/^(pid|id|other)$/i.test(v) && !/\s/.test(t.value)) href = "/paper/" + encodeURIComponent(t.value);
          else if (LABELS.test(v)) href = pages.length === 1 ? pages[0] : "/search?q=" + encodeURIComponent(t.value);
        }
        if (href) { const a = document.createElement("a"); a.href = href; a.textContent = t.value; cell.appendChild(a); }
        else cell.textContent = t.value;
      });
    });
    out.appendChild(table);
    status.textContent = data.results.bindings.length + " rows (" + ms + " ms)";
  });
})();
