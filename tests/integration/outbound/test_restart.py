"""Messages survive an ecmta restart mid-queue (clean stop and kill -9): nothing is lost, and
a message is removed only after its last recipient is final."""
from helpers import mainlog, node, route_config, send
from lib import procs
from lib.sink import ScriptedReceiver


def run(tmp_path, kill):
    state = {"accept": False}
    rx = ScriptedReceiver(policy=lambda r, n: "250 ok" if state["accept"] else "451 4.3.0 later")
    with rx:
        cfg = route_config({"rs.test": f"smtp://127.0.0.1:{rx.port}"}, retry_interval=1)
        n = node(tmp_path, cfg)
        n.start()
        try:
            send(n, "a@src.test", ["r1@rs.test", "r2@rs.test"], count=10)
            procs.wait_for(lambda: len(mainlog(n, "T")) >= 20, timeout=20, what="20 T lines")
            if kill:
                n.kill9()
            else:
                n.stop()
            assert len(n.spool_dump()) == 10
            state["accept"] = True
            n.start()
            procs.wait_for(lambda: n.summary_value("Queued") == 0, timeout=30,
                           what="every message delivered after the restart")
        finally:
            n.stop()
    got = {}
    for r, m in rx.delivered():
        got.setdefault(r, set()).add(m.data)
    assert len(got["r1@rs.test"]) == 10 and len(got["r2@rs.test"]) == 10


def test_restart_mid_queue(tmp_path):
    run(tmp_path, kill=False)


def test_kill9_mid_queue(tmp_path):
    run(tmp_path, kill=True)


def test_kill9_during_delivery_never_loses(tmp_path):
    # Each end-of-data reply takes 0.3 s, so the kill lands with transactions in flight.
    with ScriptedReceiver(delay=0.3) as rx:
        cfg = route_config({"kd.test": f"smtp://127.0.0.1:{rx.port}"},
                           max_outbound_connections=2)
        n = node(tmp_path, cfg)
        n.start()
        try:
            send(n, "a@src.test", ["r@kd.test"], subject="kd", count=12)
            procs.wait_for(lambda: len(rx.delivered()) >= 3, timeout=20, what="3 deliveries")
            n.kill9()
            n.start()
            procs.wait_for(lambda: n.summary_value("Queued") == 0, timeout=30,
                           what="the queue to drain after kill -9")
        finally:
            n.stop()
    ids = [m.data.split(b"Message-ID: ")[1].split(b"\r\n")[0] for _, m in rx.delivered()]
    assert len(set(ids)) == 12  # every message arrived; a few perhaps twice
    assert len(ids) <= 12 + 2
