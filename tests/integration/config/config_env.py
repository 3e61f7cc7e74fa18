"""The config tests' world: ecconfigd and three eccfg working copies on 127.0.0.1.

A Cluster is a fresh manager (ecconfigd on port 0 in a temp dir, admin password set) and three
bootstrapped nodes. Every pull is validated by the real `ecmta --check-config` (eccfg's default,
found beside it in the build tree). The config holds eight settings, one per line, that the
tests read and write as "optionN = value" (see encode/decode). Waits use deadlines, never fixed
sleeps.
"""
import hashlib
import os
import re
import subprocess
import time
from pathlib import Path

import pytest

BIN = Path(os.environ.get("EC_BINARY_DIR", "build"))
SRC = Path(os.environ.get("EC_SOURCE_DIR", "."))
ECCONFIGD = BIN / "ecconfigd" / "ecconfigd"
ECCFG = BIN / "eccfg" / "eccfg"
ECMTA = BIN / "mta" / "daemon" / "ecmta"
SLOW_VALIDATOR = SRC / "tests" / "integration" / "config" / "slow_validator.sh"
PASSWORD = "admin-pw"

needs_ecmta = pytest.mark.skipif(not ECMTA.exists(),
                                 reason="needs ecmta (build target ecmta) to validate pulls")

# Setting N is a real ecmta option, so every revision passes `ecmta --check-config`.
SETTING = 'Domain "option%s.test" { EHLO_Hostname = "%s" }'
SETTING_RE = re.compile(r'^Domain "option(\d+)\.test" \{ EHLO_Hostname = "(.*)" \}$')


def encode(text):
    """'optionN = value' lines -> config lines; anything else unchanged."""
    out = []
    for line in text.split("\n"):
        m = re.match(r"^option(\d+) = (.*)$", line)
        out.append(SETTING % m.groups() if m else line)
    return "\n".join(out)


def decode(text):
    out = []
    for line in text.split("\n"):
        m = SETTING_RE.match(line)
        out.append("option%s = %s" % m.groups() if m else line)
    return "\n".join(out)


# The fixture's password hash: 10,000 PBKDF2 iterations, as an older ecconfigd wrote them
# (such hashes stay valid). `ecconfigd passwd` writes 600,000, which costs 3 s of CPU per login
# under AddressSanitizer (OpenSSL allocates in every iteration); these tests are about the config
# flows, and test_config_limits.py checks what `ecconfigd passwd` writes.
FIXTURE_ITERATIONS = 10000


def write_password(state_dir: Path, user, password, iterations=FIXTURE_ITERATIONS):
    """Writes `user`'s line of ecconfigd's password file ("user:pbkdf2-sha256:N:salt:hash",
    ecconfigd/auth.h; the salt is used as its hex text)."""
    salt = os.urandom(16).hex()
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), iterations).hex()
    state_dir.mkdir(parents=True, exist_ok=True)
    path = state_dir / "passwd"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write("%s:pbkdf2-sha256:%d:%s:%s\n" % (user, iterations, salt, digest))


def wait_for(cond, timeout=15.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = cond()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError("timed out waiting for " + what)


class Cluster:
    def __init__(self, root: Path, nodes=("n1", "n2", "n3"), default_extra=""):
        """`default_extra` is appended to the seed's default/ecelerity.conf."""
        self.root = root
        self.state = root / "manager" / "ecconfigd"
        seed = root / "seed"
        self.seed = seed
        (seed / "global").mkdir(parents=True)
        (seed / "default").mkdir(parents=True)
        (seed / "default" / "ecelerity.conf").write_text(
            encode("".join("option%d = %d\n" % (i, i) for i in range(1, 9))) + default_extra)
        write_password(self.state, "admin", PASSWORD)
        self.log = open(root / "ecconfigd.log", "a")
        self.daemon = None
        self.port = 0
        self.start_daemon()
        for n in nodes:
            r = self.eccfg(n, "bootstrap", "--repo", "127.0.0.1:%d" % self.port,
                           "--cert", str(self.state / "server.crt"),
                           "--secret-file", str(self.state / "cluster.secret"),
                           "--node-name", n)
            assert r.returncode == 0, r.stderr

    def start_daemon(self, *extra):
        """Starts ecconfigd (again on the same port after the first start); `extra`: options."""
        port_file = self.root / "ecconfigd.port"
        if port_file.exists():
            port_file.unlink()
        self.daemon = subprocess.Popen(
            [str(ECCONFIGD), "--foreground", "--root", str(self.root / "manager"),
             "--state-dir", str(self.state), "--seed", str(self.seed),
             "--listen", "127.0.0.1", "--port", str(self.port), "--port-file", str(port_file),
             "--max-wait", "30", *extra], stdout=self.log, stderr=subprocess.STDOUT)
        self.port = int(wait_for(lambda: port_file.exists() and port_file.read_text().strip(),
                                 what="ecconfigd to listen"))

    def wc(self, node) -> Path:
        return self.root / node / "etc" / "conf"

    def eccfg(self, node, *args, env=None, check=False):
        full_env = dict(os.environ)
        full_env.update(env or {})
        r = subprocess.run([str(ECCFG), args[0], "--wc", str(self.wc(node))] + list(args[1:]),
                           capture_output=True, text=True, timeout=120, env=full_env)
        if check:
            assert r.returncode == 0, "%s: %s%s" % (args, r.stdout, r.stderr)
        return r

    def commit(self, node, message="change", *extra, check=True):
        return self.eccfg(node, "commit", "-m", message, "--username", "admin", *extra,
                          env={"ECCFG_PASSWORD": PASSWORD}, check=check)

    def git(self, *args, cwd=None):
        return subprocess.run(["git"] + list(args), cwd=cwd, capture_output=True, text=True,
                              check=True).stdout

    def manager_head(self):
        return self.git("--git-dir", str(self.state / "default.git"), "rev-parse", "main").strip()

    def node_head(self, node):
        return self.git("-C", str(self.wc(node)), "rev-parse", "HEAD").strip()

    def checkouts(self, node):
        etc = self.wc(node).parent
        return sorted(p.name for p in etc.iterdir() if p.name.startswith("conf."))

    def stop(self):
        stop_daemon(self.daemon, self.log)


def stop_daemon(daemon, log):
    """Stops ecconfigd (SIGTERM, SIGKILL after 10 s) if it still runs, and closes its log."""
    if daemon is not None and daemon.poll() is None:
        daemon.terminate()
        try:
            daemon.wait(timeout=10)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait()
    log.close()


def conf(c, node, rel="default/ecelerity.conf"):
    return decode((c.wc(node) / rel).read_text())


def write_conf(c, node, text, rel="default/ecelerity.conf"):
    (c.wc(node) / rel).write_text(encode(text))


def edit_line(c, node, index, text, rel="default/ecelerity.conf"):
    lines = conf(c, node, rel).splitlines(keepends=True)
    lines[index] = text + "\n"
    write_conf(c, node, "".join(lines), rel)


def fsck(git_dir):
    r = subprocess.run(["git", "--git-dir", str(git_dir), "fsck", "--strict"],
                       capture_output=True, text=True)
    assert r.returncode == 0, "git fsck %s: %s%s" % (git_dir, r.stdout, r.stderr)


