#!/usr/bin/python3
"""Loads serve's status page in headless Chromium and checks what a person would see.

Drives Chromium over the DevTools protocol (CDP) with Debian's python3-websocket: navigates to the page,
records every console message, uncaught exception and browser log entry (a failed asset load is one), and
reads the rendered DOM until it shows:
  - a peer row whose node id starts with --peer-prefix, with a state badge and "QUIC"/"RDMA" in its transports
    (--transport: the transport that must be listed);
  - a progress bar of an incoming copy whose value grew while the page was open ("a bar that moved");
  - a throughput plot with data points above zero and a latency plot with data points;
then saves a screenshot and fails on any console error. Only loopback is contacted: Chromium's own
background traffic is off and every host name but 127.0.0.1 fails to resolve.

usage: status_page_check.py URL --screenshot FILE [--peer-prefix copy-] [--transport QUIC] [--timeout 60]
Prints one line per check ("ok ..." / "FAIL ...") and exits 1 on the first failure.
"""
import argparse
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

import websocket  # Debian: python3-websocket

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--no-default-browser-check",
    "--disable-extensions", "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-default-apps", "--disable-domain-reliability", "--disable-client-side-phishing-detection",
    "--disable-features=Translate,OptimizationHints,MediaRouter,DialMediaRouteProvider",
    "--no-pings", "--metrics-recording-only", "--mute-audio", "--hide-scrollbars",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
    "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
    "--window-size=1280,1000",
]


