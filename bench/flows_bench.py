#!/usr/bin/env python3
"""Whole flows, durable beside in memory, measured in the same run.

1. The fan-out flow (bench/fanout_flow: activity_1, a generator of N
   activity_2 instances with Retry(3), activity_3) run embedded:
   `run` in memory and `run --db FILE` (SQLite, synchronous=FULL).
2. The same flow with N=100 through `garcon server --memory` and
   `garcon server --db FILE`, with a decider process and a worker process
   (`fanout_flow decider|worker --endpoint URL`) and
   `fanout_flow start --wait`.
3. The same, on moto's SWF server (`python3 -m moto.server`) with the same
   C++ client and processes: an SWF implementation that is not ours, as the
   baseline of `garcon server` (skipped when moto is not installed). Without
   the failed first attempts: moto refuses an activity id used before, even
   by a closed activity (SWF allows it), so a retry fails there; garcon
   server is timed the same way beside it.
4. A fan-out of --big-count instances (100,000 by default; docs/design.md,
   "Fan-outs": slices of 2,000, each a child run), once each: `run` in
   memory, `run --db`, and `garcon server --db` with decider and worker
   processes; with time and peak memory (resident set) of each process.
   Its baseline: the memory engine. Before slices, a fan-out past 1,000
   instances failed (OPEN_ACTIVITIES_LIMIT_EXCEEDED), and past ~8,000 it
   would pass SWF's 25,000 events of history.

Each figure is the median of --repeat runs (default 3) of wall time.

  flows_bench.py --build BUILD_DIR [--count 1000] [--server-count 100] [--repeat 3]
                 [--big-count 100000]
"""
import argparse
import contextlib
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time


