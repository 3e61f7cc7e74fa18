"""A private Ethernet segment made of network namespaces, for DuraVIP tests.

    bed = Testbed(nodes=3)            # names only; nothing exists yet
    with bed:                         # creates it; removes all of it on the way out
        bed.exec_prefix("node1")      # ["ip", "netns", "exec", "ecdv1a2b3c-n1"]
        bed.banner("observer", "198.18.0.100")
        bed.link_down("node2"); bed.link_up("node2")

Layout (every name starts with `ecdv` plus a random suffix per test bed, so parallel runs and
leftovers of a crashed run never collide with anything else on the host):

    namespace <p>-br   bridge <p>-br, one veth port per member (v-<member>)
    namespace <p>-n<i> node<i>:   eth1 198.18.0.<10+i>/24
    namespace <p>-mg   manager:   eth1 198.18.0.2/24
    namespace <p>-ob   observer:  eth1 198.18.0.250/24

Nothing is created in the root namespace: each veth is made inside the bridge namespace with its
peer placed straight into the member's namespace as eth1. Loopback is up everywhere. Addresses
come from 198.18.0.0/15 (RFC 2544 benchmarking) and never leave these namespaces.

Removal (destroy(): on leaving the `with`, from fixture finalizers, and from atexit for a
KeyboardInterrupt) first SIGKILLs every process still inside one of the bed's namespaces (only
ours can be there: the names are ours), then deletes the namespaces, which takes the veths and
the bridge with them. It is idempotent and never raises.

The test process itself reaches into a namespace without a helper process: socket_in() makes a
socket in a thread that has setns(2)'d into the namespace; the socket stays in that namespace
for its life (connect_in, banner, http_get build on it).
"""
import atexit
import ctypes
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import threading
import time

PREFIX = "ecdv"
SUBNET = "198.18.0"
PREFIX_LEN = 24
NETNS_DIR = "/var/run/netns"
CLONE_NEWNET = 0x40000000


def unavailable_reason():
    """Why the test bed cannot be built here, or None if it can."""
    if os.geteuid() != 0:
        return "DuraVIP network-namespace tests need root (CAP_NET_ADMIN, CAP_SYS_ADMIN)"
    if not shutil.which("ip"):
        return "DuraVIP network-namespace tests need iproute2's `ip`"
    probe = f"{PREFIX}{secrets.token_hex(3)}-probe"
    r = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True, timeout=10)
    if r.returncode != 0:
        return f"`ip netns add` is not available here: {r.stderr.strip()}"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True, timeout=10)
    try:
        libc().setns
    except AttributeError:
        return "libc has no setns(2)"
    return None


def skip_unless_available():
    import pytest
    reason = unavailable_reason()
    if reason:
        pytest.skip(reason)


_libc = None


def libc():
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    return _libc


def ip(*args, check=True, timeout=10):
    """Runs `ip args...`; returns its stdout. Raises with stderr when check and it fails."""
    r = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)} failed ({r.returncode}): {r.stderr.strip()}")
    return r.stdout


def socket_in(netns, family=socket.AF_INET, type=socket.SOCK_STREAM, proto=0):
    """A new socket that lives in network namespace `netns` (a name under /var/run/netns)."""
    result = {}

    def make():
        fd = os.open(os.path.join(NETNS_DIR, netns), os.O_RDONLY | os.O_CLOEXEC)
        try:
            if libc().setns(fd, CLONE_NEWNET) != 0:
                e = ctypes.get_errno()
                raise OSError(e, f"setns({netns}): {os.strerror(e)}")
            result["sock"] = socket.socket(family, type, proto)
        except BaseException as e:  # handed to the caller's thread
            result["error"] = e
        finally:
            os.close(fd)

    # A fresh thread starts in the creating thread's namespace (the root one) and ends after
    # making the socket, so no thread of ours is ever left in a test namespace.
    t = threading.Thread(target=make, daemon=True)
    t.start()
    t.join(timeout=10)
    if "error" in result:
        raise result["error"]
    if "sock" not in result:
        raise TimeoutError(f"could not make a socket in {netns}")
    return result["sock"]


