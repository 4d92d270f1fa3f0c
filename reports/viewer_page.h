#pragma once
// The viewer page: HTML, CSS and JavaScript in one string, with the trace put
// in place of /*ESSIM_DATA*/. No fetch, no CDN: the file works offline.

namespace essim::reports {

inline constexpr const char* kViewerPage = R"ESSIM(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>essim trace</title>
<style>
  body { margin: 0; font: 13px/1.4 system-ui, sans-serif; color: #1d2430; background: #f6f7f9; }
  header { padding: 8px 12px; background: #1d2430; color: #fff; }
  header h1 { font-size: 15px; margin: 0 0 4px 0; }
  #verdict { font-family: ui-monospace, monospace; font-size: 12px; white-space: pre-wrap; margin: 0;
             max-height: 7.5em; overflow: auto; color: #ffd7a8; }
  #main { display: flex; height: calc(100vh - 110px); }
  #view { flex: 1; position: relative; overflow: hidden; background: #fff; cursor: grab; }
  #view canvas { position: absolute; left: 0; top: 0; }
  #side { width: 340px; border-left: 1px solid #d5d9e0; padding: 8px; overflow: auto; }
  #side h2 { font-size: 13px; margin: 8px 0 4px; }
  #details { font-family: ui-monospace, monospace; font-size: 12px; white-space: pre-wrap; }
  #bar { padding: 4px 12px; background: #e9ecf1; border-bottom: 1px solid #d5d9e0; }
  #bar button { margin-right: 6px; }
  .legend span { display: inline-block; margin-right: 10px; }
  .sw { display: inline-block; width: 10px; height: 10px; margin-right: 3px; vertical-align: -1px; }
  #operations button { display: block; width: 100%; margin: 2px 0; text-align: left; color: #0b7285;
                       font: 12px ui-monospace, monospace; background: #eef6f7; border: 1px solid #b9dde1; }
</style>
</head>
<body>
<header><h1 id="title">essim trace</h1><pre id="verdict"></pre></header>
<div id="bar">
  <button id="zoom-in">zoom in</button><button id="zoom-out">zoom out</button>
  <button id="fit">whole run</button><button id="next">next highlighted step</button>
  <span id="where"></span>
  <span class="legend">
    <span><i class="sw" style="background:#3b6fd8"></i>delivered</span>
    <span><i class="sw" style="background:#d8433b"></i>dropped</span>
    <span><i class="sw" style="background:#9b59b6"></i>duplicated</span>
    <span><i class="sw" style="background:#9aa3b2"></i>node down</span>
    <span><i class="sw" style="background:#fbe3e1"></i>partition</span>
    <span><i class="sw" style="background:#f39c12"></i>named in the evidence</span>
    <span><i class="sw" style="background:#0b7285"></i>operation</span>
  </span>
</div>
<div id="main"><div id="view"><canvas id="canvas"></canvas></div>
<div id="side"><h2>Details</h2><div id="details">Click an arrow, a mark or a bar.</div>
<h2>Operations</h2><div id="operations">None in this run.</div>
<h2>Keys</h2><div>Wheel: scroll in time. Ctrl+wheel or the buttons: zoom. Drag: pan.</div></div></div>
<script id="essim-data" type="application/json">/*ESSIM_DATA*/</script>
<script>
"use strict";
(function () {
  let errors = 0;
  const originalError = console.error;
  console.error = function () { errors++; document.body.dataset.errors = String(errors); originalError.apply(console, arguments); };
  window.addEventListener("error", () => { errors++; document.body.dataset.errors = String(errors); });
  document.body.dataset.errors = "0";

  const data = JSON.parse(document.getElementById("essim-data").textContent);
  const nodes = data.nodes;
  const highlight = new Set(data.highlight);
  document.getElementById("title").textContent = data.title;
  document.getElementById("verdict").textContent = data.verdict.join("\n");

  // Rows: [step, at_us, kind, node, peer, a, b, text]
  const S = 0, T = 1, K = 2, N = 3, P = 4, A = 5, B = 6, X = 7;
  const sends = new Map(), copies = new Map();
  const messages = [], drops = [], marks = [], downs = [], partitions = [];
  const downSince = new Map(), partitionSince = new Map();
  let tEnd = 0;
  for (const r of data.steps) {
    tEnd = Math.max(tEnd, r[T]);
    switch (r[K]) {
      case "send": sends.set(r[A], r); break;
      case "duplicate": copies.set(r[B], r[A]); marks.push({ t: r[T], node: r[N], kind: "duplicate", row: r }); break;
      case "deliver": {
        const send = sends.get(copies.has(r[A]) ? copies.get(r[A]) : r[A]);
        if (send) messages.push({ t0: send[T], t1: r[T], from: send[N], to: r[N], send, row: r,
                                  dup: copies.has(r[A]), hot: highlight.has(r[S]) || highlight.has(send[S]) });
        break;
      }
      case "drop": {
        const send = sends.get(copies.has(r[A]) ? copies.get(r[A]) : r[A]);
        drops.push({ t0: send ? send[T] : r[T], t1: r[T], from: r[N], to: r[P], row: r, hot: highlight.has(r[S]) });
        break;
      }
      case "crash": downSince.set(r[N], r); marks.push({ t: r[T], node: r[N], kind: "crash", row: r }); break;
      case "restart": {
        const c = downSince.get(r[N]);
        if (c) { downs.push({ t0: c[T], t1: r[T], node: r[N], row: c, end: r }); downSince.delete(r[N]); }
        marks.push({ t: r[T], node: r[N], kind: "restart", row: r });
        break;
      }
      case "partition": partitionSince.set(r[A], r); break;
      case "heal": {
        const p = partitionSince.get(r[A]);
        if (p) { partitions.push({ t0: p[T], t1: r[T], row: p, end: r }); partitionSince.delete(r[A]); }
        break;
      }
      case "note": case "log": case "disk-crash": case "read-corruption": case "clog": case "phase":
        marks.push({ t: r[T], node: r[N], kind: r[K], row: r, hot: highlight.has(r[S]) });
        break;
      default: break;
    }
  }
  // The operations the run made, and what they noted (a cut-over): a line
  // across every lane, and a button each beside the diagram.
  const operations = data.operations.slice().sort((a, b) => a.at_us - b.at_us);
  for (const o of operations) tEnd = Math.max(tEnd, o.at_us);
  for (const [, c] of downSince) downs.push({ t0: c[T], t1: tEnd, node: c[N], row: c });
  for (const [, p] of partitionSince) partitions.push({ t0: p[T], t1: tEnd, row: p });
  messages.sort((a, b) => a.t0 - b.t0);
  drops.sort((a, b) => a.t0 - b.t0);
  marks.sort((a, b) => a.t - b.t);
  let longest = 1;
  for (const m of messages) longest = Math.max(longest, m.t1 - m.t0);
  for (const d of drops) longest = Math.max(longest, d.t1 - d.t0);

  const view = document.getElementById("view");
  const canvas = document.getElementById("canvas");
  const ctx = canvas.getContext("2d");
  const top = 28;
  let width = 0, height = 0, start = 0, usPerPx = Math.max(1, tEnd / 600), selected = null;
  const laneX = (n) => 90 + (n + 0.5) * ((width - 100) / Math.max(1, nodes.length));
  const y = (t) => top + (t - start) / usPerPx;
  const fmt = (us) => (us / 1e6).toFixed(6).replace(/\.?0+$/, "") + "s";

  function lowerBound(list, t, key) {
    let lo = 0, hi = list.length;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (key(list[mid]) < t) lo = mid + 1; else hi = mid; }
    return lo;
  }
  // Only what is in view is drawn: a run of 100,000 steps stays responsive.
  function visible(list, key, slack) {
    const end = start + (height - top) * usPerPx;
    const out = [];
    for (let i = lowerBound(list, start - slack, key); i < list.length && key(list[i]) <= end; i++) out.push(list[i]);
    return out;
  }
  function resize() {
    const dpr = window.devicePixelRatio || 1;
    width = view.clientWidth; height = view.clientHeight;
    canvas.width = width * dpr; canvas.height = height * dpr;
    canvas.style.width = width + "px"; canvas.style.height = height + "px";
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    draw();
  }
  function arrow(x0, y0, x1, y1, color, lineWidth) {
    ctx.strokeStyle = color; ctx.fillStyle = color; ctx.lineWidth = lineWidth;
    ctx.beginPath(); ctx.moveTo(x0, y0); ctx.lineTo(x1, y1); ctx.stroke();
    const a = Math.atan2(y1 - y0, x1 - x0);
    ctx.beginPath(); ctx.moveTo(x1, y1);
    ctx.lineTo(x1 - 7 * Math.cos(a - 0.4), y1 - 7 * Math.sin(a - 0.4));
    ctx.lineTo(x1 - 7 * Math.cos(a + 0.4), y1 - 7 * Math.sin(a + 0.4));
    ctx.fill();
  }
  const markColor = { crash: "#d8433b", restart: "#27ae60", duplicate: "#9b59b6", note: "#2c3e50",
                      log: "#7f8c8d", "disk-crash": "#e67e22", "read-corruption": "#c0392b", clog: "#8e44ad", phase: "#16a085" };
  function draw() {
    ctx.clearRect(0, 0, width, height);
    const end = start + (height - top) * usPerPx;
    for (const p of partitions) {
      if (p.t1 < start || p.t0 > end) continue;
      ctx.fillStyle = "#fbe3e1"; ctx.fillRect(80, y(p.t0), width - 80, y(p.t1) - y(p.t0));
    }
    ctx.font = "12px system-ui, sans-serif"; ctx.textAlign = "center";
    for (let n = 0; n < nodes.length; n++) {
      const x = laneX(n);
      ctx.strokeStyle = "#c8ced8"; ctx.lineWidth = 1;
      ctx.beginPath(); ctx.moveTo(x, top); ctx.lineTo(x, height); ctx.stroke();
      ctx.fillStyle = "#1d2430"; ctx.fillText(nodes[n], x, 16);
    }
    for (const d of downs) {
      if (d.t1 < start || d.t0 > end) continue;
      ctx.fillStyle = "#9aa3b2"; ctx.fillRect(laneX(d.node) - 4, y(d.t0), 8, Math.max(2, y(d.t1) - y(d.t0)));
    }
    const inView = visible(messages, (m) => m.t0, longest);
    // Zoomed out over thousands of messages, fade them so the shape shows.
    const fade = Math.min(1, Math.max(0.05, 800 / Math.max(1, inView.length)));
    for (const m of inView) {
      if (m.t1 < start) continue;
      const hot = m.hot || m === selected;
      ctx.globalAlpha = hot ? 1 : fade;
      arrow(laneX(m.from), y(m.t0), laneX(m.to), y(m.t1), hot ? "#f39c12" : m.dup ? "#9b59b6" : "#3b6fd8", hot ? 3 : 1);
    }
    ctx.globalAlpha = 1;
    for (const d of visible(drops, (d) => d.t0, longest)) {
      const x0 = laneX(d.from), y0 = y(d.t0), x1 = (x0 + laneX(d.to)) / 2, y1 = y(d.t1) + 4;
      ctx.strokeStyle = d.hot || d === selected ? "#f39c12" : "#d8433b"; ctx.lineWidth = d.hot ? 3 : 1;
      ctx.setLineDash([4, 3]); ctx.beginPath(); ctx.moveTo(x0, y0); ctx.lineTo(x1, y1); ctx.stroke(); ctx.setLineDash([]);
      ctx.beginPath(); ctx.moveTo(x1 - 4, y1 - 4); ctx.lineTo(x1 + 4, y1 + 4); ctx.moveTo(x1 + 4, y1 - 4); ctx.lineTo(x1 - 4, y1 + 4); ctx.stroke();
    }
    for (const k of visible(marks, (k) => k.t, 0)) {
      if (k.node < 0) {
        // The harness's own: a phase, an operation such as an audit. A line across every lane.
        const yy = y(k.t);
        ctx.strokeStyle = markColor[k.kind] || "#2c3e50"; ctx.lineWidth = 1; ctx.setLineDash([2, 4]);
        ctx.beginPath(); ctx.moveTo(90, yy); ctx.lineTo(width - 10, yy); ctx.stroke();
        ctx.setLineDash([]); ctx.fillStyle = ctx.strokeStyle; ctx.textAlign = "right"; ctx.font = "11px ui-monospace, monospace";
        ctx.fillText(k.row[X] || k.kind, width - 12, yy - 3);
        continue;
      }
      const x = laneX(k.node), yy = y(k.t), hot = k.hot || k === selected;
      ctx.fillStyle = hot ? "#f39c12" : markColor[k.kind] || "#2c3e50";
      ctx.beginPath(); ctx.moveTo(x, yy - (hot ? 7 : 4)); ctx.lineTo(x + (hot ? 7 : 4), yy);
      ctx.lineTo(x, yy + (hot ? 7 : 4)); ctx.lineTo(x - (hot ? 7 : 4), yy); ctx.fill();
    }
    ctx.font = "bold 11px ui-monospace, monospace"; ctx.textAlign = "left";
    let labelY = -1e9, labelX = 92;
    for (const o of operations) {
      if (o.at_us < start || o.at_us > end) continue;
      const yy = y(o.at_us), hot = o === selected;
      ctx.strokeStyle = ctx.fillStyle = hot ? "#f39c12" : "#0b7285"; ctx.lineWidth = hot ? 3 : 2;
      ctx.beginPath(); ctx.moveTo(80, yy); ctx.lineTo(width - 10, yy); ctx.stroke();
      ctx.beginPath(); ctx.moveTo(80, yy - 6); ctx.lineTo(88, yy); ctx.lineTo(80, yy + 6); ctx.fill();
      // Operations close in time: their labels side by side, not on top of each other.
      labelX = yy - labelY < 12 ? labelX : 92;
      ctx.fillText(o.label, labelX, yy - 4);
      labelX += ctx.measureText(o.label).width + 16; labelY = yy;
    }
    ctx.fillStyle = "#5b6576"; ctx.textAlign = "left"; ctx.font = "11px ui-monospace, monospace";
    for (let i = 0; i <= 8; i++) {
      const t = start + ((height - top) * usPerPx * i) / 8;
      ctx.fillText(fmt(Math.round(t)), 4, y(t) + 4);
    }
    document.getElementById("where").textContent = fmt(Math.round(start)) + " to " + fmt(Math.round(end));
  }
  function describe(r) {
    const name = (n) => (n >= 0 && n < nodes.length ? nodes[n] : "-");
    return "step " + r[S] + " at " + fmt(r[T]) + "\n" + r[K] + "  node " + name(r[N]) + "  peer " + name(r[P]) +
           "\na " + r[A] + "  b " + r[B] + (r[X] ? "\n" + r[X] : "");
  }
  const operationText = (o) => o.label + " at " + fmt(o.at_us) + "\n" + o.detail;
  function near(px, py) {
    const t = start + (py - top) * usPerPx, slack = 6 * usPerPx;
    let best = null, bestD = 8;
    for (const o of operations) {
      const d = Math.abs(py - y(o.at_us));
      if (px >= 80 && d < 5 && d < bestD) { bestD = d; best = { item: o, text: operationText(o) }; }
    }
    for (const k of visible(marks, (k) => k.t, slack)) {
      if (k.node < 0) continue;
      const d = Math.hypot(px - laneX(k.node), py - y(k.t));
      if (d < bestD) { bestD = d; best = { item: k, text: describe(k.row) }; }
    }
    for (const m of visible(messages, (m) => m.t0, longest)) {
      const x0 = laneX(m.from), y0 = y(m.t0), x1 = laneX(m.to), y1 = y(m.t1);
      const len2 = (x1 - x0) ** 2 + (y1 - y0) ** 2 || 1;
      const u = Math.max(0, Math.min(1, ((px - x0) * (x1 - x0) + (py - y0) * (y1 - y0)) / len2));
      const d = Math.hypot(px - (x0 + u * (x1 - x0)), py - (y0 + u * (y1 - y0)));
      if (d < bestD) { bestD = d; best = { item: m, text: "message\n" + describe(m.send) + "\n\ndelivered\n" + describe(m.row) }; }
    }
    for (const d of downs) {
      if (Math.abs(px - laneX(d.node)) < 5 && t >= d.t0 && t <= d.t1) best = { item: d, text: "down\n" + describe(d.row) + (d.end ? "\n\nrestarted\n" + describe(d.end) : "") };
    }
    for (const p of partitions) {
      if (!best && t >= p.t0 && t <= p.t1) best = { item: p, text: "partition\n" + describe(p.row) + (p.end ? "\n\nhealed\n" + describe(p.end) : "") };
    }
    return best;
  }
  let dragging = null;
  canvas.addEventListener("mousedown", (e) => { dragging = { y: e.clientY, start, moved: false }; });
  window.addEventListener("mousemove", (e) => {
    if (!dragging) return;
    if (Math.abs(e.clientY - dragging.y) > 3) dragging.moved = true;
    start = dragging.start - (e.clientY - dragging.y) * usPerPx; draw();
  });
  window.addEventListener("mouseup", (e) => {
    if (dragging && !dragging.moved) {
      const r = canvas.getBoundingClientRect(), hit = near(e.clientX - r.left, e.clientY - r.top);
      selected = hit ? hit.item : null;
      document.getElementById("details").textContent = hit ? hit.text : "Nothing there.";
      draw();
    }
    dragging = null;
  });
  function zoom(factor, atY) {
    const t = start + (atY - top) * usPerPx;
    usPerPx = Math.max(0.01, usPerPx * factor); start = t - (atY - top) * usPerPx; draw();
  }
  canvas.addEventListener("wheel", (e) => {
    e.preventDefault();
    if (e.ctrlKey) zoom(e.deltaY > 0 ? 1.25 : 0.8, e.offsetY);
    else { start += e.deltaY * usPerPx; draw(); }
  }, { passive: false });
  document.getElementById("zoom-in").onclick = () => zoom(0.5, height / 2);
  document.getElementById("zoom-out").onclick = () => zoom(2, height / 2);
  document.getElementById("fit").onclick = () => { start = 0; usPerPx = Math.max(0.01, tEnd / Math.max(1, height - top - 10)); draw(); };
  const hot = data.steps.filter((r) => highlight.has(r[S])).map((r) => r[T]);
  let hotIndex = 0;
  function showHot() {
    if (!hot.length) return;
    usPerPx = Math.max(0.01, Math.min(usPerPx, 50)); start = hot[hotIndex % hot.length] - (height - top) * usPerPx / 3;
    hotIndex++; draw();
  }
  document.getElementById("next").onclick = showHot;
  const operationList = document.getElementById("operations");
  if (operations.length) operationList.textContent = "";
  for (const o of operations) {
    const button = document.createElement("button");
    button.textContent = fmt(o.at_us) + "  " + o.label;
    button.title = o.detail;
    button.onclick = () => {
      start = o.at_us - ((height - top) * usPerPx) / 3; selected = o;
      document.getElementById("details").textContent = operationText(o); draw();
    };
    operationList.appendChild(button);
  }
  window.addEventListener("resize", resize);
  resize();
  // Open on the evidence, or on the whole run.
  if (hot.length) showHot(); else document.getElementById("fit").onclick();
  document.body.dataset.lanes = String(nodes.length);
  document.body.dataset.messages = String(messages.length);
  document.body.dataset.operations = String(operations.length);
  document.body.dataset.ready = "1";
})();
</script>
</body>
</html>
)ESSIM";

}  // namespace essim::reports
