"""A 5xx makes a DSN (RFC 3464) that travels to the sender's domain through a second ecmta and
lands in its spool; bounces of bounces never happen."""
import subprocess

from helpers import bouncelog, mainlog, node, route_config, send
from lib import procs
from lib.sink import ScriptedReceiver


def spool_list(n, header):
    r = subprocess.run([procs.find_binary("ec_spool"), "--spoolbase", f"{n.root}/spool", "list",
                        "--header", header], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return [l.split("\t") for l in r.stdout.splitlines()]


def test_5xx_dsn_reaches_the_sender_through_a_second_ecmta(tmp_path):
    # b is the sender's MTA: it holds mail for src.test (suspended) so we can read its spool.
    b = node(tmp_path, 'Domain "src.test" { suspend_delivery = true }', name="b",
             host="127.0.0.2")
    with ScriptedReceiver(policy=lambda r, n: "550 5.1.1 <%s>: user unknown" % r) as rx, b:
        cfg = route_config({"dst.test": f"smtp://127.0.0.1:{rx.port}",
                            "src.test": f"smtp://{b.host}:{b.port}"})
        with node(tmp_path, cfg, name="a") as a:
            send(a, "sender@src.test", ["gone@dst.test"], subject="orig")
            procs.wait_for(lambda: mainlog(a, "P"), timeout=15, what="a P line")
            # The DSN leaves a with the null sender and is delivered to b.
            procs.wait_for(lambda: len(mainlog(a, "D")) == 1, timeout=15, what="the DSN delivered")
            procs.wait_for(lambda: a.summary_value("Queued") == 0, timeout=10, what="a's spool empty")
            bl = bouncelog(a)
            assert len(bl) == 1 and bl[0][5:9] == ["gone", "dst.test", "sender", "src.test"]
            assert bl[0][12] == "10"
            r = b.mainlog_receptions()
            assert len(r) == 1 and r[0][5:9] == ["sender", "src.test", "", ""]  # from <>
    subjects = spool_list(b, "Subject")
    assert len(subjects) == 1 and "Undelivered Mail Returned to Sender" in subjects[0][1]
    ctype = spool_list(b, "Content-Type")
    assert "multipart/report" in ctype[0][1]


def test_null_sender_never_bounces(tmp_path):
    with ScriptedReceiver(policy=lambda r, n: "550 5.7.1 rejected") as rx:
        cfg = route_config({"dst.test": f"smtp://127.0.0.1:{rx.port}"})
        with node(tmp_path, cfg) as a:
            send(a, "", ["x@dst.test"])
            procs.wait_for(lambda: mainlog(a, "P"), timeout=15, what="a P line")
            procs.wait_for(lambda: a.summary_value("Queued") == 0, timeout=10, what="empty spool")
            assert a.summary_value("Bounces") == 0
            assert len(bouncelog(a)) == 1  # still classified in the bouncelog


def test_console_bounce_and_delete(tmp_path):
    with ScriptedReceiver(policy=lambda r, n: "451 later") as rx:
        cfg = route_config({"q.test": f"smtp://127.0.0.1:{rx.port}"}, retry_interval=3600)
        extra = cfg + 'Domain "src.test" { suspend_delivery = true }'
        with node(tmp_path, extra) as a:
            send(a, "s@src.test", ["x@q.test"], count=4)
            procs.wait_for(lambda: len(mainlog(a, "T")) == 4, timeout=15, what="4 T lines")
            assert "4 messages bounced" in a.console("bounce q.test")
            procs.wait_for(lambda: a.summary_value("Bounces") == 4, timeout=10, what="4 DSNs")
            assert "4 messages deleted" in a.console("delete src.test")
            procs.wait_for(lambda: a.summary_value("Queued") == 0, timeout=10, what="empty spool")
