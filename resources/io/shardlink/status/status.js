// shardlink status page: polls status.json every second and renders the node, peers, copies in flight and two
// uPlot charts (throughput per transport and direction; read latency p50/p99). Builds DOM with textContent
// only (peer ids and causes come from the network), and exposes its state as window.shardlinkStatus for tests.
(function () {
  "use strict";
  const POLL_MS = 1000;
  const $ = (id) => document.getElementById(id);
  const state = { status: null, polls: 0, errors: 0, charts: {} };
  window.shardlinkStatus = state;

  function bytes(n) {
    const u = ["B", "KiB", "MiB", "GiB", "TiB"];
    let i = 0;
    while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
    return (i === 0 ? n.toFixed(0) : n.toFixed(1)) + " " + u[i];
  }

  function mbps(bytesPerSecond) {
    return (bytesPerSecond / 1e6).toFixed(1) + " MB/s";
  }

  function cell(tr, text, cls) {
    const td = document.createElement("td");
    td.textContent = text;
    if (cls) td.className = cls;
    tr.appendChild(td);
    return td;
  }

  function badge(td, text) {
    const s = document.createElement("span");
    s.className = "badge " + text;
    s.textContent = text;
    td.textContent = "";
    td.appendChild(s);
  }

  function renderNode(s) {
    const n = s.node;
    document.title = "shardlink " + n.id;
    $("node-id").textContent = n.id;
    $("node-listen").textContent = n.listen;
    $("node-mode").textContent = n.transport_mode;
    const r = $("node-rdma");
    r.textContent = n.rdma.available ? "available" : "unavailable";
    r.className = "badge " + r.textContent;
    $("node-rdma-reason").textContent = n.rdma.reason || "";
    $("node-device").textContent = n.rdma.device + " port " + n.rdma.port;
    $("node-gid").textContent = "[" + n.rdma.gid_index + "] " + (n.rdma.gid || "none (no device)");
    const b = s.totals.bytes;
    const c = s.totals.completions;
    $("node-totals").textContent = "RDMA " + bytes(b.rdma.sent) + " out / " + bytes(b.rdma.received) + " in; QUIC "
      + bytes(b.quic.sent) + " out / " + bytes(b.quic.received) + " in; " + c.ok + " ok, " + c.failed + " failed, "
      + s.totals.fallbacks + " fallbacks; reads: " + s.totals.served_reads + " served, " + s.totals.reads + " made";
  }

  function renderPeers(s) {
    const body = document.querySelector("#peers tbody");
    body.textContent = "";
    for (const p of s.peers) {
      const tr = document.createElement("tr");
      tr.dataset.peer = p.id;
      cell(tr, p.id, "mono id");
      cell(tr, p.address, "mono address");
      badge(cell(tr, "", "state"), p.state);
      cell(tr, p.last_cause || "", "cause");
      cell(tr, p.transports.join(", ") || "none yet", "transports");
      cell(tr, bytes(p.bytes_in), "num bytes-in");
      cell(tr, bytes(p.bytes_out), "num bytes-out");
      cell(tr, String(p.fallbacks), "num fallbacks");
      body.appendChild(tr);
    }
    $("peers-empty").hidden = s.peers.length > 0;
  }

  function renderCopies(s) {
    const body = document.querySelector("#copies tbody");
    body.textContent = "";
    for (const c of s.copies) {
      const tr = document.createElement("tr");
      tr.dataset.copy = c.peer + "/" + c.direction + "/" + c.transfer;
      cell(tr, c.direction === "received" ? "← in" : "→ out", "direction");
      cell(tr, c.peer, "mono peer");
      cell(tr, String(c.shard), "num shard");
      cell(tr, c.transport || "starting", "transport");
      const bar = document.createElement("progress");
      bar.max = Math.max(1, c.total_bytes);
      bar.value = c.bytes_done;
      cell(tr, "", "bar").appendChild(bar);
      const pct = c.total_bytes > 0 ? (100 * c.bytes_done / c.total_bytes).toFixed(1) : "100.0";
      cell(tr, bytes(c.bytes_done) + " / " + bytes(c.total_bytes) + " (" + pct + "%)", "num done");
      const secs = Math.max(0.001, (s.time - c.started) / 1000);
      cell(tr, mbps(c.bytes_done / secs), "num rate");
      body.appendChild(tr);
    }
    $("copies-empty").hidden = s.copies.length > 0;
  }

  const SERIES = [
    ["rdma_sent", "RDMA out", "#1f77b4"], ["rdma_received", "RDMA in", "#6baed6"],
    ["quic_sent", "QUIC out", "#d62728"], ["quic_received", "QUIC in", "#ff9896"],
  ];

  const LATENCY = [
    ["served_read_p50_us", "served p50", "#2ca02c"], ["served_read_p99_us", "served p99", "#98df8a"],
    ["read_p50_us", "made p50", "#9467bd"], ["read_p99_us", "made p99", "#c5b0d5"],
  ];

  // dots: a latency sample stands alone between seconds without reads, and a line needs two
  function chart(id, series, yLabel, fmt, dots) {
    const el = $(id);
    const opts = {
      width: Math.max(300, el.clientWidth - 2), height: 200,
      scales: { x: { time: true } },
      series: [{}].concat(series.map(([, label, color]) => ({
        label: label, stroke: color, width: 1.5, spanGaps: false, value: (u, v) => v == null ? "–" : fmt(v),
        points: dots ? { show: true, size: 6, fill: color } : {},
      }))),
      axes: [{}, { label: yLabel, size: 72 }],
    };
    const data = [[]].concat(series.map(() => []));
    return new uPlot(opts, data, el);
  }

  function setChart(id, u, data) {
    u.setData(data);
    const el = $(id);
    let points = 0;
    let nonzero = 0;
    for (let i = 0; i < data[0].length; i++) {
      let any = false;
      let pos = false;
      for (let k = 1; k < data.length; k++) {
        const v = data[k][i];
        if (v != null) { any = true; if (v > 0) pos = true; }
      }
      if (any) points++;
      if (pos) nonzero++;
    }
    el.dataset.points = String(points);
    el.dataset.nonzero = String(nonzero);
  }

  function renderCharts(s) {
    const h = s.history;
    const t = h.time.map((ms) => ms / 1000);
    if (!state.charts.throughput) {
      state.charts.throughput = chart("throughput-chart", SERIES, "MB/s", (v) => v.toFixed(1) + " MB/s", false);
      state.charts.latency = chart("latency-chart", LATENCY, "µs", (v) => v.toFixed(0) + " µs", true);
    }
    setChart("throughput-chart", state.charts.throughput,
      [t].concat(SERIES.map(([key]) => h.bytes_per_second[key].map((v) => v / 1e6))));
    setChart("latency-chart", state.charts.latency, [t].concat(LATENCY.map(([key]) => h[key])));
  }

  function render(s) {
    state.status = s;
    renderNode(s);
    renderCharts(s);
    renderPeers(s);
    renderCopies(s);
    $("updated").textContent = "updated " + new Date(s.time).toLocaleTimeString();
  }

  async function poll() {
    try {
      const r = await fetch("status.json", { cache: "no-store" });
      if (!r.ok) throw new Error("status.json: HTTP " + r.status);
      render(await r.json());
      state.polls++;
    } catch (e) {
      // the node stopped or restarts: say so on the page and keep polling (not a console error)
      state.errors++;
      $("updated").textContent = "not reachable (" + e.message + "); retrying";
    } finally {
      setTimeout(poll, POLL_MS);
    }
  }

  window.addEventListener("resize", () => {
    for (const id of ["throughput", "latency"]) {
      const u = state.charts[id];
      if (u) u.setSize({ width: Math.max(300, $(id + "-chart").clientWidth - 2), height: 200 });
    }
  });
  poll();
})();
