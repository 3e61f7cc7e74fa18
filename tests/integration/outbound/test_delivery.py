"""ecmta delivers through static Routes to Postfix's smtp-sink and to a scripted receiver:
several messages per connection, per-domain connection limits, mailq."""
import time

import pytest

from helpers import mainlog, node, route_config, send, send_in_parallel
from lib import procs
from lib.sink import ScriptedReceiver, SmtpSink, have_smtp_sink


@pytest.mark.skipif(not have_smtp_sink(), reason="Postfix smtp-sink (/usr/sbin/smtp-sink) missing")
def test_relay_to_smtp_sink(tmp_path):
    with SmtpSink(tmp_path) as sink:
        cfg = route_config({"example.test": f"smtp://127.0.0.1:{sink.port}"})
        with node(tmp_path, cfg) as n:
            send(n, "a@src.test", ["x@example.test", "y@example.test"], count=20)
            procs.wait_for(lambda: sink.count() >= 20, timeout=30, what="20 messages at smtp-sink")
            procs.wait_for(lambda: len(mainlog(n, "D")) == 40, timeout=10, what="40 D lines")
            procs.wait_for(lambda: n.summary_value("Queued") == 0, timeout=10,
                           what="the spool to empty")
            d = mainlog(n, "D")
            assert {f[5] for f in d} == {"example.test"}
            assert all(f[11] == "127.0.0.1" for f in d)
            # Several messages went over one connection.
            assert len({f[3] for f in d}) < 20
            assert "example.test" in n.console("mailq")
    assert sink.count() == 20
    text = open(sink.files()[0], "rb").read()
    assert b"X-Rcpt-Args: <x@example.test>" in text and b"X-Rcpt-Args: <y@example.test>" in text


def test_connection_limit_per_domain(tmp_path):
    with ScriptedReceiver(delay=0.2) as rx:
        cfg = route_config({"limit.test": f"smtp://127.0.0.1:{rx.port}"},
                           max_outbound_connections=2)
        with node(tmp_path, cfg) as n:
            send_in_parallel(n, "r@limit.test", sessions=8, count=3)
            procs.wait_for(lambda: len(rx.delivered()) == 24, timeout=60,
                           what="24 messages at the receiver")
    assert rx.max_concurrent == 2, rx.max_concurrent
    assert rx.connections >= 2


def test_second_ecmta_receives(tmp_path):
    b = node(tmp_path, 'Domain "dst.test" { suspend_delivery = true }', name="b",
             host="127.0.0.2")
    with b:
        cfg = route_config({"dst.test": f"smtp://{b.host}:{b.port}"})
        with node(tmp_path, cfg, name="a") as a:
            send(a, "s@src.test", ["u1@dst.test", "u2@dst.test"], count=5)
            procs.wait_for(lambda: len(mainlog(a, "D")) == 10, timeout=30, what="10 D lines")
            procs.wait_for(lambda: len(b.mainlog_receptions()) == 10, timeout=10,
                           what="10 R lines on the second node")
            assert "dst.test" in b.console("mailq")
    dump = b.spool_dump()
    assert len(dump) == 5


def test_outbound_throttle_messages(tmp_path):
    with ScriptedReceiver() as rx:
        cfg = route_config({"slow.test": f"smtp://127.0.0.1:{rx.port}"},
                           outbound_throttle_messages='"2/1"')
        with node(tmp_path, cfg) as n:
            send(n, "a@src.test", ["r@slow.test"], count=6)
            t0 = time.monotonic()
            procs.wait_for(lambda: len(rx.delivered()) == 6, timeout=20, what="6 messages")
            elapsed = time.monotonic() - t0
            # 2 per second: the last two go out in the third window.
            assert elapsed >= 1.5, elapsed


def test_bad_route_stops_the_start(tmp_path):
    n = node(tmp_path, route_config({"bad.test": "smtp://127.0.0.1:0"}))
    with pytest.raises(RuntimeError) as e:
        n.start()
    assert 'domain "bad.test"' in str(e.value) and "port" in str(e.value)
