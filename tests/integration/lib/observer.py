"""The observer: watches DuraVIPs from a third namespace the way a client on the LAN sees them.

Run as a child process inside the observer namespace (Observer below does that):

    ip netns exec <obs> python3 observer.py --iface eth1 --source 198.18.0.250 \\
        --vip 198.18.0.100 --vip 198.18.0.101 --out samples.jsonl

Every --period (20 ms), for each VIP:
  (a) ARP (one thread per VIP): one ARP request for the VIP, broadcast on the interface through
      an AF_PACKET socket; every reply (an ARP reply from the VIP to our address) that arrives
      within --arp-window (15 ms) of sending is collected; the sample records the set of
      distinct sender MACs.
  (b) SMTP (one asyncio loop for all VIPs): --connections (2) new TCP connections to VIP:port,
      each reading the 220 line and recording the host name it names. New attempts start on
      time whatever is still pending (an attempt whose SYN went to a dead owner waits up to
      --timeout, 1 s), so the cadence, and the resolution of a takeover time, hold during an
      outage.
A sniffer thread also records every ARP announcement for a VIP (gratuitous ARP: a request or
reply whose sender and target IP are both the VIP) with the sender MAC.

Output, one JSON object per line, flushed as it goes (times are CLOCK_MONOTONIC seconds, the
same clock as time.monotonic() in the test process):
  {"kind":"start","t":..,"mac":..,"vips":[..]}
  {"kind":"sample","vip":..,"t":<ARP sent>,"macs":[..]}
  {"kind":"banner","vip":..,"tick":n,"t0":<connect started>,"t":<220 read>,"host":..|"error":..}
  {"kind":"announce","vip":..,"t":..,"mac":..,"op":1|2}
  {"kind":"stop","t":..}

The invariants checked at the end of a test (check() below), precisely:
  I1 (one MAC): no sample holds replies from two different MACs for its VIP. A stale reply from
     an earlier request cannot leak in: a reply counts only if it arrives within the window
     after this sample's request, and samples of one VIP are >= period apart (> window).
  I2 (one banner at a time): for one VIP, no two successful banners that name different hosts
     were read less than `window` (default: the period, 20 ms) apart. This covers both
     connections of one tick (within one sample) and banners of neighbouring ticks that fall
     inside one 20 ms window.
The detector is proven in tests/integration/duravip/test_failover_bed.py: two namespaces given
the same address by hand do produce an I1 violation.

Observer.start() first makes the observer namespace a client that believes the newest ARP at
once (neigh locktime 0, arp_accept 1), so banner times measure DuraVIP, not Linux's 1 s lock
on a freshly confirmed neighbour entry.

The invariant checks and the readers are plain functions of the JSON lines, so they are unit
tested without any network.
"""
import argparse
import asyncio
import json
import os
import signal
import socket
import struct
import sys
import threading
import time

ETH_P_ARP = 0x0806
PACKET_OUTGOING = 4
BROADCAST = b"\xff" * 6


# -- the probe (runs in the observer namespace) ------------------------------------------------
def mac_bytes(text):
    return bytes(int(x, 16) for x in text.split(":"))


def mac_text(raw):
    return ":".join(f"{b:02x}" for b in raw)


def arp_request(src_mac, src_ip, target_ip):
    eth = BROADCAST + src_mac + struct.pack("!H", ETH_P_ARP)
    arp = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, src_mac, socket.inet_aton(src_ip),
                      b"\x00" * 6, socket.inet_aton(target_ip))
    return eth + arp


def gratuitous_arp(src_mac, ip):
    """An RFC 5227 ARP announcement: a broadcast request with sender = target = ip."""
    eth = BROADCAST + src_mac + struct.pack("!H", ETH_P_ARP)
    addr = socket.inet_aton(ip)
    return eth + struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, src_mac, addr, b"\x00" * 6,
                             addr)


def parse_arp(frame):
    """(op, sender mac, sender ip, target ip) of an Ethernet ARP frame, or None."""
    if len(frame) < 42 or frame[12:14] != b"\x08\x06":
        return None
    htype, ptype, hlen, plen, op = struct.unpack("!HHBBH", frame[14:22])
    if htype != 1 or ptype != 0x0800 or hlen != 6 or plen != 4:
        return None
    sha = frame[22:28]
    spa = socket.inet_ntoa(frame[28:32])
    tpa = socket.inet_ntoa(frame[38:42])
    return op, mac_text(sha), spa, tpa


