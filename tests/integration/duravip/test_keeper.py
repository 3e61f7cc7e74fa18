"""ec_duravip_keeper against real netlink, in a network namespace the test makes.

Each test gets a namespace `ecdk-<random>` joined to the test's own namespace by a veth pair: the
inside end has 198.18.200.1/24, the outside end none (it only listens). The keeper runs inside
(`ip netns exec`) with one end of a socketpair as its fd 3, as ecmta starts it; the test speaks
the keeper protocol on the other end and checks the result with `ip -n <ns> addr`:

- add puts the address on the interface; closing the socket takes it off within 200 ms
  (timed with `ip monitor`, which sees the kernel's RTM_DELADDR) and the keeper exits 0;
- a lapsed lease takes it off, the keeper stays, and its next reply says `err expired`;
- kill -9 of the process holding ecmta's end takes it off;
- announce sends gratuitous ARP (sender IP = target IP = VIP, sender MAC = the interface's) and
  an unsolicited neighbour advertisement, seen by a raw AF_PACKET socket on the outside end;
- flush removes an address the keeper did not add; an unknown interface is named in the error;
- without privilege (setpriv to nobody) the errors name CAP_NET_ADMIN and CAP_NET_RAW.

IPv6 addresses are from 2001:db8::/32 and, like the IPv4 ones, never leave the namespace and
its veth pair. Everything made here is removed in every outcome. Needs root; skips otherwise.
"""
import os
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import uuid

import pytest

from lib import procs

IP = shutil.which("ip") or "/usr/sbin/ip"
SETPRIV = shutil.which("setpriv") or "/usr/bin/setpriv"
INSIDE_ADDR = "198.18.200.1/24"
VIP = "198.18.200.100"
VIP_CIDR = VIP + "/24"
VIP6 = "2001:db8:ecd::100"
VIP6_CIDR = VIP6 + "/64"
ETH_P_ARP = 0x0806
ETH_P_IPV6 = 0x86DD

# Runs the keeper with the socket moved to fd 3 (subprocess keeps a passed fd at its number).
TRAMPOLINE = (
    "import os, sys\n"
    "fd = int(sys.argv[1])\n"
    "if fd != 3:\n"
    "    os.dup2(fd, 3)\n"
    "    os.close(fd)\n"
    "os.execv(sys.argv[2], sys.argv[2:])\n"
)


def _problem():
    if os.geteuid() != 0:
        return "needs root to create network namespaces and veth pairs"
    if not os.access(IP, os.X_OK):
        return "iproute2 (ip) missing"
    return None


def _ip(*args, check=True):
    r = subprocess.run([IP, *args], capture_output=True, text=True)
    if check and r.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {r.stderr.strip()}")
    return r


class Net:
    def __init__(self, ns, outside, inside):
        self.ns = ns
        self.outside = outside  # in the test's namespace
        self.inside = inside  # in ns, with INSIDE_ADDR

    def addresses(self):
        """The inside interface's addresses as 'ip/prefix' strings."""
        out = _ip("-n", self.ns, "-o", "addr", "show", "dev", self.inside).stdout
        found = []
        for line in out.splitlines():
            words = line.split()
            for i, w in enumerate(words[:-1]):
                if w in ("inet", "inet6"):
                    found.append(words[i + 1])
        return found

    def address_flags(self, cidr):
        out = _ip("-n", self.ns, "-o", "addr", "show", "dev", self.inside).stdout
        for line in out.splitlines():
            if f" {cidr} " in line:
                return line
        return None

    def inside_mac(self):
        out = _ip("-n", self.ns, "-o", "link", "show", "dev", self.inside).stdout
        words = out.split()
        return bytes.fromhex(words[words.index("link/ether") + 1].replace(":", ""))


