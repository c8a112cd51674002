// Draws the graph whose data the element's data-src names; node labels and tooltips are plain text.
// A #min-papers select keeps only the edges that at least that many papers support (?min_papers=N).
(function () {
  const el = document.getElementById("graph");
  if (!el || typeof vis === "undefined") return;
  const colours = new Proxy({}, {  // kg.schema's type colours: the generated --kg-TYPE properties, read once
    get: function (seen, type) {
      if (!(type in seen)) seen[type] = getComputedStyle(document.documentElement).getPropertyValue("--kg-" + String(type)).trim() || null;
      return seen[type];
    },
  });
  const select = document.getElementById("min-papers");
  const count = document.getElementById("graph-count");
  let network = null;
  function draw(minPapers) {
    const url = el.dataset.src + (minPapers > 1 ? "?min_papers=" + minPapers : "");
    fetch(url).then(function (r) { return r.json(); }).then(function (data) {
      const hasLayout = data.nodes.length && data.nodes[0].x !== undefined;
      data.nodes.forEach(function (n) { n.color = colours[n.group] || "#999"; n.shape = "dot"; });
      if (network) network.destroy();
      el.dataset.drawn = "";
      el.dataset.edges = String(data.edges.length);
      if (count) count.textContent = data.edges.length + (data.edges.length === 1 ? " edge" : " edges");
      network = new vis.Network(el, { nodes: new vis.DataSet(data.nodes), edges: new vis.DataSet(data.edges) }, {
        physics: hasLayout ? false : { stabilization: { iterations: 150 }, barnesHut: { springLength: 140 } },
        edges: { smooth: false, color: { color: "#c8c8c8" } },
        nodes: { font: { size: 14 }, scaling: { min: 8, max: 36 } },
        interaction: { hover: true, tooltipDelay: 100 },
      });
      network.once("afterDrawing", function () { window.kgGraphDrawn = performance.now(); el.dataset.drawn = "1"; });
      network.on("click", function (params) {
        if (params.nodes.length) window.location.href = "/concept/" + encodeURIComponent(params.nodes[0]);
      });
      window.kgNetwork = network;
    });
  }
  if (select) select.addEventListener("change", function () { draw(parseInt(select.value, 10) || 1); });
  draw(select ? parseInt(select.value, 10) || 1 : 1);
})();