class Probe:
    def __init__(self, args):
        self.args = args
        self.vips = list(args.vip)
        self.lock = threading.Lock()
        self.replies = {v: [] for v in self.vips}  # vip -> [(t, mac)] answers to us
        self.out = open(args.out, "a", buffering=1)
        self.stopping = threading.Event()
        self.in_flight = 0  # banner attempts pending (event-loop thread only)
        with open(f"/sys/class/net/{args.iface}/address") as f:
            self.mac = f.read().strip()
        self.sniff_sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW,
                                        socket.htons(ETH_P_ARP))
        self.sniff_sock.bind((args.iface, ETH_P_ARP))
        self.sniff_sock.settimeout(0.05)

    def emit(self, obj):
        line = json.dumps(obj, separators=(",", ":"))
        with self.lock:
            self.out.write(line + "\n")

    def sniff(self):
        while not self.stopping.is_set():
            try:
                frame, addr = self.sniff_sock.recvfrom(2048)
            except socket.timeout:
                continue
            except OSError:
                if self.stopping.is_set():
                    return
                time.sleep(0.01)  # e.g. the interface went away for a moment
                continue
            t = time.monotonic()
            if addr[2] == PACKET_OUTGOING:
                continue
            a = parse_arp(frame)
            if not a:
                continue
            op, sha, spa, tpa = a
            if spa not in self.replies:
                continue
            if op == 2 and tpa == self.args.source:
                with self.lock:
                    r = self.replies[spa]
                    r.append((t, sha))
                    if len(r) > 256:
                        del r[:128]
            elif tpa == spa:  # gratuitous ARP (RFC 5227 announcement), request or reply
                self.emit({"kind": "announce", "vip": spa, "t": t, "mac": sha, "op": op})

    async def banner(self, vip, tick, loop):
        """One connection: connect, read the 220 line, reset. Emits a banner record."""
        t0 = time.monotonic()
        rec = {"kind": "banner", "vip": vip, "tick": tick, "t0": t0}
        s = socket.socket()
        try:
            s.setblocking(False)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            await asyncio.wait_for(loop.sock_connect(s, (vip, self.args.port)), self.args.timeout)
            data = b""
            deadline = t0 + self.args.timeout
            while b"\n" not in data:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise asyncio.TimeoutError()
                chunk = await asyncio.wait_for(loop.sock_recv(s, 512), left)
                if not chunk:
                    break
                data += chunk
            rec["t"] = time.monotonic()
            line = data.split(b"\n")[0].decode(errors="replace").rstrip("\r")
            words = line.split()
            if len(words) >= 2 and words[0] == "220":
                rec["host"] = words[1]
            else:
                rec["error"] = f"no 220: {line[:60]!r}"
        except (OSError, asyncio.TimeoutError) as e:
            rec["t"] = time.monotonic()
            rec["error"] = type(e).__name__
        finally:
            s.close()  # SO_LINGER 0: a reset, no TIME_WAIT piling up on our side
            self.in_flight -= 1
        self.emit(rec)

    async def banner_loop(self):
        """Every period, `connections` new attempts per VIP, however many are still pending
        (an attempt to a dead owner waits up to --timeout), so the cadence holds in outages."""
        loop = asyncio.get_running_loop()
        period = self.args.period
        start = time.monotonic()
        end = start + self.args.duration
        tasks = set()
        tick = 0
        while not self.stopping.is_set() and time.monotonic() < end:
            for vip in self.vips:
                for _ in range(self.args.connections):
                    if self.in_flight >= self.args.max_in_flight:
                        self.emit({"kind": "banner", "vip": vip, "tick": tick,
                                   "t0": time.monotonic(), "t": time.monotonic(),
                                   "error": "skipped: too many attempts pending"})
                        continue
                    self.in_flight += 1
                    t = asyncio.ensure_future(self.banner(vip, tick, loop))
                    tasks.add(t)
                    t.add_done_callback(tasks.discard)
            tick += 1
            await asyncio.sleep(max(0.0, start + tick * period - time.monotonic()))
        if tasks:
            await asyncio.wait(tasks, timeout=self.args.timeout + 1)

    def arp_loop(self, vip):
        send = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
        send.bind((self.args.iface, 0))
        request = arp_request(mac_bytes(self.mac), self.args.source, vip)
        period, window = self.args.period, self.args.arp_window
        start = time.monotonic()
        end = start + self.args.duration
        n = 0
        while not self.stopping.is_set() and time.monotonic() < end:
            t = time.monotonic()
            try:
                send.send(request)
                sent_error = None
            except OSError as e:  # our own link is down: record the gap
                sent_error = type(e).__name__
            self.stopping.wait(max(0.0, t + window - time.monotonic()))
            with self.lock:
                macs = sorted({m for (rt, m) in self.replies[vip] if t <= rt <= t + window})
            sample = {"kind": "sample", "vip": vip, "t": t, "macs": macs}
            if sent_error:
                sample["arp_error"] = sent_error
            self.emit(sample)
            n += 1
            # Fixed cadence; if we fell behind (a stall), start again from now.
            next_t = start + n * period
            if next_t < time.monotonic():
                start, n = time.monotonic(), 0
                next_t = start
            self.stopping.wait(max(0.0, next_t - time.monotonic()))
        send.close()

    def run(self):
        self.emit({"kind": "start", "t": time.monotonic(), "mac": self.mac, "vips": self.vips,
                   "period": self.args.period, "arp_window": self.args.arp_window,
                   "connections": self.args.connections, "timeout": self.args.timeout,
                   "pid": os.getpid()})
        threads = [threading.Thread(target=self.sniff, daemon=True)]
        threads += [threading.Thread(target=self.arp_loop, args=(v,), daemon=True)
                    for v in self.vips]
        for t in threads:
            t.start()
        asyncio.run(self.banner_loop())
        self.stopping.set()
        for t in threads:
            t.join(timeout=2)
        self.emit({"kind": "stop", "t": time.monotonic()})
        self.out.close()


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--iface", default="eth1")
    p.add_argument("--source", required=True, help="our own address on the interface")
    p.add_argument("--vip", action="append", required=True)
    p.add_argument("--port", type=int, default=25)
    p.add_argument("--period", type=float, default=0.02)
    p.add_argument("--arp-window", type=float, default=0.015)
    p.add_argument("--connections", type=int, default=2)
    p.add_argument("--timeout", type=float, default=1.0,
                   help="per banner attempt (connect and 220)")
    p.add_argument("--max-in-flight", type=int, default=400)
    p.add_argument("--duration", type=float, default=600, help="stop by itself after this")
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)
    probe = Probe(args)
    signal.signal(signal.SIGTERM, lambda *_: probe.stopping.set())
    signal.signal(signal.SIGINT, lambda *_: probe.stopping.set())
    probe.run()


