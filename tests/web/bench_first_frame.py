#!/usr/bin/env python3
"""First frame of the page in headless chromium (SwiftShader WebGL 2), over N page loads, in two
modes, each a first visit (nothing cached, no storage) at 1280x720:

  bench_first_frame.py --site build-web/site [--site OTHER ...] [--loads 9] [--hash ch=1]
                       [--mode both|fresh|running]

- fresh: each load starts a new chromium with an empty profile: the cold start of a browser that
  was not running. Its first WebGL context waits for the browser's GPU process to start, 0.3-3 s
  on this machine from one fresh chromium to the next.
- running: ONE chromium stays up, and each load opens the page in a new, empty browser context
  (Target.createBrowserContext + createTarget, thrown away after the load: no cache, cookies or
  storage shared between loads): a learner clicking a link in the browser they already use. Before
  the first load one other page draws with WebGL 2 in a context of its own, so that the GPU
  process is up, as in a browser that has shown pages before.

With several sites the loads alternate (A B A B ..., fresh and running loads interleaved) so that
every site and mode sees the same load on this shared machine. The time is from the navigation's
start to the first frame the dashboard presented (Module.attnlabFirstFrameMs, performance.now() at
the end of frame 1), and the part of it after the page's WebGL 2 check (the mark 'page: WebGL 2
checked', or where a page without marks requested attnlab.js, which it does right after its
check). Printed per load: those times, when each file had arrived (resource timing), when the
WebAssembly was compiled, and the page's own performance marks (index.html, gui/web); then per
site and mode the median, min and max, and the median time of each mark. Not a test."""

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cdp  # noqa: E402

# Before the page's scripts: note when WebAssembly compilation ends, whichever way the page asks.
_HOOK = """
(() => {
  const marks = window.__benchMarks = [];
  const wrap = (name) => {
    const f = WebAssembly[name];
    if (!f) return;
    WebAssembly[name] = function (...args) {
      const t0 = performance.now();
      return f.apply(this, args).then((r) => { marks.push([name, t0, performance.now()]); return r; });
    };
  };
  wrap('instantiateStreaming');
  wrap('instantiate');
})();
"""

_READ = """
(() => {
  const res = {};
  for (const e of performance.getEntriesByType('resource')) {
    const name = e.name.split('/').pop();
    res[name] = [Math.round(e.startTime), Math.round(e.responseEnd)];
  }
  const nav = performance.getEntriesByType('navigation')[0];
  if (nav) res['(page)'] = [Math.round(nav.startTime), Math.round(nav.responseEnd)];
  const marks = {};
  for (const m of performance.getEntriesByType('mark')) marks[m.name] = Math.round(m.startTime);
  const wasm = (window.__benchMarks || []).map(([n, a, b]) => [n, Math.round(a), Math.round(b)]);
  return {first: Module.attnlabFirstFrameMs, res, marks, wasm};
})()
"""


_RENDERER = """(() => { const g = document.createElement('canvas').getContext('webgl2');
  const e = g && g.getExtension('WEBGL_debug_renderer_info');
  return g ? (e ? g.getParameter(e.UNMASKED_RENDERER_WEBGL) : g.getParameter(g.RENDERER)) : 'none'; })()"""

# A page that draws one WebGL 2 frame: what a running browser has done before the learner's click.
_WARM_UP = ("data:text/html,<canvas id=c></canvas><script>const g=document.getElementById('c').getContext('webgl2');"
            "g.clearColor(0,0.5,1,1);g.clear(g.COLOR_BUFFER_BIT);g.finish();window.drawn=1;</script>")


def measure(page, site_url, hash_):
    """Opens the page in `page` (a fresh one) and reads the first frame's timings."""
    page.call("Page.addScriptToEvaluateOnNewDocument", source=_HOOK)
    page.call("Page.navigate", url=site_url + "index.html#" + hash_)
    page.wait_for("typeof Module === 'object' && (Module.attnlabFrames || 0) >= 1", 120, "the first frame")
    r = page.eval(_READ)
    r["renderer"] = page.eval(_RENDERER)
    r["errors"] = list(page.errors)
    return r


