"""A dnsmasq on loopback serving fixed MX and A records for outbound tests.

    with Dnsmasq(tmp_path, mx=[("mx.test", "mx1.mx.test", 10)],
                 hosts=[("mx1.mx.test", "127.0.0.1")]) as dns:
        dns.resolv_conf  -> a resolv.conf naming 127.0.0.1:<port> for ecmta's resolv_conf

It never forwards (--no-resolv), reads no /etc/hosts, answers only on 127.0.0.1:<port>, and
answers NXDOMAIN itself for any other name under .test (--local=/test/).
"""
import os
import shutil
import socket

from . import procs
from .sink import ManagedProcess

DNSMASQ = shutil.which("dnsmasq") or "/usr/sbin/dnsmasq"


def have_dnsmasq():
    return os.access(DNSMASQ, os.X_OK)


def free_udp_port(host="127.0.0.1"):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class Dnsmasq(ManagedProcess):
    def __init__(self, tmp_path, mx=(), hosts=(), host="127.0.0.1", port=None):
        self.host = host
        self.port = port or free_udp_port(host)
        self.dir = str(tmp_path / "dnsmasq")
        os.makedirs(self.dir, exist_ok=True)
        self.mx = list(mx)
        self.hosts = list(hosts)
        self.resolv_conf = os.path.join(self.dir, "resolv.conf")
        with open(self.resolv_conf, "w") as f:
            f.write(f"nameserver {self.host}:{self.port}\noptions timeout:1 attempts:2\n")
        self.process = None

    def start(self):
        argv = [DNSMASQ, "--no-daemon", f"--port={self.port}", f"--listen-address={self.host}",
                "--bind-interfaces", "--no-resolv", "--no-hosts", "--no-poll",
                "--conf-file=/dev/null", "--pid-file=", "--user=" + _user(), "--log-queries",
                f"--local=/test/"]
        for domain, target, pref in self.mx:
            argv.append(f"--mx-host={domain},{target},{pref}")
        for name, ip in self.hosts:
            argv.append(f"--host-record={name},{ip}")
        self.process = procs.Process(argv, os.path.join(self.dir, "dnsmasq.log"))
        procs.wait_for(self._answers, timeout=10, what="dnsmasq to answer")
        return self

    def _answers(self):
        if not self.process.alive():
            raise RuntimeError("dnsmasq exited:\n" + self.process.log())
        # A minimal query for "." type SOA; any reply means the server is up.
        q = b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x06\x00\x01"
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(0.2)
            try:
                s.sendto(q, (self.host, self.port))
                s.recvfrom(512)
                return True
            except OSError:
                return False



def _user():
    import pwd
    return pwd.getpwuid(os.getuid()).pw_name
