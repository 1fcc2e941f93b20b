"""Helpers for the http_echo integration tests (test_http_echo.py, test_http_browser.py): start
http_echo on a kernel-chosen port and stop it by PID, read HTTP/1.1 responses off a raw socket,
read the server's RSS from /proc, pull elements out of the demo's HTML page, and run a unittest
program whose all-skipped outcome becomes ctest's skip code. Python 3 standard library only."""

import argparse
import html.parser
import os
import re
import signal
import socket
import sys
import unittest

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import support  # noqa: E402
from support import LISTENING, Process  # noqa: E402

# ctest's SKIP_RETURN_CODE for these tests (set in tests/CMakeLists.txt): the exit code when
# every selected test was skipped (a client program is missing), or the engine is refused here.
SKIP_CODE = support.SKIP_CODE

IO_TIMEOUT = support.IO_TIMEOUT
START_TIMEOUT = support.START_TIMEOUT
EXIT_TIMEOUT = support.EXIT_TIMEOUT

# Filled by parse_args().
OPTIONS = argparse.Namespace(http_echo=None, artifacts=None, sanitized="", chromium=None)


def parse_args():
    """Takes --http-echo PATH [--artifacts DIR] [--sanitized LIST] [--chromium PATH]
    [--engine NAME] off sys.argv; the rest goes to unittest (e.g. a test class name)."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--http-echo", dest="http_echo")
    parser.add_argument("--artifacts")
    parser.add_argument("--sanitized", default="")
    parser.add_argument("--chromium")
    parser.add_argument("--engine")
    known, rest = parser.parse_known_args()
    if known.http_echo is None or not os.access(known.http_echo, os.X_OK):
        sys.exit("--http-echo must name the built http_echo, got %r" % known.http_echo)
    for k, v in vars(known).items():
        setattr(OPTIONS, k, v)
    support.ENGINE = known.engine
    return [sys.argv[0]] + rest


def run_main():
    """unittest.main, except that a run in which every test was skipped, or one whose engine
    (--engine) the kernel refuses, exits with SKIP_CODE."""
    argv = parse_args()
    support.exit_if_engine_refused(OPTIONS.http_echo)
    support.run_tests(argv)


def raise_fd_limit(want):
    """Raises this process's soft RLIMIT_NOFILE towards `want` (children inherit it); returns
    the soft limit now in force."""
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = want if hard == resource.RLIM_INFINITY else min(want, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    return soft


class HttpEcho(Process):
    """http_echo --port 0 [args]; `host`/`port` are known once the constructor returns (read
    from its "listening on ADDR:PORT" line, never by sleeping)."""

    def __init__(self, *args):
        super().__init__([OPTIONS.http_echo, "--port", "0", *support.engine_args(), *args])
        line = self.read_line(START_TIMEOUT)
        if line is None:
            err = self.stderr_text()
            self.kill()
            raise AssertionError("http_echo did not report 'listening on' (stderr: %r)" % err)
        m = LISTENING.match(line)
        if not m:
            self.kill()
            raise AssertionError("unexpected first line from http_echo: %r" % line)
        self.host = m.group(1).strip("[]")
        self.port = int(m.group(2))
        self.url = "http://127.0.0.1:%d" % self.port

    @property
    def pid(self):
        return self.proc.pid

    def rss_kib(self):
        return rss_kib(self.pid)


class ServerTestCase(unittest.TestCase):
    """Starts http_echo per test (killed in cleanup if the test did not stop it)."""

    def start(self, *args):
        server = HttpEcho(*args)
        self.addCleanup(server.kill)
        return server

    def stop(self, server, sig=signal.SIGTERM):
        """Stops the server by PID and asserts a clean exit (code 0) in time."""
        code = server.signal_and_wait(sig)
        self.assertIsNotNone(code, "http_echo did not exit within %ss of %s"
                             % (EXIT_TIMEOUT, signal.Signals(sig).name))
        self.assertEqual(code, 0, "exit code after %s; stderr: %s"
                         % (signal.Signals(sig).name, server.stderr_text()))
        return server.stderr_text()


def rss_kib(pid):
    """VmRSS of `pid` in KiB, from /proc/PID/status."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS in /proc/%d/status" % pid)


def connect(port, host="127.0.0.1", timeout=IO_TIMEOUT):
    s = socket.create_connection((host, port), timeout=timeout)
    s.settimeout(timeout)
    return s


# ---- reading responses off a raw socket ---------------------------------------------------

class Response:
    def __init__(self, version, status, reason, headers, body, raw_head):
        self.version = version
        self.status = status
        self.reason = reason
        self.headers = headers  # [(name, value)] in order
        self.body = body
        self.raw_head = raw_head

    def header(self, name):
        """The value of the one field called `name` (case-insensitive), None if absent."""
        values = self.header_values(name)
        if len(values) > 1:
            raise AssertionError("%d %s fields in %r" % (len(values), name, self.raw_head))
        return values[0] if values else None

    def header_values(self, name):
        return [v for n, v in self.headers if n.lower() == name.lower()]

    def __repr__(self):
        return "<Response %d %r %d body bytes>" % (self.status, self.headers, len(self.body))


