"""Enrolling a node with one command (docs/enrolment.md), attacked: ecconfigd alone (module
fixture), `ecconfigd enroll` prints the command, the test runs it for real (curl | tar xz into a
temp root, then eccfg enrol, with the eccfg of the build tree). Spent, expired, unknown and
another node's tokens are refused with their reason and change nothing; two enrolments racing
with one token: exactly one wins; failed tokens count as failed logins (429). Each test talks
from its own 127.0.0.x so that the per-address throttle of one does not touch the others.
Each enrolled node gets a fetch credential of its own: it pulls with it, another node's name
with it is refused, `ecconfigd revoke` cuts that node off at once while the others (and nodes
bootstrapped with the cluster secret) go on.
"""
import base64
import os
import pwd
import http.client
import re
import ssl
import subprocess
import tarfile
import threading
import time
from pathlib import Path

import pytest

from config_env import ECCFG, ECCONFIGD, needs_ecmta, stop_daemon, wait_for
from lib.scratch import scratch_dir

pytestmark = needs_ecmta
PEERS = """msgc_server {
  peers = [
    manager = "127.0.0.10"
    node1 = "127.0.0.2"
  ]
  curve = true
}
"""
KEY_A = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7"
KEY_B = "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID"
MAX_FAILURES = 3


class Manager:
    def __init__(self, root: Path, max_failures=MAX_FAILURES, extra=()):
        self.root = root
        self.state = root / "mgr" / "ecconfigd"
        seed = root / "seed"
        (seed / "global").mkdir(parents=True)
        (seed / "default").mkdir(parents=True)
        (seed / "global" / "msgc_server.conf").write_text(PEERS)
        (seed / "default" / "ecelerity.conf").write_text(
            'Domain "enrol.test" { EHLO_Hostname = "x" }\n')
        port_file = root / "mgr" / "run" / "port"  # written by the daemon's user (run/ is its)
        self.log = open(root / "ecconfigd.log", "a")
        self.daemon = subprocess.Popen(
            [str(ECCONFIGD), "--foreground", "--root", str(root / "mgr"), "--state-dir",
             str(self.state), "--seed", str(seed), "--listen", "127.0.0.1", "--port", "0",
             "--port-file", str(port_file), "--max-login-failures", str(max_failures), *extra],
            stdout=self.log, stderr=subprocess.STDOUT)
        self.port = int(wait_for(lambda: port_file.exists() and port_file.read_text().strip(),
                                 what="ecconfigd to listen"))

    def enroll(self, node, *extra):
        r = subprocess.run([str(ECCONFIGD), "enroll", node, "--state-dir", str(self.state),
                            "--manager", "127.0.0.1:%d" % self.port, *extra],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stderr
        command = r.stdout.strip().splitlines()[-1]
        token = re.match(r"T=([0-9a-f]+);", command).group(1)
        return token, command

    def git(self, *args):
        return subprocess.run(["git", "--git-dir", str(self.state / "default.git"), *args],
                              capture_output=True, text=True, timeout=30).stdout

    def head(self):
        return self.git("rev-parse", "main").strip()

    def request(self, method, target, source, token=None, body=None, authorization=None):
        ctx = ssl.create_default_context(cafile=str(self.state / "server.crt"))
        ctx.check_hostname = False
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=ctx, timeout=30,
                                           source_address=(source, 0))
        headers = {"Authorization": "Bearer " + token} if token else {}
        if authorization:
            headers = {"Authorization": authorization}
        conn.request(method, target, body=body, headers=headers)
        r = conn.getresponse()
        out = (r.status, r.read())
        conn.close()
        return out

    def stop(self):
        stop_daemon(self.daemon, self.log)


@pytest.fixture(scope="module")
def manager():
    with scratch_dir("ec_enrol_it.") as root:
        m = Manager(root)
        yield m
        m.stop()


def run_printed(manager, command, node_root):
    """The printed command, with the node root and eccfg of this test (the build tree's)."""
    command = command.replace("/opt/ecmta/bin/eccfg", str(ECCFG)).replace("/opt/ecmta",
                                                                         str(node_root))
    return subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=60)


