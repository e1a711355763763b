#!/usr/bin/env python3
"""attnlab's browser tests: the static site (scripts/web) in headless chromium (cdp.py).

  test_web.py --site build-web/site --lessons lessons --check chapters|navigation|slider|link|files|config|nowebgl|resize
  test_web.py --site build-web/site --lessons lessons --bench        (figures, not a test)

Each check prints what it saw and exits 1 on the first failed assertion (0 when all held)."""

import argparse
import json
import os
import re
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cdp  # noqa: E402

W, H = 1280, 720
# The page above the status bar, where the dashboard also shows a note for a few seconds.
ABOVE_STATUS = [0, 0, W, H - 60]
STATUS = [0, H - 36, W, H]  # the status bar: the GPU, the measurement files loaded
DATA = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data"))  # tests/data: GPU, config, measurement files


def chapters(lessons_dir):
    nums = []
    for name in sorted(os.listdir(lessons_dir)):
        if re.match(r"\d\d-.*\.md$", name):
            with open(os.path.join(lessons_dir, name), encoding="utf-8") as f:
                m = re.search(r"^chapter:\s*(\d+)", f.read(), re.M)
            if m:
                nums.append(int(m.group(1)))
    return sorted(nums)


def check(cond, what):
    print(("ok    " if cond else "FAIL  ") + what, flush=True)
    if not cond:
        raise SystemExit(1)


def hash_of(b):
    return b.eval("decodeURIComponent(location.hash)")


def check_picture(b, png, what, shots=None, name=None, size=(W, H)):
    a = cdp.analyze(b, png)
    check((a["width"], a["height"]) == size, f"{what}: screenshot {a['width']}x{a['height']} (want {size[0]}x{size[1]})")
    check(a["colors"] >= 30 and a["not_background"] >= 0.05,
          f"{what}: not blank ({a['colors']} colours, {a['not_background']:.0%} not background)")
    if shots and name:
        with open(os.path.join(shots, name), "wb") as f:
            f.write(png)
    return a


def note_visible(b):
    return b.eval("(n => getComputedStyle(n).display !== 'none' && n.getBoundingClientRect().width > 0)"
                  "(document.getElementById('note'))")


def check_no_errors(b, what):
    check(not b.errors, f"{what}: no console errors" + ("" if not b.errors else ": " + " | ".join(b.errors[:5])))


def run_chapters(b, url, args):
    nums = chapters(args.lessons)
    check(len(nums) >= 2, f"{len(nums)} chapters in {args.lessons}")
    b.open(url + "#ch=" + str(nums[0]))
    check(b.eval("Module.canvas.width") == W and b.eval("Module.canvas.height") == H,
          f"canvas pixels {b.eval('Module.canvas.width')}x{b.eval('Module.canvas.height')} = page size x devicePixelRatio")
    seen = {}
    for n in nums:
        b.eval(f"location.hash = 'ch={n}'")
        b.frames_after(4)
        check(hash_of(b).startswith(f"#ch={n}"), f"chapter {n}: address {hash_of(b)}")
        a = check_picture(b, b.screenshot(), f"chapter {n}", args.shots, f"chapter-{n:02d}.png")
        check(a["hash"] not in seen, f"chapter {n}: a picture of its own" +
              (f" (same as chapter {seen.get(a['hash'])})" if a["hash"] in seen else ""))
        seen[a["hash"]] = n
    check_no_errors(b, "every chapter")


def run_navigation(b, url, args):
    nums = chapters(args.lessons)
    b.open(url + f"#ch={nums[0]}")
    b.call("Runtime.evaluate", expression="Module.canvas.focus()")
    b.key("PageDown", "PageDown", 34)
    check(hash_of(b).startswith(f"#ch={nums[1]}"), f"PgDn: chapter {nums[0]} -> address {hash_of(b)}")
    b.key("PageDown", "PageDown", 34)
    check(hash_of(b).startswith(f"#ch={nums[2]}"), f"PgDn again: address {hash_of(b)}")
    b.eval("history.back()")
    b.frames_after(4)
    check(hash_of(b).startswith(f"#ch={nums[1]}"), f"back button: address {hash_of(b)}")
    b.eval("history.back()")
    b.frames_after(4)
    check(hash_of(b).startswith(f"#ch={nums[0]}"), f"back again: address {hash_of(b)}")
    b.eval("history.forward()")
    b.frames_after(4)
    check(hash_of(b).startswith(f"#ch={nums[1]}"), f"forward: address {hash_of(b)}")
    check_picture(b, b.screenshot(), "after back/forward")
    # F12: the screenshot arrives as a download.
    with tempfile.TemporaryDirectory() as tmp:
        b.call("Page.setDownloadBehavior", behavior="allow", downloadPath=tmp)
        b.key("F12", "F12", 123)
        end = time.time() + 20
        while time.time() < end and not [f for f in os.listdir(tmp) if f.endswith(".png")]:
            b.pump(0.2)
        files = [f for f in os.listdir(tmp) if f.endswith(".png")]
        check(len(files) == 1, f"F12 downloads a PNG: {files}")
        with open(os.path.join(tmp, files[0]), "rb") as f:
            a = cdp.analyze(b, f.read())
        check((a["width"], a["height"]) == (W, H) and a["colors"] >= 30, f"the PNG: {a['width']}x{a['height']}, {a['colors']} colours")
    check_no_errors(b, "navigation")


