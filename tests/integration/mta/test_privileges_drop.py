"""Daemons started as root run as Security's user with only the listed capabilities.

ecmta, eccmgr and ecconfigd start as root with Security { user = "nobody" ... } and are read
from /proc/<pid>/status: uid and gid are the user's in every thread (ZeroMQ's I/O threads and
the spool committer included), CapPrm/CapEff/CapBnd are exactly the listed capabilities, nothing
inheritable or ambient. ecmta keeps cap_net_bind_service, so its port-25 listener on a loopback
address works; mail still flows (the spool is written as that user) and `config reload` still
works. Roots live in a /tmp directory named ectest-priv-* (pytest's tmp dirs are root-only),
removed in every outcome. Needs root and a user "nobody"; skips otherwise."""
import glob
import os
import pwd
import random
import smtplib
import subprocess
from pathlib import Path

import pytest

from lib import procs
from lib.scratch import scratch_dir
from lib.mta import MtaNode

NET_BIND_SERVICE = 1 << 10


@pytest.fixture
def nobody():
    if os.geteuid() != 0:
        pytest.skip("needs root: the test starts daemons as root and watches them drop it")
    try:
        return pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("needs the user 'nobody' to drop to")


@pytest.fixture
def world():
    """A directory every user can traverse (pytest's tmp_path is 0700 root)."""
    with scratch_dir("ectest-priv-", mode=0o755) as d:
        yield d


def assert_dropped(pid, user, caps_mask):
    """Every thread of `pid` runs as `user` with exactly `caps_mask`; returns the thread count."""
    tasks = glob.glob(f"/proc/{pid}/task/*/status")
    assert tasks, f"no /proc entries for pid {pid}"
    for path in tasks:
        s = procs.proc_status(path)
        assert s["Uid"] == [str(user.pw_uid)] * 4, (path, s["Uid"])
        assert s["Gid"] == [str(user.pw_gid)] * 4, (path, s["Gid"])
        for key in ("CapPrm", "CapEff", "CapBnd"):
            assert int(s[key][0], 16) == caps_mask, (path, key, s[key])
        assert int(s["CapInh"][0], 16) == 0 and int(s["CapAmb"][0], 16) == 0, (path, s)
        assert "0" not in s["Groups"], (path, s["Groups"])
    return len(tasks)


def free_loopback_25():
    for _ in range(50):
        host = "127.0.%d.%d" % (random.randint(100, 250), random.randint(2, 250))
        if not procs.port_open(host, 25):
            return host
    pytest.skip("no free 127.x.y.z:25 found")


def test_ecmta_runs_as_user_with_only_listed_caps(world, nobody):
    host = free_loopback_25()
    node = MtaNode(world, host=host, port=25, listener_options='relay_hosts = ( "127.0.0.0/8" )',
                   security='Security {\n  user = "nobody"\n'
                            '  capabilities = "cap_net_bind_service+ep"\n}')
    with node:
        threads = assert_dropped(node.process.pid, nobody, NET_BIND_SERVICE)
        with smtplib.SMTP(host, 25, timeout=20) as smtp:
            smtp.sendmail("a@example.test", ["b@example.invalid"], "Subject: t\r\n\r\nbody\r\n")
        spooled = [p for p in Path(node.root, "spool").rglob("*") if p.is_file()]
        assert spooled, "nothing in the spool"
        assert all(p.stat().st_uid == nobody.pw_uid for p in spooled), [
            (str(p), p.stat().st_uid) for p in spooled]
        for d in ("spool", "log", "run", "etc"):
            assert Path(node.root, d).stat().st_uid == nobody.pw_uid, d
        assert "configuration reloaded" in node.console("config reload")
        assert node.summary_value("Config reloads") == 1
        assert_dropped(node.process.pid, nobody, NET_BIND_SERVICE)
        assert threads >= 2  # the spool committer started after the drop, and dropped too
        assert "switched user" in node.process.log()


def test_ecmta_without_caps_has_none(world, nobody):
    node = MtaNode(world, security='Security { user = "nobody" }')
    with node:
        assert_dropped(node.process.pid, nobody, 0)


def test_ecmta_unknown_user_names_the_line(world, nobody):
    node = MtaNode(world, security='Security {\n  user = "ectest-no-such-user"\n}')
    r = subprocess.run([procs.find_binary("ecmta"), "--config", node.config_path, "--root",
                        node.root, "--foreground", "--node-name", "n1"],
                       capture_output=True, text=True, timeout=60)
    out = r.stdout + r.stderr
    assert r.returncode != 0, out
    assert "ectest-no-such-user" in out and "ecelerity.conf:" in out, out
    assert "install-user.sh" in out, out


def test_eccmgr_and_ecconfigd_drop_too(world, nobody):
    root = world / "manager"
    (root / "etc").mkdir(parents=True)
    (root / "run").mkdir()
    bus_port = procs.free_port("127.0.0.1")
    http_port = procs.free_port("127.0.0.1")
    conf = root / "etc" / "eccluster.conf"
    conf.write_text(f"""Security {{ user = "nobody" }}
Control_Listener {{ Listen "{root}/run/eccmgr.sock" {{ }} }}
status_http_listen = "127.0.0.1:{http_port}"
msgc_server {{ peers = [ manager = "127.0.0.1" ] port = {bus_port} curve = false }}
""")
    mgr = procs.Process([procs.find_binary("eccmgr"), "--config", str(conf), "--root", str(root),
                         "--foreground", "--node-name", "manager"], str(world / "eccmgr.out"))
    try:
        procs.wait_for(lambda: procs.port_open("127.0.0.1", http_port) or not mgr.alive(),
                       timeout=20, what="eccmgr to serve HTTP")
        assert mgr.alive(), mgr.log()
        # ZeroMQ's I/O threads exist by now: they were started after the drop.
        assert assert_dropped(mgr.pid, nobody, 0) >= 3
    finally:
        mgr.stop()

    seed = world / "seed"
    (seed / "default").mkdir(parents=True)
    (seed / "global").mkdir()
    (seed / "default" / "ecelerity.conf").write_text('hostname = "x"\n')
    port_file = root / "run" / "ecconfigd.port"
    cfgd = procs.Process([procs.find_binary("ecconfigd"), "--foreground", "--root", str(root),
                          "--seed", str(seed), "--listen", "127.0.0.1", "--port", "0",
                          "--port-file", str(port_file), "--config", str(conf),
                          "--bus-config", str(conf), "--node-name", "manager"],
                         str(world / "ecconfigd.out"))
    try:
        procs.wait_for(lambda: port_file.exists() or not cfgd.alive(), timeout=30,
                       what="ecconfigd to listen")
        assert cfgd.alive(), cfgd.log()
        procs.wait_for(lambda: "announcing revisions" in cfgd.log() or not cfgd.alive(),
                       timeout=10, what="ecconfigd to join the bus")
        assert_dropped(cfgd.pid, nobody, 0)
        assert (root / "ecconfigd" / "server.key").stat().st_uid == nobody.pw_uid
    finally:
        cfgd.stop()
