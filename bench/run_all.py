#!/usr/bin/env python3
"""`make bench`: every benchmark, then one table.

Runs each benchmark of bench/ (their own output is shown as it comes), then
prints one table: each figure beside its baseline measured in the same run
(the memory engine beside SQLite, moto's SWF server beside garcon server,
the previous decider's way of deciding beside the incremental one, the HTTP
layer alone beside a call through the engine) and the target it is held to.
docs/benchmarks.md keeps the latest table and how to read it.

  run_all.py --build BUILD_DIR [--quick]
"""
import argparse
import os
import re
import subprocess
import sys


def run(command):
    print(f"\n$ {' '.join(command)}", flush=True)
    done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          stdin=subprocess.DEVNULL)
    sys.stdout.write(done.stdout)
    sys.stdout.flush()
    if done.returncode != 0:
        sys.exit(f"run_all: {' '.join(command)} failed ({done.returncode})")
    return done.stdout


def number(pattern, text, group=1):
    match = re.search(pattern, text, re.MULTILINE)
    return float(match.group(group).replace(",", "")) if match else None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", default="build")
    parser.add_argument("--quick", action="store_true", help="smaller runs (a smoke test)")
    args = parser.parse_args()
    b = args.build
    quick = ["--quick"] if args.quick else []
    rows = []  # (figure, value, baseline, target, met)

    def row(figure, value, baseline="", target="", met=None):
        rows.append((figure, value, baseline, target, "" if met is None else ("met" if met else "not met")))

    durable = run([os.path.join(b, "bench", "durable_bench"), *quick])
    mem8 = number(r"^memory only\s+8\s+(\d+)", durable)
    one = number(r"^SQLite FULL, group commit\s+1\s+(\d+)", durable)
    eight = number(r"^SQLite FULL, group commit\s+8\s+(\d+)", durable)
    if eight is not None:
        row("durable calls/s, 8 clients (SQLite FULL)", f"{eight:,.0f}",
            f"memory {mem8:,.0f}; 1 client {one:,.0f}", ">= 19,000", eight >= 19000)
    opened = re.findall(r"^\s+(\d+)\s+([\d.]+)\s+([\d.]+)\s+[\d.]+\s+\(open runs", durable, re.MULTILINE)
    if opened:
        closed, seconds, rss = opened[-1]
        row(f"open a file: {int(closed):,} closed + 1,000 open runs", f"{float(seconds):.2f} s, {float(rss):.0f} MiB RSS",
            f"{int(opened[0][0]):,} closed: {float(opened[0][1]):.2f} s", "<= 0.5 s, <= 64 MiB",
            float(seconds) <= 0.5 and float(rss) <= 64)

    flows = run([sys.executable, os.path.join(os.path.dirname(__file__), "flows_bench.py"),
                 "--build", b, *(["--repeat", "1", "--count", "200", "--big-count", "5000"]
                                 if args.quick else [])])
    em = number(r"run \(memory\)\s+([\d.]+) s", flows)
    es = number(r"run --db \(SQLite FULL\)\s+([\d.]+) s", flows)
    if em and es:
        row("fan-out embedded, SQLite FULL", f"{es:.3f} s", f"memory {em:.3f} s ({es / em:.1f}x)", "<= 3x memory", es / em <= 3)
    sm = number(r"server --memory\s+([\d.]+) s", flows)
    sd = number(r"server --db \(FULL\)\s+([\d.]+) s", flows)
    if sm and sd:
        row("fan-out N=100, garcon server --db", f"{sd:.3f} s", f"--memory {sm:.3f} s ({sd / sm:.1f}x)", "<= 2x memory", sd / sm <= 2)
    moto = number(r"moto\.server \(baseline\)\s+([\d.]+) s", flows)
    gm = number(r"garcon server --memory\s+([\d.]+) s", flows)
    if moto and gm:
        row("fan-out N=100, garcon server --memory", f"{gm:.3f} s", f"moto {moto:.3f} s ({moto / gm:.1f}x slower)")

    big_n = number(r"== fan-out flow, N=([\d,]+) \(slices", flows)
    big_m = re.search(r"big run \(memory\)\s+([\d.]+) s\s+peak RSS\s+(\d+) MiB", flows)
    big_s = re.search(r"big run --db \(FULL\)\s+([\d.]+) s\s+peak RSS\s+(\d+) MiB", flows)
    big_v = re.search(r"big server --db \(FULL\)\s+([\d.]+) s\s+peak RSS server (\d+) MiB", flows)
    if big_n and big_m and big_s and big_v:
        memory = f"memory {float(big_m.group(1)):.1f} s, {big_m.group(2)} MiB"
        row(f"fan-out of {big_n:,.0f}, embedded --db", f"{float(big_s.group(1)):.1f} s, {big_s.group(2)} MiB",
            memory, "completes", True)
        row(f"fan-out of {big_n:,.0f}, garcon server --db", f"{float(big_v.group(1)):.1f} s, server {big_v.group(2)} MiB",
            memory, "completes", True)

    # engine_bench and server_bench run on the C library's malloc; their
    # _mimalloc twins (when the build found mimalloc) on the allocator the
    # garcon command links. Each figure is shown beside the other.
    def twin(path):
        mimalloc = path + "_mimalloc"
        return mimalloc if os.path.exists(mimalloc) else None

    # (N, us/call with the driver's request building, time inside Engine::Call)
    def memory_rows(text):
        return re.findall(r"^memory-only\s+(\d+)\s+\d+\s+[\d.]+\s+\d+\s+\d+\s+([\d.]+)\s+[\d.]+\s+([\d.]+)",
                          text, re.MULTILINE)

    engine_path = os.path.join(b, "bench", "engine_bench")
    engine = run([engine_path, *quick])
    mem_rows = memory_rows(engine)
    if mem_rows:
        lo, hi = mem_rows[0], mem_rows[-1]
        row("engine us/call inside Engine::Call, memory-only mix (malloc)", f"{float(lo[2]):.1f} us",
            f"with the driver: {float(lo[1]):.1f} us; at {int(hi[0]):,} stored: {float(hi[2]):.1f} us",
            "<= 5 us", float(lo[2]) <= 5)
    if twin(engine_path):
        mi_rows = memory_rows(run([twin(engine_path), *quick, "--memory-only"]))
        if mi_rows and mem_rows:
            row("engine us/call inside Engine::Call, memory-only mix (mimalloc)", f"{float(mi_rows[0][2]):.1f} us",
                f"with the driver: {float(mi_rows[0][1]):.1f} us; malloc {float(mem_rows[0][2]):.1f} us",
                "<= 5 us", float(mi_rows[0][2]) <= 5)
    # The comparison with the two files taking turns (engine_bench prints it
    # after the one row after the other, which a drifting disk skews).
    sqlite_ratio = number(r"^\s+sqlite FULL\s+[\d.]+ us ->\s+[\d.]+ us\s+ratio ([\d.]+)\s+\(interleaved", engine)
    if sqlite_ratio is not None:
        row("per-call cost, many stored runs / few (SQLite FULL)", f"{sqlite_ratio:.2f}", "", "<= 1.3", sqlite_ratio <= 1.3)

    decider = run([os.path.join(b, "bench", "decider_replay_bench")])
    for label in ("1,000 activities in series", "3,300 activities in series",
                  "fan-out 2,000, MaxConcurrent 100"):
        match = re.search(re.escape(label) + r"\s+(\d+)\s+\d+\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)", decider)
        if match:
            events, full, recompute, incremental = match.groups()
            row(f"decider us/decision, {label} ({int(events):,} events)", f"{float(incremental):.1f} us",
                f"recompute {float(recompute):,.0f} us, full replay {float(full):,.0f} us", "<= 50 us",
                float(incremental) <= 50)

    server_path = os.path.join(b, "bench", "server_bench", "server_bench")
    server_args = ["--clients", "8", "--seconds", "2" if args.quick else "4"]
    server = run([server_path, *server_args])

    def server_figures(text):
        return (number(r"GET /health in .*: (\d+) calls/s", text),
                number(r"DescribeDomain in .*: (\d+) calls/s", text),
                number(r"^mix: .*: (\d+) calls/s", text),
                number(r"schedule-to-start.*p99 ([\d.]+) ms", text),
                number(r"DescribeDomain round trip:.*p99 ([\d.]+) ms", text))

    # The garcon command runs on mimalloc when the build linked it: its
    # figures are the server's, the C library's malloc beside them.
    libc = server_figures(server)
    shipped, label = libc, "malloc"
    shipped_path = server_path
    if twin(server_path):
        shipped_path = twin(server_path)
        shipped, label = server_figures(run([shipped_path, *server_args])), "mimalloc"
    # The server's default I/O threads (half the cores) beside two, the
    # previous default (docs/benchmarks.md, "Sixth round").
    threads = number(r"server I/O threads: (\d+)", server)
    if threads is not None:
        label += f", {threads:.0f} I/O thread" + ("" if threads == 1 else "s")
    two = server_figures(run([shipped_path, *server_args, "--threads", "2"])) if threads != 2 else None
    health, describe, mix, p99, rt99 = shipped
    if describe:
        beside = f"GET /health {health:,.0f}/s"
        if shipped is not libc and libc[1]:
            beside += f"; malloc {libc[1]:,.0f}/s"
        if two and two[1]:
            beside += f"; 2 I/O threads {two[1]:,.0f}/s"
        row(f"garcon server, DescribeDomain, 8 clients ({label})", f"{describe:,.0f}/s", beside,
            ">= 50,000/s", describe >= 50000)
    if mix:
        beside = [f"malloc {libc[2]:,.0f}/s"] if shipped is not libc and libc[2] else []
        if two and two[2]:
            beside.append(f"2 I/O threads {two[2]:,.0f}/s")
        row(f"garcon server, start/poll/respond mix, 8 clients ({label})", f"{mix:,.0f}/s",
            "; ".join(beside), ">= 20,000/s", mix >= 20000)
    if p99 is not None:
        row(f"schedule-to-start p99, held poll ({label})", f"{p99:.3f} ms", f"a round trip: p99 {rt99:.3f} ms",
            "<= 1 ms", p99 <= 1)

    print("\n== make bench: every figure beside its baseline from this run")
    header = ("figure", "value", "baseline (same run)", "target", "")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(5)]
    for r in [header, *rows]:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip())


if __name__ == "__main__":
    main()
