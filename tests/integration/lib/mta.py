"""An ecmta node in a temporary root for integration tests.

    with MtaNode(tmp_path, listener_options='relay_hosts = ( "127.0.0.0/8" )') as node:
        smtplib.SMTP(node.host, node.port)...
        node.console("summary")

The node's config is written from the keyword arguments; the daemon runs in the foreground,
is found through EC_BINARY_DIR and is stopped by PID.
"""
import os
import re
import signal
import subprocess
import textwrap

from . import console as console_client
from . import procs

# Security { } for daemons that must keep root in tests (their tmp dirs are root-only).
NO_PRIVILEGE_DROP = 'Security { user = "" }'


class MtaNode:
    def __init__(self, tmp_path, host="127.0.0.1", port=None, global_options="",
                 listener_options="", listen_options="", extra_config="", node_name="n1",
                 netns=None, security=None):
        """`netns`: run inside that network namespace (lib/netns.py); host is then an address
        of that namespace and port defaults to 25 (the namespace is the node's own)."""
        self.root = str(tmp_path / f"root-{node_name}")
        self.host = host
        self.netns = netns
        self.port = port or (25 if netns else procs.free_port(host))
        self.node_name = node_name
        os.makedirs(os.path.join(self.root, "etc"), exist_ok=True)
        self.config_path = os.path.join(self.root, "etc", "ecelerity.conf")
        # No nameserver: outbound DNS fails (transiently) instead of leaving loopback; a test
        # that wants DNS sets its own resolv_conf (lib/dnsmasq.py) in global_options.
        self.resolv_conf = os.path.join(self.root, "etc", "resolv.conf")
        with open(self.resolv_conf, "w") as f:
            f.write("# no nameserver: tests never query DNS outside 127.0.0.0/8\n")
        self.global_options = global_options
        self.listener_options = listener_options
        self.listen_options = listen_options
        self.extra_config = extra_config
        # pytest's tmp dirs are root-only (0700): the daemon stays root unless a test asks.
        self.security = security if security is not None else NO_PRIVILEGE_DROP
        self.write_config()
        self.process = None

    # -- configuration -------------------------------------------------------------------
    def write_config(self, **changes):
        for k, v in changes.items():
            setattr(self, k, v)
        text = textwrap.dedent(f"""\
            # written by tests/integration/lib/mta.py
            spoolbase = "{self.root}/spool"
            pidfile = "{self.root}/run/ecmta.pid"
            resolv_conf = "{self.resolv_conf}"
            {self.global_options}
            {self.security}
            ESMTP_Listener {{
              Listen "{self.host}:{self.port}" {{
                {self.listen_options}
              }}
              {self.listener_options}
            }}
            {self.extra_config}
            """)
        with open(self.config_path, "w") as f:
            f.write(text)

    # -- process -------------------------------------------------------------------------
    def start(self, wait=True):
        argv = [procs.find_binary("ecmta"), "--config", self.config_path, "--root", self.root,
                "--foreground", "--node-name", self.node_name]
        self.process = procs.Process(argv, os.path.join(self.root, "ecmta.out"),
                                     netns=self.netns)
        if wait:
            # The SMTP socket opens a moment before the console's: wait for both, so a test
            # that talks to the console at once does not race it (seen under ASan). Connect to
            # the console, not just see its file: after a kill -9 the old one is still there.
            procs.wait_for(lambda: (procs.port_open(self.host, self.port, self.netns) and
                                    procs.unix_socket_open(self.socket_path)) or
                           (not self.process.alive() and self._died()),
                           timeout=20, what=f"ecmta to listen on {self.host}:{self.port}")
            self._died()
        return self

    def _died(self):
        if self.process and not self.process.alive():
            raise RuntimeError("ecmta exited:\n" + self.process.log())
        return False

    def stop(self):
        if self.process:
            return self.process.stop()

    def kill9(self):
        self.process.kill9()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- looking at it -------------------------------------------------------------------
    @property
    def socket_path(self):
        return os.path.join(self.root, "run", "ec_console.sock")

    def console(self, command, check=True):
        rc, out = console_client.run(self.socket_path, command, timeout=30)
        if check and rc != 0:
            raise RuntimeError(f"ec_console {command!r} failed ({rc}): {out}")
        return out

    def summary_value(self, label):
        """The first number after 'label:' in `summary`."""
        text = self.console("summary")
        m = re.search(re.escape(label) + r":\D*(\d+)", text)
        return int(m.group(1)) if m else None

    def log_path(self, name):
        return os.path.join(self.root, "log", name)

    def log_lines(self, name):
        try:
            with open(self.log_path(name)) as f:
                return [line.rstrip("\n") for line in f]
        except FileNotFoundError:
            return []

    def mainlog_receptions(self):
        return [l.split("@") for l in self.log_lines("mainlog.ec") if "@R@" in l]

    def spool_dump(self):
        """[(queue_id, message_id_header, body_bytes)] of every message in the spool."""
        r = subprocess.run([procs.find_binary("ec_spool"), "--spoolbase",
                            os.path.join(self.root, "spool"), "list", "--header", "Message-ID"],
                           capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise RuntimeError("ec_spool failed: " + r.stderr)
        out = []
        for line in r.stdout.splitlines():
            parts = line.split("\t")
            out.append(tuple(parts))
        return out
