"""prohibited_hosts names destinations, as in Momentum; Peer { enable = false } refuses clients.

- Outbound: ecmta never connects to an address in prohibited_hosts. A route whose every
  address is prohibited fails the recipient permanently (550 5.1.2, a P line, nothing
  received by the receiver there); a route with another address delivers there instead.
- Inbound: prohibited_hosts no longer refuses clients; `Peer "cidr" { enable = false }` does
  (554 5.7.1 at connect, rejectlog), and only for that CIDR.
Every wait has a deadline.
"""
from lib import procs
from lib.mta import MtaNode
from lib.sink import ScriptedReceiver

import smtplib
import socket

RELAY = 'relay_hosts = ( "127.0.0.0/8" )'


def mainlog(node, kind):
    return [l.split("@") for l in node.log_lines("mainlog.ec") if f"@{kind}@" in l]


def send(node, rcpt, msgid):
    # From 127.0.0.3: not in prohibited_hosts even where that still refused clients.
    with smtplib.SMTP(node.host, node.port, timeout=30, source_address=("127.0.0.3", 0)) as s:
        # Null sender: the failure makes no bounce (there is no route to src.test).
        s.sendmail("", [rcpt], f"Message-ID: <{msgid}>\r\nSubject: x\r\n\r\nhi\r\n")


def test_outbound_never_connects_to_a_prohibited_host(tmp_path):
    with ScriptedReceiver(host="127.0.0.1") as banned, \
            ScriptedReceiver(host="127.0.0.2") as allowed:
        cfg = (f'Domain "banned.test" {{ Routes = ( "smtp://127.0.0.1:{banned.port}" ) }}\n'
               f'Domain "mixed.test" {{ Routes = ( "smtp://127.0.0.1:{banned.port}?pref=10" '
               f'"smtp://127.0.0.2:{allowed.port}?pref=20" ) }}\n')
        with MtaNode(tmp_path, listener_options=RELAY, extra_config=cfg,
                     global_options='prohibited_hosts = ( "127.0.0.1/32" )') as n:
            send(n, "r@banned.test", "p1@src.test")
            send(n, "r@mixed.test", "p2@src.test")
            procs.wait_for(lambda: mainlog(n, "P") and mainlog(n, "D"), timeout=20,
                           what="a P line and a D line")
            p = mainlog(n, "P")
            assert len(p) == 1 and p[0][5] == "banned.test", p
            assert "550" in p[0][13] and "prohibited_hosts" in p[0][13], p[0][13]
            assert [d[5] for d in mainlog(n, "D")] == ["mixed.test"]
    assert banned.sessions == [], "a prohibited host was connected to"
    assert [r for r, _ in allowed.delivered()] == ["r@mixed.test"]


def first_reply(node, source):
    """Everything the server sends a client bound to `source` before it closes (QUIT after
    a 220)."""
    s = socket.socket()
    s.bind((source, 0))
    s.settimeout(5)
    s.connect((node.host, node.port))
    data = s.recv(512)
    if data.startswith(b"220"):
        s.sendall(b"QUIT\r\n")
    s.close()
    return data


def test_peer_enable_false_refuses_clients_prohibited_hosts_does_not(tmp_path):
    with MtaNode(tmp_path, global_options='prohibited_hosts = ( "127.0.0.0/8" )',
                 listener_options=RELAY + '\nPeer "127.0.0.4/32" { enable = false }') as node:
        # In prohibited_hosts, but that is about destinations now.
        assert first_reply(node, "127.0.0.1").startswith(b"220")
        assert first_reply(node, "127.0.0.5").startswith(b"220")
        assert first_reply(node, "127.0.0.4").startswith(b"554 5.7.1")
        procs.wait_for(lambda: any("enable=false" in l for l in node.log_lines("rejectlog.ec")),
                       timeout=10, what="the refusal in rejectlog")
