#!/usr/bin/env python3
"""Summarises a Google-benchmark JSON report of opensocket_micro: the median per-operation time
of each benchmark, its Asio twin (same name with /asio instead of /opensocket) side by side, the
ratio from the same run, and the target from the performance issue where there is one."""

import json
import sys

# Targets (ns per operation) and the Asio figures measured earlier, keyed by the pair name.
TARGETS = {
    "BM_child_await": (5.0, 24.0),
    "BM_post_resume": (20.0, 161.0),
    "BM_spawn/256": (50.0, 434.0),
    "BM_cross_executor_hop/os_placed/real_time": (5000.0, 26700.0),
    "BM_cross_executor_hop/same_cpu/real_time": (5000.0, 26700.0),
    "BM_cross_executor_hop/two_cpus/real_time": (5000.0, 26700.0),
}
IMPLS = ("opensocket", "asio")
# Table order (repetitions run interleaved at random, so the report's own order is arbitrary).
ORDER = ["BM_bare_resume", "BM_child_await", "BM_post_resume", "BM_spawn", "BM_spawn_scope_join",
         "BM_when_all_variadic", "BM_when_all", "BM_timer_insert_remove", "BM_timer_rearm_random",
         "BM_timer_rearm_fixed_timeout", "BM_sleep_expired", "BM_sleep_cancel",
         "BM_cross_executor_hop", "BM_http_parse"]


def sort_key(name):
    parts = name.split("/")
    rank = ORDER.index(parts[0]) if parts[0] in ORDER else len(ORDER)
    rest = [(0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts[1:]]
    return (rank, parts[0], rest)


def fmt_ns(ns):
    if ns is None:
        return "-"
    if ns >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.2f} us"
    return f"{ns:.1f} ns"


def split_name(run_name):
    """'BM_spawn/opensocket/256' -> ('BM_spawn/256', 'opensocket')."""
    parts = run_name.split("/")
    for impl in IMPLS:
        if impl in parts:
            parts.remove(impl)
            return "/".join(parts), impl
    return run_name, "opensocket"


def summarise(report):
    """[(pair name, opensocket ns, asio ns, target ns, asio-then ns)] in table order, and the
    error lines, from a parsed Google-benchmark JSON report."""
    rows, errors = {}, []  # pair name -> {impl: ns}
    for b in report["benchmarks"]:
        if b.get("run_type") == "aggregate" and b.get("aggregate_name") != "median":
            continue
        if "error_occurred" in b and b["error_occurred"]:
            errors.append(f"ERROR in {b['name']}: {b.get('error_message', '')}")
            continue
        key, impl = split_name(b["run_name"])
        rows.setdefault(key, {})[impl] = b["per_op"] * 1e9  # the per_op counter is in seconds
    out = []
    for key in sorted(rows, key=sort_key):
        target, asio_then = TARGETS.get(key, (None, None))
        out.append((key, rows[key].get("opensocket"), rows[key].get("asio"), target, asio_then))
    return out, errors


def main(path):
    with open(path) as f:
        report = json.load(f)
    rows, errors = summarise(report)
    for e in errors:
        print(e)
    width = max((len(r[0]) for r in rows), default=10)
    head = (f"{'benchmark (median per op)':<{width}}  {'opensocket':>11}  {'asio':>11}  "
            f"{'asio/os':>8}  {'target':>9}  {'asio then':>9}")
    print(head)
    print("-" * len(head))
    for key, os_ns, asio_ns, target, asio_then in rows:
        ratio = f"{asio_ns / os_ns:.2f}x" if os_ns and asio_ns else "-"
        mark = ""
        if target is not None and os_ns is not None:
            mark = " ok" if os_ns <= target else " MISS"
        print(f"{key:<{width}}  {fmt_ns(os_ns):>11}  {fmt_ns(asio_ns):>11}  {ratio:>8}  "
              f"{fmt_ns(target):>9}  {fmt_ns(asio_then):>9}{mark}")
    print("\nasio/os > 1 means OpenSocket is faster; both columns come from the same run.")
    print("Hops: os_placed is bimodal (same CPU ~1 us, two CPUs ~30 us on a VM); compare the")
    print("pinned rows.")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "micro.json")
