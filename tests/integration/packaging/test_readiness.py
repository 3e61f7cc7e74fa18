"""sd_notify readiness and log rotation against a real ecmta (packaging/, common/daemon/readiness).

One ecmta, started as systemd would start a Type=notify unit: NOTIFY_SOCKET names an AF_UNIX
datagram socket the test binds. READY=1 must arrive once, and only when the SMTP port and the
console socket already accept connections (that is what makes `systemctl start` return when
the daemon really serves). `config reload` on the console (the units' ExecReload) brackets the
reload with RELOADING=1 ... READY=1; the shipped logrotate snippet, run by the real logrotate
on the node's logs, rotates mainlog.ec and its postrotate helper (`reopen logs`) makes ecmta
write the next message to a new mainlog.ec; SIGTERM sends STOPPING=1 before the exit. When
the test runs as root, ecmta drops to the user "nobody" first, as it drops to ecuser under
systemd, so the reports are sent after the drop.
"""
import grp
import os
import pwd
import select
import shutil
import signal
import smtplib
import socket
import subprocess
from pathlib import Path

import pytest

from lib import procs
from lib.scratch import scratch_dir
from lib.mta import MtaNode

SOURCE = Path(os.environ.get("EC_SOURCE_DIR", Path(__file__).resolve().parents[3]))


class NotifySocket:
    """systemd's side of sd_notify: a bound datagram socket and what arrived on it."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        os.chmod(path, 0o777)  # the daemon sends after dropping root, as to /run/systemd/notify

    def receive(self, timeout):
        """The next datagram as text, or None after `timeout` seconds."""
        ready, _, _ = select.select([self.sock], [], [], timeout)
        if not ready:
            return None
        return self.sock.recv(4096).decode()

    def close(self):
        self.sock.close()


@pytest.fixture(scope="module")
def world():
    """A directory every user can traverse (the daemon may run as nobody); removed after."""
    with scratch_dir("ectest-notify-", mode=0o755) as d:
        yield d


@pytest.fixture(scope="module")
def started(world):
    """ecmta started with NOTIFY_SOCKET; yields (node, notify, first datagram, open-at-ready)."""
    security = None
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("nobody")
            security = 'Security {\n  user = "nobody"\n}'
        except KeyError:
            pass
    node = MtaNode(world, listener_options='relay_hosts = ( "127.0.0.0/8" )',
                   security=security)
    notify = NotifySocket(str(world / "notify"))
    os.environ["NOTIFY_SOCKET"] = notify.path
    try:
        node.start(wait=False)
    finally:
        del os.environ["NOTIFY_SOCKET"]
    try:
        first = notify.receive(timeout=30)
        # Checked at once: READY=1 promises both are accepting now.
        open_at_ready = (procs.port_open(node.host, node.port),
                         procs.unix_socket_open(node.socket_path))
        if first is None:
            raise RuntimeError("no sd_notify datagram within 30 s:\n" + node.process.log())
        yield node, notify, first, open_at_ready
    finally:
        node.stop()
        notify.close()


def test_ready_only_once_listening(started):
    node, notify, first, open_at_ready = started
    assert first == "READY=1"
    assert open_at_ready == (True, True), "READY=1 came before the listeners accepted"
    assert notify.receive(timeout=0.3) is None, "more than one report at start"
    if 'user = "nobody"' in open(node.config_path).read():
        status = procs.proc_status(f"/proc/{node.process.pid}/status")
        assert status["Uid"][0] == str(pwd.getpwnam("nobody").pw_uid), status["Uid"]


def test_config_reload_reports_reloading_then_ready(started):
    node, notify, _, _ = started
    assert "reloaded" in node.console("config reload")
    assert notify.receive(timeout=10) == "RELOADING=1"
    assert notify.receive(timeout=10) == "READY=1"
    # A refused reload (the file no longer parses) still ends with READY=1: it keeps serving.
    text = open(node.config_path).read()
    with open(node.config_path, "a") as f:
        f.write("\nthis is not a config\n")
    try:
        out = node.console("config reload", check=False)
        assert "reloaded" not in out, out
        assert notify.receive(timeout=10) == "RELOADING=1"
        assert notify.receive(timeout=10) == "READY=1"
    finally:
        with open(node.config_path, "w") as f:
            f.write(text)
    assert procs.port_open(node.host, node.port)


def send(node, subject):
    with smtplib.SMTP(node.host, node.port, timeout=20) as smtp:
        smtp.sendmail("a@example.test", ["b@example.invalid"],
                      f"Subject: {subject}\r\n\r\nbody\r\n")


def test_logrotate_snippet_rotates_and_reopens(started, world):
    node, _, _, _ = started
    logrotate = shutil.which("logrotate") or "/usr/sbin/logrotate"
    if not os.path.exists(logrotate):
        pytest.skip("logrotate is not installed (scripts/install-deps.sh installs it)")
    log_dir = Path(node.root) / "log"
    mainlog = log_dir / "mainlog.ec"
    send(node, "before rotation")
    procs.wait_for(lambda: mainlog.exists() and "@R@" in mainlog.read_text(), timeout=10,
                   what="the first reception in mainlog.ec")
    # The shipped snippet, aimed at this node's root: same directives and postrotate helper.
    shipped = (SOURCE / "packaging/logrotate/ecmta").read_text()
    conf = shipped.replace("/opt/ecmta/log", str(log_dir))
    st = os.stat(log_dir)  # the daemon's user owns log/, as ecuser does under /opt/ecmta
    conf = conf.replace("su ecuser ecuser",
                        f"su {pwd.getpwuid(st.st_uid).pw_name} {grp.getgrgid(st.st_gid).gr_name}")
    conf = conf.replace("/opt/ecmta/libexec/ecmta-reopen-logs",
                        str(SOURCE / "packaging/libexec/ecmta-reopen-logs"))
    conf_path = world / "logrotate.conf"
    conf_path.write_text(conf)
    os.chmod(conf_path, 0o644)
    env = dict(os.environ, EC_ROOT=node.root, EC_CONSOLE=procs.find_binary("ec_console"))
    r = subprocess.run([logrotate, "--force", "--state", str(world / "logrotate.state"),
                        str(conf_path)], capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    rotated = log_dir / "mainlog.ec.1"
    assert rotated.exists(), sorted(os.listdir(log_dir))
    assert rotated.read_text().count("@R@") == 1
    # After `reopen logs` the next reception goes to a fresh mainlog.ec, not the rotated file.
    size = rotated.stat().st_size
    send(node, "after rotation")
    procs.wait_for(lambda: mainlog.exists() and "@R@" in mainlog.read_text(), timeout=10,
                   what="a reception in the new mainlog.ec")
    assert mainlog.read_text().count("@R@") == 1
    assert rotated.stat().st_size == size


def test_sigterm_reports_stopping(started):
    node, notify, _, _ = started
    node.process.signal(signal.SIGTERM)
    assert notify.receive(timeout=20) == "STOPPING=1"
    assert node.process.proc.wait(timeout=20) == 0
