"""Shared_Throttle on a single node (docs/cluster-limits.md, "Shared named throttles"): a node
with no msgc peers counts the whole limit itself. `messages = "5/4"` on the ESMTP_Listener:
exactly 5 transactions are accepted, the 6th MAIL FROM gets 451 4.7.1 naming the throttle,
and once the first ones are 4 s old mail is accepted again (a sliding window: only as many as
have aged out). A `config reload` applies a changed limit at once, the units taken still
counting. smtplib on loopback, real messages.
"""
import smtplib
import time

from lib import procs
from lib.mta import MtaNode

LISTENER = 'relay_hosts = ( "127.0.0.0/8" )\nshared_throttle = "partners"'
THROTTLE = 'Shared_Throttle "Partners" {{ messages = "{}" }}'
MESSAGE = "Subject: throttled\r\n\r\nbody\r\n"


def offer(node, n):
    """Offers n messages on one connection: [(code, text)] of each MAIL FROM (250: sent)."""
    out = []
    with smtplib.SMTP(node.host, node.port, timeout=10) as s:
        s.ehlo("client.test")
        for i in range(n):
            try:
                s.sendmail("a@example.org", ["b@example.com"], MESSAGE)
                out.append((250, "sent"))
            except smtplib.SMTPSenderRefused as e:
                out.append((e.smtp_code, e.smtp_error.decode()))
    return out


def codes(replies):
    return [c for c, _ in replies]


def test_single_node_throttle_refuses_past_the_limit_and_slides(tmp_path):
    node = MtaNode(tmp_path, listener_options=LISTENER, extra_config=THROTTLE.format("5/4"))
    with node:
        t0 = time.monotonic()
        first = offer(node, 7)
        assert codes(first) == [250] * 5 + [451, 451], first
        code, text = first[5]
        assert text.startswith("4.7.1") and 'shared throttle "partners" exceeded' in text, text
        # A new connection is refused too: the throttle is the node's, not the session's.
        assert codes(offer(node, 1)) == [451]
        # After the window, five again (all five have aged out), then refused.
        procs.wait_for(lambda: time.monotonic() - t0 > 4.2, timeout=10, interval=0.05,
                       what="the window to pass")
        assert codes(offer(node, 6)) == [250] * 5 + [451]
        # Reload with a larger limit: the five just taken count against it.
        node.write_config(extra_config=THROTTLE.format("7/60"))
        assert "reloaded" in node.console("config reload")
        assert codes(offer(node, 3)) == [250, 250, 451]
    # Every accepted message was received (and spooled), none of the refused ones.
    assert len(node.mainlog_receptions()) == 12