@pytest.fixture
def net():
    problem = _problem()
    if problem:
        pytest.skip(problem)
    tag = uuid.uuid4().hex[:6]
    ns, outside, inside = f"ecdk-{tag}", f"ecdk{tag}o", f"ecdk{tag}i"
    r = _ip("netns", "add", ns, check=False)
    if r.returncode != 0:
        pytest.skip(f"cannot create a network namespace: {r.stderr.strip()}")
    try:
        _ip("link", "add", outside, "type", "veth", "peer", "name", inside, "netns", ns)
        # The outside end only listens: no IPv6 of its own, so it sends nothing to confuse us.
        subprocess.run(["sysctl", "-q", "-w", f"net.ipv6.conf.{outside}.disable_ipv6=1"],
                       capture_output=True)
        _ip("link", "set", outside, "up")
        _ip("-n", ns, "link", "set", "lo", "up")
        _ip("-n", ns, "addr", "add", INSIDE_ADDR, "dev", inside)
        _ip("-n", ns, "link", "set", inside, "up")
        yield Net(ns, outside, inside)
    finally:
        _ip("link", "del", outside, check=False)
        _ip("netns", "del", ns, check=False)


class Keeper:
    """ec_duravip_keeper inside the namespace; `sock` is ecmta's end."""

    def __init__(self, net, log_path, unprivileged=False):
        self.log_path = log_path
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        argv = [IP, "netns", "exec", net.ns]
        if unprivileged:
            argv += [SETPRIV, "--reuid", "65534", "--regid", "65534", "--clear-groups"]
        argv += [sys.executable, "-c", TRAMPOLINE, str(theirs.fileno()),
                 procs.find_binary("ec_duravip_keeper"), "--node-name", "ecdk"]
        self._log = open(log_path, "ab")
        self.proc = subprocess.Popen(argv, pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL,
                                     stdout=self._log, stderr=subprocess.STDOUT)
        theirs.close()
        self.sock = ours
        self._buf = b""

    def call(self, line, timeout=5.0):
        self.sock.sendall(line.encode() + b"\n")
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no reply to {line!r}; keeper log:\n{self.log()}")
            ready, _, _ = select.select([self.sock], [], [], left)
            if ready:
                chunk = self.sock.recv(4096)
                if not chunk:
                    raise EOFError(f"keeper closed on {line!r}; keeper log:\n{self.log()}")
                self._buf += chunk
        line_out, self._buf = self._buf.split(b"\n", 1)
        return line_out.decode()

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def wait(self, timeout=5.0):
        return self.proc.wait(timeout=timeout)

    def stop(self):
        """Closes ecmta's end, waits for the keeper, kills it by PID only if it hangs."""
        if self.sock.fileno() >= 0:
            self.sock.close()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)
        self._log.close()


@pytest.fixture
def keepers():
    started = []
    yield started
    for k in started:
        k.stop()


def start(keepers, net, tmp_path, **kw):
    k = Keeper(net, str(tmp_path / f"keeper{len(keepers)}.log"), **kw)
    keepers.append(k)
    return k


class AddressMonitor:
    """`ip -n <ns> monitor address`, each line stamped with time.monotonic() on arrival."""

    def __init__(self, net):
        self.proc = subprocess.Popen([IP, "-n", net.ns, "monitor", "address"],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.lines = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self):
        for raw in self.proc.stdout:
            with self._lock:
                self.lines.append((time.monotonic(), raw.decode(errors="replace")))

    def first(self, pred):
        with self._lock:
            for stamp, line in self.lines:
                if pred(line):
                    return stamp
        return None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=5)
        self._thread.join(timeout=5)


def test_add_then_close_removes_within_200ms(net, keepers, tmp_path):
    monitor = AddressMonitor(net)
    try:
        k = start(keepers, net, tmp_path)
        assert k.call(f"add {VIP_CIDR} {net.inside}") == "ok"
        assert VIP_CIDR in net.addresses()
        assert k.call("held") == f"ok {VIP_CIDR} {net.inside}"
        # The monitor has seen the add, so it is listening before the close.
        procs.wait_for(lambda: monitor.first(lambda l: VIP_CIDR in l and "Deleted" not in l),
                       timeout=5, what="ip monitor to report the add")
        closed = time.monotonic()
        k.sock.close()
        removed = procs.wait_for(
            lambda: monitor.first(lambda l: l.startswith("Deleted") and VIP_CIDR in l),
            timeout=5, what="the address to be deleted")
        assert removed - closed < 0.2, f"took {removed - closed:.3f}s"
        assert VIP_CIDR not in net.addresses()
        assert k.wait() == 0, k.log()
        assert INSIDE_ADDR in net.addresses()  # only what it added
        log = k.log()
        assert "vip added" in log and 'reason="peer closed"' in log, log
    finally:
        monitor.stop()