def load_fresh(site_url, hash_):
    with cdp.Browser(1280, 720) as b:
        return measure(b, site_url, hash_)


def load_running(browser, site_url, hash_):
    with browser.new_context_page() as page:
        return measure(page, site_url, hash_)


def warm_up(browser):
    with browser.new_context_page() as page:
        page.call("Page.navigate", url=_WARM_UP)
        page.wait_for("window.drawn === 1", 60, "the warm-up page's WebGL 2 frame")


def median_marks(rs):
    """The median time of each mark over the loads that have it, in order."""
    keys = {}
    for r in rs:
        for k, v in r["marks"].items():
            keys.setdefault(k, []).append(v)
        for n, a, b in r["wasm"]:
            keys.setdefault(f"wasm {n} done", []).append(b)
        for k, v in r["res"].items():
            keys.setdefault(f"{k} arrived", []).append(v[1])
    med = {k: statistics.median(v) for k, v in keys.items()}
    return ", ".join(f"{k} {v:.0f}" for k, v in sorted(med.items(), key=lambda kv: kv[1]))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--site", action="append", required=True, help="a folder scripts/web built (repeat to compare)")
    ap.add_argument("--loads", type=int, default=9, help="page loads per site and mode")
    ap.add_argument("--hash", default="ch=1", help="the address's state (default ch=1)")
    ap.add_argument("--mode", choices=("both", "fresh", "running"), default="both",
                    help="a fresh chromium per load, one running chromium with a fresh context per load, or both")
    args = ap.parse_args()
    modes = ["fresh", "running"] if args.mode == "both" else [args.mode]
    servers = []
    for s in args.site:
        if not os.path.isfile(os.path.join(s, "index.html")):
            print(f"bench_first_frame: no index.html in {s}", file=sys.stderr)
            return 2
        servers.append(cdp.serve(s))
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())} ({os.cpu_count()} cores)", flush=True)
    results = {(m, s): [] for m in modes for s in args.site}
    renderer = None
    running = None
    t0 = time.time()
    try:
        if "running" in modes:
            running = cdp.Browser(1280, 720)
            warm_up(running)
        for i in range(args.loads):
            for m in modes:
                for s, (_, url) in zip(args.site, servers):
                    r = load_fresh(url, args.hash) if m == "fresh" else load_running(running, url, args.hash)
                    renderer = r["renderer"]
                    checked = r["marks"].get("page: WebGL 2 checked", r["res"].get("attnlab.js", [None])[0])
                    r["after"] = r["first"] - checked if checked is not None else float("nan")
                    results[(m, s)].append(r)
                    files = ", ".join(f"{k} {v[0]}->{v[1]}" for k, v in sorted(r["res"].items(), key=lambda kv: kv[1][1]))
                    wasm = ", ".join(f"{n} {a}->{b}" for n, a, b in r["wasm"])
                    marks = ", ".join(f"{k} {v}" for k, v in sorted(r["marks"].items(), key=lambda kv: kv[1]))
                    print(f"[{i + 1}/{args.loads}] {m} {s}: first frame {r['first']:.0f} ms ({r['after']:.0f} after the WebGL 2 check)"
                          f" | arrived: {files} | wasm: {wasm} | marks: {marks}"
                          + (f" | ERRORS: {r['errors'][:3]}" if r["errors"] else ""), flush=True)
    finally:
        if running:
            running.close()
        for srv, _ in servers:
            srv.shutdown()
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; {time.time() - t0:.0f} s; renderer: {renderer}")
    for m in modes:
        what = "a fresh chromium per load" if m == "fresh" else "one running chromium, a fresh context per load"
        for s in args.site:
            rs = results[(m, s)]
            v = [r["first"] for r in rs]
            a = [r["after"] for r in rs]
            print(f"{m} ({what}) {s}: first frame over {len(v)} loads: median {statistics.median(v):.0f} ms,"
                  f" min {min(v):.0f}, max {max(v):.0f}; after the WebGL 2 check: median {statistics.median(a):.0f} ms,"
                  f" min {min(a):.0f}, max {max(a):.0f}")
            print(f"    median times (ms): {median_marks(rs)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