def run_slider(b, url, args):
    b.open(url + "#ch=3")
    r = b.wait_for("Module.attnlabWidgets && Module.attnlabWidgets['##n']", 30, "the tiling panel's N slider")
    before_hash = hash_of(b)
    # The panel: from the slider's left edge to the right of the page, from its top down.
    region = [int(r["x0"]), int(r["y0"]), W, H - 40]
    before = cdp.analyze(b, b.screenshot(), region)
    y = (r["y0"] + r["y1"]) / 2
    b.drag(r["x0"] + 4, y, r["x1"] - 4, y)
    after_hash = hash_of(b)
    check(re.search(r"[#&]N=8192\b", after_hash) is not None, f"dragging N to the right end: address {before_hash} -> {after_hash}")
    after = cdp.analyze(b, b.screenshot(), region)
    check(after["hash"] != before["hash"], "the panel's picture changed (its numbers and tile grid)")
    check_no_errors(b, "slider")


def run_link(b, url, args):
    b.open(url + "#ch=3")
    plain = cdp.analyze(b, b.screenshot())
    link = "ch=3&N=8192&d=128&causal=1"
    b.eval(f"location.hash = '{link}'")
    b.frames_after(4)
    check(hash_of(b) == "#" + link, f"a link with settings, opened while on the page: address {hash_of(b)}")
    # A fresh visit of the link (a student clicking a slide).
    b.open(url + "?fresh#" + link)
    check(hash_of(b) == "#" + link, f"the same link in a fresh page: restored as {hash_of(b)}")
    restored = check_picture(b, b.screenshot(), "restored link", args.shots, "link-restored.png")
    check(restored["hash"] != plain["hash"], "the restored state draws differently from chapter 3's defaults")
    check(not note_visible(b), "no note for a valid link")
    # A stale link: out-of-range and unknown values fall back with a visible note.
    b.open(url + "?stale#ch=99&N=7&zz=1")
    note = b.eval("document.getElementById('note-text').textContent")
    visible = note_visible(b)
    check(visible and "ch=99" in note, f"bad link: a visible note: {note!r}")
    check(hash_of(b).startswith("#ch=1"), f"bad link: the first chapter, address {hash_of(b)}")
    check_picture(b, b.screenshot(), "bad link (not a blank page)")
    check_no_errors(b, "links")


def run_files(b, url, args):
    """The learner's measurement file through the page's picker: a malformed one gets a message and
    changes nothing; a valid one is overlaid on the bundled runs, as `attnlab-gui --measurements` does."""
    b.open(url + "#ch=4")
    b.frames_after(10)
    plain = cdp.analyze(b, b.screenshot(), ABOVE_STATUS)
    plain_status = cdp.analyze(b, b.screenshot(), STATUS)
    with tempfile.TemporaryDirectory() as tmp:
        bad = os.path.join(tmp, "my-run.json")
        with open(bad, "w") as f:
            f.write('{"schema": "attnlab-measurements/1", "runs": [ {"kernel": ')
        b.set_file("#picker", bad)
        note = b.wait_for("(t => t.startsWith('Cannot use') && t)(document.getElementById('note-text').textContent)",
                          30, "the message for a malformed file")
        check("my-run.json" in note, f"malformed measurement file: {note!r}")
        check(note_visible(b), "the message is visible")
        b.eval("document.getElementById('note').style.display = 'none'")  # the note is not part of the panel
        b.frames_after(4)
        check_picture(b, b.screenshot(), "after the malformed file (nothing lost)")
        same = cdp.analyze(b, b.screenshot(), ABOVE_STATUS)
        check(same["hash"] == plain["hash"], "the malformed file changed nothing in the picture")
    # A valid file: the H200 runs scripts/measure-my-gpu wrote, drawn as "(yours)" beside the bundled ones.
    good = os.path.join(DATA, "my-gpu-h200", "hopper-key.json")
    b.set_file("#picker", good)
    note = b.wait_for("(t => t.startsWith('Loaded') && t)(document.getElementById('note-text').textContent)",
                      30, "the message for a valid file")
    check(note.startswith("Loaded hopper-key.json") and note_visible(b), f"valid measurement file: {note!r}")
    b.eval("document.getElementById('note').style.display = 'none'")
    b.pump(9)  # the status bar's own note for the file lasts 8 s; then it counts the measurements again
    b.frames_after(2)
    check_picture(b, b.screenshot(), "after the valid file", args.shots, "measurements-yours.png")
    after = cdp.analyze(b, b.screenshot(), STATUS)
    check(after["hash"] != plain_status["hash"], "the status bar counts the file beside the bundled ones (its line changed)")
    check_no_errors(b, "files")


