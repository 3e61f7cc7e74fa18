"""An ecmta cluster on a private segment of network namespaces, for DuraVIP tests and the
takeover benchmark.

    with NetnsCluster(tmp_path, vips=VIPS) as c:      # bed + eccmgr + node1..3, converged
        c.wait_single_owner("198.18.0.100", "node1")
        c.owner("198.18.0.100")                       # from the kernel: who has the address
        c.show("node2")                               # parsed `cluster duravip show`

Built from lib/netns.py (the namespaces), lib/cluster.py (LocalCluster: keys, msgc_server.conf,
eccmgr and the ecmta nodes, here each in its own namespace with its 198.18.0.x address on the
bus) and lib/mta.py. Each node's banner host name is `<node>.duravip.test` (global `hostname`),
so a 220 line names the node that answered. With `vips` every node carries the same DuraVIP
config (ARCHITECTURE.md §3): a Listen per VIP, optional bindings, and the cluster Topology on
eth1; with vips=None the nodes are plain ecmta (the test bed's own self-test).

Ground truth for "who owns an address" is the kernel: the namespaces whose eth1 carries it.
"""
import json
import os
import re

from . import procs
from .cluster import LocalCluster, console
from .netns import Testbed
from .sink import SMTP_SINK, SmtpSink, have_smtp_sink

SUBNET_CIDR = "198.18.0.0/24"
BANNER_DOMAIN = "duravip.test"
BUS_PORT = 4809

# The DuraVIP config of the issue: .100 prefers node1; .101 is a listener and binding pool-a.
DEFAULT_VIPS = [
    {"address": "198.18.0.100", "preference": "node1"},
    {"address": "198.18.0.101"},
]
DEFAULT_BINDINGS = {"pool-a": "198.18.0.101"}


def duravip_config(vips, bindings):
    """(listener_options, extra_config, cluster_options) text for the DuraVIPs."""
    listens = []
    for v in vips:
        pref = f' Duravip_Preference = "{v["preference"]}"' if v.get("preference") else ""
        listens.append(f'Listen "{v["address"]}:25" {{ Enable_Duravip = true{pref} }}')
    binds = [f'Binding "{name}" {{ Bind_Address = "{addr}"  Enable_Duravip = true }}'
             for name, addr in (bindings or {}).items()]
    return "\n".join(listens), "\n".join(binds), \
        f'Topology "{SUBNET_CIDR}" {{ interface = "eth1"  cidrmask = "24" }}'


SHOW_LINE = re.compile(
    r"^(?P<address>\d+\.\d+\.\d+\.\d+) owner (?P<owner>\S+)(?P<here> \*)? elected (?P<elected>\S+)"
    r" preference (?P<preference>\S+) \((?P<owned>\w+), (?P<safe>\w+)\)(?P<rest>.*)$")


def parse_show(text):
    """{address: {...}} from `cluster duravip show` (mta/cluster/duravip_module.cc Show())."""
    out = {}
    for line in text.splitlines():
        m = SHOW_LINE.match(line.strip())
        if not m:
            continue
        d = m.groupdict()
        rest = d.pop("rest")
        d["holders"] = [] if d["owner"] == "-" else d["owner"].split(",")
        d["here"] = bool(d["here"])
        d["conflict"] = " conflict" in rest
        d["broken"] = " BROKEN" in rest
        d["unsafe"] = d["safe"] == "UNSAFE"
        out[d["address"]] = d
    return out