class Member:
    def __init__(self, name, netns, address, port_name):
        self.name = name
        self.netns = netns
        self.address = address
        self.port_name = port_name  # the veth end on the bridge


class Testbed:
    """`nodes` node namespaces (node1..), a manager and an observer on one bridge."""

    def __init__(self, nodes=3, manager=True, observer=True, suffix=None):
        self.suffix = suffix or secrets.token_hex(3)
        self.prefix = f"{PREFIX}{self.suffix}"
        assert len(self.prefix) <= 10, "interface names must stay under 16 characters"
        self.bridge_ns = f"{self.prefix}-br"
        self.bridge = f"{self.prefix}-br"
        self.members = {}
        for i in range(1, nodes + 1):
            self._member(f"node{i}", f"n{i}", f"{SUBNET}.{10 + i}")
        if manager:
            self._member("manager", "mg", f"{SUBNET}.2")
        if observer:
            self._member("observer", "ob", f"{SUBNET}.250")
        self.created = []  # namespaces made so far, in order
        self._atexit = False

    def _member(self, name, short, address):
        self.members[name] = Member(name, f"{self.prefix}-{short}", address, f"v-{short}")

    # -- names -----------------------------------------------------------------------------
    @property
    def node_names(self):
        return [n for n in self.members if n.startswith("node")]

    def netns(self, name):
        return self.members[name].netns

    def address(self, name):
        return self.members[name].address

    def exec_prefix(self, name):
        """argv prefix that runs a command inside the member's namespace."""
        return ["ip", "netns", "exec", self.netns(name)]

    def namespaces(self):
        return [self.bridge_ns] + [m.netns for m in self.members.values()]

    # -- building and removing ---------------------------------------------------------------
    def create(self):
        """Builds the bed; a second call on a built bed does nothing."""
        if self.created:
            return self
        if not self._atexit:
            atexit.register(self.destroy)
            self._atexit = True
        try:
            self._add_ns(self.bridge_ns)
            ip("-n", self.bridge_ns, "link", "add", self.bridge, "type", "bridge",
               "stp_state", "0", "forward_delay", "0")
            ip("-n", self.bridge_ns, "link", "set", self.bridge, "up")
            for m in self.members.values():
                self._add_ns(m.netns)
                ip("-n", self.bridge_ns, "link", "add", m.port_name, "type", "veth", "peer",
                   "name", "eth1", "netns", m.netns)
                ip("-n", self.bridge_ns, "link", "set", m.port_name, "master", self.bridge)
                ip("-n", self.bridge_ns, "link", "set", m.port_name, "up")
                ip("-n", m.netns, "addr", "add", f"{m.address}/{PREFIX_LEN}", "dev", "eth1")
                ip("-n", m.netns, "link", "set", "eth1", "up")
        except BaseException:
            self.destroy()
            raise
        self.wait_links_up()
        return self

    def _add_ns(self, ns):
        ip("netns", "add", ns)
        self.created.append(ns)
        ip("-n", ns, "link", "set", "lo", "up")

    def wait_links_up(self, timeout=10):
        deadline = time.monotonic() + timeout
        for m in self.members.values():
            while not self.link_is_up(m.name):
                if time.monotonic() > deadline:
                    raise TimeoutError(f"eth1 of {m.name} did not come up")
                time.sleep(0.02)

    def pids(self):
        """{namespace: [pid, ...]} of every process inside one of our namespaces."""
        out = {}
        for ns in list(self.created):
            text = ip("netns", "pids", ns, check=False)
            pids = [int(p) for p in text.split() if p.isdigit()]
            if pids:
                out[ns] = pids
        return out

    def destroy(self):
        """Kills what runs inside our namespaces and deletes them. Idempotent, never raises."""
        try:
            for _ in range(50):  # bounded: 50 rounds of at most 0.1 s
                left = [p for pids in self.pids().values() for p in pids]
                if not left:
                    break
                for p in left:
                    try:
                        os.kill(p, signal.SIGKILL)
                    except OSError:
                        pass
                time.sleep(0.1)
            for ns in reversed(self.created):
                ip("netns", "del", ns, check=False)
            self.created = [ns for ns in self.created
                            if os.path.exists(os.path.join(NETNS_DIR, ns))]
        except Exception as e:  # a finalizer must not hide the test's own failure
            print(f"netns: cleanup of {self.prefix} incomplete: {e}")

    def __enter__(self):
        return self.create()

    def __exit__(self, *exc):
        self.destroy()

    # -- the link ------------------------------------------------------------------------------
    def link_down(self, name):
        """Partitions the member: its eth1 goes down (its addresses stay configured)."""
        ip("-n", self.netns(name), "link", "set", "eth1", "down")

    def link_up(self, name):
        ip("-n", self.netns(name), "link", "set", "eth1", "up")

    def link_is_up(self, name):
        info = json.loads(ip("-j", "-n", self.netns(name), "link", "show", "eth1"))
        return bool(info) and "UP" in info[0].get("flags", []) and \
            info[0].get("operstate") in ("UP", "UNKNOWN")

    def mac(self, name):
        info = json.loads(ip("-j", "-n", self.netns(name), "link", "show", "eth1"))
        return info[0]["address"]

    def macs(self):
        """{mac: member name} over every member."""
        return {self.mac(n): n for n in self.members}

    def addresses_on(self, name, dev="eth1"):
        """IPv4 addresses on the member's eth1 right now."""
        info = json.loads(ip("-j", "-n", self.netns(name), "-4", "addr", "show", "dev", dev))
        return [a["local"] for i in info for a in i.get("addr_info", [])]

    def holders(self, address):
        """The members whose eth1 carries `address` right now."""
        return [n for n in self.members if address in self.addresses_on(n)]

    def sysctl(self, name, key, value):
        """Writes /proc/sys/<key> inside the member's namespace (key like net/ipv4/...)."""
        subprocess.run(self.exec_prefix(name) + ["sh", "-c", f"echo {value} > /proc/sys/{key}"],
                       check=True, capture_output=True, timeout=10)

    # -- talking from inside a namespace --------------------------------------------------------
    def connect(self, name, host, port, timeout=1.0, source=None):
        """A TCP connection made from the member's namespace."""
        s = socket_in(self.netns(name))
        try:
            s.settimeout(timeout)
            if source:
                s.bind((source, 0))
            s.connect((host, port))
            return s
        except BaseException:
            s.close()
            raise

    def port_open(self, name, host, port, timeout=0.2):
        try:
            self.connect(name, host, port, timeout=timeout).close()
            return True
        except OSError:
            return False

    def banner(self, name, host, port=25, timeout=1.0):
        """The first line a server at host:port sends to a client in the member's namespace,
        or None if it cannot be reached."""
        try:
            s = self.connect(name, host, port, timeout=timeout)
        except OSError:
            return None
        with s:
            try:
                data = b""
                deadline = time.monotonic() + timeout
                while b"\n" not in data and time.monotonic() < deadline:
                    chunk = s.recv(512)
                    if not chunk:
                        break
                    data += chunk
                try:
                    s.sendall(b"QUIT\r\n")
                except OSError:
                    pass
                return data.split(b"\n")[0].decode(errors="replace").rstrip("\r") or None
            except OSError:
                return None

    def http_get(self, name, host, port, path, timeout=10):
        return http_get(self.netns(name), host, port, path, timeout)


def http_get(netns, host, port, path, timeout=10):
    """(status, content type, body) of GET http://host:port/path made from namespace `netns`."""
    import http.client

    class Conn(http.client.HTTPConnection):
        def connect(self):
            self.sock = socket_in(netns)
            self.sock.settimeout(self.timeout)
            self.sock.connect((self.host, self.port))

    c = Conn(host, port, timeout=timeout)
    try:
        c.request("GET", path)
        r = c.getresponse()
        return r.status, r.getheader("Content-Type"), r.read().decode()
    finally:
        c.close()