def pick(b, purpose, path):
    """What the dashboard's menu does (platform::pick_file -> the page's Module.attnlabPick), then the
    learner choosing `path` in the dialog. Headless chromium shows no dialog: the click without a
    user gesture is refused, and DOM.setFileInputFiles stands for the choice."""
    b.eval(f"Module.attnlabPick('.json', {json.dumps(purpose)})")
    check(b.eval("document.getElementById('picker').dataset.purpose") == purpose and
          b.eval("document.getElementById('picker').accept") == ".json", f"the picker asks for a .json file for {purpose}")
    b.set_file("#picker", path)


def run_config(b, url, args):
    """The model/GPU file picker (\"Open a model config...\", \"Open a GPU file...\"): a GPU file joins
    the GPU picker and is selected, a Hugging Face config.json joins the model picker, and a bad one
    gets its reader's message with nothing changed."""
    b.open(url + "#ch=5")
    b.frames_after(10)
    plain = cdp.analyze(b, b.screenshot(), ABOVE_STATUS)
    pick(b, "model-or-gpu", os.path.join(DATA, "gpu", "h200-described.json"))
    note = b.wait_for("(t => t.startsWith('opened GPU') && t)(document.getElementById('note-text').textContent)",
                      30, "the message for the GPU file")
    check("nvidia-h200-described" in note and "132 SMs" in note and note_visible(b), f"GPU file: {note!r}")
    b.frames_after(4)
    check("gpu=nvidia-h200-described" in hash_of(b), f"the GPU file's GPU is selected: address {hash_of(b)}")
    with_gpu = cdp.analyze(b, b.screenshot(), ABOVE_STATUS)
    pick(b, "model-or-gpu", os.path.join(DATA, "hf", "mistral-7b.json"))
    note = b.wait_for("(t => t.startsWith('opened model') && t)(document.getElementById('note-text').textContent)",
                      30, "the message for the model config")
    check(note.startswith("opened model mistral-7b (32 layers, 32 heads, 8 K/V heads, d 128") and note_visible(b),
          f"model config: {note!r}")
    b.eval("document.getElementById('note').style.display = 'none'")
    b.frames_after(4)
    check_picture(b, b.screenshot(), "after the model config", args.shots, "config-model.png")
    with_model = cdp.analyze(b, b.screenshot(), ABOVE_STATUS)
    check(len({plain["hash"], with_gpu["hash"], with_model["hash"]}) == 3,
          "the KV-cache panel redrew for the GPU file, then for the model")
    with tempfile.TemporaryDirectory() as tmp:
        bad = os.path.join(tmp, "broken-config.json")
        with open(bad, "w") as f:
            f.write('{"num_hidden_layers": 32, "num_attention_heads": ')
        pick(b, "model-or-gpu", bad)
        note = b.wait_for("(t => t.includes('broken-config') && t)(document.getElementById('note-text').textContent)",
                          30, "the message for a malformed config")
        check(note_visible(b) and not note.startswith("opened"), f"malformed config: {note!r}")
    b.eval("document.getElementById('note').style.display = 'none'")
    b.frames_after(4)
    check(cdp.analyze(b, b.screenshot(), ABOVE_STATUS)["hash"] == with_model["hash"], "the malformed config changed nothing")
    check_no_errors(b, "config")


