"""Transient and permanent failures: 4xx then 2xx (retry with back-off), mixed per-recipient
results in one message, a server that hangs (timeouts), expiry, the console's retry."""
import time

from helpers import bouncelog, mainlog, node, route_config, send
from lib import procs
from lib.sink import ScriptedReceiver


def test_4xx_then_2xx_is_retried(tmp_path):
    rx = ScriptedReceiver(policy=lambda rcpt, n: "451 4.3.0 later" if n == 1 else "250 ok")
    with rx:
        cfg = route_config({"retry.test": f"smtp://127.0.0.1:{rx.port}"}, retry_interval=1,
                           max_retry_interval=4)
        with node(tmp_path, cfg) as n:
            t0 = time.monotonic()
            send(n, "a@src.test", ["r@retry.test"])
            procs.wait_for(lambda: mainlog(n, "D"), timeout=20, what="a D line after the retry")
            elapsed = time.monotonic() - t0
            t = mainlog(n, "T")
            d = mainlog(n, "D")
            assert len(t) == 1 and t[0][5] == "retry.test" and "451" in t[0][13]
            assert len(d) == 1 and d[0][9] == "1"  # delivered on its first retry
            assert elapsed >= 0.9
            procs.wait_for(lambda: n.summary_value("Queued") == 0, timeout=10, what="empty spool")
    assert rx.attempts["r@retry.test"] == 2


def test_mixed_recipients_in_one_message(tmp_path):
    def policy(rcpt, attempt):
        if rcpt.startswith("ok"):
            return "250 2.1.5 ok"
        if rcpt.startswith("soft"):
            return "450 4.2.1 mailbox busy" if attempt == 1 else "250 2.1.5 ok"
        return "550 5.1.1 no such user"

    with ScriptedReceiver(policy=policy) as rx:
        cfg = route_config({"mix.test": f"smtp://127.0.0.1:{rx.port}"}, retry_interval=1)
        with node(tmp_path, cfg) as n:
            send(n, "", ["ok@mix.test", "soft@mix.test", "bad@mix.test"])
            procs.wait_for(lambda: n.summary_value("Queued") == 0, timeout=20, what="empty spool")
            d, t, p = mainlog(n, "D"), mainlog(n, "T"), mainlog(n, "P")
            assert sorted(f[2] for f in d) == ["0", "1"]  # batch id = recipient index
            assert [f[2] for f in t] == ["1"]
            assert [f[2] for f in p] == ["2"] and "550" in p[0][13]
            b = bouncelog(n)
            assert len(b) == 1 and b[0][5] == "bad" and b[0][12] == "10"  # invalid recipient
            # The null sender gets no bounce.
            assert n.summary_value("Bounces") == 0
    assert sorted(r for r, _ in rx.delivered()) == ["ok@mix.test", "soft@mix.test"]


def test_hanging_server_times_out(tmp_path):
    with ScriptedReceiver(hang=True) as rx:
        cfg = route_config({"hang.test": f"smtp://127.0.0.1:{rx.port}"}, ehlo_timeout=1,
                           connect_timeout=1, retry_interval=60)
        with node(tmp_path, cfg) as n:
            t0 = time.monotonic()
            send(n, "a@src.test", ["r@hang.test"])
            procs.wait_for(lambda: mainlog(n, "T"), timeout=15, what="a T line")
            assert time.monotonic() - t0 < 10
            t = mainlog(n, "T")[0]
            assert t[9] == "3" and "timed out" in t[13]  # stage 3: greeted, waiting for EHLO
            assert n.summary_value("Queued") == 1  # still queued for its retry
            assert "delayed=1" in n.console("mailq")


def test_expiry_is_permanent_and_bounces(tmp_path):
    with ScriptedReceiver(policy=lambda r, n: "421 4.4.5 busy") as rx:
        cfg = route_config({"exp.test": f"smtp://127.0.0.1:{rx.port}"}, retry_interval=1,
                           message_expiration=3)
        with node(tmp_path, cfg + 'Domain "src.test" { suspend_delivery = true }') as n:
            send(n, "sender@src.test", ["r@exp.test"])
            procs.wait_for(lambda: mainlog(n, "P"), timeout=20, what="a P line after expiry")
            b = procs.wait_for(lambda: bouncelog(n), timeout=5, what="a bouncelog line")
            assert b[0][12] == "24"  # timeout / expired
            procs.wait_for(lambda: n.summary_value("Bounces") == 1, timeout=5, what="a DSN")
            assert len(mainlog(n, "T")) >= 2
    assert rx.attempts["r@exp.test"] >= 2


def test_console_retry_delivers_now(tmp_path):
    state = {"accept": False}
    rx = ScriptedReceiver(policy=lambda r, n: "250 ok" if state["accept"] else "451 later")
    with rx:
        cfg = route_config({"cr.test": f"smtp://127.0.0.1:{rx.port}"}, retry_interval=3600)
        with node(tmp_path, cfg) as n:
            send(n, "a@src.test", ["r@cr.test"], count=3)
            procs.wait_for(lambda: len(mainlog(n, "T")) == 3, timeout=15, what="3 T lines")
            state["accept"] = True
            out = n.console("suspend cr.test")
            assert "suspended" in out
            assert "3 messages" in n.console("retry cr.test")
            time.sleep(0.5)
            assert not mainlog(n, "D")  # suspended: nothing leaves
            n.console("resume cr.test")
            procs.wait_for(lambda: len(mainlog(n, "D")) == 3, timeout=15, what="3 D lines")