class Closed(Exception):
    """The connection ended (EOF or reset) before a whole response arrived."""


class ResponseReader:
    """Reads HTTP/1.1 responses from a socket, one at a time, keeping any extra bytes."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = bytearray()
        self.eof = False
        self.reset = False

    def _fill(self):
        if self.eof:
            return False
        try:
            chunk = self.sock.recv(1 << 16)
        except ConnectionResetError:
            chunk = b""
            self.reset = True
        if not chunk:
            self.eof = True
            return False
        self.buf += chunk
        return True

    def _take_head(self):
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end >= 0:
                head = bytes(self.buf[:end + 4])
                del self.buf[:end + 4]
                return head
            if not self._fill():
                raise Closed("connection ended with %d bytes of an unfinished head: %r"
                             % (len(self.buf), bytes(self.buf[:200])))

    def _take(self, n):
        while len(self.buf) < n:
            if not self._fill():
                raise Closed("connection ended %d bytes into a %d-byte body"
                             % (len(self.buf), n))
        data = bytes(self.buf[:n])
        del self.buf[:n]
        return data

    def read(self, head_request=False):
        """The next response (interim 1xx responses included, as they come)."""
        raw = self._take_head()
        lines = raw[:-4].decode("latin-1").split("\r\n")
        m = re.match(r"^(HTTP/\d\.\d) (\d{3}) ?(.*)$", lines[0])
        if not m:
            raise AssertionError("bad status line %r" % lines[0])
        headers = []
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if not sep or not name or name != name.strip():
                raise AssertionError("bad header line %r in %r" % (line, raw))
            headers.append((name, value.strip(" \t")))
        resp = Response(m.group(1), int(m.group(2)), m.group(3), headers, b"", raw)
        if head_request or resp.status < 200 or resp.status in (204, 304):
            return resp
        te = resp.header("Transfer-Encoding")
        if te is not None:
            raise AssertionError("http_echo sent Transfer-Encoding %r (expected Content-Length)"
                                 % te)
        length = resp.header("Content-Length")
        if length is None:
            raise AssertionError("response without Content-Length: %r" % raw)
        resp.body = self._take(int(length))
        return resp

    def at_eof(self):
        """True if the peer closed (FIN or reset) with nothing more to read."""
        if self.buf:
            return False
        return not self._fill()

    def read_all_until_eof(self):
        """Every complete response until the connection ends."""
        out = []
        while True:
            if not self.buf and not self._fill():
                return out
            out.append(self.read())


# ---- the demo's HTML page -------------------------------------------------------------------

class PageParser(html.parser.HTMLParser):
    """Collects the text of every element with an id (pieces kept apart, so that adjacent
    inline elements can be told apart) and the rows of the headers table."""

    VOID = {"meta", "link", "br", "img", "input", "hr", "col", "area", "base", "wbr", "source"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.by_id = {}  # id -> [text pieces]
        self.open = []  # stack of (tag, id or None)
        self.rows = []  # [[cell text, ...]] of table#headers
        self._row = None
        self._cell = None
        self.tags = []  # every start tag name, in order

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag in self.VOID:
            return
        ident = dict(attrs).get("id")
        self.open.append((tag, ident))
        if ident is not None:
            self.by_id.setdefault(ident, [])
        in_headers = any(i == "headers" for _, i in self.open)
        if in_headers and tag == "tr":
            self._row = []
            self.rows.append(self._row)
        elif in_headers and tag == "td" and self._row is not None:
            self._cell = []
            self._row.append(self._cell)

    def handle_endtag(self, tag):
        if tag in self.VOID:
            return
        while self.open:
            t, _ = self.open.pop()
            if t == tag:
                break
        if tag == "td":
            self._cell = None

    def handle_data(self, data):
        for _, ident in self.open:
            if ident is not None:
                self.by_id[ident].append(data)
        if self._cell is not None:
            self._cell.append(data)

    def text(self, ident, sep=""):
        pieces = self.by_id.get(ident)
        if pieces is None:
            raise AssertionError("no element with id=%s in the page" % ident)
        return sep.join(p.strip() for p in pieces if p.strip()) if sep else "".join(pieces)

    def header_rows(self):
        return [tuple("".join(c) for c in row) for row in self.rows]


def parse_page(text):
    p = PageParser()
    p.feed(text)
    p.close()
    return p


def check_page_ids(test, page):
    """The elements the demo page promises: request-line, client, executor, views, sequence,
    headers."""
    for ident in ("request-line", "client", "executor", "views", "sequence", "headers"):
        test.assertIn(ident, page.by_id, "the page has no element id=%s" % ident)