def run_nowebgl(url, args):
    """A browser without WebGL 2 (an older one with WebGL 1 only, then one with no WebGL at all)
    gets a readable message in the page, not a blank canvas, and does not start the dashboard."""
    for webgl, what in ((1, "WebGL 1 only"), (0, "no WebGL")):
        with cdp.Browser(W, H, webgl=webgl) as b:
            b.call("Page.navigate", url=url + "#ch=3")
            b.wait_for("document.readyState === 'complete'", 60)
            b.wait_for("document.getElementById('status-text').innerText.includes('WebGL 2')", 60, "the page's message")
            b.pump(1.0)
            has = b.eval("[!!document.createElement('canvas').getContext('webgl2'),"
                         " !!document.createElement('canvas').getContext('webgl')]")
            check(has == [False, webgl == 1], f"{what}: the browser offers WebGL 2 {has[0]}, WebGL 1 {has[1]}")
            text = b.text("#status-text")
            check("needs WebGL 2" in text and "attnlab-gui" in text, f"{what}: the page says so: {text.splitlines()[0] if text else '(nothing)'!r}")
            check(b.text("#canvas") == "" and b.eval("getComputedStyle(Module.canvas).display") == "none",
                  f"{what}: the canvas is hidden")
            check(b.eval("typeof Module.attnlabFrames") == "undefined" and
                  b.eval("[...document.scripts].every(s => !s.src.endsWith('attnlab.js'))"),
                  f"{what}: the dashboard was not started (attnlab.js not loaded)")
            png = b.screenshot()
            a = cdp.analyze(b, png)
            check(a["colors"] >= 30, f"{what}: the message is drawn (text on the page's background, {a['colors']} colours)")
            if args.shots:
                with open(os.path.join(args.shots, f"nowebgl-{webgl}.png"), "wb") as f:
                    f.write(png)
            check_no_errors(b, what)


def run_bench(b, url, args):
    t0 = time.time()
    b.open(url + "#ch=1", frames=1)
    first = b.eval("Module.attnlabFirstFrameMs")
    print(f"first frame: {first:.0f} ms after navigation ({time.time() - t0:.1f} s seen by the test)")
    rows = []
    for n in chapters(args.lessons):
        b.eval(f"location.hash = 'ch={n}&play=1'")
        b.frames_after(10)
        b.eval("Module.attnlabPeriods = []; Module.attnlabBuildMs = []")
        b.frames_after(90)
        p = b.eval("Module.attnlabPeriods.slice(1)")
        u = b.eval("Module.attnlabBuildMs.slice(1)")
        rows.append((statistics.median(p), n, statistics.median(u), max(p)))
        print(f"chapter {n:2d}: median frame {statistics.median(p):6.1f} ms (p90 {sorted(p)[len(p) * 9 // 10]:.1f}),"
              f" building the frame {statistics.median(u):5.1f} ms", flush=True)
    worst = max(rows)
    print(f"heaviest chapter: {worst[1]}, median frame {worst[0]:.1f} ms at {W}x{H}")
    run_bench_traffic(b, args)


def run_bench_traffic(b, args):
    """The traffic panel: its first open (the DRAM curve simulated in slices), then its heads
    slider through all 64 values, one value per frame."""
    # Chapter 3 first (its lesson is rendered when first shown), then its traffic panel.
    b.eval("location.hash = 'ch=3'")
    b.frames_after(10)
    b.eval("Module.attnlabPeriods = []; Module.attnlabBuildMs = []")
    b.eval("location.hash = 'ch=3&panel=traffic'")
    # Its first 8 seconds: the DRAM curve (the L2 model, N = 256 .. 16K) fills in meanwhile.
    b.pump(8)
    p = b.eval("Module.attnlabPeriods.slice(1)")
    u = b.eval("Module.attnlabBuildMs.slice(1)")
    print(f"traffic panel opened: its first 8 s, {len(p)} frames, max {max(p):.1f} ms, median {statistics.median(p):.1f} ms,"
          f" {sum(x > 100 for x in p)} over 100 ms (building: max {max(u):.1f}, median {statistics.median(u):.1f} ms;"
          f" the longest: {', '.join(f'{x:.0f}' for x in sorted(u)[-5:])} ms)", flush=True)
    r = b.wait_for("Module.attnlabWidgets && Module.attnlabWidgets['##h']", 30, "the traffic panel's heads slider")
    y = (r["y0"] + r["y1"]) / 2
    b.call("Input.dispatchMouseEvent", type="mouseMoved", x=r["x0"] + 2, y=y)
    b.frames_after(2)
    b.call("Input.dispatchMouseEvent", type="mousePressed", x=r["x0"] + 2, y=y, button="left", clickCount=1)
    b.frames_after(2)
    b.eval("Module.attnlabPeriods = []; Module.attnlabBuildMs = []")
    for i in range(64):
        x = r["x0"] + 2 + (r["x1"] - r["x0"] - 4) * (i + 0.5) / 64
        b.call("Input.dispatchMouseEvent", type="mouseMoved", x=x, y=y, button="left", buttons=1)
        b.frames_after(1)
    b.call("Input.dispatchMouseEvent", type="mouseReleased", x=r["x1"] - 2, y=y, button="left", clickCount=1)
    p = b.eval("Module.attnlabPeriods.slice(1)")
    u = b.eval("Module.attnlabBuildMs.slice(1)")
    print(f"traffic panel, heads 1..64 dragged one value per frame: {len(p)} frames, median {statistics.median(p):.1f} ms,"
          f" max {max(p):.1f} ms (building: median {statistics.median(u):.1f}, max {max(u):.1f} ms); address {hash_of(b)}")
    print("renderer: " + str(b.eval("(() => { const g = document.createElement('canvas').getContext('webgl2');"
                                    " const e = g.getExtension('WEBGL_debug_renderer_info');"
                                    " return e ? g.getParameter(e.UNMASKED_RENDERER_WEBGL) : g.getParameter(g.RENDERER); })()")))


