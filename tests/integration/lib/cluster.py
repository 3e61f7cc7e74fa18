"""A local cluster for integration tests: ecmta nodes on 127.0.0.2.. and eccmgr on 127.0.0.10,
joined by the msgc bus from one shared conf/global/msgc_server.conf, with CURVE keys made by
ec_msgc_keygen (secret in each root's etc/msgc.key, public in conf/global/msgc_keys/).

    with LocalCluster(tmp_path, nodes=3) as c:
        c.wait_converged()
        print(c.manager.console("broadcast summary"))

Timers are short (test config); every wait polls a condition against a deadline.
"""
import json
import os
import random
import socket
import subprocess
import textwrap
import time
import urllib.request

from . import console as console_client
from . import procs
from .mta import NO_PRIVILEGE_DROP, MtaNode

MANAGER_ADDRESS = "127.0.0.10"


def node_address(i):
    return f"127.0.0.{2 + i}"


def free_port_on(hosts):
    """A port free on every host right now (the bus binds the same port on each address).
    Taken below Linux's ephemeral range, so no outgoing connection grabs it meanwhile."""
    for _ in range(100):
        port = random.randint(20000, 32000)
        ok = True
        for h in hosts:
            with socket.socket() as s:
                try:
                    s.bind((h, port))
                except OSError:
                    ok = False
                    break
        if ok:
            return port
    raise RuntimeError("no port free on " + ", ".join(hosts))


def keygen(secret_path, public_path):
    os.makedirs(os.path.dirname(secret_path), exist_ok=True)
    os.makedirs(os.path.dirname(public_path), exist_ok=True)
    subprocess.run([procs.find_binary("ec_msgc_keygen"), secret_path, public_path], check=True,
                   capture_output=True, timeout=30)


def console(socket_path, command, timeout=30):
    return console_client.run(socket_path, command, timeout)


def smtp_routes(domains, host, port):
    """Domain stanzas routing each domain to smtp://host:port: {name: {option: value text}}."""
    out = []
    for name, options in domains.items():
        opts = "".join(f"  {k} = {v}\n" for k, v in (options or {}).items())
        out.append(f'Domain "{name}" {{\n  Routes = ( "smtp://{host}:{port}" )\n{opts}}}\n')
    return "".join(out)


class ManagerNode:
    def __init__(self, root, global_dir, name="manager", host=MANAGER_ADDRESS, extra="",
                 http_port=None, netns=None):
        """`netns`: run inside that network namespace (lib/netns.py); the HTTP port then
        defaults to 8081 (the namespace is the manager's own)."""
        self.root = root
        self.name = name
        self.host = host
        self.netns = netns
        self.http_port = http_port or (8081 if netns else procs.free_port(host))
        os.makedirs(os.path.join(root, "etc"), exist_ok=True)
        self.config_path = os.path.join(root, "etc", "eccluster.conf")
        with open(self.config_path, "w") as f:
            f.write(textwrap.dedent(f"""\
                # written by tests/integration/lib/cluster.py
                {NO_PRIVILEGE_DROP}
                Control_Listener {{
                  Listen "{self.socket_path}" {{ }}
                }}
                status_http_listen = "{host}:{self.http_port}"
                include "{global_dir}/msgc_server.conf"
                {extra}
                """))
        self.process = None
        self.extra_args = []  # more eccmgr arguments (--log-file ...), set before start()

    @property
    def socket_path(self):
        return os.path.join(self.root, "run", "eccmgr.sock")

    def start(self):
        argv = [procs.find_binary("eccmgr"), "--config", self.config_path, "--root", self.root,
                "--foreground", "--node-name", self.name] + list(self.extra_args)
        self.process = procs.Process(argv, os.path.join(self.root, "eccmgr.out"),
                                     netns=self.netns)
        procs.wait_for(lambda: procs.port_open(self.host, self.http_port, self.netns) or
                       self._died(),
                       timeout=20, what="eccmgr to serve HTTP")
        self._died()
        return self

    def _died(self):
        if self.process and not self.process.alive():
            raise RuntimeError("eccmgr exited:\n" + self.process.log())
        return False

    def stop(self):
        if self.process:
            return self.process.stop()

    def console(self, command, check=True, timeout=30):
        rc, out = console(self.socket_path, command, timeout)
        if check and rc != 0:
            raise RuntimeError(f"ec_console {command!r} on eccmgr failed ({rc}): {out}")
        return out

    def http(self, path):
        if self.netns:
            from .netns import http_get
            return http_get(self.netns, self.host, self.http_port, path)
        with urllib.request.urlopen(f"http://{self.host}:{self.http_port}{path}",
                                    timeout=10) as r:
            return r.status, r.headers.get("Content-Type"), r.read().decode()

    def health(self):
        return json.loads(self.http("/health")[2])

    def log(self):
        return self.process.log() if self.process else ""


