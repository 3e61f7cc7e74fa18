"""SMTP smuggling: no bare-CR/LF end-of-data form may end a message early or inject a second.

For every variant the client sends one DATA whose body holds a fake end of data followed by a
whole second transaction, whose own <CRLF>.<CRLF> is the real end of the first message. Whatever the server does (normalise the
line ends, or refuse the message), it must answer exactly one reply to the DATA body, and the
spool must never hold a message from the smuggled sender.
"""
import pytest

from lib.mta import MtaNode
from smtp_raw import RawSmtp

RELAY = 'relay_hosts = ( "127.0.0.0/8" )'

FAKE_ENDS = {
    "lf_dot_lf": b"\n.\n",
    "cr_dot_cr": b"\r.\r",
    "lf_dot_crlf": b"\n.\r\n",
    "crlf_dot_lf": b"\r\n.\n",
    "cr_dot_crlf": b"\r.\r\n",
    "crlf_dot_cr": b"\r\n.\r",
    "lf_dot_cr": b"\n.\r",
    "cr_dot_lf": b"\r.\n",
}

SMUGGLED = (b"MAIL FROM:<smuggled@evil.test>\r\nRCPT TO:<victim@example.com>\r\nDATA\r\n"
            b"Message-ID: <smuggled@test>\r\n\r\ninjected\r\n.\r\n")


@pytest.fixture(scope="module")
def nodes(tmp_path_factory):
    """One node that repairs bare line ends (fix) and one that refuses them (pedantic)."""
    fix = MtaNode(tmp_path_factory.mktemp("fix"), listener_options=RELAY, node_name="fix")
    pedantic = MtaNode(tmp_path_factory.mktemp("ped"), listener_options=RELAY,
                       global_options="rfc2822_lone_lf_in_body = pedantic",
                       node_name="pedantic")
    fix.start()
    pedantic.start()
    yield {"fix": fix, "pedantic": pedantic}
    fix.stop()
    pedantic.stop()


@pytest.mark.parametrize("mode", ["fix", "pedantic"])
@pytest.mark.parametrize("name", sorted(FAKE_ENDS))
def test_fake_end_of_data_never_ends_the_message(nodes, mode, name):
    node = nodes[mode]
    c = RawSmtp(node.host, node.port)
    assert c.reply()[0] == 220
    assert c.cmd("EHLO client.test")[0] == 250
    assert c.cmd("MAIL FROM:<honest@example.org>")[0] == 250
    assert c.cmd("RCPT TO:<b@example.com>")[0] == 250
    assert c.cmd("DATA")[0] == 354
    c.send(b"Message-ID: <" + name.encode() + b"-" + mode.encode() + b"@test>\r\n\r\nhello" +
           FAKE_ENDS[name] + SMUGGLED)
    code, text = c.reply()
    if mode == "fix":
        assert code == 250, text
    else:
        assert code == 550 or code == 554, text
    # Exactly one reply: the next thing the server says answers our NOOP.
    assert c.cmd("NOOP")[0] == 250
    c.cmd("QUIT")


def test_spool_holds_no_smuggled_message(nodes):
    for node in nodes.values():
        node.stop()
    fixed = nodes["fix"].spool_dump()
    assert sorted(d[1] for d in fixed) == sorted(f"<{n}-fix@test>" for n in FAKE_ENDS)
    assert nodes["pedantic"].spool_dump() == []
    for node in nodes.values():
        assert not any("smuggled@evil.test" in l for l in node.log_lines("mainlog.ec"))