def test_printed_command_enrols_once(manager):
    token, command = manager.enroll("node2", "--address", "127.0.0.3")
    node_root = manager.root / "node2"
    node_root.mkdir()
    before = manager.head()
    # A manager with another key: curl stops before sending the token (exit 90), nothing spent.
    wrong_pin = re.sub(r"sha256//[^']+", "sha256//" + "A" * 43 + "=", command)
    r = run_printed(manager, wrong_pin, node_root)
    assert r.returncode != 0 and "pinned" in r.stderr.lower(), r.stderr
    assert not (node_root / "etc" / "cluster.boot").exists()
    started = time.monotonic()
    r = run_printed(manager, command, node_root)
    took = time.monotonic() - started
    assert r.returncode == 0, r.stdout + r.stderr
    print("enrolment command took %.3f s (clone, key, enrol, validated first pull)" % took)
    etc = node_root / "etc"
    secret = (manager.state / "cluster.secret").read_text().strip()
    # The node's own fetch credential, not the cluster's secret; the manager keeps a hash only.
    node, own = (etc / "ecconfigd.secret").read_text().strip().split(":")
    assert node == "node2" and re.fullmatch(r"[0-9a-f]{64}", own) and own != secret
    assert oct((etc / "ecconfigd.secret").stat().st_mode & 0o777) == "0o600"
    stored = manager.state / "node.credentials"
    assert oct(stored.stat().st_mode & 0o777) == "0o600"
    assert own not in stored.read_text() and stored.read_text().count("\nnode2 ") == 1
    assert oct((etc / "msgc.key").stat().st_mode & 0o777) == "0o600"
    public = re.search(r"public\s*=\s*(\S+)", (etc / "msgc.key").read_text()).group(1)
    # Committed through ecconfigd's own commit path: one new revision on top of the old head.
    assert manager.git("rev-parse", "main~1").strip() == before
    assert manager.git("show", "main:global/msgc_keys/node2.pub").strip() == public
    assert 'node2 = "127.0.0.3"' in manager.git("show", "main:global/msgc_server.conf")
    conf = etc / "conf" / "global" / "msgc_server.conf"
    assert 'node2 = "127.0.0.3"' in conf.read_text()

    # The package holds no reusable secret: fetch one for a fresh token and look inside.
    token2, _ = manager.enroll("node7")
    status, body = manager.request("GET", "/clone/node7?token=" + token2, "127.0.0.1")
    assert status == 200
    pkg = manager.root / "node7.tgz"
    pkg.write_bytes(body)
    with tarfile.open(pkg) as t:
        names = t.getnames()
        contents = b"".join(t.extractfile(n).read() for n in names)
    assert sorted(names) == ["etc/cluster.boot", "etc/ecconfigd.crt"]
    assert secret.encode() not in contents and b"PRIVATE" not in contents
    assert token2.encode() not in contents

    # The same command again: the token is spent, curl gets 401 and nothing changes.
    head = manager.head()
    r = run_printed(manager, command, manager.root / "node2")
    assert r.returncode != 0 and "401" in r.stderr, r.stderr
    status, body = manager.request("POST", "/enrol/node2", "127.0.0.1", token, KEY_B + "\n")
    assert status == 401 and b"already used" in body, body
    assert manager.head() == head


def test_wrong_node_unknown_and_expired_tokens_change_nothing(manager):
    source = "127.0.0.21"
    token, _ = manager.enroll("node3")
    head = manager.head()
    status, body = manager.request("GET", "/clone/node4?token=" + token, source)
    assert status == 401 and b"not for node node4" in body, body
    status, body = manager.request("POST", "/enrol/node3", source, "0" * 48, KEY_A)
    assert status == 401 and b"unknown enrolment token" in body, body
    source = "127.0.0.22"
    status, body = manager.request("GET", "/clone/node3", source)
    assert status == 401 and b"needs ?token=" in body, body
    status, body = manager.request("POST", "/enrol/node3", source, None, KEY_A)
    assert status == 401, body

    source = "127.0.0.23"
    expiring, _ = manager.enroll("node6", "--ttl", "1s")
    wait_for(lambda: manager.request("GET", "/clone/node6?token=" + expiring, source)[0] == 401,
             timeout=5, what="the 1 s token to expire")
    status, body = manager.request("POST", "/enrol/node6", source, expiring, KEY_A)
    assert status == 401 and b"expired" in body, body
    assert manager.head() == head
    assert "node6" not in manager.git("show", "main:global/msgc_server.conf")


