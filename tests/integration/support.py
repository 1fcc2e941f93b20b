"""Shared helpers for the integration tests: run an example as a subprocess, wait for its
"listening on ADDR:PORT" line by reading the pipe (never by sleeping), talk to it over TCP, and
stop it by PID. Python 3 standard library only."""

import argparse
import os
import re
import selectors
import signal
import socket
import subprocess
import sys
import threading
import time
import unittest

# Upper bounds; a healthy run finishes far sooner.
START_TIMEOUT = 20.0  # until "listening on" (slow under sanitizers, on a busy machine)
EXIT_TIMEOUT = 10.0  # from a termination signal to process exit
IO_TIMEOUT = 10.0  # any single socket operation

BINARIES = {}

# ctest's SKIP_RETURN_CODE for the integration tests (tests/CMakeLists.txt): every selected test
# was skipped, or the engine asked for is refused by this kernel.
SKIP_CODE = 77

# --engine NAME: passed to every example the tests start (None: the examples' default, "auto").
ENGINE = None

ALL_BINARIES = ("echo", "cluster")


def engine_args():
    """The flags that select the engine under test, for an example's command line."""
    return ["--engine", ENGINE] if ENGINE else []


def parse_binaries(names):
    """Takes --echo PATH / --cluster PATH / --engine NAME off sys.argv (the rest goes to
    unittest); the binaries in `names` are required."""
    global ENGINE
    parser = argparse.ArgumentParser(add_help=False)
    for name in ALL_BINARIES:
        parser.add_argument("--" + name)
    parser.add_argument("--engine")
    known, rest = parser.parse_known_args()
    for name in names:
        path = getattr(known, name)
        if path is None or not os.access(path, os.X_OK):
            sys.exit("--%s must name the built example, got %r" % (name, path))
        BINARIES[name] = path
    ENGINE = known.engine
    return [sys.argv[0]] + rest


def ipv6_loopback_available():
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


class Process:
    """A child process with its stdout read line by line on demand and its stderr collected by
    a thread (so that neither pipe can fill up and block the child)."""

    def __init__(self, argv):
        self.argv = argv
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        self._out = b""
        self._err = []
        self._err_thread = threading.Thread(target=self._drain_stderr, daemon=True)
        self._err_thread.start()

    def _drain_stderr(self):
        for chunk in iter(lambda: self.proc.stderr.read1(4096), b""):
            self._err.append(chunk)

    def read_line(self, timeout):
        """The next stdout line (without the newline), or None on EOF or timeout."""
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            while b"\n" not in self._out:
                left = deadline - time.monotonic()
                if left <= 0 or not sel.select(left):
                    return None
                chunk = os.read(fd, 4096)
                if not chunk:
                    return None
                self._out += chunk
        line, self._out = self._out.split(b"\n", 1)
        return line.decode(errors="replace")

    def stderr_text(self):
        """Everything the process wrote to stderr; complete once it has exited."""
        if self.proc.poll() is not None:
            self._err_thread.join(EXIT_TIMEOUT)
        return b"".join(self._err).decode(errors="replace")

    def signal_and_wait(self, sig, timeout=EXIT_TIMEOUT):
        """Sends `sig` (by PID) and returns the exit code, or None if it did not exit in time."""
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
        try:
            self.proc.wait(EXIT_TIMEOUT)
        except subprocess.TimeoutExpired:
            pass
        self._err_thread.join(EXIT_TIMEOUT)
        self.proc.stdout.close()
        self.proc.stderr.close()


LISTENING = re.compile(r"^listening on (\[.*\]|[^\[\]]*):(\d+)$")

# What the library logs when an engine asked for by name cannot be created here (seccomp,
# kernel.io_uring_disabled, an old kernel, a build without liburing).
ENGINE_UNAVAILABLE = re.compile(r"(\w+) engine unavailable: (.*)")


