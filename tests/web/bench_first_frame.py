#!/usr/bin/env python3
"""First frame of the page in headless chromium (SwiftShader WebGL 2), over N fresh page loads.

  bench_first_frame.py --site build-web/site [--site OTHER ...] [--loads 9] [--hash ch=1]

Each load is a fresh chromium with an empty profile (a first visit: nothing cached), at 1280x720.
With several sites the loads alternate (A B A B ...) so that every site sees the same load on this
shared machine. The time is from the navigation's start to the first frame the dashboard presented
(Module.attnlabFirstFrameMs, performance.now() at the end of frame 1), and the part of it after the
page's WebGL 2 check (the mark 'page: WebGL 2 checked', or where a page without marks requested
attnlab.js, which it does right after its check): the check waits for the browser's GPU process to
start, 0.3-3 s on this machine from one fresh chromium to the next. Printed per load: those times,
when each file had arrived (resource timing), when the WebAssembly was compiled, and the page's own
performance marks (index.html, gui/web); then per site the median, min and max. Not a test."""

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


def load_once(site_url, hash_):
    with cdp.Browser(1280, 720) as b:
        b.call("Page.addScriptToEvaluateOnNewDocument", source=_HOOK)
        b.call("Page.navigate", url=site_url + "index.html#" + hash_)
        b.wait_for("typeof Module === 'object' && (Module.attnlabFrames || 0) >= 1", 120, "the first frame")
        r = b.eval(_READ)
        r["renderer"] = b.eval("(() => { const g = document.createElement('canvas').getContext('webgl2');"
                               " const e = g && g.getExtension('WEBGL_debug_renderer_info');"
                               " return g ? (e ? g.getParameter(e.UNMASKED_RENDERER_WEBGL) : g.getParameter(g.RENDERER)) : 'none'; })()")
        r["errors"] = list(b.errors)
        return r


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--site", action="append", required=True, help="a folder scripts/web built (repeat to compare)")
    ap.add_argument("--loads", type=int, default=9, help="page loads per site")
    ap.add_argument("--hash", default="ch=1", help="the address's state (default ch=1)")
    args = ap.parse_args()
    servers = []
    for s in args.site:
        if not os.path.isfile(os.path.join(s, "index.html")):
            print(f"bench_first_frame: no index.html in {s}", file=sys.stderr)
            return 2
        servers.append(cdp.serve(s))
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())} ({os.cpu_count()} cores)", flush=True)
    firsts = {s: [] for s in args.site}
    afters = {s: [] for s in args.site}
    renderer = None
    t0 = time.time()
    for i in range(args.loads):
        for s, (_, url) in zip(args.site, servers):
            r = load_once(url, args.hash)
            renderer = r["renderer"]
            firsts[s].append(r["first"])
            checked = r["marks"].get("page: WebGL 2 checked", r["res"].get("attnlab.js", [None])[0])
            after = r["first"] - checked if checked is not None else float("nan")
            afters[s].append(after)
            files = ", ".join(f"{k} {v[0]}->{v[1]}" for k, v in sorted(r["res"].items(), key=lambda kv: kv[1][1]))
            wasm = ", ".join(f"{n} {a}->{b}" for n, a, b in r["wasm"])
            marks = ", ".join(f"{k} {v}" for k, v in sorted(r["marks"].items(), key=lambda kv: kv[1]))
            print(f"[{i + 1}/{args.loads}] {s}: first frame {r['first']:.0f} ms ({after:.0f} after the WebGL 2 check) | arrived: {files} | wasm: {wasm}"
                  f" | marks: {marks}" + (f" | ERRORS: {r['errors'][:3]}" if r["errors"] else ""), flush=True)
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; {time.time() - t0:.0f} s; renderer: {renderer}")
    for s in args.site:
        v = firsts[s]
        a = afters[s]
        print(f"{s}: first frame over {len(v)} loads: median {statistics.median(v):.0f} ms, min {min(v):.0f}, max {max(v):.0f};"
              f" after the WebGL 2 check: median {statistics.median(a):.0f} ms, min {min(a):.0f}, max {max(a):.0f}")
    for srv, _ in servers:
        srv.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
