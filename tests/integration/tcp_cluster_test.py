#!/usr/bin/env python3
"""examples/tcp_cluster as a black box: a short verified run against tcp_echo passes with a
report, and a run against an echo server that corrupts one byte fails with exit code 1.

usage: tcp_cluster_test.py --echo PATH/tcp_echo --cluster PATH/tcp_cluster [unittest args]"""

import os
import re
import selectors
import signal
import socket
import subprocess
import sys
import threading
import unittest

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import support  # noqa: E402
from support import EchoServer  # noqa: E402

# tcp_cluster: the run, then at most its 2 s grace, 2 s watchdog margin and 2 s drain.
CLUSTER_TIMEOUT = 60.0


class CorruptingEchoServer:
    """Echoes every connection, except that byte CORRUPT_AT of each connection's stream comes
    back with its bits flipped. One thread, a selector, and a socket pair to stop it."""

    CORRUPT_AT = 10

    def __init__(self):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.setblocking(False)
        self.port = self.listener.getsockname()[1]
        self.corrupted = 0
        self._wake_r, self._wake_w = socket.socketpair()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        sel = selectors.DefaultSelector()
        sel.register(self.listener, selectors.EVENT_READ, "accept")
        sel.register(self._wake_r, selectors.EVENT_READ, "stop")
        offsets = {}
        try:
            while True:
                for key, _ in sel.select():
                    if key.data == "stop":
                        return
                    if key.data == "accept":
                        try:
                            conn, _ = self.listener.accept()
                        except BlockingIOError:
                            continue
                        conn.settimeout(support.IO_TIMEOUT)
                        offsets[conn] = 0
                        sel.register(conn, selectors.EVENT_READ, "conn")
                        continue
                    conn = key.fileobj
                    try:
                        data = bytearray(conn.recv(65536))
                    except OSError:
                        data = b""
                    if not data:
                        sel.unregister(conn)
                        del offsets[conn]
                        conn.close()
                        continue
                    at = self.CORRUPT_AT - offsets[conn]
                    if 0 <= at < len(data):
                        data[at] ^= 0xFF
                        self.corrupted += 1
                    offsets[conn] += len(data)
                    try:
                        conn.sendall(data)
                    except OSError:
                        pass
        finally:
            for conn in offsets:
                conn.close()
            sel.close()

    def close(self):
        self._wake_w.send(b"x")
        self._thread.join(support.EXIT_TIMEOUT)
        self.listener.close()
        self._wake_r.close()
        self._wake_w.close()


def own_lines(stderr_text):
    """The lines tcp_cluster wrote itself (not the library's "opensocket [level]" log lines)."""
    return [line for line in stderr_text.strip().splitlines()
            if not line.startswith("opensocket [")]


def run_cluster(port, *args):
    try:
        return subprocess.run([support.BINARIES["cluster"], "--host", "127.0.0.1", "--port",
                               str(port), *support.engine_args(), *args], stdin=subprocess.DEVNULL,
                              capture_output=True, timeout=CLUSTER_TIMEOUT)
    except subprocess.TimeoutExpired as e:
        raise AssertionError("tcp_cluster %s did not finish within %ss"
                             % (" ".join(args), CLUSTER_TIMEOUT)) from e


class TcpClusterTest(unittest.TestCase):
    def test_short_run_against_tcp_echo_passes_with_a_report(self):
        server = EchoServer("--bind", "127.0.0.1", "--threads", "2")
        self.addCleanup(server.kill)
        r = run_cluster(server.port, "--seconds", "1", "--connections", "8", "--clients", "2",
                        "--size", "100")
        out = r.stdout.decode(errors="replace")
        err = r.stderr.decode(errors="replace")
        self.assertEqual(r.returncode, 0, "stdout:\n%s\nstderr:\n%s" % (out, err))
        self.assertIn("msg/s", out)
        self.assertIn("p99", out)
        m = re.search(r"^messages\s+(\d+) \((\d+) msg/s\)", out, re.M)
        self.assertIsNotNone(m, out)
        self.assertGreater(int(m.group(1)), 0)
        self.assertRegex(out, r"(?m)^errors\s+0$")
        self.assertRegex(out, r"(?m)^mismatches\s+0$")
        code = server.signal_and_wait(signal.SIGTERM)
        self.assertEqual(code, 0, server.stderr_text())

    def test_corrupted_echo_fails_with_exit_code_1(self):
        server = CorruptingEchoServer()
        self.addCleanup(server.close)
        r = run_cluster(server.port, "--seconds", "1", "--connections", "2", "--clients", "1",
                        "--size", "64")
        out = r.stdout.decode(errors="replace")
        err = r.stderr.decode(errors="replace")
        self.assertEqual(r.returncode, 1, "stdout:\n%s\nstderr:\n%s" % (out, err))
        self.assertGreater(server.corrupted, 0)
        self.assertRegex(out, r"(?m)^mismatches\s+[1-9]")
        # One line of its own on stderr (the library's log lines aside) gives the reason, naming
        # the corrupted byte: offset 10 of the first 64-byte message.
        lines = own_lines(err)
        self.assertEqual(len(lines), 1, err)
        self.assertTrue(lines[0].startswith("tcp_cluster: FAIL: "), lines[0])
        self.assertIn("mismatch", lines[0])
        self.assertIn("byte %d of 64" % CorruptingEchoServer.CORRUPT_AT, lines[0])

    def test_unreachable_server_fails_with_exit_code_1(self):
        # A port that was just free: nothing listens there, so every connect is refused.
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        r = run_cluster(port, "--seconds", "1", "--connections", "2", "--clients", "1")
        self.assertEqual(r.returncode, 1, r.stderr.decode(errors="replace"))
        self.assertIn(b"refused", r.stderr)

    def test_bad_flags_exit_2(self):
        for args in (["--seconds", "0"], ["--size", "0"], ["--host", "localhost"],
                     ["--clients", "x"]):
            with self.subTest(args=" ".join(args)):
                r = run_cluster(9, *args)
                err = r.stderr.decode(errors="replace")
                self.assertEqual(r.returncode, 2, err)
                self.assertEqual(len(err.strip().splitlines()), 1, err)
                self.assertTrue(err.startswith("tcp_cluster: "), err)


if __name__ == "__main__":
    support.main(["echo", "cluster"])