class NetnsCluster:
    def __init__(self, tmp_path, nodes=3, vips=None, bindings=None, heartbeat=0.1,
                 dead_timeout=0.6, request_timeout=1.0, view_mature_time=1,
                 view_balance_interval=2, cluster_options="", extra_config="",
                 node_extra=None, listener_extra="", bed=None):
        """`vips`: [{"address": .., "preference": node}] DuraVIP listeners on every node
        (None: plain nodes); `bindings` {name: address} DuraVIP bindings; `extra_config` goes
        into every node's ecelerity.conf, `node_extra(name)` into one node's, `listener_extra`
        into every node's ESMTP_Listener."""
        self.bed = bed or Testbed(nodes=nodes)
        self.own_bed = bed is None
        self.vips = [v["address"] for v in (vips or [])]
        self.vip_config = vips or []
        self.heartbeat = heartbeat
        self.dead_timeout = dead_timeout
        cluster_opts = cluster_options
        listen_text, binding_text = "", ""
        if vips or bindings:
            listen_text, binding_text, topology = duravip_config(vips or [], bindings)
            cluster_opts = f"{topology}\n  view_balance_interval = {view_balance_interval}\n" \
                           f"  {cluster_options}"

        def node_options(name):
            return {
                "global_options": f'hostname = "{name}.{BANNER_DOMAIN}"',
                "listener_options": 'relay_hosts = ( "127.0.0.0/8" "198.18.0.0/24" )\n' +
                                    listen_text + "\n" + listener_extra,
                "extra_config": binding_text + "\n" + extra_config + "\n" +
                                (node_extra(name) if node_extra else ""),
            }

        self.tmp_path = tmp_path
        self.cluster_args = dict(
            nodes=nodes, heartbeat=heartbeat, dead_timeout=dead_timeout,
            request_timeout=request_timeout, view_mature_time=view_mature_time,
            cluster_options=cluster_opts, bus_port=BUS_PORT, node_options=node_options,
            addresses={n: m.address for n, m in self.bed.members.items() if n != "observer"},
            netns={n: m.netns for n, m in self.bed.members.items()})
        self.cluster = None

    # -- lifecycle ---------------------------------------------------------------------------
    def create(self, start=True):
        """Builds the bed (if it is ours), writes every config and starts the cluster."""
        try:
            if self.own_bed:
                self.bed.create()
            self.cluster = LocalCluster(self.tmp_path, **self.cluster_args)
            if start:
                self.cluster.start()
                self.cluster.wait_converged(timeout=30)
        except BaseException:
            self.destroy()
            raise
        return self

    def destroy(self):
        try:
            if self.cluster:
                self.cluster.stop()
        finally:
            if self.own_bed:
                self.bed.destroy()

    def __enter__(self):
        return self.create()

    def __exit__(self, *exc):
        self.destroy()

    @property
    def names(self):
        return self.cluster.names

    @property
    def nodes(self):
        return self.cluster.nodes

    @property
    def manager(self):
        return self.cluster.manager

    def node(self, name):
        return self.cluster.nodes[name]

    def alive(self, name):
        p = self.node(name).process
        return p is not None and p.alive()

    def kill9(self, name):
        self.node(name).kill9()

    def restart(self, name):
        self.node(name).start()

    # -- looking -------------------------------------------------------------------------------
    def console(self, name, command, timeout=10):
        if name == "manager":
            return console(self.manager.socket_path, command, timeout)
        return console(self.node(name).socket_path, command, timeout)

    def show(self, name):
        """Parsed `cluster duravip show` of a node, or None if it does not answer."""
        rc, out = self.console(name, "cluster duravip show")
        return parse_show(out) if rc == 0 else None

    def health(self, name):
        rc, out = self.console(name, "cluster health")
        return json.loads(out) if rc == 0 else None

    def holders(self, vip):
        """Members (nodes, manager, observer) whose eth1 carries `vip` right now."""
        return self.bed.holders(vip)

    def owner(self, vip):
        """The one node whose namespace carries `vip`, or None if none or several do."""
        h = self.holders(vip)
        return h[0] if len(h) == 1 else None

    def claims(self, vip, names=None):
        """Nodes whose `cluster duravip show` marks `vip` as held here (`*`)."""
        out = []
        for n in names or self.live_names():
            s = self.show(n)
            if s and vip in s and s[vip]["here"]:
                out.append(n)
        return out

    def live_names(self):
        return [n for n in self.names if self.alive(n)]

    def single_owner(self, vip, expect=None, names=None):
        """The owner if exactly one namespace carries `vip`, exactly that node claims it in
        its console, and it is `expect` (when given); else None."""
        h = self.holders(vip)
        if len(h) != 1 or (expect and h[0] != expect):
            return None
        return h[0] if self.claims(vip, names) == h else None

    def wait_single_owner(self, vip, expect=None, timeout=15, names=None):
        return procs.wait_for(lambda: self.single_owner(vip, expect, names), timeout=timeout,
                              interval=0.05,
                              what=f"exactly one owner of {vip}" + (f" ({expect})" if expect
                                                                     else ""))

    def wait_all_owned(self, timeout=20, names=None):
        """Waits until every VIP has exactly one owner; returns {vip: owner}."""
        def ok():
            out = {}
            for v in self.vips:
                o = self.single_owner(v, names=names)
                if not o:
                    return None
                out[v] = o
            return out
        return procs.wait_for(ok, timeout=timeout, interval=0.1, what="one owner for every VIP")

    def banner(self, host, port=25, via="observer", timeout=1.0):
        """The 220 line `via` (a member) reads from host:port."""
        return self.bed.banner(via, host, port, timeout)

    def banner_node(self, host, port=25, via="observer", timeout=1.0):
        line = self.banner(host, port, via, timeout)
        if not line or not line.startswith("220 "):
            return None
        return line.split()[1].split(".")[0]

    def logs(self, name):
        return self.node(name).process.log() if self.node(name).process else ""

    def submit(self, node, messages):
        """Gives `node` the (recipient, subject) `messages` in one SMTP session on its own
        address, from the observer's namespace; every reply must be the expected one."""
        s = self.bed.connect("observer", self.bed.address(node), 25, timeout=10)
        f = s.makefile("rb")

        def cmd(line, expect):
            if line is not None:
                s.sendall(line.encode() + b"\r\n")
            reply = f.readline().decode()
            while reply[3:4] == "-":
                reply = f.readline().decode()
            assert reply.startswith(expect), (line, reply)

        with s:
            cmd(None, "220")
            cmd("HELO client.test", "250")
            for rcpt, subject in messages:
                cmd("MAIL FROM:<a@client.test>", "250")
                cmd(f"RCPT TO:<{rcpt}>", "250")
                cmd("DATA", "354")
                cmd(f"Subject: {subject}\r\nMessage-ID: <{subject}@client.test>\r\n\r\n"
                    "hello\r\n.", "250")
            cmd("QUIT", "221")


