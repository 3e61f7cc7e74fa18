"""docs/config-reference.md's reload column, held to a running ecmta (issue 16).

One daemon for the file. Each test reads the row of the options it changes from the generated
reference, rewrites the config, runs `config reload` and looks at what the daemon does: options
marked reload = yes must show their new value over SMTP, options marked no must keep the
value the daemon started with.
"""
import os
import smtplib
import subprocess

import pytest

from lib import procs
from lib.mta import MtaNode
from lib.scratch import scratch_dir
from lib.sink import ScriptedReceiver
from smtp_raw import RawSmtp

REFERENCE = os.path.join(os.environ.get("EC_SOURCE_DIR", "."), "docs", "config-reference.md")
# Mail for this domain stays queued: nothing leaves the test.
HOLD = 'Domain "hold.test" { suspend_delivery = true }'
RELAY = 'max_message_size = 1M\nPeer "127.0.0.0/8" { open_relay = true }'


def reference_row(option, scope):
    """(reload, status) of `option` in `scope`, from the Options table of the reference."""
    with open(REFERENCE) as f:
        for line in f:
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) < 7 or cells[0] != f"`{option}`":
                continue
            if scope in [s.strip() for s in cells[3].split(",")]:
                return cells[4], cells[5]
    raise AssertionError(f"{option} in {scope}: no row in {REFERENCE}")


def assert_reference(option, scope, reload):
    assert reference_row(option, scope) == (reload, "implemented"), (option, scope)


def listen_backlog(port):
    """The backlog of the socket listening on 127.0.0.1:port (ss: Send-Q of a LISTEN row)."""
    out = subprocess.run(["ss", "-ltnH", f"sport = :{port}"], capture_output=True, text=True,
                         timeout=10, check=True).stdout
    rows = [l.split() for l in out.splitlines() if l.strip()]
    assert len(rows) == 1, out
    return int(rows[0][2])


def spool_holds(spoolbase, needle):
    for d, _, files in os.walk(spoolbase):
        for name in files:
            with open(os.path.join(d, name), "rb") as f:
                if needle in f.read():
                    return True
    return False


def greeting(port):
    c = RawSmtp("127.0.0.1", port)
    try:
        return c.reply()
    finally:
        c.close()


class Node:
    """The file's one ecmta, and a way to give it a new config and reload it."""

    def __init__(self, mta, base):
        self.mta = mta
        self.base = base
        self.reloads = 0

    def reload(self, **changes):
        self.mta.write_config(**{**self.base, **changes})
        assert "configuration reloaded" in self.mta.console("config reload")
        self.reloads += 1
        assert self.mta.summary_value("Config reloads") == self.reloads

    @property
    def port(self):
        return self.mta.port


@pytest.fixture(scope="module")
def node():
    with scratch_dir("ec-v-reloadref-") as d:
        base = dict(global_options='hostname = "v-one.test"\n' + HOLD,
                    listen_options="listen_backlog = 17",
                    listener_options="max_message_size = 1M")
        mta = MtaNode(d, **base)
        with mta:
            yield Node(mta, base)


def test_hostname_and_size_follow_a_reload(node):
    assert_reference("hostname", "global", "yes")
    assert_reference("max_message_size", "esmtp_listener", "yes")
    node.reload()
    c = RawSmtp("127.0.0.1", node.port)
    assert "v-one.test" in c.reply()[1]
    code, text = c.cmd("EHLO client.test")
    assert code == 250 and "SIZE 1048576" in text, text
    c.cmd("QUIT")

    node.reload(global_options='hostname = "v-two.test"\n' + HOLD,
                listener_options="max_message_size = 2M")
    c = RawSmtp("127.0.0.1", node.port)
    code, text = c.reply()
    assert code == 220 and "v-two.test" in text, text
    code, text = c.cmd("EHLO client.test")
    assert code == 250 and "SIZE 2097152" in text, text
    c.cmd("QUIT")


def test_a_peer_relay_rule_follows_a_reload(node):
    assert_reference("open_relay", "peer", "yes")

    def rcpt_reply():
        c = RawSmtp("127.0.0.1", node.port)
        c.reply()
        c.cmd("EHLO client.test")
        assert c.cmd("MAIL FROM:<a@example.org>")[0] == 250
        reply = c.cmd("RCPT TO:<b@hold.test>")
        c.cmd("QUIT")
        return reply

    node.reload()
    code, text = rcpt_reply()
    assert code == 550 and "Relaying denied" in text, text
    node.reload(listener_options=RELAY)
    code, text = rcpt_reply()
    assert code == 250, text


