"""Complete logs: acctlog, MTA nodes only, Logs scopes, a second manager, config reload.

Two ecmta nodes journal all five logs for two subscribers (`=>master?subscribers=mgr2`) and
offer SMTP AUTH; two eccmgr (`manager` and `mgr2`) collect them. One cluster for the module:
- an SMTP AUTH writes Momentum's acctlog record (`ts@N@listener@peer@user@1`) on the node, and
  the record reaches both managers under <date of the line>/acctlog/default/<node>;
- a manager pulls only the MTA nodes (members of the control group): the other manager on the
  bus is never pulled, so its log has no collection errors about it;
- `mgr2` reads its own subscriber (Momentum's default: its own name, then master);
- `config reload` on mgr2 applies a new `Logs { Manager "mgr2" { Node "node2" { subscriber = ( ) } } }`
  without a restart: mgr2 stops pulling node2.
"""
import base64
import os
import smtplib
import sys
import time

import pytest

from lib import procs
from lib.cluster import LocalCluster, ManagerNode, free_port_on, keygen

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "mta"))
from tls_files import client_context, self_signed_cert  # noqa: E402

MGR2 = "127.0.0.11"
LOGS = ("mainlog", "rejectlog", "paniclog", "acctlog")


def logs_scope(root, port, extra=""):
    # status_http_web_root: set while eccmgr requires it (the dashboard's files, unused here).
    return f"""
status_http_web_root = "{root}/share/web"
Logs {{
  logfile = "{root}/log/eccluster/%Y/%m/%d/%{{l}}/%{{s}}/%{{n}}"
  eccluster_port = {port}
{extra}}}
"""


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ecA-logs")
    cert, key = self_signed_cert(tmp)
    passwd = tmp / "passwd"
    passwd.write_text("alice:wonderland\n")
    c = LocalCluster(tmp, nodes=2, extra_peers={"mgr2": MGR2},
                     control_peers=("manager", "mgr2"))
    port = free_port_on(list(c.addresses.values()))
    for node in c.nodes.values():
        d = os.path.join(node.root, "log")
        journals = "".join(f'  {l} = "cluster://{d}/{l}.cluster=>master?subscribers=mgr2"\n'
                           for l in LOGS)
        locals_ = "".join(f'  {l} = "{d}/{l}.ec"\n' for l in LOGS)
        node.extra_config += f"""
ec_logger "ec_logger" {{
{locals_}}}
ec_logger "ec_logger_cluster" {{
{journals}}}
bounce_logger "bounce_logger_cluster" {{
  bouncelog = "cluster://{d}/bouncelog.cluster=>master?subscribers=mgr2"
}}
ECCluster_Listener {{
  Listen "{node.host}:{port}" {{ }}
}}
"""
        node.listener_options = f'''relay_hosts = ( "127.0.0.0/8" )
        tls_certificate = "{cert}"
        tls_key = "{key}"
        authplainparameters = [ uri = "file://{passwd}" ]'''
        node.write_config()
    with open(c.manager.config_path, "a") as f:
        f.write(logs_scope(c.manager.root, port))
    mgr2 = ManagerNode(str(tmp / "root-mgr2"), c.global_dir, name="mgr2", host=MGR2,
                       extra="cluster { view_mature_time = 1.0 }")
    keygen(os.path.join(mgr2.root, "etc", "msgc.key"), os.path.join(c.key_dir, "mgr2.pub"))
    with open(mgr2.config_path, "a") as f:
        f.write(logs_scope(mgr2.root, port))
    c.mgr2, c.port = mgr2, port
    try:
        c.start()
        mgr2.start()
        yield c
    finally:
        # Managers first: a puller waits out its request to a node that is already gone.
        mgr2.stop()
        c.manager.stop()
        c.stop()


def aggregated(manager_root, log, node):
    """{relative path: lines} of every aggregated file of `node`'s `log`."""
    out = {}
    base = os.path.join(manager_root, "log", "eccluster")
    for dirpath, _, files in os.walk(base):
        if node in files and os.path.basename(os.path.dirname(dirpath)) == log:
            path = os.path.join(dirpath, node)
            with open(path) as f:
                out[os.path.relpath(path, base)] = [l.rstrip("\n") for l in f if l.strip()]
    return out


def status(manager):
    return manager.console("logs status")


def test_an_smtp_auth_writes_acctlog_and_both_managers_collect_it(cluster):
    node = cluster.nodes["node1"]
    with smtplib.SMTP(node.host, node.port, timeout=10) as s:
        s.ehlo("client.test")
        s.starttls(context=client_context())
        s.ehlo("client.test")
        code, _ = s.docmd("AUTH", "PLAIN " + base64.b64encode(b"\0alice\0wonderland").decode())
        assert code == 235
        s.sendmail("alice@example.org", ["bob@example.net"], "Subject: acct\r\n\r\nbody\r\n")

    def record():
        return [l for l in node.log_lines("acctlog.ec") if "@N@" in l and "@alice@1" in l]
    procs.wait_for(record, timeout=10, interval=0.1, what="the acctlog record on node1")
    line = record()[0]
    fields = line.split("@")
    assert fields[1] == "N" and fields[2] == f"{node.host}:{node.port}" and fields[4] == "alice"
    assert fields[3].startswith("127."), line
    day = time.strftime("%Y/%m/%d", time.gmtime(int(fields[0])))
    for manager in (cluster.manager, cluster.mgr2):
        procs.wait_for(lambda: any(line in ls for ls in
                                   aggregated(manager.root, "acctlog", "node1").values()),
                       timeout=20, interval=0.2, what=f"the acctlog record on {manager.name}")
        files = aggregated(manager.root, "acctlog", "node1")
        assert list(files) == [f"{day}/acctlog/default/node1"], files
        assert files[f"{day}/acctlog/default/node1"].count(line) == 1


def test_only_mta_nodes_are_pulled(cluster):
    for manager, other in ((cluster.manager, "mgr2"), (cluster.mgr2, "manager")):
        procs.wait_for(lambda: "node2 acctlog" in status(manager), timeout=10, interval=0.2,
                       what=f"{manager.name} to pull node2")
        out = status(manager)
        assert "node1 mainlog" in out and "node2 mainlog" in out, out
        assert other not in out, out
        collection = [l for l in manager.log().splitlines() if "log collection" in l]
        assert not any(other in l for l in collection), collection


def test_second_manager_reads_its_own_subscriber(cluster):
    procs.wait_for(lambda: "node1 acctlog" in status(cluster.mgr2) and
                   "connected as =>mgr2" in status(cluster.mgr2),
                   timeout=10, interval=0.2, what="mgr2 to read =>mgr2")
    out = status(cluster.manager)
    assert "=>mgr2" not in out, out
    shown = cluster.nodes["node1"].console("cluster show logs")
    assert "=>mgr2" in shown and "=>master" in shown, shown


def test_config_reload_applies_new_logs_scopes(cluster):
    mgr2 = cluster.mgr2
    assert "node2 mainlog" in status(mgr2)
    with open(mgr2.config_path) as f:
        text = f.read()
    scope = logs_scope(mgr2.root, cluster.port)
    assert scope in text
    with open(mgr2.config_path, "w") as f:
        f.write(text.replace(scope, logs_scope(
            mgr2.root, cluster.port, '  Manager "mgr2" { Node "node2" { subscriber = ( ) } }\n')))
    assert "reloaded" in mgr2.console("config reload")
    out = status(mgr2)
    assert "node2" not in out and "node1 mainlog" in out, out
    assert "no longer collecting logs of node" in mgr2.log()
    assert "node2 mainlog" in status(cluster.manager)  # the other manager is unaffected