def test_lease_lapse_removes_and_next_reply_says_expired(net, keepers, tmp_path):
    k = start(keepers, net, tmp_path)
    assert k.call("lease 300") == "ok"
    # The lease runs from the keeper's last message, which it read after we sent the add: take
    # the time before sending (after the reply, a loaded machine saw the lapse 0.26 s later).
    sent = time.monotonic()
    assert k.call(f"add {VIP_CIDR} {net.inside}") == "ok"
    assert VIP_CIDR in net.addresses()
    procs.wait_for(lambda: VIP_CIDR not in net.addresses(), timeout=5,
                   what="the lease to lapse and the address to go")
    assert time.monotonic() - sent >= 0.3
    assert k.proc.poll() is None, "the keeper must stay after a lease lapse"
    reply = k.call(f"add {VIP_CIDR} {net.inside}")
    assert reply.startswith("err expired lease of 300 ms lapsed; removed 1 of 1"), reply
    assert VIP_CIDR not in net.addresses()  # that add was not carried out
    assert k.call("held") == "ok"
    assert k.call("lease 0") == "ok"
    k.sock.close()
    assert k.wait() == 0, k.log()


def test_kill9_of_the_holder_removes_the_address(net, keepers, tmp_path):
    k = start(keepers, net, tmp_path)
    assert k.call(f"add {VIP_CIDR} {net.inside}") == "ok"
    # A stand-in for ecmta holding the only other copy of the socket.
    holder = subprocess.Popen([sys.executable, "-c", "import signal; signal.pause()"],
                              pass_fds=(k.sock.fileno(),))
    try:
        k.sock.close()
        assert VIP_CIDR in net.addresses()
        assert k.proc.poll() is None
        holder.kill()  # SIGKILL, by PID
        holder.wait(timeout=5)
        killed = time.monotonic()
        procs.wait_for(lambda: VIP_CIDR not in net.addresses(), timeout=5,
                       what="the address to go after kill -9")
        assert time.monotonic() - killed < 2.0
        assert k.wait() == 0, k.log()
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait(timeout=5)


def _recv_frames(sock, want, timeout, match):
    """Frames from `sock` for which match(frame) is true, until `want` of them or the timeout."""
    got = []
    deadline = time.monotonic() + timeout
    while len(got) < want:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        ready, _, _ = select.select([sock], [], [], left)
        if ready:
            frame = sock.recv(2048)
            if match(frame):
                got.append(frame)
    return got


def test_announce_sends_gratuitous_arp(net, keepers, tmp_path):
    mac = net.inside_mac()
    vip = socket.inet_aton(VIP)
    with socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ARP)) as sniff:
        sniff.bind((net.outside, ETH_P_ARP))
        k = start(keepers, net, tmp_path)
        assert k.call(f"add {VIP_CIDR} {net.inside}") == "ok"
        assert k.call(f"announce {VIP_CIDR} {net.inside} 3") == "ok"
        frames = _recv_frames(sniff, 3, 5.0, lambda f: len(f) >= 42 and f[28:32] == vip)
    assert len(frames) == 3, f"saw {len(frames)} gratuitous ARPs; keeper log:\n{k.log()}"
    for f in frames:
        assert f[0:6] == b"\xff" * 6  # to everyone
        assert f[6:12] == mac  # from the interface
        assert struct.unpack("!H", f[12:14])[0] == ETH_P_ARP
        htype, ptype, hlen, plen, op = struct.unpack("!HHBBH", f[14:22])
        assert (htype, ptype, hlen, plen, op) == (1, 0x0800, 6, 4, 1)  # ARP request
        assert f[22:28] == mac  # sender MAC
        assert f[28:32] == vip  # sender IP
        assert f[38:42] == vip  # target IP = sender IP
    assert "vip announced" in k.log()


