"""Log aggregation on a LocalCluster: each node journals its mainlog and rejectlog
(`cluster://...=>master`) and serves them on its own ECCluster_Listener; eccmgr's Logs scope
pulls them into <manager root>/log/eccluster/%Y/%m/%d/%{l}/%{s}/%{n}.

    cluster = LocalCluster(tmp_path, nodes=3)
    configure_logs(cluster)
    with cluster: ...
        manager_lines(cluster, "node1", "mainlog")
"""
import glob
import os

from .cluster import free_port_on

RELAY = 'relay_hosts = ( "127.0.0.0/8" )'


def configure_logs(cluster):
    port = free_port_on(list(cluster.addresses.values()))
    for node in cluster.nodes.values():
        logdir = os.path.join(node.root, "log")
        node.extra_config += f"""
ec_logger "ec_logger" {{
  mainlog = "{logdir}/mainlog.ec"
  rejectlog = "{logdir}/rejectlog.ec"
}}
ec_logger "ec_logger_cluster" {{
  mainlog = "cluster://{logdir}/mainlog.cluster=>master"
  rejectlog = "cluster://{logdir}/rejectlog.cluster=>master"
}}
ECCluster_Listener {{
  Listen "{node.host}:{port}" {{ }}
}}
"""
        node.listener_options = RELAY
        node.write_config()
    with open(cluster.manager.config_path, "a") as f:
        f.write(f"""
Logs {{
  logfile = "{cluster.manager.root}/log/eccluster/%Y/%m/%d/%{{l}}/%{{s}}/%{{n}}"
  eccluster_port = {port}
}}
""")
    return port


def node_lines(node, log="mainlog"):
    return [l for l in node.log_lines(log + ".ec") if l]


def manager_files(cluster, name, log="mainlog"):
    return sorted(glob.glob(os.path.join(cluster.manager.root, "log", "eccluster", "*", "*",
                                         "*", log, "*", name)))


def manager_lines(cluster, name, log="mainlog"):
    out = []
    for path in manager_files(cluster, name, log):
        with open(path) as f:
            out.extend(l.rstrip("\n") for l in f if l.strip())
    return out
