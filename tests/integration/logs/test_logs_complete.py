"""Complete logs: acctlog, MTA nodes only, Logs scopes, a second manager, config reload.

Two ecmta nodes journal all five logs for two subscribers (`=>master?subscribers=mgr2`) and
offer SMTP AUTH; two eccmgr (`manager` and `mgr2`) collect them. One cluster for the module:
- an SMTP AUTH writes Momentum's acctlog record (`ts@N@listener@peer@user@1`) on the node, and
  the record reaches both managers under <date of the line>/acctlog/default/<node>;
- console logins on node1's TCP console write N records and the commands Z records
  (`ts@Z@listener@peer@user@1@command@role`), unix-socket and bus-relayed commands too;
- node2's cluster.boot names subcluster `east`: it joins `ec_sc_east` and its lines are filed
  under .../mainlog/east/node2 (`%{s}`), node1's under default;
- a manager pulls only the MTA nodes (members of the control group): the other manager on the
  bus is never pulled, so its log has no collection errors about it;
- `mgr2` reads its own subscriber (Momentum's default: its own name, then master);
- `config reload` on mgr2 applies a new `Logs { Manager "mgr2" { Node "node2" { subscriber = ( ) } } }`
  without a restart: mgr2 stops pulling node2.
"""
import base64
import os
import shutil
import smtplib
import subprocess
import sys
import time

import pytest

from lib import procs
from lib.cluster import LocalCluster, ManagerNode, free_port_on, keygen

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "mta"))
from tls_files import client_context, self_signed_cert  # noqa: E402

MGR2 = "127.0.0.11"
CONSOLE_PASSWORD = "ecA console pw"
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
    # node2 belongs to subcluster east, as `eccfg bootstrap --clustername east` would write.
    with open(os.path.join(c.nodes["node2"].root, "etc", "cluster.boot"), "w") as f:
        f.write("cluster_name=east\nnode_name=node2\n")
    # node1 also has a TCP console with a login (its N and Z records).
    users = tmp / "console_users"
    c.console_tcp = None
    if shutil.which("openssl"):
        hashed = subprocess.run(["openssl", "passwd", "-6", "-stdin"], input=CONSOLE_PASSWORD,
                                capture_output=True, text=True, check=True).stdout.strip()
        users.write_text(f"admin:{hashed}\n")
        c.console_tcp = f"{c.nodes['node1'].host}:{procs.free_port(c.nodes['node1'].host)}"
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
        if node.node_name == "node1" and c.console_tcp:
            node.extra_config += f"""
Control_Listener {{
  Listen "{c.console_tcp}" {{ }}
  AuthLoginParameters = [ uri = "file://{users}" ]
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


def test_console_logins_and_commands_write_acctlog(cluster):
    if not cluster.console_tcp:
        pytest.skip("needs openssl for the console user's password hash")
    node, tcp = cluster.nodes["node1"], cluster.console_tcp
    ec_console = procs.find_binary("ec_console")

    def run(password, command):
        return subprocess.run([ec_console, "--user", "admin", tcp, command],
                              capture_output=True, text=True, timeout=30,
                              env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                                   "EC_CONSOLE_PASSWORD": password})
    assert run("wrong", "summary").returncode != 0
    r = run(CONSOLE_PASSWORD, "summary")
    assert r.returncode == 0, r.stdout + r.stderr
    node.console("version")  # the unix socket: the peer's uid is the user
    cluster.manager.console("unicast node1 summary")  # relayed over the bus by a control peer

    def acct(kind):
        return [l.split("@") for l in node.log_lines("acctlog.ec") if f"@{kind}@" in l]
    procs.wait_for(lambda: len(acct("N")) >= 2 and any(f[6] == "version" for f in acct("Z")) and
                   any(f[2].startswith("msgc:") for f in acct("Z")),
                   timeout=10, interval=0.1, what="the console's acctlog records on node1")
    logins = [f for f in acct("N") if f[2] == tcp]
    assert [(f[4], f[5]) for f in logins] == [("admin", "0"), ("admin", "1")], logins
    assert all(f[3].startswith("127.") and f[3] != tcp and len(f) == 6 for f in logins), logins
    commands = acct("Z")
    assert [tcp, "admin", "1", "summary", ""] in [f[2:3] + f[4:8] for f in commands], commands
    unix = [f for f in commands if f[6] == "version"]
    assert unix and unix[0][2] == node.socket_path and unix[0][3] == "", unix
    assert unix[0][4] == f"uid:{os.geteuid()}" and unix[0][5] == "1", unix
    relayed = [f for f in commands if f[2] == "msgc:ec_console"]
    assert [f[3:] for f in relayed] == [[cluster.addresses["manager"], "msgc:manager", "1",
                                         "summary", ""]], relayed
    # Aggregated like every acctlog line, under the node's subcluster.
    line = "@".join(logins[-1])
    procs.wait_for(lambda: any(line in ls for ls in
                               aggregated(cluster.manager.root, "acctlog", "node1").values()),
                   timeout=20, interval=0.2, what="the console login record on the manager")


def test_a_node_of_subcluster_east_is_filed_under_east(cluster):
    node = cluster.nodes["node2"]
    assert "ec_sc_east" in node.console("cluster info")
    with smtplib.SMTP(node.host, node.port, timeout=10) as s:
        s.sendmail("carol@example.org", ["dave@example.net"], "Subject: east\r\n\r\nbody\r\n")
    received = lambda: [l for l in node.log_lines("mainlog.ec") if "@R@dave@example.net@" in l]
    procs.wait_for(received, timeout=10, interval=0.1, what="the reception on node2")
    line = received()[0]
    day = time.strftime("%Y/%m/%d", time.gmtime(int(line.split("@")[0])))
    procs.wait_for(lambda: any(line in ls for ls in
                               aggregated(cluster.manager.root, "mainlog", "node2").values()),
                   timeout=20, interval=0.2, what="node2's reception on the manager")
    files = aggregated(cluster.manager.root, "mainlog", "node2")
    assert line in files.get(f"{day}/mainlog/east/node2", []), files
    assert not any("/default/" in path for path in files), files
    assert all("/default/" in path for path in aggregated(cluster.manager.root, "mainlog",
                                                          "node1")), "node1 stays in default"
    assert "subcluster east" in status(cluster.manager)


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
