"""A small Chrome DevTools Protocol client for attnlab's browser tests: starts Debian's headless
chromium (SwiftShader WebGL 2) and a static file server, opens the page, and speaks CDP over a
websocket per page (python3-websocket). Chosen over puppeteer-core: one Debian package instead of an npm
tree and its lockfile, nothing fetched from a registry in CI, and the dozen commands the tests use
fit in this file."""

import base64
import functools
import http.server
import json
import os
import re
import shutil
import socketserver
import subprocess
import tempfile
import threading
import time
import urllib.request

import websocket

CHROMIUM = os.environ.get("ATTNLAB_CHROMIUM", "/usr/bin/chromium")


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map,
                      ".wasm": "application/wasm", ".data": "application/octet-stream"}

    def log_message(self, *args):
        pass


def serve(folder):
    """A static server for `folder` on a free localhost port (a thread); returns (server, base URL)."""
    handler = functools.partial(_QuietHandler, directory=folder)
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def _connect(url):
    return websocket.create_connection(url, timeout=120, suppress_origin=True)


class Page:
    """One page (a CDP target) over its own websocket. Events are kept: console messages and
    exceptions."""

    def __init__(self, ws_url, width, height, scale):
        self.ws = _connect(ws_url)
        self.next_id = 0
        self.console = []  # (level, text)
        self.errors = []   # uncaught exceptions and error-level console/log entries
        self.width, self.height = width, height
        for domain in ("Page", "Runtime", "Log"):
            self.call(f"{domain}.enable")
        # The page's size exactly (--window-size counts the headless window's frame too).
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=scale,
                  mobile=False)

    def close(self):
        self.ws.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _event(self, msg):
        method, p = msg.get("method"), msg.get("params", {})
        if method == "Runtime.consoleAPICalled":
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", []))
            self.console.append((p["type"], text))
            if p["type"] in ("error", "assert"):
                self.errors.append(f"console.{p['type']}: {text}")
        elif method == "Runtime.exceptionThrown":
            d = p["exceptionDetails"]
            self.errors.append("exception: " + d.get("exception", {}).get("description", d.get("text", "?")))
        elif method == "Log.entryAdded" and p["entry"]["level"] == "error":
            self.errors.append(f"log: {p['entry']['text']} ({p['entry'].get('url', '')})")

    def call(self, method, **params):
        self.next_id += 1
        my_id = self.next_id
        self.ws.send(json.dumps({"id": my_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == my_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            self._event(msg)

    def pump(self, seconds):
        """Lets the page run for `seconds`, collecting events."""
        end = time.time() + seconds
        while True:
            left = end - time.time()
            if left <= 0:
                return
            self.ws.settimeout(left)
            try:
                self._event(json.loads(self.ws.recv()))
            except websocket.WebSocketTimeoutException:
                return
            finally:
                self.ws.settimeout(120)

    def eval(self, expression):
        r = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in r:
            raise RuntimeError(f"{expression}: {r['exceptionDetails'].get('text')}")
        return r["result"].get("value")

    def wait_for(self, expression, timeout=60, what=None):
        end = time.time() + timeout
        while time.time() < end:
            v = self.eval(expression)
            if v:
                return v
            self.pump(0.1)
        raise AssertionError(f"timed out after {timeout} s waiting for {what or expression}")

    def open(self, url, frames=3, timeout=90):
        """Navigates and waits until the dashboard has drawn `frames` frames."""
        self.call("Page.navigate", url=url)
        self.pump(0.2)
        self.wait_for("document.readyState === 'complete'", timeout)
        self.wait_for(f"typeof Module === 'object' && (Module.attnlabFrames || 0) >= {frames}", timeout,
                      f"{frames} frames of the dashboard")

    def frames_after(self, n):
        """Waits until `n` more frames were drawn (the page acts on input in its next frames)."""
        start = self.eval("Module.attnlabFrames")
        self.wait_for(f"Module.attnlabFrames >= {start + n}", 60, f"{n} more frames")

    def screenshot(self):
        """The page as a PNG (bytes)."""
        return base64.b64decode(self.call("Page.captureScreenshot", format="png")["data"])

    def key(self, key, code, vk):
        """A key pressed for one frame (a longer hold would repeat: ImGui repeats held keys)."""
        for kind in ("rawKeyDown", "keyUp"):
            self.call("Input.dispatchKeyEvent", type=kind, key=key, code=code,
                      windowsVirtualKeyCode=vk, nativeVirtualKeyCode=vk)
            self.frames_after(1)
        self.frames_after(1)

    def drag(self, x0, y0, x1, y1, steps=8):
        self.call("Input.dispatchMouseEvent", type="mouseMoved", x=x0, y=y0)
        self.frames_after(2)
        self.call("Input.dispatchMouseEvent", type="mousePressed", x=x0, y=y0, button="left", clickCount=1)
        self.frames_after(2)
        for i in range(1, steps + 1):
            x, y = x0 + (x1 - x0) * i / steps, y0 + (y1 - y0) * i / steps
            self.call("Input.dispatchMouseEvent", type="mouseMoved", x=x, y=y, button="left", buttons=1)
            self.frames_after(1)
        self.call("Input.dispatchMouseEvent", type="mouseReleased", x=x1, y=y1, button="left", clickCount=1)
        self.frames_after(3)

    def set_file(self, selector, path):
        """Picks `path` in the file input `selector`, as the learner would in the picker's dialog
        (the input's change event fires; the page hands the bytes to the dashboard)."""
        root = self.call("DOM.getDocument")["root"]["nodeId"]
        node = self.call("DOM.querySelector", nodeId=root, selector=selector)["nodeId"]
        self.call("DOM.setFileInputFiles", files=[path], nodeId=node)

    def text(self, selector):
        """The text of the element `selector` as the page shows it ("" if it is hidden or missing)."""
        return self.eval(f"(e => e && getComputedStyle(e).display !== 'none' && e.getBoundingClientRect().width > 0"
                         f" ? e.innerText : '')(document.querySelector({json.dumps(selector)}))")


class Browser(Page):
    """One headless chromium (an empty profile of its own) and its first page; more pages, each
    in a fresh browser context of the same chromium, from new_context_page()."""

    def __init__(self, width=1280, height=720, scale=1.0, webgl=2):
        """webgl: 2 (SwiftShader's WebGL 2), 1 (WebGL 1 only, as in an older browser: --disable-webgl2)
        or 0 (no WebGL at all: --disable-3d-apis)."""
        self.profile = tempfile.mkdtemp(prefix="attnlab-chromium-")
        swiftshader = ["--use-angle=swiftshader", "--enable-unsafe-swiftshader"]
        gl = {2: swiftshader, 1: swiftshader + ["--disable-webgl2"], 0: ["--disable-3d-apis"]}[webgl]
        args = [CHROMIUM, "--headless", "--no-sandbox", *gl,
                "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--mute-audio",
                f"--user-data-dir={self.profile}", "--remote-debugging-port=0",
                f"--window-size={width},{height}", f"--force-device-scale-factor={scale}", "about:blank"]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.browser_ws = None
        try:
            browser_url = None
            deadline = time.time() + 30
            while time.time() < deadline and browser_url is None:
                line = self.proc.stderr.readline()
                if not line and self.proc.poll() is not None:
                    raise RuntimeError("chromium exited before DevTools answered")
                m = re.search(r"DevTools listening on (ws://[^:]+:(\d+)/\S+)", line)
                if m:
                    browser_url, self.port = m.group(1), int(m.group(2))
            if browser_url is None:
                raise RuntimeError("chromium did not open DevTools within 30 s")
            threading.Thread(target=lambda: [None for _ in self.proc.stderr], daemon=True).start()  # drain
            self.browser_url = browser_url
            pages = json.load(urllib.request.urlopen(f"http://127.0.0.1:{self.port}/json/list"))
            page = next(p for p in pages if p["type"] == "page")
            self.scale = scale
            super().__init__(page["webSocketDebuggerUrl"], width, height, scale)
        except BaseException:
            self._stop()
            raise

    def _stop(self):
        self.proc.kill()
        self.proc.wait()
        shutil.rmtree(self.profile, ignore_errors=True)

    def close(self):
        try:
            super().close()
            if self.browser_ws:
                self.browser_ws.close()
        finally:
            self._stop()

    def browser_call(self, method, **params):
        """A command to the browser itself (the Target domain), over a second websocket; its
        events are not needed and dropped."""
        if self.browser_ws is None:
            self.browser_ws = _connect(self.browser_url)
            self.browser_next_id = 0
        self.browser_next_id += 1
        my_id = self.browser_next_id
        self.browser_ws.send(json.dumps({"id": my_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.browser_ws.recv())
            if msg.get("id") == my_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})

    def new_context_page(self, width=None, height=None):
        """A new page in a new, empty browser context of this chromium (like a fresh incognito
        window: no cache, cookies or storage shared with any other context), a Page whose
        close() also throws the context away with all it kept."""
        width, height = width or self.width, height or self.height
        ctx = self.browser_call("Target.createBrowserContext", disposeOnDetach=True)["browserContextId"]
        try:
            target = self.browser_call("Target.createTarget", url="about:blank", browserContextId=ctx,
                                       width=width, height=height)["targetId"]
            page = Page(f"ws://127.0.0.1:{self.port}/devtools/page/{target}", width, height, self.scale)
        except BaseException:
            self.browser_call("Target.disposeBrowserContext", browserContextId=ctx)
            raise
        plain_close = page.close

        def close():
            try:
                plain_close()
            finally:
                self.browser_call("Target.disposeBrowserContext", browserContextId=ctx)
        page.close = close
        return page


_ANALYZE = """
async (b64, region) => {
  const blob = await (await fetch('data:image/png;base64,' + b64)).blob();
  const bmp = await createImageBitmap(blob);
  const c = new OffscreenCanvas(bmp.width, bmp.height), g = c.getContext('2d');
  g.drawImage(bmp, 0, 0);
  const [x0, y0, x1, y1] = region || [0, 0, bmp.width, bmp.height];
  const d = g.getImageData(x0, y0, Math.max(1, x1 - x0), Math.max(1, y1 - y0)).data;
  const counts = new Map();
  let hash = 2166136261;
  for (let i = 0; i < d.length; i += 4) {
    const v = (d[i] << 16) | (d[i + 1] << 8) | d[i + 2];
    counts.set(v, (counts.get(v) || 0) + 1);
    hash = Math.imul(hash ^ v, 16777619) >>> 0;
  }
  let top = 0;
  for (const n of counts.values()) top = Math.max(top, n);
  return {width: bmp.width, height: bmp.height, colors: counts.size,
          not_background: 1 - top / (d.length / 4), hash: hash.toString(16)};
}
"""


def analyze(browser, png, region=None):
    """Size, number of colours, share of pixels not in the most common colour and a hash of the
    PNG (or of `region` = [x0, y0, x1, y1] of it), computed by the page's own image decoder."""
    b64 = base64.b64encode(png).decode()
    return browser.eval(f"({_ANALYZE})({json.dumps(b64)}, {json.dumps(region)})")