def test_outbound_source_address_and_ehlo_name_follow_a_reload(node):
    assert_reference("bind_address", "global", "yes")
    assert_reference("ehlo_hostname", "global", "yes")
    with ScriptedReceiver() as rx:
        def outbound(source, ehlo):
            # idle_timeout = 0: each message on a new connection, which takes the new values.
            return dict(global_options=f'hostname = "v-one.test"\n{HOLD}\n'
                                       f'bind_address = "{source}"\n'
                                       f'ehlo_hostname = "{ehlo}"\n'
                                       f'Domain "out.test" {{ Routes = ( '
                                       f'"smtp://127.0.0.1:{rx.port}" ) idle_timeout = 0 }}',
                        listener_options=RELAY)

        for n, (source, ehlo) in enumerate((("127.0.0.5", "v-a.test"),
                                            ("127.0.0.6", "v-b.test")), start=1):
            node.reload(**outbound(source, ehlo))
            with smtplib.SMTP("127.0.0.1", node.port, timeout=10) as c:
                c.sendmail("a@example.org", [f"r{n}@out.test"], f"Subject: {n}\r\n\r\nx\r\n")
            procs.wait_for(lambda: len(rx.delivered()) == n, timeout=20,
                           what=f"{n} message(s) at the receiver")
        used = [(s.address, s.helo) for s in rx.sessions if s.transactions]
        assert used == [("127.0.0.5", "v-a.test"), ("127.0.0.6", "v-b.test")], used


def test_a_listen_added_opens_with_its_backlog_and_enable_false_closes_it(node):
    assert_reference("enable", "listen", "yes")
    assert_reference("listen_backlog", "listen", "no")  # ... but a new socket takes it
    extra = procs.free_port()
    assert not procs.port_open("127.0.0.1", extra)

    added = f'Listen "127.0.0.1:{extra}" {{ listen_backlog = 23 }}'
    node.reload(listener_options="max_message_size = 1M\n" + added)
    code, text = greeting(extra)
    assert code == 220 and "v-one.test" in text, text
    assert listen_backlog(extra) == 23

    node.reload(listener_options="max_message_size = 1M\n" +
                f'Listen "127.0.0.1:{extra}" {{ enable = false }}')
    procs.wait_for(lambda: not procs.port_open("127.0.0.1", extra), timeout=5,
                   what=f"127.0.0.1:{extra} to close")
    assert greeting(node.port)[0] == 220  # the first Listen serves on


def test_the_backlog_of_an_open_listen_needs_a_restart(node):
    assert_reference("listen_backlog", "listen", "no")
    assert listen_backlog(node.port) == 17
    node.reload(listen_options="listen_backlog = 29")
    assert listen_backlog(node.port) == 17
    assert greeting(node.port)[0] == 220


def test_spoolbase_and_pidfile_need_a_restart(node):
    assert_reference("spoolbase", "global", "no")
    assert_reference("pidfile", "global", "no")
    root = node.mta.root
    moved_spool = os.path.join(root, "spool-moved")
    moved_pid = os.path.join(root, "run", "moved.pid")
    # MtaNode writes spoolbase and pidfile first; later lines of the same option win.
    node.reload(global_options=f'hostname = "v-one.test"\n{HOLD}\n'
                               f'spoolbase = "{moved_spool}"\npidfile = "{moved_pid}"',
                listener_options=RELAY)
    for option, value in (("spoolbase", moved_spool), ("pidfile", moved_pid)):
        out = subprocess.run([procs.find_binary("ec_conf"), "eval", "--config",
                              node.mta.config_path, option], capture_output=True, text=True,
                             timeout=10).stdout
        assert f'"{value}"' in out, out  # the config the daemon reloaded names the new place
    c = RawSmtp("127.0.0.1", node.port)
    c.reply()
    c.cmd("EHLO client.test")
    assert c.cmd("MAIL FROM:<a@example.org>")[0] == 250
    assert c.cmd("RCPT TO:<b@hold.test>")[0] == 250
    assert c.cmd("DATA")[0] == 354
    code, text = c.cmd("Message-ID: <v-kept@test>\r\n\r\nx\r\n.")
    assert code == 250, text
    c.cmd("QUIT")
    # Stored where the daemon started (ec_spool cannot read a spool in use: look at the
    # files), not in the directory the new config names.
    assert spool_holds(os.path.join(root, "spool"), b"<v-kept@test>")
    assert not os.path.exists(moved_spool)
    assert not os.path.exists(moved_pid)
    assert os.path.exists(os.path.join(root, "run", "ecmta.pid"))
