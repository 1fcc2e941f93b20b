#!/usr/bin/env python3
"""examples/http_echo in a real browser: headless Chromium loads the demo page, and the test
asserts on the rendered DOM (--dump-dom), takes a screenshot (kept as a test artifact), and
checks the layout over the DevTools protocol (--remote-debugging-pipe): the page's values fit
their boxes on a desktop and on a phone-sized viewport.

usage: test_http_browser.py --http-echo PATH/http_echo [--artifacts DIR] [--chromium PATH]
                            [unittest args]
Chromium missing (scripts/deps.sh installs Debian's `chromium`) → exit code 77 (ctest
SKIP_RETURN_CODE)."""

import json
import os
import select
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import unittest

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import http_support as hs  # noqa: E402

DEFAULT_CHROMIUM = "/usr/bin/chromium"
BROWSER_TIMEOUT = 120  # seconds for one headless run (first start on a cold cache is slow)
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def chromium():
    path = hs.OPTIONS.chromium or DEFAULT_CHROMIUM
    return path if os.access(path, os.X_OK) else None


class DevTools:
    """A headless Chromium driven over --remote-debugging-pipe (the browser reads commands on
    fd 3 and writes replies and events on fd 4, each a JSON text ended by NUL)."""

    def __init__(self, argv, env, timeout=BROWSER_TIMEOUT):
        self.timeout = timeout
        cmd_r, self.cmd_w = os.pipe()
        self.out_r, out_w = os.pipe()
        # The shell puts the pipe ends on fds 3 and 4 (the launcher script passes them on).
        wrapper = 'exec "$@" 3<&%d 4>&%d' % (cmd_r, out_w)
        self.proc = subprocess.Popen(["/bin/sh", "-c", wrapper, "sh", *argv],
                                     pass_fds=(cmd_r, out_w), stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     env=env)
        os.close(cmd_r)
        os.close(out_w)
        self.buf = b""
        self.next_id = 0

    def _message(self, want, timeout):
        deadline = time.monotonic() + timeout
        while True:
            while b"\0" in self.buf:
                raw, self.buf = self.buf.split(b"\0", 1)
                msg = json.loads(raw)
                if want(msg):
                    return msg
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.out_r], [], [], left)[0]:
                raise AssertionError("no answer from chromium in %ss" % timeout)
            chunk = os.read(self.out_r, 1 << 16)
            if not chunk:
                raise AssertionError("chromium closed the DevTools pipe (exit %r)"
                                     % self.proc.poll())
            self.buf += chunk

    def call(self, method, params=None, session=None):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self.cmd_w, json.dumps(msg).encode() + b"\0")
        ident = self.next_id
        reply = self._message(lambda m: m.get("id") == ident, self.timeout)
        if "error" in reply:
            raise AssertionError("%s failed: %r" % (method, reply["error"]))
        return reply["result"]

    def wait_event(self, method, session):
        return self._message(lambda m: m.get("method") == method
                             and m.get("sessionId") == session, self.timeout)

    def close(self):
        try:
            if self.proc.poll() is None:
                try:
                    self.call("Browser.close")
                except (AssertionError, OSError):
                    pass
                try:
                    return self.proc.wait(hs.EXIT_TIMEOUT)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(hs.EXIT_TIMEOUT)
            return self.proc.returncode
        finally:
            for fd in (self.cmd_w, self.out_r):
                try:
                    os.close(fd)
                except OSError:
                    pass


# For every stat value: its id, text, scrollWidth and clientWidth; and the document's widths.
MEASURE = """JSON.stringify({
  stats: [...document.querySelectorAll('.stat b')].map(
      b => [b.id, b.textContent, b.scrollWidth, b.clientWidth]),
  doc: [document.documentElement.scrollWidth, document.documentElement.clientWidth]})"""


