"""Starts `garcon server` on a free loopback port for the conformance tests.

The binary comes from $GARCON_BIN (set by ctest), else the usual build
folders. The server prints `listening on ADDRESS:PORT ...` on stdout once
it is accepting connections.
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def garcon_binary():
    env = os.environ.get("GARCON_BIN")
    if env:
        return env
    for build in ("build", "build-server", "build-asan"):
        path = os.path.join(ROOT, build, "tools", "garcon", "garcon")
        if os.path.exists(path):
            return path
    raise RuntimeError("garcon binary not found: set GARCON_BIN")


class GarconServer:
    def __init__(self, *args, poll_timeout=5, db=None, port=0):
        """Without --memory in `args`, the server keeps its state in a SQLite
        file: `db`, or a fresh one in a temporary folder removed by stop()."""
        self.tmpdir = None
        if "--memory" not in args:
            if db is None:
                self.tmpdir = tempfile.mkdtemp(prefix="garcon-")
                db = os.path.join(self.tmpdir, "garcon.db")
            args = (*args, "--db", db)
        self.db = db
        self.args = ["server", "--port", str(port), "--poll-timeout", str(poll_timeout), *args]
        self.proc = None
        self.port = None
        self.stderr = b""
        self._stderr_thread = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def start(self):
        self.proc = subprocess.Popen(
            [garcon_binary(), "-q", *self.args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        # Drain stderr so the server never blocks on a full pipe.
        self._stderr_chunks = []
        self._stderr_thread = threading.Thread(target=self._drain_stderr, daemon=True)
        self._stderr_thread.start()
        line = self._read_line(timeout=20)
        match = re.search(r"listening on (?:\[[^\]]*\]|[^:\s]+):(\d+)", line)
        if not match:
            self.proc.kill()
            raise RuntimeError(f"garcon server did not start: {line!r}")
        self.port = int(match.group(1))

    def _drain_stderr(self):
        for chunk in iter(lambda: self.proc.stderr.read1(4096), b""):
            self._stderr_chunks.append(chunk)

    def _read_line(self, timeout):
        result = {}

        def read():
            result["line"] = self.proc.stdout.readline().decode()

        t = threading.Thread(target=read, daemon=True)
        t.start()
        t.join(timeout)
        return result.get("line", "")

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.port}"

    def terminate(self, timeout=20):
        """SIGTERM; returns the exit code."""
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def kill(self):
        """SIGKILL, as a crash would; the store file is kept, so start()
        brings the server back on it."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(20)
        self.proc.stdout.close()
        self._stderr_thread.join(5)
        self.proc.stderr.close()
        self._stderr_thread = None

    def stop(self):
        """Stops the server (SIGTERM); returns its exit code."""
        if self.proc and self.proc.poll() is None:
            try:
                self.terminate()
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.proc.stdout.close()
            if self._stderr_thread:
                self._stderr_thread.join(5)
            self.proc.stderr.close()
        self.stderr = b"".join(getattr(self, "_stderr_chunks", []))
        if self.tmpdir:
            shutil.rmtree(self.tmpdir, ignore_errors=True)
            self.tmpdir = None
        return self.proc.returncode if self.proc else None


def wait_for(pred, timeout=5.0, interval=0.01):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(interval)
    return pred()


def built_program(directory, name):
    """The program `name` built in `directory`; skips the test when it is not
    built (e.g. GARCON_EXAMPLES unset)."""
    import unittest
    path = os.path.join(directory, name)
    if not os.path.exists(path):
        raise unittest.SkipTest(f"{path} not built")
    return path


def free_port():
    """A loopback port nothing listens on (just bound and released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