def test_ipv6_add_is_usable_at_once_and_announce_sends_na(net, keepers, tmp_path):
    if not os.path.exists("/proc/sys/net/ipv6"):
        pytest.skip("IPv6 is not available in this kernel")
    mac = net.inside_mac()
    target = socket.inet_pton(socket.AF_INET6, VIP6)

    def is_na(f):
        # Ethernet(14) + IPv6(40): next header ICMPv6 (58), type 136, target = VIP6.
        return (len(f) >= 14 + 40 + 32 and f[12:14] == b"\x86\xdd" and f[20] == 58 and
                f[54] == 136 and f[62:78] == target)

    with socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_IPV6)) as sniff:
        sniff.bind((net.outside, ETH_P_IPV6))
        k = start(keepers, net, tmp_path)
        assert k.call(f"add {VIP6_CIDR} {net.inside}") == "ok"
        flags = net.address_flags(VIP6_CIDR)
        assert flags is not None, net.addresses()
        assert "tentative" not in flags, flags  # IFA_F_NODAD: no duplicate detection wait
        assert k.call(f"announce {VIP6_CIDR} {net.inside} 2") == "ok"
        frames = _recv_frames(sniff, 2, 5.0, is_na)
    assert len(frames) == 2, f"saw {len(frames)} advertisements; keeper log:\n{k.log()}"
    for f in frames:
        assert f[6:12] == mac
        assert f[21] == 255  # hop limit
        assert f[38:54] == socket.inet_pton(socket.AF_INET6, "ff02::1")
        assert f[58] & 0xE0 == 0x20  # Override, not Solicited, not Router
        assert f[78:80] == b"\x02\x01" and f[80:86] == mac  # target link-layer address option
    k.sock.close()
    assert k.wait() == 0, k.log()
    assert VIP6_CIDR not in net.addresses()


def test_flush_del_and_unknown_interface(net, keepers, tmp_path):
    other = "198.18.200.101/24"
    _ip("-n", net.ns, "addr", "add", other, "dev", net.inside)  # as a crashed keeper left it
    k = start(keepers, net, tmp_path)
    assert k.call(f"flush {other} {net.inside}") == "ok removed"
    assert other not in net.addresses()
    assert k.call(f"flush {other} {net.inside}") == "ok absent"
    assert k.call(f"add {VIP_CIDR} {net.inside}") == "ok"
    assert k.call(f"add {VIP_CIDR} {net.inside}") == "ok"  # already there: fine
    assert k.call(f"del {VIP_CIDR} {net.inside}") == "ok"
    assert VIP_CIDR not in net.addresses()
    assert k.call(f"del {VIP_CIDR} {net.inside}") == "ok"  # absent: fine
    reply = k.call(f"add {VIP_CIDR} ecdknosuch0")
    assert reply.startswith("err not_found no network interface named ecdknosuch0"), reply
    assert k.call("add nonsense").startswith("err invalid_argument ")
    assert k.call("held") == "ok"
    assert INSIDE_ADDR in net.addresses()
    k.sock.close()
    assert k.wait() == 0, k.log()


def test_unprivileged_keeper_names_the_capability(net, keepers, tmp_path):
    if not os.access(SETPRIV, os.X_OK):
        pytest.skip("setpriv (util-linux) missing")
    k = start(keepers, net, tmp_path, unprivileged=True)
    reply = k.call(f"add {VIP_CIDR} {net.inside}")
    assert reply == (f"err permission_denied adding {VIP_CIDR} on {net.inside} "
                     "needs CAP_NET_ADMIN"), reply + "\n" + k.log()
    assert VIP_CIDR not in net.addresses()
    reply = k.call(f"announce {VIP_CIDR} {net.inside} 1")
    assert reply.startswith("err permission_denied ") and "CAP_NET_RAW" in reply, reply
    reply = k.call(f"announce {VIP6_CIDR} {net.inside} 1")
    assert reply.startswith("err permission_denied ") and "CAP_NET_RAW" in reply, reply
    k.sock.close()
    assert k.wait() == 0, k.log()