def measured(command, env=None):
    """Runs `command` to its end, which must say COMPLETED: (seconds, its
    peak RSS in MiB, stdout)."""
    started = time.monotonic()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(command, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.monotonic() - started
        out.seek(0)
        err.seek(0)
        text = out.read().decode(errors="replace")
        if os.waitstatus_to_exitcode(status) != 0 or '"closeStatus":"COMPLETED"' not in text:
            sys.exit(f"flows_bench: {' '.join(command)} failed:\n{text[-2000:]}\n"
                     f"{err.read().decode(errors='replace')[-2000:]}")
    return seconds, usage.ru_maxrss / 1024, text


def timed(command, env=None):
    return measured(command, env)[0]


def peak_rss_mib(pid):
    """The peak resident set of a running process (VmHWM), in MiB."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def big_fanout(flow, garcon, count, tmp):
    """One run of each: (seconds, peak RSS MiB) by label."""
    results = {}
    big_input = f'{{"count": {count}, "failures": false}}'
    for label in ("memory", "sqlite"):
        command = [flow, "run", "--input", big_input, "--json"]
        if label == "sqlite":
            command += ["--db", os.path.join(tmp, "big.db")]
        seconds, rss, text = measured(command)
        if f'"items_seen":{count}' not in text:
            sys.exit(f"flows_bench: a run of {count} instances did not see every result")
        results[label] = (seconds, rss)
    server = Server(garcon, ["--db", os.path.join(tmp, "big-server.db")])
    try:
        with flow_processes(flow, server.endpoint) as helpers:
            seconds, _, text = measured([flow, "start", "--endpoint", server.endpoint, "--wait",
                                         "--json", "--input", big_input], env=REMOTE_ENV)
            if f'"items_seen":{count}' not in text:
                sys.exit(f"flows_bench: a run of {count} instances did not see every result")
            rss = {"server": peak_rss_mib(server.proc.pid)}
            for role, helper in helpers.items():
                rss[role] = peak_rss_mib(helper.pid)
        results["server"] = (seconds, rss)
    finally:
        server.stop()
    return results


def embedded(flow, count, repeat, tmp):
    results = {}
    for label in ("memory", "sqlite"):
        times = []
        for i in range(repeat):
            command = [flow, "run", "--input", f'{{"count": {count}}}', "--json"]
            if label == "sqlite":
                db = os.path.join(tmp, f"embedded-{i}.db")
                command += ["--db", db]
            times.append(timed(command))
        results[label] = statistics.median(times)
    return results


class Server:
    def __init__(self, garcon, args):
        self.proc = subprocess.Popen([garcon, "-q", "server", "--port", "0", *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     stdin=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline()
        match = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
        if not match:
            self.proc.kill()
            sys.exit(f"flows_bench: garcon server did not start: {line!r}")
        self.endpoint = f"http://127.0.0.1:{match.group(1)}"

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)


def flow_input(count, failures=True):
    return f'{{"count": {count}}}' if failures else f'{{"count": {count}, "failures": false}}'


REMOTE_ENV = dict(os.environ, AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench")


@contextlib.contextmanager
def flow_processes(flow, endpoint):
    """A decider process and a worker process of `flow` against `endpoint`
    while the block runs: {role: Popen}."""
    helpers = {role: subprocess.Popen([flow, role, "--endpoint", endpoint],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                      stdin=subprocess.DEVNULL, env=REMOTE_ENV)
               for role in ("decider", "worker")}
    try:
        yield helpers
    finally:
        for helper in helpers.values():
            helper.terminate()
        for helper in helpers.values():
            helper.wait(timeout=30)


def remote_run(flow, endpoint, count, failures):
    """One run against `endpoint` with decider and worker processes: the
    seconds `start --wait` took."""
    with flow_processes(flow, endpoint):
        return timed([flow, "start", "--endpoint", endpoint, "--wait", "--json",
                      "--input", flow_input(count, failures)], env=REMOTE_ENV)


def through_server(flow, garcon, count, repeat, tmp, failures=True, labels=("memory", "sqlite")):
    results = {}
    for label in labels:
        times = []
        for i in range(repeat):
            args = ["--memory"] if label == "memory" else ["--db", os.path.join(tmp, f"server-{i}.db")]
            server = Server(garcon, args)
            try:
                times.append(remote_run(flow, server.endpoint, count, failures))
            finally:
                server.stop()
        results[label] = statistics.median(times)
    return results


class Moto:
    def __init__(self):
        import socket
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1",
                                      "-p", str(port)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        self.endpoint = f"http://127.0.0.1:{port}"
        import urllib.request
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(self.endpoint + "/moto-api/", timeout=1)
                break
            except Exception:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    self.stop()
                    sys.exit("flows_bench: moto.server did not start")
                time.sleep(0.2)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)


def on_moto(flow, count, repeat):
    try:
        import moto.server  # noqa: F401
    except ImportError:
        return None
    times = []
    for _ in range(repeat):
        moto = Moto()
        try:
            times.append(remote_run(flow, moto.endpoint, count, failures=False))
        finally:
            moto.stop()
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", default="build")
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--server-count", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--big-count", type=int, default=100000)
    args = parser.parse_args()
    flow = os.path.join(args.build, "bench", "fanout_flow")
    garcon = os.path.join(args.build, "tools", "garcon", "garcon")
    tmp = tempfile.mkdtemp(prefix="garcon-flows-bench-")
    try:
        e = embedded(flow, args.count, args.repeat, tmp)
        print(f"== fan-out flow, N={args.count}, embedded (median of {args.repeat})")
        print(f"  run (memory)            {e['memory']:8.3f} s")
        print(f"  run --db (SQLite FULL)  {e['sqlite']:8.3f} s   {e['sqlite'] / e['memory']:.1f}x memory")
        s = through_server(flow, garcon, args.server_count, args.repeat, tmp)
        print(f"== fan-out flow, N={args.server_count}, garcon server + decider + worker processes")
        print(f"  server --memory         {s['memory']:8.3f} s")
        print(f"  server --db (FULL)      {s['sqlite']:8.3f} s   {s['sqlite'] / s['memory']:.1f}x memory")
        m = on_moto(flow, args.server_count, args.repeat)
        if m is None:
            print("  moto.server             (moto is not installed: skipped)")
        else:
            g = through_server(flow, garcon, args.server_count, args.repeat, tmp,
                               failures=False, labels=("memory",))["memory"]
            print(f"== fan-out flow, N={args.server_count} without failed attempts, "
                  f"the same client and processes")
            print(f"  moto.server (baseline)  {m:8.3f} s")
            print(f"  garcon server --memory  {g:8.3f} s   {m / g:.1f}x faster than moto")
        if args.big_count > 0:
            big = big_fanout(flow, garcon, args.big_count, tmp)
            print(f"== fan-out flow, N={args.big_count:,} (slices of 2,000 in child runs), one run each")
            print(f"  big run (memory)        {big['memory'][0]:8.1f} s   peak RSS {big['memory'][1]:6.0f} MiB")
            print(f"  big run --db (FULL)     {big['sqlite'][0]:8.1f} s   peak RSS {big['sqlite'][1]:6.0f} MiB"
                  f"   {big['sqlite'][0] / big['memory'][0]:.1f}x memory")
            rss = big["server"][1]
            print(f"  big server --db (FULL)  {big['server'][0]:8.1f} s   peak RSS server {rss['server']:.0f} MiB,"
                  f" decider {rss['decider']:.0f} MiB, worker {rss['worker']:.0f} MiB")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