def run_resize(b, url, args):
    """The canvas follows the page: a smaller window, then a HiDPI screen (devicePixelRatio 2)."""
    b.open(url + "#ch=3")
    for w, h, scale in ((960, 600, 1), (W, H, 2)):
        b.call("Emulation.setDeviceMetricsOverride", width=w, height=h, deviceScaleFactor=scale, mobile=False)
        b.frames_after(6)
        cw, ch = b.eval("Module.canvas.width"), b.eval("Module.canvas.height")
        check((cw, ch) == (w * scale, h * scale), f"page {w}x{h} at devicePixelRatio {scale}: canvas {cw}x{ch} pixels")
        check_picture(b, b.screenshot(), f"page {w}x{h}x{scale}", args.shots, f"resize-{w}x{h}x{scale}.png",
                      size=(w * scale, h * scale))
    check_no_errors(b, "resize")


def run_docs(b, url, args):
    """The two pictures in docs/: chapter 3 mid-animation, and a link restored in a fresh page."""
    b.open(url + "#ch=3&play=1")
    b.pump(2.5)  # the tiling walk is under way
    with open(os.path.join(args.docs, "web-chapter3.png"), "wb") as f:
        f.write(b.screenshot())
    b.open(url + "?fresh#ch=3&panel=traffic&d=64&heads=32&causal=1")
    b.frames_after(60)
    with open(os.path.join(args.docs, "web-link.png"), "wb") as f:
        f.write(b.screenshot())
    print(f"wrote {args.docs}/web-chapter3.png and web-link.png (address {hash_of(b)})")


CHECKS = {"chapters": run_chapters, "resize": run_resize, "navigation": run_navigation, "slider": run_slider, "link": run_link,
          "files": run_files, "config": run_config, "nowebgl": None}  # nowebgl starts its own browsers


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--site", required=True, help="the folder scripts/web built (index.html, attnlab.*)")
    ap.add_argument("--lessons", required=True, help="lessons/ (the chapter numbers to open)")
    ap.add_argument("--check", choices=sorted(CHECKS))
    ap.add_argument("--bench", action="store_true", help="print the speed figures instead of testing")
    ap.add_argument("--bench-traffic", action="store_true", help="print the traffic panel's figures only")
    ap.add_argument("--shots", help="save the screenshots here")
    ap.add_argument("--docs", help="write the two screenshots for docs/ into this folder instead of testing")
    args = ap.parse_args()
    if not os.path.isfile(os.path.join(args.site, "index.html")):
        print(f"test_web: no index.html in {args.site}; build it with scripts/web", file=sys.stderr)
        return 2
    if args.shots:
        os.makedirs(args.shots, exist_ok=True)
    server, url = cdp.serve(args.site)
    try:
        if args.check == "nowebgl":
            run_nowebgl(url + "index.html", args)
            return 0
        with cdp.Browser(W, H) as b:
            if args.bench:
                run_bench(b, url + "index.html", args)
            elif args.bench_traffic:
                b.open(url + "index.html#ch=1", frames=3)
                run_bench_traffic(b, args)
            elif args.docs:
                run_docs(b, url + "index.html", args)
            else:
                CHECKS[args.check](b, url + "index.html", args)
    finally:
        server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
