#!/usr/bin/env python3
"""Server memory per idle keep-alive HTTP connection (bytes/connection).

    bench/http_idle_memory.py [--server build/release/examples/http_echo]
                              [--connections 10000] [--threads 1] [--json]
    bench/http_idle_memory.py --pid PID --port PORT [--connections N]   # a running server

Starts the server (OpenSocket's http_echo by default, on 127.0.0.1 and a kernel-chosen port, one
executor), makes one warm-up request, and reads the server's VmRSS and RssAnon from
/proc/PID/status. Then it opens N connections, sends `GET /plaintext` on each and reads the whole
response (so the server has set each connection up as for a real client), leaves them all idle,
and reads the server's memory again. The difference over N is what one idle keep-alive
connection costs the server in user space (kernel socket buffers are not in RSS). The client is
this separate process, so none of its memory is counted. Finally it checks that every
connection is still open (an idle timeout or a crash would make the number meaningless), closes
them and stops the server with SIGTERM.

Prints `bytes/connection: X` (from VmRSS) and the details; with --json, one JSON object instead.
Python 3 standard library only; Linux only (/proc).
"""

import argparse
import json
import os
import re
import resource
import selectors
import signal
import socket
import subprocess
import sys
import time

REQUEST = b"GET /plaintext HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
IO_TIMEOUT = 10.0


def default_server():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return os.path.join(root, "build", "release", "examples", "http_echo")


def raise_fd_limit(wanted):
    """Raises this process's soft RLIMIT_NOFILE towards `wanted` (children inherit it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft == resource.RLIM_INFINITY or soft >= target:
        return soft
    resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return target


def memory_kib(pid):
    """VmRSS and RssAnon of `pid`, in KiB."""
    values = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "RssAnon"):
                values[key] = int(rest.split()[0])
    return values["VmRSS"], values.get("RssAnon", values["VmRSS"])


def settled_memory_kib(pid, tries=20, pause=0.1):
    """Memory once two readings in a row agree (the server has finished its work)."""
    last = memory_kib(pid)
    for _ in range(tries):
        time.sleep(pause)
        now = memory_kib(pid)
        if now == last:
            break
        last = now
    return last


def read_response(sock):
    """Reads one response with a Content-Length body; returns the status code."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("server closed before the response head")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    match = re.search(rb"(?im)^content-length:\s*(\d+)\s*$", head)
    length = int(match.group(1)) if match else 0
    while len(body) < length:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("server closed in the response body")
        body += chunk
    if len(body) != length:
        raise ConnectionError("more bytes than one response")
    return int(head.split(b" ", 2)[1])


def open_idle_connection(port):
    sock = socket.create_connection(("127.0.0.1", port), timeout=IO_TIMEOUT)
    sock.sendall(REQUEST)
    status = read_response(sock)
    if status != 200:
        raise RuntimeError(f"GET /plaintext answered {status}")
    return sock


def all_still_open(socks):
    """True when no connection has become readable (EOF or data) after the requests."""
    with selectors.DefaultSelector() as sel:
        for s in socks:
            s.setblocking(False)
            sel.register(s, selectors.EVENT_READ)
        return len(sel.select(timeout=0.2)) == 0


def measure(port, pid, connections):
    """Opens `connections` idle keep-alive connections to 127.0.0.1:`port`; returns a dict."""
    warm = open_idle_connection(port)  # the first request sets up per-executor state
    base_rss, base_anon = settled_memory_kib(pid)
    socks = []
    start = time.monotonic()
    try:
        for _ in range(connections):
            socks.append(open_idle_connection(port))
        setup_seconds = time.monotonic() - start
        rss, anon = settled_memory_kib(pid)
        still_open = all_still_open(socks)
    finally:
        for s in socks:
            s.close()
        warm.close()
    return {
        "connections": connections,
        "rss_before_kib": base_rss,
        "rss_after_kib": rss,
        "rss_anon_before_kib": base_anon,
        "rss_anon_after_kib": anon,
        "bytes_per_connection": (rss - base_rss) * 1024 / connections,
        "anon_bytes_per_connection": (anon - base_anon) * 1024 / connections,
        "setup_seconds": round(setup_seconds, 3),
        "all_still_open": still_open,
    }


def start_server(path, threads):
    proc = subprocess.Popen(
        [path, "--port", "0", "--bind", "127.0.0.1", "--threads", str(threads)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = proc.stdout.readline()
    match = re.search(r"listening on .*:(\d+)\s*$", line)
    if not match:
        proc.kill()
        proc.wait()
        raise RuntimeError(f"{path} did not report its port (got {line!r})")
    return proc, int(match.group(1))


def stop_server(proc):
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", default=default_server(), help="http_echo binary to start")
    parser.add_argument("--threads", type=int, default=1, help="executors of the started server")
    parser.add_argument("--connections", type=int, default=10_000)
    parser.add_argument("--pid", type=int, help="measure a running server instead (with --port)")
    parser.add_argument("--port", type=int)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()

    # Both sides need a descriptor per connection: raise the limit before starting the server,
    # which inherits it.
    limit = raise_fd_limit(args.connections + 256)
    if limit != resource.RLIM_INFINITY and limit < args.connections + 64:
        sys.exit(f"RLIMIT_NOFILE is {limit}: too low for {args.connections} connections")

    proc = None
    if args.pid is not None:
        if args.port is None:
            sys.exit("--pid needs --port")
        pid, port = args.pid, args.port
    else:
        if not os.access(args.server, os.X_OK):
            sys.exit(f"no server binary at {args.server} (build it: cmake --preset release && "
                     "cmake --build build/release -j2 --target http_echo)")
        proc, port = start_server(args.server, args.threads)
        pid = proc.pid
    try:
        result = measure(port, pid, args.connections)
    finally:
        if proc is not None:
            stop_server(proc)
    result["server"] = args.server if proc is not None else f"pid {pid}"
    if args.json:
        print(json.dumps(result))
    else:
        print(f"server: {result['server']}")
        print(f"connections: {result['connections']} (set up in {result['setup_seconds']} s, "
              f"all still open: {result['all_still_open']})")
        print(f"VmRSS: {result['rss_before_kib']} KiB -> {result['rss_after_kib']} KiB; "
              f"RssAnon: {result['rss_anon_before_kib']} KiB -> {result['rss_anon_after_kib']} KiB")
        print(f"anon bytes/connection: {result['anon_bytes_per_connection']:.0f}")
        print(f"bytes/connection: {result['bytes_per_connection']:.0f}")
    return 0 if result["all_still_open"] else 1


if __name__ == "__main__":
    sys.exit(main())
