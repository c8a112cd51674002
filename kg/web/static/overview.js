// The overview map: topics as regions, their concepts inside, laid out at build time (no physics).
// One script for the explorer's /overview (data from data-src) and the offline graph.html (data
// inlined as JSON). Labels are placed greedily, most important first, and only where they overlap
// no label already placed, stay whole inside the canvas and off the other topics' discs: the first
// view shows the few that fit, zooming shows more. All text is drawn on the canvas or set as
// textContent, never parsed as HTML.
(function () {
  "use strict";
  const COLOURS = new Proxy({}, {  // kg.schema's type colours: the generated --kg-TYPE properties, read once
    get: function (seen, type) {
      if (!(type in seen)) seen[type] = getComputedStyle(document.documentElement).getPropertyValue("--kg-" + String(type)).trim() || null;
      return seen[type];
    },
  });
  const FONT = "12px system-ui, sans-serif";
  const el = document.getElementById("overview");
  if (!el) return;

  function start(data) {
    const topics = data.topics || [], nodes = data.nodes || [], edges = data.edges || [];
    const conceptUrl = el.dataset.conceptUrl || "", topicUrl = el.dataset.topicUrl || "";
    const canvas = document.createElement("canvas");
    const tip = document.createElement("div"); tip.className = "tip";
    const panel = document.createElement("div"); panel.className = "panel";
    const zoom = document.createElement("div"); zoom.className = "zoom";
    el.append(canvas, tip, panel, zoom);
    const ctx = canvas.getContext("2d");
    const adj = nodes.map(function () { return []; });
    edges.forEach(function (e) { adj[e[0]].push(e[1]); adj[e[1]].push(e[0]); });
    const byTopic = topics.map(function () { return []; });
    nodes.forEach(function (n, i) { byTopic[n.topic].push(i); });
    // label order: bigger concepts first, a topic's naming concepts counted thrice
    const order = nodes.map(function (_, i) { return i; }).sort(function (a, b) {
      const pa = nodes[a].papers * (nodes[a].name ? 3 : 1), pb = nodes[b].papers * (nodes[b].name ? 3 : 1);
      return pb - pa || (nodes[a].label < nodes[b].label ? -1 : 1);
    });
    const widths = {};
    let W = 0, H = 0, dpr = 1, view = { s: 1, tx: 0, ty: 0 }, fitS = 1;
    let hover = -1, hoverTopic = -1, focusTopic = -1, placed = [], drawnNodes = 0, raf = 0;

    // a dot's size by its papers relative to the most-mentioned concept drawn, so that dots stay
    // within the room the layout gives each concept at any corpus size
    const maxPapers = nodes.reduce(function (m, n) { return Math.max(m, n.papers); }, 1);
    function worldR(n) { return 5 + 13 * Math.sqrt(n.papers / maxPapers); }
    function sx(x) { return x * view.s + view.tx; }
    function sy(y) { return y * view.s + view.ty; }
    function nodeR(n) { return Math.max(2.5, worldR(n) * view.s); }
    function textWidth(text, font) {
      const k = font + "\u0000" + text;
      if (!(k in widths)) { ctx.font = font; widths[k] = ctx.measureText(text).width; }
      return widths[k];
    }

    function bounds(list) {
      let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
      list.forEach(function (t) { x0 = Math.min(x0, t.x - t.r); y0 = Math.min(y0, t.y - t.r); x1 = Math.max(x1, t.x + t.r); y1 = Math.max(y1, t.y + t.r); });
      return x0 === Infinity ? [-1, -1, 1, 1] : [x0, y0, x1, y1];
    }
    function viewFor(b, pad) {
      const s = Math.min((W - 2 * pad) / Math.max(1e-9, b[2] - b[0]), (H - 2 * pad - 20) / Math.max(1e-9, b[3] - b[1]));
      return { s: s, tx: W / 2 - s * (b[0] + b[2]) / 2, ty: H / 2 + 10 - s * (b[1] + b[3]) / 2 };
    }

    function resize() {
      dpr = window.devicePixelRatio || 1;
      W = el.clientWidth; H = el.clientHeight;
      canvas.width = Math.round(W * dpr); canvas.height = Math.round(H * dpr);
    }

    // a uniform grid of placed label boxes: each test looks at the few cells a box covers
    function Grid() { this.cells = new Map(); }
    Grid.prototype.keys = function (b) {
      const out = [];
      for (let gx = Math.floor(b[0] / 64); gx <= Math.floor(b[2] / 64); gx++)
        for (let gy = Math.floor(b[1] / 32); gy <= Math.floor(b[3] / 32); gy++) out.push(gx + "," + gy);
      return out;
    };
    Grid.prototype.free = function (b) {
      const ks = this.keys(b);
      for (let i = 0; i < ks.length; i++) {
        const cell = this.cells.get(ks[i]);
        if (!cell) continue;
        for (let j = 0; j < cell.length; j++) {
          const o = cell[j];
          if (b[0] < o[2] && o[0] < b[2] && b[1] < o[3] && o[1] < b[3]) return false;
        }
      }
      return true;
    };
    Grid.prototype.add = function (b) {
      const ks = this.keys(b);
      for (let i = 0; i < ks.length; i++) {
        if (!this.cells.has(ks[i])) this.cells.set(ks[i], []);
        this.cells.get(ks[i]).push(b);
      }
    };

    function draw() {
      raf = 0;
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      ctx.clearRect(0, 0, W, H);
      // topic regions
      topics.forEach(function (t, i) {
        ctx.beginPath();
        ctx.arc(sx(t.x), sy(t.y), t.r * view.s, 0, 2 * Math.PI);
        ctx.fillStyle = i === hoverTopic || i === focusTopic ? "#e4e9f3" : "#f0f2f6";
        ctx.fill();
        ctx.lineWidth = 1; ctx.strokeStyle = "#cfd5e0"; ctx.stroke();
      });
      // edges
      ctx.lineWidth = 1;
      [[false, "rgba(140,140,150,0.10)"], [true, "rgba(120,120,135,0.38)"]].forEach(function (kind) {
        ctx.strokeStyle = kind[1];
        ctx.beginPath();
        edges.forEach(function (e) {
          const a = nodes[e[0]], b = nodes[e[1]];
          if ((a.topic === b.topic) !== kind[0]) return;
          ctx.moveTo(sx(a.x), sy(a.y)); ctx.lineTo(sx(b.x), sy(b.y));
        });
        ctx.stroke();
      });
      if (hover >= 0) {
        ctx.strokeStyle = "rgba(60,60,70,0.7)"; ctx.lineWidth = 1.5; ctx.beginPath();
        adj[hover].forEach(function (j) { ctx.moveTo(sx(nodes[hover].x), sy(nodes[hover].y)); ctx.lineTo(sx(nodes[j].x), sy(nodes[j].y)); });
        ctx.stroke();
      }
      // nodes
      drawnNodes = 0;
      nodes.forEach(function (n, i) {
        const x = sx(n.x), y = sy(n.y), r = nodeR(n);
        if (x < -r || y < -r || x > W + r || y > H + r) return;
        drawnNodes++;
        ctx.beginPath(); ctx.arc(x, y, r, 0, 2 * Math.PI);
        ctx.fillStyle = COLOURS[n.type] || "#999"; ctx.fill();
        ctx.lineWidth = i === hover ? 2.5 : 1; ctx.strokeStyle = i === hover ? "#222" : "#fff"; ctx.stroke();
      });
      // labels: hovered node, topic names, then concepts by importance. A label is drawn whole
      // inside the canvas, over no other label; a topic's name stays on its own disc (or beside it,
      // on no other disc); a concept's label covers no other concept's dot and no other topic's disc
      const grid = new Grid(), dots = new Grid();
      const discs = topics.map(function (t) { return { x: sx(t.x), y: sy(t.y), r: t.r * view.s }; });
      placed = [];
      nodes.forEach(function (n, i) {
        const x = sx(n.x), y = sy(n.y), r = nodeR(n);
        if (x >= -r && y >= -r && x <= W + r && y <= H + r) dots.add([x - r, y - r, x + r, y + r, i]);
      });
      function onDisc(b, d) {
        const qx = Math.max(b[0], Math.min(d.x, b[2])), qy = Math.max(b[1], Math.min(d.y, b[3]));
        return Math.hypot(qx - d.x, qy - d.y) < d.r;
      }
      function onOtherDisc(b, own) {
        for (let k = 0; k < discs.length; k++) if (k !== own && onDisc(b, discs[k])) return true;
        return false;
      }
      function coversDot(b, own) {
        const ks = dots.keys(b);
        for (let i = 0; i < ks.length; i++) {
          const cell = dots.cells.get(ks[i]);
          if (!cell) continue;
          for (let j = 0; j < cell.length; j++) {
            const o = cell[j];
            if (o[4] !== own && b[0] < o[2] && o[0] < b[2] && b[1] < o[3] && o[1] < b[3]) return true;
          }
        }
        return false;
      }
      function inside(b) { return b[0] >= 0 && b[1] >= 0 && b[2] <= W && b[3] <= H; }
      // lines centred on cx from top; ok(box) says whether the box may be used
      function put(lines, font, lh, cx, top, kind, idx, ok) {
        let w = 0;
        lines.forEach(function (l) { w = Math.max(w, textWidth(l, font)); });
        const b = [cx - w / 2 - 2, top, cx + w / 2 + 2, top + lh * lines.length];
        if (!inside(b) || !grid.free(b) || (ok && !ok(b))) return false;
        grid.add(b);
        placed.push({ text: lines.join(" "), kind: kind, index: idx, x0: b[0], y0: b[1], x1: b[2], y1: b[3] });
        ctx.font = font; ctx.textAlign = "center"; ctx.textBaseline = "top";
        ctx.lineWidth = 3; ctx.strokeStyle = "rgba(255,255,255,0.92)"; ctx.lineJoin = "round";
        ctx.fillStyle = kind === "topic" ? "#1f2d4a" : "#222";
        lines.forEach(function (l, k) { ctx.strokeText(l, cx, top + 1 + k * lh); ctx.fillText(l, cx, top + 1 + k * lh); });
        return true;
      }
      function shorten(text, font, w) {
        if (textWidth(text, font) <= w) return text;
        let n = text.length;
        while (n > 3 && textWidth(text.slice(0, n) + "\u2026", font) > w) n--;
        return text.slice(0, n).replace(/[\s,]+$/, "") + "\u2026";
      }
      function wrap(text, font, w) {  // words in lines no wider than w (a longer word is a line of its own)
        const lines = [];
        text.split(" ").forEach(function (word) {
          const last = lines.length ? lines[lines.length - 1] + " " + word : word;
          if (lines.length && textWidth(last, font) <= w) lines[lines.length - 1] = last;
          else lines.push(word);
        });
        return lines;
      }
      function placeTopic(t, i) {
        const d = discs[i], parts = t.label.split(", "), first = parts[0];
        const small = "bold 12px system-ui, sans-serif", lw = 1.5 * d.r;
        const forms = [[[t.label], 14], [parts, 14], [[first], 14], [[t.label], 12], [parts, 12], [[first], 12],
          [wrap(first, small, lw), 12], [wrap(first, "bold 11px system-ui, sans-serif", lw), 11],
          [wrap(first, "bold 10px system-ui, sans-serif", lw), 10]];
        for (let k = 0; k < forms.length; k++) {  // on the disc, as high as it fits
          const lines = forms[k][0], size = forms[k][1], font = "bold " + size + "px system-ui, sans-serif";
          const lh = size + 4, h = lh * lines.length;
          let w = 0;
          lines.forEach(function (l) { w = Math.max(w, textWidth(l, font)); });
          const r = d.r - 3, half = w / 2 + 2;
          if (half >= r) continue;
          const reach = Math.sqrt(r * r - half * half);
          if (h > 2 * reach) continue;
          if (lines.length > 4) continue;
          if (put(lines, font, lh, d.x, d.y - reach, "topic", i, function (b) { return !onOtherDisc(b, i); })) {
            titled[i] = lines.join(" ").replace(/\u2026$/, "");
            return;
          }
        }
        const text = shorten(first, small, Math.max(2 * d.r, 140));
        const off = function (b) { return !onOtherDisc(b, i); };
        if (put([text], small, 16, d.x, d.y - d.r - 17, "topic", i, off)) titled[i] = text;  // above the disc, or below
        else if (put([text], small, 16, d.x, d.y + d.r + 1, "topic", i, off)) titled[i] = text;
        else {  // on the disc, shortened
          const short = shorten(first, small, lw), half = textWidth(short, small) / 2 + 2, r = d.r - 3;
          if (half < r) put([short], small, 16, d.x, d.y - Math.sqrt(r * r - half * half), "topic", i);
        }
      }
      const titled = {};  // topic -> the name drawn: its naming concepts need no label of their own
      if (hover >= 0) {
        const n = nodes[hover], w = textWidth(n.label, FONT), x = Math.max(w / 2 + 3, Math.min(W - w / 2 - 3, sx(n.x)));
        put([n.label], FONT, 15, x, Math.min(H - 16, sy(n.y) + nodeR(n) + 1), "concept", hover);
      }
      topics.forEach(placeTopic);
      order.forEach(function (i) {
        if (i === hover) return;
        const n = nodes[i], r = nodeR(n);
        if (r < 2.6 && view.s < fitS * 1.5 && !n.name) return;
        if (n.name && titled[n.topic] !== undefined && (", " + titled[n.topic] + ",").indexOf(" " + n.label + ",") >= 0) return;
        put([n.label], FONT, 15, sx(n.x), sy(n.y) + r + 1, "concept", i, function (b) {
          return !coversDot(b, i) && !onOtherDisc(b, n.topic);
        });
      });
      el.dataset.drawn = "1";
      if (!window.kgGraphDrawn) window.kgGraphDrawn = performance.now();
    }
    function redraw() { if (!raf) raf = requestAnimationFrame(draw); }

    function animateTo(target) {
      const from = { s: view.s, tx: view.tx, ty: view.ty }, t0 = performance.now();
      function step(now) {
        const k = Math.min(1, (now - t0) / 350), e = k * (2 - k);
        view = { s: from.s + (target.s - from.s) * e, tx: from.tx + (target.tx - from.tx) * e, ty: from.ty + (target.ty - from.ty) * e };
        draw();
        if (k < 1) requestAnimationFrame(step);
      }
      requestAnimationFrame(step);
    }

    function nodeAt(px, py) {
      let best = -1, bestD = Infinity;
      nodes.forEach(function (n, i) {
        const d = Math.hypot(sx(n.x) - px, sy(n.y) - py), r = nodeR(n) + 3;
        if (d <= r && d < bestD) { best = i; bestD = d; }
      });
      return best;
    }
    function topicAt(px, py) {
      for (let k = 0; k < placed.length; k++) {
        const p = placed[k];
        if (p.kind === "topic" && px >= p.x0 && px <= p.x1 && py >= p.y0 && py <= p.y1) return p.index;
      }
      for (let i = 0; i < topics.length; i++) {
        const t = topics[i];
        if (Math.hypot(sx(t.x) - px, sy(t.y) - py) <= t.r * view.s) return i;
      }
      return -1;
    }

    function link(text, href) { const a = document.createElement("a"); a.textContent = text; a.href = href; return a; }
    function showPanel(title, lines, extra) {
      panel.textContent = "";
      const close = document.createElement("button"); close.className = "close"; close.textContent = "\u00d7";
      close.setAttribute("aria-label", "close"); close.onclick = function () { panel.style.display = "none"; focusTopic = -1; redraw(); };
      const h = document.createElement("h3"); h.textContent = title;
      panel.append(close, h);
      lines.forEach(function (l) { const p = document.createElement("div"); p.textContent = l; panel.append(p); });
      if (extra) panel.append(extra);
      panel.style.display = "block";
    }
    function conceptList(ids) {
      const ul = document.createElement("ul");
      ids.forEach(function (j) {
        const li = document.createElement("li"), n = nodes[j];
        const a = conceptUrl ? link(n.label, conceptUrl.replace("{id}", encodeURIComponent(n.id))) : link(n.label, "#");
        if (!conceptUrl) a.onclick = function (ev) { ev.preventDefault(); focusNode(j); };
        li.append(a, document.createTextNode(" (" + n.papers + ")"));
        ul.append(li);
      });
      return ul;
    }
    function focusTopicAt(i) {
      const t = topics[i];
      focusTopic = i;
      let v = viewFor(bounds([t]), 30);
      if (v.s < view.s * 1.25) {  // a topic as large as the map: zoom in on its centre all the same
        const s = view.s * 1.5;
        v = { s: s, tx: W / 2 - s * t.x, ty: H / 2 - s * t.y };
      }
      animateTo(v);
      const box = document.createElement("div");
      if (topicUrl) { const p = document.createElement("p"); p.append(link("open the topic's page", topicUrl.replace("{id}", encodeURIComponent(t.id)))); box.append(p); }
      box.append(conceptList(byTopic[i].slice().sort(function (a, b) { return nodes[b].papers - nodes[a].papers; }).slice(0, 25)));
      showPanel(t.label, [t.size + " concepts, " + t.shown + " drawn"], box);
    }
    function focusNode(i) {
      const n = nodes[i], s = Math.max(view.s, fitS * 3);
      animateTo({ s: s, tx: W / 2 - s * n.x, ty: H / 2 - s * n.y });
      showPanel(n.label, [n.type.toLowerCase() + " \u00b7 " + n.papers + (n.papers === 1 ? " paper" : " papers"),
        "topic: " + topics[n.topic].label, adj[i].length ? "linked with:" : ""], conceptList(adj[i]));
    }

    let drag = null;
    canvas.addEventListener("mousedown", function (ev) { drag = { x: ev.clientX, y: ev.clientY, tx: view.tx, ty: view.ty, moved: false }; });
    window.addEventListener("mouseup", function (ev) {
      if (!drag) return;
      const d = drag; drag = null; canvas.classList.remove("dragging");
      if (d.moved) return;
      const r = canvas.getBoundingClientRect(), px = ev.clientX - r.left, py = ev.clientY - r.top;
      const i = nodeAt(px, py);
      if (i >= 0) {
        if (conceptUrl) window.location.href = conceptUrl.replace("{id}", encodeURIComponent(nodes[i].id));
        else focusNode(i);
        return;
      }
      const t = topicAt(px, py);
      if (t >= 0) {
        if (t === focusTopic && topicUrl) window.location.href = topicUrl.replace("{id}", encodeURIComponent(topics[t].id));
        else focusTopicAt(t);
      }
    });
    canvas.addEventListener("mousemove", function (ev) {
      const r = canvas.getBoundingClientRect(), px = ev.clientX - r.left, py = ev.clientY - r.top;
      if (drag) {
        if (Math.abs(ev.clientX - drag.x) + Math.abs(ev.clientY - drag.y) > 3) { drag.moved = true; canvas.classList.add("dragging"); }
        if (drag.moved) { view.tx = drag.tx + ev.clientX - drag.x; view.ty = drag.ty + ev.clientY - drag.y; redraw(); }
        return;
      }
      const i = nodeAt(px, py), t = i >= 0 ? nodes[i].topic : topicAt(px, py);
      if (i !== hover || t !== hoverTopic) { hover = i; hoverTopic = t; redraw(); }
      if (i >= 0) {
        const n = nodes[i];
        tip.textContent = n.label + "\n" + n.type.toLowerCase() + " \u00b7 " + n.papers + (n.papers === 1 ? " paper" : " papers") + "\ntopic: " + topics[n.topic].label;
        tip.style.display = "block";
        tip.style.left = Math.min(px + 14, W - tip.offsetWidth - 4) + "px"; tip.style.top = (py + 14) + "px";
      } else tip.style.display = "none";
      canvas.style.cursor = i >= 0 || t >= 0 ? "pointer" : "";
    });
    canvas.addEventListener("mouseleave", function () { tip.style.display = "none"; if (hover >= 0 || hoverTopic >= 0) { hover = -1; hoverTopic = -1; redraw(); } });
    function zoomAt(px, py, k) {
      const s = Math.max(fitS * 0.5, Math.min(fitS * 40, view.s * k));
      k = s / view.s;
      view = { s: s, tx: px - (px - view.tx) * k, ty: py - (py - view.ty) * k };
      redraw();
    }
    canvas.addEventListener("wheel", function (ev) {
      ev.preventDefault();
      const r = canvas.getBoundingClientRect();
      zoomAt(ev.clientX - r.left, ev.clientY - r.top, Math.exp(-ev.deltaY * 0.0015));
    }, { passive: false });
    [["+", function () { zoomAt(W / 2, H / 2, 1.5); }], ["\u2212", function () { zoomAt(W / 2, H / 2, 1 / 1.5); }],
     ["\u2922", function () { focusTopic = -1; panel.style.display = "none"; animateTo(viewFor(bounds(topics), 16)); }]].forEach(function (b) {
      const btn = document.createElement("button"); btn.textContent = b[0]; btn.onclick = b[1]; zoom.append(btn);
    });
    btnTitles();
    function btnTitles() { ["zoom in", "zoom out", "fit the map"].forEach(function (t, i) { zoom.children[i].title = t; zoom.children[i].setAttribute("aria-label", t); }); }

    resize();
    view = viewFor(bounds(topics), 16);
    fitS = view.s;
    draw();
    if (window.ResizeObserver) new ResizeObserver(function () { resize(); redraw(); }).observe(el);
    window.kgOverview = {
      data: data,
      view: function () { return { s: view.s, tx: view.tx, ty: view.ty }; },
      labels: function () { return placed.slice(); },
      nodesDrawn: function () { return drawnNodes; },
      screen: function (i) { return { x: sx(nodes[i].x), y: sy(nodes[i].y) }; },
      topicScreen: function (i) { return { x: sx(topics[i].x), y: sy(topics[i].y), r: topics[i].r * view.s }; },
      focusTopic: focusTopicAt,
      focusNode: focusNode,
    };
  }

  const inline = document.getElementById("kg-overview-data");
  if (inline) start(JSON.parse(inline.textContent));
  else fetch(el.dataset.src).then(function (r) { return r.json(); }).then(start);
})();
