"""Console authentication and relayed-command authorization, with real eccmgr and ecmta nodes.

(a) eccmgr's TCP console: a local non-root user (`nobody`, via setpriv) without credentials
    cannot `broadcast shutdown`; a wrong password is refused; the right one runs `version`.
(b) the unix socket gets the configured File_Mode and group: `nobody` without the group cannot
    connect, with it can.
(c) a keyed bus member that is not a control peer ("manager2") relays `broadcast shutdown`:
    every node refuses it, logs the refusal with the sender, and stays up; the real manager's
    `broadcast summary` still works.
"""
import os
import re
import shutil
import subprocess

import pytest

from lib import procs
from lib.cluster import LocalCluster, ManagerNode, console, free_port_on, keygen
from lib.scratch import scratch_dir

PASSWORD = "correct horse battery"


def need_root_tools():
    if os.geteuid() != 0:
        pytest.skip("needs root to run ec_console as `nobody` (setpriv)")
    for tool in ("setpriv", "openssl"):
        if shutil.which(tool) is None:
            pytest.skip(f"needs {tool}")


def as_nobody(argv, groups=None, env=None):
    """Runs argv as uid nobody, group nogroup and only `groups` besides."""
    extra = ["--groups=" + ",".join(groups)] if groups else ["--clear-groups"]
    r = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", *extra, *argv],
                       capture_output=True, text=True, timeout=60,
                       env={"PATH": "/usr/bin:/bin", **(env or {})})
    return r.returncode, r.stdout + r.stderr


def hashed(password):
    return subprocess.run(["openssl", "passwd", "-6", "-stdin"], input=password,
                          capture_output=True, text=True, check=True).stdout.strip()


def nodes_up(cluster):
    for name, node in cluster.nodes.items():
        assert node.process.alive(), f"{name} exited:\n{node.process.log()}"
        rc, out = console(node.socket_path, "cluster nodename", timeout=10)
        assert rc == 0 and out.strip() == name, out