class Cdp:
    def __init__(self, ws_url):
        self.ws = websocket.create_connection(ws_url, timeout=30, suppress_origin=True)
        self.next_id = 0
        self.events = []

    def call(self, method, **params):
        self.next_id += 1
        my = self.next_id
        self.ws.send(json.dumps({"id": my, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == my:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            if "method" in msg:
                self.events.append(msg)

    def evaluate(self, expr):
        r = self.call("Runtime.evaluate", expression=expr, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in r:
            raise RuntimeError(f"evaluate failed: {r['exceptionDetails']}")
        return r["result"].get("value")


# What the page shows now, read from the DOM (not from status.json).
PROBE = r"""
(() => {
  const rows = [...document.querySelectorAll('#peers tbody tr')].map(tr => ({
    id: tr.dataset.peer,
    state: tr.querySelector('.state .badge') ? tr.querySelector('.state .badge').textContent : null,
    transports: tr.querySelector('.transports').textContent,
    bytesIn: tr.querySelector('.bytes-in').textContent,
  }));
  const copies = [...document.querySelectorAll('#copies tbody tr')].map(tr => {
    const bar = tr.querySelector('progress');
    return { key: tr.dataset.copy, value: bar ? bar.value : null, max: bar ? bar.max : null,
             transport: tr.querySelector('.transport').textContent, done: tr.querySelector('.done').textContent };
  });
  const chart = id => {
    const el = document.getElementById(id);
    return { points: +el.dataset.points, nonzero: +el.dataset.nonzero,
             canvas: !!el.querySelector('canvas'), legend: el.querySelectorAll('.u-legend .u-series').length };
  };
  const s = window.shardlinkStatus || {};
  return { rows, copies, throughput: chart('throughput-chart'), latency: chart('latency-chart'),
           node: document.getElementById('node-id').textContent, polls: s.polls || 0, errors: s.errors || 0 };
})()
"""


def problems(events):
    """Console errors, uncaught exceptions and error log entries among CDP events."""
    out = []
    for e in events:
        m, p = e.get("method"), e.get("params", {})
        if m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            out.append("console." + p["type"] + ": " + " ".join(str(a.get("value", a.get("description")))
                                                               for a in p.get("args", [])))
        elif m == "Runtime.exceptionThrown":
            d = p.get("exceptionDetails", {})
            out.append("uncaught: " + str(d.get("exception", {}).get("description", d.get("text"))))
        elif m == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
            en = p["entry"]
            out.append("log error: " + en.get("text", "") + " " + en.get("url", ""))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("--screenshot", required=True)
    ap.add_argument("--peer-prefix", default="copy-")
    ap.add_argument("--transport", default="QUIC")
    ap.add_argument("--timeout", type=float, default=60)
    a = ap.parse_args()

    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if not browser:
        print("FAIL no chromium on PATH (ci/install-deps.sh installs Debian's chromium)")
        return 1
    profile = tempfile.mkdtemp(prefix="shardlink-chromium.")
    log = open(os.path.join(profile, "chromium.log"), "w")
    proc = subprocess.Popen([browser, *CHROMIUM_FLAGS, "--user-data-dir=" + profile, "about:blank"],
                            stdout=log, stderr=subprocess.STDOUT)
    failed = []

    def check(ok, what):
        print(("ok   " if ok else "FAIL ") + what, flush=True)
        if not ok:
            failed.append(what)
        return ok

    try:
        port_file = os.path.join(profile, "DevToolsActivePort")
        deadline = time.time() + 30
        while not os.path.exists(port_file) or os.path.getsize(port_file) == 0:
            if proc.poll() is not None or time.time() > deadline:
                log.flush()
                print(open(os.path.join(profile, "chromium.log")).read()[-3000:])
                print("FAIL chromium did not start (no DevToolsActivePort)")
                return 1
            time.sleep(0.1)
        port = int(open(port_file).read().split()[0])
        targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10))
        page = next(t for t in targets if t.get("type") == "page")
        cdp = Cdp(page["webSocketDebuggerUrl"])
        version = cdp.call("Browser.getVersion")["product"]
        for domain in ("Runtime", "Log", "Page"):
            cdp.call(domain + ".enable")
        cdp.call("Emulation.setDeviceMetricsOverride", width=1280, height=1000, deviceScaleFactor=1, mobile=False)
        t0 = time.time()
        nav = cdp.call("Page.navigate", url=a.url)
        if not check("errorText" not in nav, f"{version} loaded {a.url} {nav.get('errorText', '')}"):
            return 1

        while time.time() < t0 + 30 and not cdp.evaluate(
                "document.readyState === 'complete' && !!document.getElementById('latency-chart')"):
            time.sleep(0.2)  # Page.navigate answers before the document has loaded
        first_bar = None  # (key, value) when a copy's bar was first seen
        moved = None
        state = None
        deadline = time.time() + a.timeout
        while time.time() < deadline:
            state = cdp.evaluate(PROBE)
            peer = next((r for r in state["rows"] if (r["id"] or "").startswith(a.peer_prefix)), None)
            bars = [c for c in state["copies"] if c["key"] and "/received/" in c["key"] and c["value"] is not None]
            for c in bars:
                if first_bar is None and c["value"] > 0:
                    first_bar = (c["key"], c["value"], c["max"])
                elif first_bar and c["key"] == first_bar[0] and c["value"] > first_bar[1] and moved is None:
                    moved = (c["key"], first_bar[1], c["value"], c["max"], c["transport"])
            if (peer and a.transport in peer["transports"] and moved and state["throughput"]["nonzero"] > 0
                    and state["latency"]["points"] > 0):
                break
            time.sleep(0.5)
        print("page state: " + json.dumps(state))
        peer = next((r for r in state["rows"] if (r["id"] or "").startswith(a.peer_prefix)), None)
        check(state["node"] not in ("", "…") and state["polls"] > 0,
              f"node {state['node']!r} shown after {state['polls']} polls of status.json")
        check(peer is not None and peer["state"] in ("UNAVAILABLE", "DISCONNECTED", "CONNECTED", "FAILED")
              and a.transport in peer["transports"],
              f"peer row {peer} shows its state and transport {a.transport}")
        check(moved is not None, "a copy's progress bar moved while the page was open: " + (
            f"{moved[0]} {moved[1]:.0f} -> {moved[2]:.0f} of {moved[3]:.0f} bytes over {moved[4]}" if moved
            else f"first seen {first_bar}, copies now {state['copies']}"))
        tp, lat = state["throughput"], state["latency"]
        check(tp["canvas"] and tp["nonzero"] > 0,
              f"throughput plot drawn with {tp['points']} samples, {tp['nonzero']} above zero")
        check(lat["canvas"] and lat["points"] > 0, f"read latency plot drawn with {lat['points']} samples")
        shot = cdp.call("Page.captureScreenshot", format="png")
        with open(a.screenshot, "wb") as f:
            f.write(base64.b64decode(shot["data"]))
        check(os.path.getsize(a.screenshot) > 10000, f"screenshot {a.screenshot} ({os.path.getsize(a.screenshot)} bytes)")
        cdp.call("Runtime.evaluate", expression="1")  # drain events that arrived meanwhile
        errs = problems(cdp.events)
        for e in cdp.events:
            if e.get("method") == "Runtime.consoleAPICalled" and e["params"].get("type") == "warning":
                print("note console warning: " + json.dumps(e["params"].get("args"))[:300])
        check(not errs, "no console errors in %.0f s on the page" % (time.time() - t0) + ("" if not errs else ": "
                                                                                          + "; ".join(errs)))
        cdp.ws.close()
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        shutil.rmtree(profile, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
