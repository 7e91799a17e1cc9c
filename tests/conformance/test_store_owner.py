"""One owner per data file: while `garcon server --db FILE` runs, a second
server and a flow's `run --db FILE` are refused at once with a message naming
the file; the files (main, -wal) are readable by their owner only, and there
is no -shm file (the server's connection holds the file exclusively)."""
import os
import stat
import subprocess
import unittest

from garcon_harness import GarconServer, garcon_binary


class StoreOwnerTest(unittest.TestCase):
    def test_a_second_opener_is_refused_and_files_are_owner_only(self):
        with GarconServer() as server:
            db = server.db
            second = subprocess.run(
                [garcon_binary(), "server", "--port", "0", "--db", db],
                capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
            self.assertNotEqual(second.returncode, 0)
            self.assertIn(db, second.stderr)
            self.assertIn("in use", second.stderr)

            examples = os.environ.get("GARCON_EXAMPLES_DIR")
            if examples:
                run = subprocess.run(
                    [os.path.join(examples, "simple_flow"), "run", "--db", db, "--json"],
                    capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
                self.assertNotEqual(run.returncode, 0)
                self.assertIn(db, run.stderr)
                self.assertIn("in use", run.stderr)

            for suffix in ("", "-wal"):
                mode = stat.S_IMODE(os.stat(db + suffix).st_mode)
                self.assertEqual(mode, 0o600, f"{db}{suffix} has mode {oct(mode)}")
            self.assertFalse(os.path.exists(db + "-shm"))


if __name__ == "__main__":
    unittest.main()