class BrowserTest(hs.ServerTestCase):
    def setUp(self):
        if chromium() is None:
            self.skipTest("%s is not installed (scripts/deps.sh installs Debian's chromium)"
                          % (hs.OPTIONS.chromium or DEFAULT_CHROMIUM))
        self.server = self.start("--threads", "2")
        self.tmp = tempfile.TemporaryDirectory(prefix="opensocket-chromium-")
        self.addCleanup(self.tmp.cleanup)

    def chromium_argv(self, *args):
        """argv and environment for one headless run with a fresh profile (and HOME) that
        nothing else touches."""
        profile = tempfile.mkdtemp(prefix="profile-", dir=self.tmp.name)
        env = dict(os.environ, HOME=profile, XDG_CONFIG_HOME=profile, XDG_CACHE_HOME=profile)
        argv = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                "--user-data-dir=" + profile, *args]
        return argv, env

    def run_chromium(self, *args):
        argv, env = self.chromium_argv(*args)
        try:
            r = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, env=env,
                               timeout=BROWSER_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.fail("chromium did not finish in %ss: %s" % (BROWSER_TIMEOUT, " ".join(argv)))
        self.assertEqual(r.returncode, 0, "chromium failed: %s"
                         % r.stderr.decode(errors="replace")[-2000:])
        return r.stdout.decode("utf-8", errors="replace")

    def test_dump_dom_shows_the_echoed_request(self):
        dom = self.run_chromium("--dump-dom", self.server.url + "/")
        page = hs.parse_page(dom)
        hs.check_page_ids(self, page)
        self.assertEqual(page.text("request-line", " "), "GET / HTTP/1.1", dom[:2000])
        rows = dict((name.lower(), value) for name, value in page.header_rows())
        self.assertIn("user-agent", rows, page.header_rows())
        self.assertIn("HeadlessChrome", rows["user-agent"])
        self.assertEqual(rows.get("host"), "127.0.0.1:%d" % self.server.port)
        self.assertIn("127.0.0.1", page.text("client"))
        self.assertRegex(page.text("executor"), r"^#[01]$")
        self.assertRegex(page.text("views"), r"^[1-9]\d*$")
        self.assertRegex(page.text("sequence"), r"^[1-9]\d*$")
        self.assertNotIn("script", page.tags, "the demo page runs no script")
        self.stop(self.server)

    def test_screenshot(self):
        shot = os.path.join(self.tmp.name, "http_echo.png")
        self.run_chromium("--screenshot=" + shot, "--window-size=1200,900",
                          "--hide-scrollbars", self.server.url + "/")
        self.assertTrue(os.path.isfile(shot), "chromium wrote no screenshot")
        with open(shot, "rb") as f:
            png = f.read()
        self.assertEqual(png[:8], PNG_MAGIC, "not a PNG")
        self.assertGreater(len(png), 10 * 1024, "a blank page? %d bytes" % len(png))
        self.assertEqual(png[12:16], b"IHDR")
        width, height = struct.unpack(">II", png[16:24])
        self.assertEqual((width, height), (1200, 900))
        if hs.OPTIONS.artifacts:
            os.makedirs(hs.OPTIONS.artifacts, exist_ok=True)
            dest = os.path.join(hs.OPTIONS.artifacts, "http_echo.png")
            shutil.copyfile(shot, dest)
            print("\n  screenshot: %s (%d bytes)" % (dest, len(png)), file=sys.stderr)
        self.stop(self.server)

    def test_values_fit_their_boxes(self):
        """What the screenshot shows, measured: on a desktop window and on a phone-sized
        viewport, no stat value (client address, executor, counters) is wider than its box
        (it would overlap the next one) and the page needs no horizontal scrolling."""
        argv, env = self.chromium_argv("--remote-debugging-pipe", "--window-size=1200,900",
                                       "about:blank")
        browser = DevTools(argv, env)
        try:
            target = browser.call("Target.createTarget", {"url": "about:blank"})["targetId"]
            session = browser.call("Target.attachToTarget",
                                   {"targetId": target, "flatten": True})["sessionId"]
            browser.call("Page.enable", session=session)
            problems = []
            for width in (1200, 375):
                browser.call("Emulation.setDeviceMetricsOverride",
                             {"width": width, "height": 900, "deviceScaleFactor": 1,
                              "mobile": width < 600}, session=session)
                browser.call("Page.navigate", {"url": self.server.url + "/"}, session=session)
                browser.wait_event("Page.loadEventFired", session)
                value = browser.call("Runtime.evaluate",
                                     {"expression": MEASURE, "returnByValue": True},
                                     session=session)["result"]["value"]
                m = json.loads(value)
                self.assertEqual([s[0] for s in m["stats"]],
                                 ["client", "executor", "views", "sequence"])
                for ident, text, scroll, client in m["stats"]:
                    if scroll > client + 1:
                        problems.append("%dpx wide window: #%s %r needs %dpx but its box is "
                                        "%dpx (it overflows into its neighbour)"
                                        % (width, ident, text, scroll, client))
                scroll, client = m["doc"]
                if scroll > client + 1:
                    problems.append("%dpx wide window: the page is %dpx wide (horizontal "
                                    "scrolling)" % (width, scroll))
        finally:
            code = browser.close()
        self.assertEqual(problems, [], "demo page layout (examples/http_echo/main.cpp "
                         "page_style)")
        self.assertEqual(code, 0, "chromium exit code")
        self.stop(self.server)


if __name__ == "__main__":
    hs.run_main()
