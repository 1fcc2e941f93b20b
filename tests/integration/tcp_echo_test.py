#!/usr/bin/env python3
"""examples/tcp_echo as a black box: startup line, echoing over IPv4 and IPv6, a 1 MiB echo,
thread counts and accept modes, clean shutdown on SIGTERM and SIGINT, and flag errors.

usage: tcp_echo_test.py --echo PATH/tcp_echo [unittest args]"""

import os
import re
import signal
import subprocess
import sys
import unittest

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import support  # noqa: E402
from support import EchoServer, connect, echo_round_trip, pattern  # noqa: E402


class TcpEchoTest(unittest.TestCase):
    def start(self, *args):
        server = EchoServer(*args)
        self.addCleanup(server.kill)
        return server

    def stop_and_expect_clean_exit(self, server, sig=signal.SIGTERM):
        code = server.signal_and_wait(sig)
        self.assertIsNotNone(code, "tcp_echo did not exit within %ss of %s"
                             % (support.EXIT_TIMEOUT, signal.Signals(sig).name))
        self.assertEqual(code, 0, "exit code after %s; stderr: %s"
                         % (signal.Signals(sig).name, server.stderr_text()))

    def connections_per_executor(self, server):
        """The per-executor connection counts tcp_echo prints on stderr when it exits."""
        m = re.search(r"connections per executor: ([\d ]+)", server.stderr_text())
        self.assertIsNotNone(m, "no connection report on stderr: %r" % server.stderr_text())
        return [int(x) for x in m.group(1).split()]

    def echo_some(self, host, port, connections=1, size=1000):
        for i in range(connections):
            with connect(host, port) as s:
                payload = pattern(size, seed=i)
                self.assertEqual(echo_round_trip(s, payload), payload)

    # ---- echoing ---------------------------------------------------------------------------

    def test_echoes_over_ipv4(self):
        server = self.start()
        self.echo_some("127.0.0.1", server.port, connections=3)
        self.stop_and_expect_clean_exit(server)

    def test_echoes_over_ipv6(self):
        if not support.ipv6_loopback_available():
            self.skipTest("no IPv6 loopback on this host")
        server = self.start()  # the default bind is dual-stack "::"
        self.assertEqual(server.host, "::")
        self.echo_some("::1", server.port, connections=3)
        self.echo_some("127.0.0.1", server.port)  # and IPv4 on the same listener
        self.stop_and_expect_clean_exit(server)

    def test_echoes_one_mebibyte(self):
        server = self.start()
        payload = pattern(1 << 20, seed=7)
        with connect("127.0.0.1", server.port) as s:
            back = echo_round_trip(s, payload)
        self.assertEqual(len(back), len(payload))
        self.assertTrue(back == payload, "the 1 MiB echo differs")
        self.stop_and_expect_clean_exit(server)

    def test_thread_counts_and_accept_modes(self):
        for args, executors in ((["--threads", "1"], 1),
                                (["--threads", "2"], 2),
                                (["--threads", "2", "--mode", "handoff"], 2),
                                (["--threads", "1", "--mode", "handoff"], 1)):
            with self.subTest(args=" ".join(args)):
                server = self.start("--bind", "127.0.0.1", *args)
                self.echo_some("127.0.0.1", server.port, connections=4, size=5000)
                self.stop_and_expect_clean_exit(server)
                counts = self.connections_per_executor(server)
                self.assertEqual(len(counts), executors)
                self.assertEqual(sum(counts), 4)
                if "handoff" in args and executors == 2:
                    self.assertEqual(counts, [2, 2], "hand-off is round robin")

    # ---- stopping --------------------------------------------------------------------------

    def test_sigterm_exits_zero(self):
        server = self.start()
        self.stop_and_expect_clean_exit(server, signal.SIGTERM)

    def test_sigint_closes_an_idle_connection_and_exits_zero(self):
        server = self.start("--threads", "2")
        with connect("127.0.0.1", server.port) as idle:
            # One round trip proves the session is running (now parked in a read).
            self.assertEqual(echo_round_trip(idle, b"ping"), b"ping")
            server.proc.send_signal(signal.SIGINT)
            try:
                data = idle.recv(1)
            except ConnectionResetError:
                data = None
            self.assertEqual(data, b"", "the server must close the idle connection (FIN)")
            try:
                code = server.proc.wait(support.EXIT_TIMEOUT)
            except subprocess.TimeoutExpired:
                code = None
        self.assertEqual(code, 0, "stderr: %s" % server.stderr_text())
        self.assertIn("signal %d" % signal.SIGINT, server.stderr_text())

    # ---- bad flags -------------------------------------------------------------------------

    def test_bad_flags_exit_nonzero_with_a_one_line_message(self):
        cases = (["--port", "70000"],
                 ["--port", "x"],
                 ["--port", "0", "--bogus", "1"],
                 ["--port", "0", "--engine", "nope"],
                 ["--port", "0", "--bind", "1.2.3"],
                 ["--port", "0", "--threads", "-1"],
                 ["--port", "0", "--mode", "sideways"],
                 ["--port"])
        for args in cases:
            with self.subTest(args=" ".join(args)):
                try:
                    r = subprocess.run([support.BINARIES["echo"], *args],
                                       stdin=subprocess.DEVNULL, capture_output=True,
                                       timeout=support.EXIT_TIMEOUT)
                except subprocess.TimeoutExpired:
                    self.fail("tcp_echo %s did not exit (it should refuse the flags)"
                              % " ".join(args))
                err = r.stderr.decode(errors="replace")
                self.assertNotEqual(r.returncode, 0, "stderr: %r" % err)
                self.assertGreater(r.returncode, 0, "killed by a signal: %d" % r.returncode)
                self.assertNotIn(b"listening on", r.stdout)
                lines = err.strip().splitlines()
                self.assertEqual(len(lines), 1, "want one line on stderr, got %r" % err)
                self.assertTrue(lines[0].startswith("tcp_echo: "), lines[0])


if __name__ == "__main__":
    support.main(["echo"])