# -- reading and checking the record (runs in the test process) ---------------------------------
def read_records(path):
    out = []
    try:
        with open(path) as f:
            for line in f:
                if line.endswith("\n"):
                    out.append(json.loads(line))
    except FileNotFoundError:
        pass
    return out


def node_of(host):
    """The node a banner host names: `node2.duravip.test` -> node2."""
    return host.split(".")[0] if host else None


def one_mac_violations(records):
    """I1: samples whose ARP replies came from more than one MAC."""
    return [r for r in records if r.get("kind") == "sample" and len(r["macs"]) > 1]


def banner_violations(records, window=None):
    """I2: pairs (a, b) of successful banners for one VIP read less than `window` seconds apart
    that name different hosts. `window` defaults to the observer's sampling period."""
    if window is None:
        starts = [r for r in records if r.get("kind") == "start"]
        window = starts[0]["period"] if starts else 0.02
    by_vip = {}
    for b in banners(records):
        if "host" in b:
            by_vip.setdefault(b["vip"], []).append((b["t"], b["host"]))
    out = []
    for vip, seen in by_vip.items():
        seen.sort()
        for i in range(1, len(seen)):
            # Any pair closer than the window with different hosts has such a pair among
            # neighbours in time order, so checking neighbours is enough.
            (ta, ha), (tb, hb) = seen[i - 1], seen[i]
            if ha != hb and tb - ta < window:
                out.append({"vip": vip, "a": [ta, ha], "b": [tb, hb]})
    return out


def check(records, window=None, names=None):
    """Every invariant violation, as text lines (empty when all hold); `names` {mac: name}
    writes MACs as the names of their namespaces."""
    names = names or {}
    lines = []
    for r in one_mac_violations(records):
        who = [names.get(m, m) for m in r["macs"]]
        lines.append(f"I1 two MACs for {r['vip']} in one sample at t={r['t']:.3f}: {who}")
    for v in banner_violations(records, window):
        lines.append(f"I2 {v['vip']}: banner {v['a'][1]} at {v['a'][0]:.3f} and {v['b'][1]} at "
                     f"{v['b'][0]:.3f}")
    return lines