def test_tcp_console_needs_a_login(tmp_path):
    need_root_tools()
    users = tmp_path / "console_users"
    users.write_text(f"# ectest console users\nadmin:{hashed(PASSWORD)}\n")
    c = LocalCluster(tmp_path, nodes=2, heartbeat=0.1, dead_timeout=1.0, request_timeout=0.5)
    port = free_port_on([c.manager.host])
    tcp = f"{c.manager.host}:{port}"
    conf = open(c.manager.config_path).read()
    listen = f'Listen "{c.manager.socket_path}" {{ }}'
    assert listen in conf
    conf = conf.replace(listen, listen + f'\n  Listen "{tcp}" {{ }}\n'
                        f'  AuthLoginParameters = [ uri = "file://{users}" ]')
    open(c.manager.config_path, "w").write(conf)
    ec_console = procs.find_binary("ec_console")
    try:
        c.start()
        c.wait_converged()
        # No credentials: nothing runs, every node stays up.
        rc, out = as_nobody([ec_console, tcp, "broadcast shutdown"])
        assert rc != 0 and "not logged in" in out, out
        rc, out = as_nobody([ec_console, tcp, "broadcast", "shutdown"])
        assert rc != 0, out
        nodes_up(c)
        # A wrong password is refused, and nothing runs after it.
        rc, out = as_nobody([ec_console, "--user", "admin", tcp, "broadcast shutdown"],
                            env={"EC_CONSOLE_PASSWORD": "wrong"})
        assert rc != 0 and "login failed" in out, out
        nodes_up(c)
        # The right one works (a harmless command).
        rc, out = as_nobody([ec_console, "--user", "admin", tcp, "version"],
                            env={"EC_CONSOLE_PASSWORD": PASSWORD})
        assert rc == 0 and out.startswith("eccmgr "), out
        log = c.manager.log()
        assert re.search(r"console login failed.*user=admin", log), log[-2000:]
        assert PASSWORD not in log and "wrong" not in re.findall(r"login.*", log).__str__()
    finally:
        c.stop()
    # Without AuthLoginParameters the same TCP listener is refused, with file:line.
    open(c.manager.config_path, "w").write(conf.replace(
        f'  AuthLoginParameters = [ uri = "file://{users}" ]', ""))
    r = subprocess.run([procs.find_binary("eccmgr"), "--config", c.manager.config_path,
                        "--root", c.manager.root, "--check-config"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode != 0, r.stdout
    assert re.search(re.escape(c.manager.config_path) + r":\d+:\d+: .*AuthLoginParameters",
                     r.stdout + r.stderr), r.stdout + r.stderr


def test_unix_socket_mode_and_group(tmp_path):
    need_root_tools()
    # The socket lives in a directory `nobody` may traverse (pytest's tmp dirs are 0700).
    with scratch_dir("ectest-console-", mode=0o755) as sock_dir:
        sock = os.path.join(sock_dir, "eccmgr.sock")
        c = LocalCluster(tmp_path, nodes=1, heartbeat=0.1, dead_timeout=1.0)
        conf = open(c.manager.config_path).read()
        conf = conf.replace(f'Listen "{c.manager.socket_path}" {{ }}',
                            f'Listen "{sock}" {{ File_Mode = "0660" }}\n  group = "adm"')
        open(c.manager.config_path, "w").write(conf)
        c.manager.start()
        try:
            procs.wait_for(lambda: os.path.exists(sock), timeout=20, what="the console socket")
            st = os.stat(sock)
            assert st.st_mode & 0o7777 == 0o660 and st.st_gid == 4, oct(st.st_mode)
            ec_console = procs.find_binary("ec_console")
            rc, out = as_nobody([ec_console, sock, "version"])
            assert rc == 2 and "ermission denied" in out, out
            rc, out = as_nobody([ec_console, sock, "version"], groups=["adm"])
            assert rc == 0 and out.startswith("eccmgr "), out
        finally:
            c.manager.stop()


def test_relayed_commands_only_from_control_peers(tmp_path):
    c = LocalCluster(tmp_path, nodes=2, heartbeat=0.1, dead_timeout=1.0, request_timeout=0.5,
                     extra_peers={"manager2": "127.0.0.11"})
    rogue = ManagerNode(str(tmp_path / "root-manager2"), c.global_dir, name="manager2",
                        host="127.0.0.11", extra="cluster { view_mature_time = 1.0 }")
    keygen(os.path.join(rogue.root, "etc", "msgc.key"),
           os.path.join(c.key_dir, "manager2.pub"))
    try:
        c.start()
        rogue.start()
        c.wait_converged()
        procs.wait_for(lambda: all(re.search(rf"^{n}\s+\S+\s+ALIVE\s",
                                             rogue.console("show cluster membership"), re.M)
                                   for n in c.names),
                       timeout=20, what="manager2 to see every node")
        # ALIVE comes before a member's group joins reach manager2: wait until a harmless
        # broadcast reaches both nodes (they refuse it too: manager2 is no control peer).
        procs.wait_for(lambda: "2 nodes" in rogue.console("broadcast version", check=False),
                       timeout=20, what="manager2 to see both nodes in the control group")
        out = rogue.console("broadcast shutdown", check=False)
        assert "not a control peer" in out, out
        assert "shutting down" not in out, out
        for name, node in c.nodes.items():
            procs.wait_for(lambda: re.search(r"relayed command refused.*from=manager2.*shutdown",
                                             open(node.root + "/ecmta.out").read()),
                           timeout=10, what=f"{name} to log the refusal")
        nodes_up(c)
        out = c.manager.console("broadcast summary")
        for name in c.names:
            assert name in out, out
        assert "not a control peer" not in out, out
        for name, node in c.nodes.items():
            log = open(node.root + "/ecmta.out").read()
            assert re.search(r"relayed command.*from=manager\b", log), name
    finally:
        rogue.stop()
        c.stop()
