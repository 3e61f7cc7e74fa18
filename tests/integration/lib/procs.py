"""Starting and stopping the real binaries for integration tests.

Every process a test starts is tracked by PID and stopped by PID (never by name), and every wait
is a condition polled against a deadline, never a fixed sleep.
"""
import functools
import os
import signal
import socket
import subprocess
import time


def binary_dir():
    d = os.environ.get("EC_BINARY_DIR")
    if not d:
        raise RuntimeError("EC_BINARY_DIR is not set: run integration tests through ctest")
    return d


@functools.lru_cache(maxsize=None)
def find_binary(name):
    """Finds an executable built by CMake anywhere under the build tree (walked once per name:
    the walk cost 17 ms, and helpers look binaries up on every console command)."""
    for root, _dirs, files in os.walk(binary_dir()):
        if name in files and "CMakeFiles" not in root:
            path = os.path.join(root, name)
            if os.access(path, os.X_OK):
                return path
    raise FileNotFoundError(f"{name} not found under {binary_dir()}")


def wait_for(predicate, timeout=10.0, interval=0.02, what="condition"):
    """Polls predicate() until it returns a true value; returns that value or raises."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def port_open(host, port, netns=None):
    """True if a TCP connection to host:port succeeds, made from network namespace `netns`
    (a name under /var/run/netns, see lib/netns.py) when given."""
    try:
        if netns:
            from .netns import socket_in
            with socket_in(netns) as s:
                s.settimeout(0.2)
                s.connect((host, port))
            return True
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


def unix_socket_open(path):
    """True if a connection to the unix socket at `path` succeeds: a file left behind by a
    killed daemon exists but refuses."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(0.2)
            s.connect(path)
        return True
    except OSError:
        return False


def free_port(host="127.0.0.1"):
    """A port the kernel considers free right now on host."""
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class Process:
    """A child process whose output goes to a log file; stopped by PID.

    With `netns` it runs inside that network namespace through `ip netns exec`, which execs the
    command in place: self.pid is still the command's own PID."""

    def __init__(self, argv, log_path, env=None, cwd=None, netns=None):
        if netns:
            argv = ["ip", "netns", "exec", netns] + list(argv)
        self.argv = argv
        self.log_path = log_path
        self._log = open(log_path, "ab")
        full_env = dict(os.environ)
        if env:
            full_env.update(env)
        self.proc = subprocess.Popen(argv, stdout=self._log, stderr=subprocess.STDOUT,
                                     env=full_env, cwd=cwd, start_new_session=True)
        self.pid = self.proc.pid

    def alive(self):
        return self.proc.poll() is None

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def signal(self, sig):
        if self.alive():
            os.kill(self.pid, sig)

    def kill9(self):
        self.signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self, timeout=15.0):
        """SIGTERM, wait, then SIGKILL; returns the exit status."""
        if self.alive():
            os.kill(self.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.kill(self.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self._log.close()
        return self.proc.returncode


def proc_status(path):
    """/proc/<pid>[/task/<tid>]/status as {field: [words]} ("Uid" -> ["0", "0", "0", "0"])."""
    fields = {}
    with open(path) as f:
        for line in f:
            key, _, value = line.partition(":")
            fields[key] = value.split()
    return fields
