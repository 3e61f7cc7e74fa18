"""config reload swaps the config without dropping sessions; SIGTERM stops cleanly."""
import os
import signal
import smtplib
import subprocess
import time

from lib import procs
from lib.mta import MtaNode
from smtp_raw import RawSmtp

RELAY = 'relay_hosts = ( "127.0.0.0/8" )'


def test_reload_session_in_flight_gets_421_new_ones_see_new_config(tmp_path):
    with MtaNode(tmp_path, listener_options=RELAY + '\nbanner_hostname = "before.test"') as node:
        old = RawSmtp(node.host, node.port)
        code, text = old.reply()
        assert "before.test" in text
        assert old.cmd("EHLO client.test")[0] == 250

        node.write_config(listener_options=RELAY + '\nbanner_hostname = "after.test"')
        assert "reloaded" in node.console("config reload")

        # The old session finishes nothing more on the old config.
        code, text = old.cmd("MAIL FROM:<a@example.org>")
        assert code == 421 and "4.3.2" in text, text
        assert old.closed()
        new = RawSmtp(node.host, node.port)
        assert "after.test" in new.reply()[1]
        new.cmd("QUIT")
        assert node.summary_value("Config reloads") == 1


def test_broken_config_reload_changes_nothing(tmp_path):
    with MtaNode(tmp_path, listener_options=RELAY + '\nbanner_hostname = "good.test"') as node:
        node.write_config(listener_options=RELAY + "\nno_such_option = 1")
        out = node.console("config reload", check=False)
        assert "no_such_option" in out and "ecelerity.conf:" in out, out
        c = RawSmtp(node.host, node.port)
        assert "good.test" in c.reply()[1]
        c.cmd("QUIT")
        assert node.summary_value("Config reloads") == 0


def test_check_config_reports_every_problem_with_file_and_line(tmp_path):
    node = MtaNode(tmp_path, listener_options=RELAY + "\nmax_message_size = lots\nbogus = 1")
    import subprocess
    r = subprocess.run([procs.find_binary("ecmta"), "--check-config", "--config",
                        node.config_path, "--root", node.root], capture_output=True, text=True)
    assert r.returncode != 0
    errors = [l for l in r.stdout.splitlines() if ": error:" in l]
    assert len(errors) == 2, r.stdout
    assert all(l.startswith(node.config_path + ":") for l in errors)


def test_sigterm_tells_idle_sessions_and_exits_cleanly(tmp_path):
    node = MtaNode(tmp_path, listener_options=RELAY).start()
    c = RawSmtp(node.host, node.port)
    c.reply()
    c.cmd("EHLO client.test")
    s = smtplib.SMTP(node.host, node.port, timeout=10)
    s.sendmail("a@example.org", ["b@example.com"], "Message-ID: <kept@test>\r\n\r\nx\r\n")
    node.process.signal(signal.SIGTERM)
    code, text = c.reply()
    assert code == 421, text
    node.process.proc.wait(timeout=15)
    assert node.process.proc.returncode == 0
    assert [d[1] for d in node.spool_dump()] == ["<kept@test>"]


def test_spool_is_requeued_on_start(tmp_path):
    node = MtaNode(tmp_path, listener_options=RELAY)
    with node:
        s = smtplib.SMTP(node.host, node.port, timeout=10)
        for i in range(3):
            s.sendmail("a@example.org", ["b@example.com"], f"Message-ID: <q{i}@test>\r\n\r\nx\r\n")
        s.quit()
    with node:
        assert node.summary_value("Queued") == 3


def test_detached_daemon_logs_to_its_root_and_stops_on_shutdown(tmp_path):
    # Without --foreground: the command returns at once, the daemon runs on with its log in
    # <root>/log/ecmta.log (the directory made if missing), and `shutdown` ends it.
    node = MtaNode(tmp_path)
    r = subprocess.run([procs.find_binary("ecmta"), "--config", node.config_path, "--root",
                        node.root, "--node-name", node.node_name], timeout=30)
    assert r.returncode == 0
    pid_file = os.path.join(node.root, "run", "ecmta.pid")
    try:
        procs.wait_for(lambda: procs.port_open(node.host, node.port), timeout=20,
                       what="the detached ecmta to listen")
        log = os.path.join(node.root, "log", "ecmta.log")
        procs.wait_for(lambda: "ecmta started" in open(log).read(), timeout=20,
                       what="'ecmta started' in " + log)
        assert os.path.exists(pid_file)
        node.console("shutdown", check=False)
        # Gone: the listener closed and the pid file removed (a zombie may linger in a
        # container whose init does not reap, so /proc is no witness).
        procs.wait_for(lambda: not procs.port_open(node.host, node.port)
                       and not os.path.exists(pid_file), timeout=20,
                       what="the detached ecmta to exit")
    finally:
        # A failed assertion must not leave the daemon running: stop it by its own PID.
        try:
            os.kill(int(open(pid_file).read().strip()), signal.SIGKILL)
        except (OSError, ValueError):
            pass