class LocalCluster:
    """`nodes` ecmta nodes named node1.. and one eccmgr named manager."""

    def __init__(self, tmp_path, nodes=3, heartbeat=0.1, dead_timeout=0.6, request_timeout=1.0,
                 health_interval=0.5, view_mature_time=1.0, curve=True, extra_peers=None,
                 cluster_options="", addresses=None, netns=None, bus_port=None,
                 node_options=None, node_config="", bind_outbound=False,
                 control_peers=("manager",)):
        """`extra_peers` {name: address} are bus members the test starts itself (ecconfigd);
        `cluster_options` go into every node's `cluster { }`.

        For a cluster in network namespaces (lib/netns.py Testbed): `addresses` {member:
        address} replaces the loopback addresses (nodes and "manager"), `netns` {member:
        namespace} runs each member in its own namespace, `bus_port` fixes the bus port (the
        root namespace cannot probe those addresses for a free one), and `node_options`
        (name -> {MtaNode keyword: value}) adds per-node settings: `global_options`,
        `listener_options` and `port` replace the defaults, `extra_config` is appended after
        the cluster lines.

        `node_config` (text, or name -> text) is appended to every node's config, e.g.
        smtp_routes() to a sink; with `bind_outbound` each node's default binding sends from
        the node's own address (global bind_address), so a receiver tells the nodes apart."""
        self.tmp_path = tmp_path
        self.global_dir = str(tmp_path / "conf" / "global")
        self.key_dir = os.path.join(self.global_dir, "msgc_keys")
        self.names = [f"node{i + 1}" for i in range(nodes)]
        self.addresses = {n: node_address(i) for i, n in enumerate(self.names)}
        self.addresses["manager"] = MANAGER_ADDRESS
        self.addresses.update(addresses or {})
        self.addresses.update(extra_peers or {})
        self.netns = dict(netns or {})
        self.bus_port = bus_port or free_port_on(list(self.addresses.values()))
        self.dead_timeout = dead_timeout
        self.heartbeat = heartbeat
        self.request_timeout = request_timeout
        self.health_interval = health_interval
        os.makedirs(self.key_dir, exist_ok=True)
        peers = "\n".join(f'    {n} = "{a}"' for n, a in self.addresses.items())
        with open(os.path.join(self.global_dir, "msgc_server.conf"), "w") as f:
            f.write(f"""# written by tests/integration/lib/cluster.py
msgc_server {{
  peers = [
{peers}
  ]
  port = {self.bus_port}
  heartbeat_interval = {heartbeat}
  dead_timeout = {dead_timeout}
  request_timeout = {request_timeout}
  health_report_interval = {health_interval}
  curve = {"true" if curve else "false"}
}}
""")
        self.nodes = {}
        # `control_peers`: the managers the nodes answer (a second eccmgr among extra_peers).
        peers_list = " ".join(f'"{p}"' for p in control_peers)
        for i, name in enumerate(self.names):
            opts = dict((node_options or (lambda n: {}))(name) or {})
            extra = opts.pop("extra_config", "")
            kwargs = {"listener_options": 'relay_hosts = ( "127.0.0.0/8" )'}
            if bind_outbound:
                kwargs["global_options"] = f'bind_address = "{self.addresses[name]}"'
            kwargs.update(opts)
            shared = node_config(name) if callable(node_config) else node_config
            node = MtaNode(tmp_path, host=self.addresses[name], node_name=name,
                           netns=self.netns.get(name),
                           extra_config=f'include "{self.global_dir}/msgc_server.conf"\n'
                           f'cluster {{ view_mature_time = {view_mature_time} control_peers = ( {peers_list} ) '
                           f'{cluster_options} }}'
                           f'\n{shared}\n{extra}', **kwargs)
            if curve:
                keygen(os.path.join(node.root, "etc", "msgc.key"),
                       os.path.join(self.key_dir, name + ".pub"))
            self.nodes[name] = node
        self.manager = ManagerNode(str(tmp_path / "root-manager"), self.global_dir,
                                   host=self.addresses["manager"],
                                   netns=self.netns.get("manager"),
                                   extra=f"cluster {{ view_mature_time = {view_mature_time} }}")
        if curve:
            keygen(os.path.join(self.manager.root, "etc", "msgc.key"),
                   os.path.join(self.key_dir, "manager.pub"))

    # -- processes -------------------------------------------------------------------------
    def start(self):
        self.manager.start()
        for node in self.nodes.values():
            node.start()
        return self

    def stop(self):
        for node in self.nodes.values():
            if node.process and node.process.alive():
                node.process.signal(18)  # SIGCONT, in case a test stopped it
            node.stop()
        self.manager.stop()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- looking at it -----------------------------------------------------------------------
    def node_health(self, name):
        """The node's own JSON health record (`cluster health`), or None if it does not answer."""
        rc, out = console(self.nodes[name].socket_path, "cluster health", timeout=10)
        if rc != 0:
            return None
        return json.loads(out)

    def manager_view(self):
        """{member: bus_state} as eccmgr sees it."""
        return {m["member"]: m["bus_state"] for m in self.manager.health()["members"]}

    def converged(self, names=None):
        names = names or self.names
        expected = len(names) + 1
        for n in names:
            h = self.node_health(n)
            if not h or h["members_alive"] < expected:
                return False
        health = self.manager.health()
        alive = {m["member"] for m in health["members"]
                 if m["bus_state"] == "ALIVE" and m["healthy"]}
        return set(names) <= alive

    def wait_converged(self, names=None, timeout=20):
        return procs.wait_for(lambda: self.converged(names), timeout=timeout, interval=0.1,
                              what="cluster membership to converge")