class NetnsSmtpSink(SmtpSink):
    """Postfix's smtp-sink (lib/sink.py SmtpSink) listening inside a member's namespace.
    .client_addresses() gives the client address of every message (its X-Client-Addr)."""

    def __init__(self, tmp_path, bed, member="observer", port=2525, name="sink"):
        super().__init__(tmp_path, host=bed.address(member), port=port, name=name)
        self.bed = bed
        self.member = member

    def start(self):
        user = os.environ.get("USER") or __import__("pwd").getpwuid(os.getuid()).pw_name
        argv = [SMTP_SINK, "-u", user, "-d", os.path.join(self.dir, "%M."),
                f"{self.host}:{self.port}", str(self.backlog)]
        self.process = procs.Process(argv, self.dir + ".log", netns=self.bed.netns(self.member))
        procs.wait_for(lambda: procs.port_open(self.host, self.port, self.bed.netns(self.member)),
                       timeout=10, what="smtp-sink to listen")
        return self

    def messages(self):
        """[(client address, text)] of every message received so far."""
        out = []
        for path in sorted(self.files()):
            with open(path, errors="replace") as f:
                text = f.read()
            m = re.search(r"^X-Client-Addr: (\S+)", text, re.M)
            out.append((m.group(1) if m else None, text))
        return out

    def client_addresses(self):
        return [a for a, _ in self.messages()]
