"""A node joins a running cluster with the printed enrolment command: eccmgr (127.0.0.10) and
ecmta node1 run, their msgc_server.conf and keys come from a working copy of ecconfigd's
repository; `ecconfigd enroll node2` prints the command, the test runs it (curl | tar xz into
node2's temp root, eccfg enrol), the members pull the new revision and `config reload` (what
ecmta's ec_config puller does; cluster/test_config_notice.py covers that trigger), node2 starts
and is ALIVE on eccmgr with nobody restarted. Prints command -> ALIVE and command -> SMTP 220.
"""
import os
import shutil
import socket
import subprocess
import time

import pytest

from config_env import ECCFG, ECCONFIGD, needs_ecmta, wait_for
from lib import procs
from lib.cluster import LocalCluster
from lib.mta import MtaNode
from test_enrol import Manager

pytestmark = needs_ecmta


def smtp_banner(host, port):
    try:
        with socket.create_connection((host, port), timeout=2) as s:
            return s.recv(512).startswith(b"220")
    except OSError:
        return False


def test_enrolled_node_is_alive_without_restarts(tmp_path):
    site = tmp_path / "site"
    c = LocalCluster(site, nodes=1, heartbeat=0.1, dead_timeout=1.0, request_timeout=1.0)
    # eccmgr's dashboard files (unused here), while eccmgr requires the option.
    web = site / "root-manager" / "share" / "web"
    web.mkdir(parents=True)
    with open(c.manager.config_path, "a") as f:
        f.write('status_http_web_root = "%s"\n' % web)
    conf = site / "conf"
    # The members' shared conf becomes ecconfigd's seed and then a working copy at the same path.
    seed = tmp_path / "seed"
    shutil.move(str(conf), str(seed))
    (seed / "default").mkdir()
    (seed / "default" / "ecelerity.conf").write_text('Domain "enrol.test" { EHLO_Hostname = "x" }\n')
    mgr_root = tmp_path / "cfg"
    (mgr_root / "seed").parent.mkdir(parents=True)
    shutil.copytree(seed, mgr_root / "seed")
    m = Manager.__new__(Manager)
    node2 = None
    try:
        # Manager() writes its own seed; reuse its start with ours instead.
        m.root = mgr_root
        m.state = mgr_root / "mgr" / "ecconfigd"
        port_file = mgr_root / "port"
        m.log = open(mgr_root / "ecconfigd.log", "a")
        m.daemon = subprocess.Popen(
            [str(ECCONFIGD), "--foreground", "--root", str(mgr_root / "mgr"), "--state-dir",
             str(m.state), "--seed", str(mgr_root / "seed"), "--listen", "127.0.0.1",
             "--port", "0", "--port-file", str(port_file)], stdout=m.log,
            stderr=subprocess.STDOUT)
        m.port = int(wait_for(lambda: port_file.exists() and port_file.read_text().strip(),
                              what="ecconfigd to listen"))
        r = subprocess.run([str(ECCFG), "bootstrap", "--wc", str(conf), "--repo",
                            "127.0.0.1:%d" % m.port, "--cert", str(m.state / "server.crt"),
                            "--secret-file", str(m.state / "cluster.secret"),
                            "--validate", "none", "--reload", "none"],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        c.start()
        c.wait_converged(["node1"])
        pids = [c.manager.process.pid, c.nodes["node1"].process.pid]

        node2 = MtaNode(site, host="127.0.0.3", node_name="node2",
                        listener_options='relay_hosts = ( "127.0.0.0/8" )',
                        # Found on the search path (<root>/etc/conf/global): the validator
                        # reads it from the new checkout.
                        extra_config='include "msgc_server.conf"\ncluster { view_mature_time = 1.0 '
                        'control_peers = ( "manager" ) }\n')
        _, command = m.enroll("node2", "--address", "127.0.0.3")
        command = command.replace("/opt/ecmta/bin/eccfg", str(ECCFG)).replace(
            "/opt/ecmta", node2.root)
        started = time.monotonic()
        r = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stdout + r.stderr
        enrolled = time.monotonic()
        # The existing members pull the new revision and reload their bus (no restart).
        reload = " && ".join("%s %s 'config reload'" % (procs.find_binary("ec_console"), s)
                             for s in (c.manager.socket_path, c.nodes["node1"].socket_path))
        r = subprocess.run([str(ECCFG), "pull", "--wc", str(conf), "--validate", "none",
                            "--reload", reload], capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stdout + r.stderr
        node2.start(wait=False)
        procs.wait_for(lambda: c.manager_view().get("node2") == "ALIVE", timeout=20,
                       interval=0.05, what="node2 ALIVE on eccmgr")
        alive = time.monotonic()
        procs.wait_for(lambda: smtp_banner(node2.host, node2.port), timeout=20, interval=0.05,
                       what="node2 to greet with 220")
        smtp = time.monotonic()
        print("\nenrol command %.3f s; command -> ALIVE on eccmgr %.3f s; command -> SMTP 220 "
              "%.3f s" % (enrolled - started, alive - started, smtp - started))
        assert [c.manager.process.pid, c.nodes["node1"].process.pid] == pids
        assert c.manager.process.alive() and c.nodes["node1"].process.alive()
        assert "added=node2" in c.manager.log()
        c.nodes["node2"] = node2
        c.names.append("node2")
        c.wait_converged(["node1", "node2"])
    finally:
        if node2 is not None:
            node2.stop()
        c.stop()
        if getattr(m, "daemon", None) is not None:
            m.stop()