def banners(records, vip=None, since=None):
    """Banner attempts (successful or not) for `vip`, read at or after `since`."""
    return [r for r in records if r.get("kind") == "banner" and (vip is None or r["vip"] == vip)
            and (since is None or r["t"] >= since)]


def samples(records, vip=None, since=None):
    return [r for r in records if r.get("kind") == "sample" and (vip is None or r["vip"] == vip)
            and (since is None or r["t"] >= since)]


def first_banner(records, vip, since, host_pred):
    """The time of the first banner for `vip` read at or after `since` whose node matches
    host_pred(node), or None."""
    times = [b["t"] for b in banners(records, vip, since)
             if "host" in b and host_pred(node_of(b["host"]))]
    return min(times) if times else None


def first_arp(records, vip, since, mac_pred):
    """The time of the first ARP reply sample for `vip` at or after `since` whose only MAC
    satisfies mac_pred, or None."""
    for r in samples(records, vip, since):
        if r["macs"] and all(mac_pred(m) for m in r["macs"]):
            return r["t"]
    return None


def announcements(records, vip=None, since=None):
    return [r for r in records if r.get("kind") == "announce" and
            (vip is None or r["vip"] == vip) and (since is None or r["t"] >= since)]


def banner_nodes(records, vip, since=None, until=None):
    """[(t, node)] of every successful banner for `vip` in [since, until]."""
    return sorted((b["t"], node_of(b["host"])) for b in banners(records, vip, since)
                  if "host" in b and (until is None or b["t"] <= until))


class Observer:
    """Runs observer.py in the bed's observer namespace; read its record while it runs.

        with Observer(bed, ["198.18.0.100"], tmp_path / "obs.jsonl") as obs:
            ...
            assert obs.check() == []
    """

    def __init__(self, bed, vips, out_path, name="observer", period=0.02, arp_window=0.015,
                 connections=2, timeout=1.0, fast_neighbours=True, duration=600):
        self.bed = bed
        self.vips = list(vips)
        self.out_path = str(out_path)
        self.name = name
        self.period = period
        self.args = ["--iface", "eth1", "--source", bed.address(name), "--out", self.out_path,
                     "--period", str(period), "--arp-window", str(arp_window),
                     "--connections", str(connections), "--timeout", str(timeout),
                     "--duration", str(duration)]
        for v in self.vips:
            self.args += ["--vip", v]
        self.fast_neighbours = fast_neighbours
        self.process = None

    def start(self):
        from . import procs
        if self.fast_neighbours:
            # The observer is a client that believes the newest ARP at once: no 1 s lock on a
            # freshly updated neighbour entry, and gratuitous ARP may create entries, so the
            # times measured are DuraVIP's, not the client's neighbour-cache policy.
            self.bed.sysctl(self.name, "net/ipv4/neigh/eth1/locktime", 0)
            self.bed.sysctl(self.name, "net/ipv4/conf/eth1/arp_accept", 1)
        argv = [sys.executable, os.path.abspath(__file__)] + self.args
        self.process = procs.Process(argv, self.out_path + ".log", netns=self.bed.netns(self.name))
        procs.wait_for(lambda: any(r.get("kind") == "sample" for r in self.records()) or
                       self._died(), timeout=10, what="the observer's first sample")
        self._died()
        return self

    def _died(self):
        if self.process and not self.process.alive():
            raise RuntimeError("observer exited:\n" + self.process.log())
        return False

    def stop(self):
        if self.process:
            self.process.stop(timeout=5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def records(self):
        return read_records(self.out_path)

    def check(self, window=None, names=None):
        return check(self.records(), window, names)

    def now(self):
        return time.monotonic()

    def wait_banner(self, vip, node, since, timeout=10):
        """Waits until the observer read a banner naming `node` on `vip` after `since`."""
        from . import procs
        return procs.wait_for(
            lambda: first_banner(self.records(), vip, since, lambda n: n == node),
            timeout=timeout, interval=0.05, what=f"the observer to see {node}'s banner on {vip}")

    def summary(self):
        recs = self.records()
        b = banners(recs)
        ok = sum(1 for r in b if "host" in r)
        return (f"{len(samples(recs))} ARP samples, {len(b)} banner attempts ({ok} answered), "
                f"{len(announcements(recs))} announcements, {len(check(recs))} violations")


if __name__ == "__main__":
    main()