def test_racing_enrolments_one_wins(manager):
    token, _ = manager.enroll("node5")
    results = []

    def enrol(key, source):
        results.append((key, manager.request("POST", "/enrol/node5", source, token, key)))

    threads = [threading.Thread(target=enrol, args=(k, s))
               for k, s in ((KEY_A, "127.0.0.31"), (KEY_B, "127.0.0.32"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    codes = sorted(r[1][0] for r in results)
    assert codes == [200, 401], results
    winner = next(k for k, r in results if r[0] == 200)
    loser = next(r for k, r in results if r[0] == 401)
    assert b"already used" in loser[1]
    assert manager.git("show", "main:global/msgc_keys/node5.pub").strip() == winner
    assert manager.git("show", "main:global/msgc_server.conf").count("node5 =") == 1


def test_bad_tokens_are_throttled_like_logins(manager):
    source = "127.0.0.41"
    token, _ = manager.enroll("node8")
    for i in range(MAX_FAILURES):
        status, _ = manager.request("GET", "/clone/node8?token=bad%d" % i, source)
        assert status == 401
    # Now even the right token gets 429 from that address; another address is unaffected.
    status, body = manager.request("GET", "/clone/node8?token=" + token, source)
    assert status == 429, body
    status, _ = manager.request("GET", "/clone/node8?token=" + token, "127.0.0.42")
    assert status == 200


def test_oversized_and_malformed_enrolments_change_nothing(manager):
    source = "127.0.0.51"
    token, _ = manager.enroll("node9")
    head = manager.head()
    # A body far above the 256-byte limit is refused from its Content-Length.
    status, body = manager.request("POST", "/enrol/node9", source, token, "k" * 65536)
    assert status == 413, body
    # Z85 characters that do not decode to a key ("#####" is beyond 32 bits).
    status, body = manager.request("POST", "/enrol/node9", source, token, "#" * 40)
    assert status == 400 and b"not valid Z85" in body, body
    # A request head above 16 KiB.
    ctx = ssl.create_default_context(cafile=str(manager.state / "server.crt"))
    ctx.check_hostname = False
    conn = http.client.HTTPSConnection("127.0.0.1", manager.port, context=ctx, timeout=30,
                                       source_address=(source, 0))
    conn.request("GET", "/clone/node9?token=" + token, headers={"X-Fill": "a" * 20000})
    assert conn.getresponse().status == 431
    conn.close()
    assert manager.head() == head
    assert "node9" not in manager.git("show", "main:global/msgc_server.conf")
    # None of it spent the token: the clone package is still served for it.
    status, body = manager.request("GET", "/clone/node9?token=" + token, source)
    assert status == 200, body


def basic(node, secret):
    return "Basic " + base64.b64encode(("%s:%s" % (node, secret)).encode()).decode()


def test_node_credentials_pull_and_revoke(tmp_path):
    """Two nodes enrolled, one bootstrapped the old way with the cluster secret; node10 is
    revoked while ecconfigd runs. A manager of its own: eccfg talks from 127.0.0.1 only, and the
    refusals here must not throttle that address for the other tests."""
    m = Manager(tmp_path, max_failures=20)
    try:
        roots = {}
        for node in ("node10", "node11"):
            _, command = m.enroll(node, "--address", "127.0.0.1")
            roots[node] = tmp_path / node
            roots[node].mkdir()
            r = run_printed(m, command, roots[node])
            assert r.returncode == 0, r.stdout + r.stderr
        creds = {n: (root / "etc" / "ecconfigd.secret").read_text().strip().split(":")[1]
                 for n, root in roots.items()}
        cluster_secret = (m.state / "cluster.secret").read_text().strip()
        assert len({creds["node10"], creds["node11"], cluster_secret}) == 3

        def pull(node_root):
            return subprocess.run([str(ECCFG), "pull", "--root", str(node_root), "--validate",
                                   "none", "--reload", "none"],
                                  capture_output=True, text=True, timeout=60)

        # node10 is one revision behind (node11's enrolment): it pulls with its own credential.
        r = pull(roots["node10"])
        assert r.returncode == 0 and "OK:" in r.stdout, r.stdout + r.stderr
        fetch = "/config/default/fetch"
        assert m.request("GET", fetch, "127.0.0.61",
                         authorization=basic("node10", creds["node10"]))[0] == 200
        # Another node's name with this node's secret, a made-up node, the wrong scheme.
        for auth in (basic("node11", creds["node10"]), "Bearer node11:" + creds["node10"],
                     basic("node12", creds["node10"]), "Bearer " + creds["node10"]):
            status, body = m.request("GET", fetch, "127.0.0.62", authorization=auth)
            assert status == 401, (auth, body)

        # A node bootstrapped the old way keeps fetching with the cluster secret.
        old = tmp_path / "old" / "etc" / "conf"
        r = subprocess.run([str(ECCFG), "bootstrap", "--wc", str(old), "--repo",
                            "127.0.0.1:%d" % m.port, "--cert", str(m.state / "server.crt"),
                            "--secret-file", str(m.state / "cluster.secret"), "--node-name",
                            "old1", "--validate", "none", "--reload", "none"],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stdout + r.stderr

        # Revoked while ecconfigd runs: node10's next fetch and long poll are refused.
        r = subprocess.run([str(ECCONFIGD), "revoke", "node10", "--state-dir", str(m.state)],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 0 and "revoked" in r.stdout, r.stdout + r.stderr
        r = pull(roots["node11"])
        assert r.returncode == 0, r.stdout + r.stderr
        r = pull(roots["node10"])
        assert r.returncode == 5, r.stdout + r.stderr  # kExitAuth
        assert "revoked fetch credential for node node10" in r.stderr, r.stderr
        status, body = m.request("GET", "/config/default/wait?have=%s&timeout=1" % m.head(),
                                 "127.0.0.63", authorization=basic("node10", creds["node10"]))
        assert status == 401 and b"node10" in body, body
        r = subprocess.run([str(ECCFG), "pull", "--wc", str(old), "--validate", "none",
                            "--reload", "none"], capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stdout + r.stderr
        # Revoking again says there is nothing to revoke.
        r = subprocess.run([str(ECCONFIGD), "revoke", "node10", "--state-dir", str(m.state)],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 1 and "no fetch credential" in r.stderr, r.stderr
    finally:
        m.stop()


def test_enroll_and_revoke_as_root_beside_a_daemon_run_as_its_user():
    """A packaged manager runs ecconfigd as its user while the operator runs `ecconfigd enroll`
    and `revoke` as root. The files they write in the state dir must stay the daemon's: a
    root-owned enrol.tokens or lock file would fail every enrolment (the daemon could not read
    the token nor take the lock), a root-owned node.credentials every enrolled node's fetch."""
    if os.geteuid() != 0:
        pytest.skip("needs root: ecconfigd starts as root and drops to 'nobody'")
    try:
        nobody = pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("no user 'nobody' on this system")
    with scratch_dir("ec_enrol_user.", mode=0o755) as root:
        conf = root / "ecconfigd.conf"
        conf.write_text('Security { user = "nobody" }\n')
        m = Manager(root, extra=("--config", str(conf)))
        try:
            def owners():
                return {f.name: f.stat().st_uid for f in m.state.iterdir() if f.is_file()}

            # Before any enrolment: a refused revoke still takes (and creates) the lock.
            r = subprocess.run([str(ECCONFIGD), "revoke", "node9", "--state-dir", str(m.state)],
                               capture_output=True, text=True, timeout=30)
            assert r.returncode == 1 and "no fetch credential" in r.stderr, r.stderr
            _, command = m.enroll("node2", "--address", "127.0.0.1")
            node_root = root / "node2"
            node_root.mkdir()
            r = run_printed(m, command, node_root)
            assert r.returncode == 0, r.stdout + r.stderr
            r = subprocess.run([str(ECCFG), "pull", "--root", str(node_root), "--validate",
                                "none", "--reload", "none"],
                               capture_output=True, text=True, timeout=60)
            assert r.returncode == 0, r.stdout + r.stderr
            r = subprocess.run([str(ECCONFIGD), "revoke", "node2", "--state-dir", str(m.state)],
                               capture_output=True, text=True, timeout=30)
            assert r.returncode == 0, r.stdout + r.stderr
            written = owners()
            for name in ("enrol.tokens", "enrol.lock", "node.credentials",
                         "node.credentials.lock"):
                assert written.get(name) == nobody.pw_uid, (name, written)
            # The daemon still reads the file root rewrote: node2 is refused, by name.
            r = subprocess.run([str(ECCFG), "pull", "--root", str(node_root), "--validate",
                                "none", "--reload", "none"],
                               capture_output=True, text=True, timeout=60)
            assert r.returncode == 5, r.stdout + r.stderr  # kExitAuth
            assert "revoked fetch credential for node node2" in r.stderr, r.stderr
        finally:
            m.stop()