def engine_refusal(binary):
    """Starts `binary --port 0 --bind 127.0.0.1` with the engine under test and stops it again.
    Returns None if it listened on that engine, else the library's reason why the engine is
    refused here. Exits with a message if the runtime reports another engine (the flag did not
    reach it); any other failure to start is left for the tests themselves to report."""
    if not ENGINE:
        return None
    server = Process([binary, "--port", "0", "--bind", "127.0.0.1", *engine_args()])
    try:
        line = server.read_line(START_TIMEOUT)
        if line is not None and LISTENING.match(line):
            server.signal_and_wait(signal.SIGTERM)
            server.kill()
            if ENGINE != "auto" and "on the %s engine" % ENGINE not in server.stderr_text():
                sys.exit("%s --engine %s: the runtime reports another engine: %r"
                         % (binary, ENGINE, server.stderr_text()))
            return None
        try:
            server.proc.wait(EXIT_TIMEOUT)
        except subprocess.TimeoutExpired:
            return None
        m = ENGINE_UNAVAILABLE.search(server.stderr_text())
        return "%s engine unavailable: %s" % (m.group(1), m.group(2)) if m else None
    finally:
        server.kill()


def exit_if_engine_refused(binary):
    """Exits with SKIP_CODE (ctest: skipped) when the engine under test is refused here."""
    reason = engine_refusal(binary)
    if reason is not None:
        print("skipped: %s" % reason)
        sys.exit(SKIP_CODE)


def run_tests(argv):
    """unittest.main, except that a run in which every test was skipped exits with SKIP_CODE."""
    program = unittest.main(argv=argv, verbosity=2, exit=False)
    result = program.result
    if not result.wasSuccessful():
        sys.exit(1)
    if result.testsRun > 0 and len(result.skipped) == result.testsRun:
        print("all %d test(s) skipped: %s" % (result.testsRun,
                                            "; ".join(sorted({r for _, r in result.skipped}))))
        sys.exit(SKIP_CODE)
    sys.exit(0)


class EchoServer(Process):
    """tcp_echo on a kernel-chosen port; `port` is known once the constructor returns."""

    def __init__(self, *args):
        super().__init__([BINARIES["echo"], "--port", "0", *engine_args(), *args])
        line = self.read_line(START_TIMEOUT)
        if line is None:
            err = self.stderr_text()
            self.kill()
            raise AssertionError("tcp_echo did not report 'listening on' (stderr: %r)" % err)
        m = LISTENING.match(line)
        if not m:
            self.kill()
            raise AssertionError("unexpected first line from tcp_echo: %r" % line)
        self.host = m.group(1).strip("[]")
        self.port = int(m.group(2))


def connect(host, port):
    s = socket.create_connection((host, port), timeout=IO_TIMEOUT)
    s.settimeout(IO_TIMEOUT)
    return s


def recv_exactly(sock, n):
    chunks = []
    got = 0
    while got < n:
        chunk = sock.recv(min(n - got, 1 << 16))
        if not chunk:
            break
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def echo_round_trip(sock, payload):
    """Sends `payload` from a helper thread while reading the echo here (a payload larger than
    the socket buffers would otherwise deadlock); returns the bytes that came back."""
    errors = []

    def send():
        try:
            sock.sendall(payload)
        except OSError as e:  # reported by the caller
            errors.append(e)

    sender = threading.Thread(target=send)
    sender.start()
    try:
        back = recv_exactly(sock, len(payload))
    finally:
        sender.join(IO_TIMEOUT)
    if errors:
        raise errors[0]
    return back


def pattern(n, seed=0):
    """n bytes of a position-dependent pattern (shows loss, duplication and reordering)."""
    return bytes(((i * 131 + (i >> 8) * 7 + seed) & 0xFF) for i in range(n))


def main(names):
    argv = parse_binaries(names)
    exit_if_engine_refused(BINARIES["echo"])
    run_tests(argv)

