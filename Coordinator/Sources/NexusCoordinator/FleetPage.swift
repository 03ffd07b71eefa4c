/// The fleet page at `/`: one self-contained HTML file (no CDN, no build step: the
/// coordinator often runs where there is no internet) that polls the JSON API every two
/// seconds. Everything from the feed is untrusted, so it only ever goes into the page as
/// text (`textContent`, SVG attributes set one by one), never as markup.
enum FleetPage {
    static let html = #"""
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>NexusGrid fleet</title>
<style>
  :root { --fg: #1d2430; --muted: #667085; --line: #e4e7ec; --bg: #f8f9fb; --card: #fff;
          --awake: #12805c; --asleep: #475467; --busy: #b54708; --bad: #b42318; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 14px/1.4 system-ui, sans-serif; color: var(--fg); background: var(--bg); }
  header { display: flex; gap: 24px; align-items: baseline; padding: 14px 20px; background: var(--card);
           border-bottom: 1px solid var(--line); flex-wrap: wrap; }
  header h1 { font-size: 18px; margin: 0; }
  header .figure { color: var(--muted); }
  header .figure b { color: var(--fg); font-size: 16px; }
  main { padding: 16px 20px; display: grid; gap: 16px; grid-template-columns: minmax(0, 3fr) minmax(0, 2fr); }
  section { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; }
  section.wide { grid-column: 1 / -1; }
  h2 { font-size: 14px; margin: 0 0 8px; color: var(--muted); font-weight: 600; }
  table { width: 100%; border-collapse: collapse; }
  th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line); white-space: nowrap; }
  td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
  .state { padding: 1px 8px; border-radius: 10px; color: #fff; font-size: 12px; }
  .state.awake { background: var(--awake); } .state.sleeping, .state.offline { background: var(--asleep); }
  .state.draining, .state.waking { background: var(--busy); } .state.fault, .state.unknown { background: var(--bad); }
  ol { list-style: none; margin: 0; padding: 0; max-height: 320px; overflow: auto; }
  li { padding: 5px 0; border-bottom: 1px solid var(--line); }
  li .when { color: var(--muted); font-variant-numeric: tabular-nums; margin-right: 6px; }
  li .action { font-weight: 600; margin-right: 6px; }
  li .reason { display: block; color: var(--muted); }
  #error { color: var(--bad); }
  svg text { fill: var(--muted); font-size: 11px; }
  @media (max-width: 900px) { main { grid-template-columns: 1fr; } }
</style>
</head>
<body>
<header>
  <h1>NexusGrid fleet</h1>
  <span class="figure">power <b id="total-watts">–</b></span>
  <span class="figure">awake <b id="count-awake">–</b></span>
  <span class="figure">asleep <b id="count-asleep">–</b></span>
  <span class="figure">policy <b id="policy-mode">–</b></span>
  <span class="figure" id="feed-state"></span>
  <span id="error"></span>
</header>
<main>
  <section class="wide">
    <h2>Fleet power, last hour (W)</h2>
    <svg id="fleet-chart" width="100%" height="180" viewBox="0 0 800 180" preserveAspectRatio="none" role="img"
         aria-label="fleet power over time"></svg>
  </section>
  <section class="wide">
    <h2>Nodes</h2>
    <table id="nodes">
      <thead><tr><th>node</th><th>state</th><th class="num">watts</th><th class="num">°C</th><th class="num">load</th>
        <th>wake</th><th class="num">last seen</th><th>power, last hour</th></tr></thead>
      <tbody></tbody>
    </table>
  </section>
  <section>
    <h2>Decisions</h2>
    <ol id="decisions"></ol>
  </section>
  <section>
    <h2>Events</h2>
    <ol id="events"></ol>
  </section>
</main>
<script>
"use strict";
const SVG = "http://www.w3.org/2000/svg";
const el = (tag, text, cls) => { const e = document.createElement(tag); if (text !== undefined) e.textContent = text; if (cls) e.className = cls; return e; };
const fmt = (v, places, unit) => v === null || v === undefined ? "–" : v.toFixed(places) + (unit || "");
const time = ms => new Date(ms).toLocaleTimeString();
const ago = s => s < 60 ? s.toFixed(0) + " s ago" : (s / 60).toFixed(0) + " min ago";

async function get(path) {
  const r = await fetch(path, { cache: "no-store" });
  if (!r.ok) throw new Error(path + ": HTTP " + r.status);
  return r.json();
}

// A polyline of [x, y] points scaled into an SVG box.
function line(svg, values, width, height, max, colour, pad) {
  const n = values.length;
  if (n < 2) return;
  const pts = values.map((v, i) => [pad + (width - 2 * pad) * i / (n - 1), height - pad - (height - 2 * pad) * (v || 0) / max]);
  const p = document.createElementNS(SVG, "polyline");
  p.setAttribute("points", pts.map(q => q[0].toFixed(1) + "," + q[1].toFixed(1)).join(" "));
  p.setAttribute("fill", "none");
  p.setAttribute("stroke", colour);
  p.setAttribute("stroke-width", "1.5");
  svg.appendChild(p);
  return p;
}

function drawFleet(points) {
  const svg = document.getElementById("fleet-chart");
  svg.replaceChildren();
  const totals = points.map(p => p.total_w);
  const max = Math.max(1, ...totals) * 1.15;
  for (const f of [0, 0.5, 1]) {
    const t = document.createElementNS(SVG, "text");
    t.setAttribute("x", "2"); t.setAttribute("y", String(176 - 160 * f));
    t.textContent = (max * f).toFixed(0);
    svg.appendChild(t);
  }
  const p = line(svg, totals, 800, 180, max, "#175cd3", 18);
  if (p) { p.setAttribute("id", "fleet-line"); p.setAttribute("data-points", String(totals.length)); }
  svg.setAttribute("data-latest-total", totals.length ? totals[totals.length - 1].toFixed(3) : "");
}

function drawNodes(data, points) {
  const tbody = document.querySelector("#nodes tbody");
  tbody.replaceChildren();
  for (const n of data.nodes) {
    const tr = el("tr");
    tr.dataset.node = n.name;
    tr.dataset.state = n.state;
    tr.appendChild(el("td", n.name, "name"));
    const st = el("td"); st.appendChild(el("span", n.state, "state " + n.state)); tr.appendChild(st);
    // A node that is off has no current reading: its last one would mislead.
    const off = n.state === "sleeping" || n.state === "offline";
    tr.appendChild(el("td", off ? "–" : fmt(n.watts, 2, " W"), "num watts"));
    tr.appendChild(el("td", off ? "–" : fmt(n.max_celsius, 1), "num celsius"));
    tr.appendChild(el("td", off || n.utilisation === null ? "–" : (n.utilisation * 100).toFixed(0) + " %", "num load"));
    const w = n.wake || {};
    tr.appendChild(el("td", w.method + (w.via ? " via " + w.via : ""), "wake"));
    tr.appendChild(el("td", ago(n.age_s), "num seen"));
    const cell = el("td");
    const svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("width", "160"); svg.setAttribute("height", "28"); svg.setAttribute("viewBox", "0 0 160 28");
    svg.setAttribute("class", "spark");
    const series = points.map(p => p.nodes[n.name] ?? null);
    const max = Math.max(0.5, ...series.map(v => v || 0)) * 1.1;
    const pl = line(svg, series, 160, 28, max, "#12805c", 2);
    if (pl) pl.setAttribute("data-points", String(series.length));
    cell.appendChild(svg);
    tr.appendChild(cell);
    tbody.appendChild(tr);
  }
  const awake = data.nodes.filter(n => n.state === "awake").length;
  const asleep = data.nodes.filter(n => n.state === "sleeping" || n.state === "offline").length;
  const total = data.nodes.reduce((s, n) => s + (n.state === "awake" || n.state === "draining" ? (n.watts || 0) : 0), 0);
  document.getElementById("count-awake").textContent = String(awake);
  document.getElementById("count-asleep").textContent = String(asleep);
  document.getElementById("total-watts").textContent = total.toFixed(1) + " W";
  document.getElementById("policy-mode").textContent = data.policy;
  document.getElementById("feed-state").textContent = data.feed.connected ? "" : "feed disconnected";
}

function drawList(id, items, render) {
  const ol = document.getElementById(id);
  ol.replaceChildren(...items.map(render));
}

async function refresh() {
  try {
    const [nodes, history, decisions, events] = await Promise.all([
      get("/v1/nodes"), get("/v1/history"), get("/v1/decisions"), get("/v1/events")]);
    drawFleet(history.points);
    drawNodes(nodes, history.points);
    drawList("decisions", decisions.decisions.slice(0, 50), d => {
      const li = el("li");
      li.dataset.action = d.action; li.dataset.node = d.node;
      li.append(el("span", time(d.at_ms), "when"), el("span", d.action, "action"), el("span", d.node, "node"),
                el("span", (d.acted ? "" : "(not acted on) ") + d.reason, "reason"));
      return li;
    });
    drawList("events", events.events.slice(-50).reverse(), e => {
      const li = el("li");
      li.dataset.type = e.type; li.dataset.node = e.node;
      li.append(el("span", time(e.at_ms), "when"), el("span", e.type, "action"), el("span", e.node, "node"),
                el("span", e.summary, "reason"));
      return li;
    });
    document.getElementById("error").textContent = "";
    document.body.dataset.loaded = String(Date.now());
  } catch (err) {
    document.getElementById("error").textContent = "coordinator not answering: " + err.message;
  }
}
refresh();
setInterval(refresh, 2000);
</script>
</body>
</html>
"""#
}
