"""Bindings: mail leaves from the source address and EHLO name of the binding it is assigned to
(by the destination's Domain scope, or by the inbound scope it came through, stored with the
message so it holds across a restart); a binding group spreads mail over its bindings; a
binding's own server_max_outbound_connections caps it; default_binding = suspended holds
unassigned mail. The receiver records each connection's source address and EHLO name."""
from helpers import mainlog, node, send, send_in_parallel
from lib import procs
from lib.sink import ScriptedReceiver

BINDINGS = """
bind_address = "127.0.0.7"
Binding "b1" {
  bind_address = "127.0.0.5"
  ehlo_hostname = "b1.example"
}
Binding_Group "pool" {
  server_max_outbound_connections = 1
  Binding "p1" { bind_address = "127.0.0.5" }
  Binding "p2" { bind_address = "127.0.0.6" }
}
"""


def domain(name, port, **options):
    opts = "".join(f"  {k} = {v}\n" for k, v in options.items())
    return f'Domain "{name}" {{\n  Routes = ( "smtp://127.0.0.1:{port}" )\n{opts}}}\n'


def sessions_for(rx, domain_name):
    """(source address, EHLO name) of every connection that carried mail for the domain."""
    out = []
    for s in rx.sessions:
        if any(domain_name in line for t in s.transactions for line in t.rcpt_lines):
            out.append((s.address, s.helo))
    return out


def test_domain_assignment_picks_source_address_and_ehlo(tmp_path):
    with ScriptedReceiver() as rx:
        cfg = BINDINGS + domain("one.test", rx.port, set_binding='"b1"') + \
            domain("plain.test", rx.port)
        with node(tmp_path, cfg) as n:
            send(n, "a@src.test", ["x@one.test", "y@plain.test"], count=3)
            procs.wait_for(lambda: len(rx.delivered()) == 6, timeout=30, what="6 deliveries")
            assert set(sessions_for(rx, "one.test")) == {("127.0.0.5", "b1.example")}
            plain = sessions_for(rx, "plain.test")
            assert plain and all(src == "127.0.0.7" for src, _ in plain), plain
            d = {(f[5], f[7], f[8]) for f in mainlog(n, "D")}
            assert d == {("one.test", "default", "b1"), ("plain.test", "default", "default")}
            assert "one.test binding=b1" in n.console("mailq")


def test_group_spreads_mail_and_binding_cap_holds(tmp_path):
    # Each end of data takes 0.2 s, so without the per-binding cap of 1 the domain's 32
    # connections would all be used at once.
    with ScriptedReceiver(delay=0.2) as rx:
        cfg = BINDINGS + domain("pool.test", rx.port, set_binding_group='"pool"')
        with node(tmp_path, cfg) as n:
            send_in_parallel(n, "r@pool.test", sessions=6, count=4)
            procs.wait_for(lambda: len(rx.delivered()) == 24, timeout=60,
                           what="24 messages at the receiver")
            used = {f[8] for f in mainlog(n, "D")}
            assert used == {"p1", "p2"}, used
            assert {f[7] for f in mainlog(n, "D")} == {"pool"}
    assert {s.address for s in rx.sessions} == {"127.0.0.5", "127.0.0.6"}
    assert rx.max_concurrent == 2, rx.max_concurrent  # one per binding


def test_inbound_assignment_is_stored_and_survives_a_restart(tmp_path):
    with ScriptedReceiver() as rx:
        held = BINDINGS + domain("in.test", rx.port, suspend_delivery="true")
        n = node(tmp_path, held)
        n.write_config(listener_options='relay_hosts = ( "127.0.0.0/8" )\nset_binding = "b1"')
        n.start()
        try:
            send(n, "a@src.test", ["r@in.test"], count=4)
            procs.wait_for(lambda: n.summary_value("Queued") == 4, timeout=10,
                           what="4 messages held")
            n.stop()
            # The assignment went with the message: the listener no longer sets it.
            n.write_config(listener_options='relay_hosts = ( "127.0.0.0/8" )',
                           extra_config=BINDINGS + domain("in.test", rx.port))
            n.start()
            procs.wait_for(lambda: len(rx.delivered()) == 4, timeout=30, what="4 deliveries")
            assert set(sessions_for(rx, "in.test")) == {("127.0.0.5", "b1.example")}
            assert {f[8] for f in mainlog(n, "D")} == {"b1"}
        finally:
            n.stop()


def test_default_binding_suspended_holds_only_unassigned_mail(tmp_path):
    with ScriptedReceiver() as rx:
        cfg = BINDINGS + domain("one.test", rx.port, set_binding='"b1"') + \
            domain("plain.test", rx.port)
        with node(tmp_path, cfg, global_options='default_binding = "suspended"') as n:
            send(n, "a@src.test", ["x@one.test", "y@plain.test"], count=2)
            procs.wait_for(lambda: len(rx.delivered()) == 2, timeout=30, what="2 deliveries")
            assert all(r.endswith("@one.test") for r, _ in rx.delivered())
            out = n.console("mailq")
            assert "plain.test binding=default ready=2" in out and "suspended" in out, out
            assert n.summary_value("Queued") == 2
