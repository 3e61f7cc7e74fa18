"""kill -9 under load loses no message that got 250 and never shows a half-written one.

Several rounds: start ecmta on the same spool, inject from parallel sessions (each message with
a unique Message-ID), SIGKILL the daemon at a random moment. At the end every Message-ID that
got a 250 must be in the spool exactly once, and no Message-ID may be there twice. Bounded:
ROUNDS rounds of at most ROUND_SECONDS each.
"""
import collections
import random
import smtplib
import threading
import time

from lib.mta import MtaNode

ROUNDS = 5
SENDERS = 8
ROUND_SECONDS = 1.5


def sender(node, prefix, acked, stop):
    n = 0
    while not stop.is_set():
        try:
            s = smtplib.SMTP(node.host, node.port, timeout=5)
            s.ehlo("load.test")
            while not stop.is_set():
                msgid = f"<{prefix}-{n}@crash.test>"
                n += 1
                body = f"Message-ID: {msgid}\r\nSubject: crash\r\n\r\n" + "x" * 2000 + "\r\n"
                s.sendmail("a@example.org", ["b@example.com"], body)
                acked.append(msgid)  # only after the 250
        except (smtplib.SMTPException, OSError):
            return  # the daemon died under us


def test_kill9_under_load_loses_nothing(tmp_path):
    rng = random.Random(1234)
    node = MtaNode(tmp_path, listener_options='relay_hosts = ( "127.0.0.0/8" )')
    acked = []
    for round_no in range(ROUNDS):
        node.start()
        stop = threading.Event()
        threads = [threading.Thread(target=sender, args=(node, f"r{round_no}s{i}", acked, stop))
                   for i in range(SENDERS)]
        for t in threads:
            t.start()
        time.sleep(rng.uniform(0.2, ROUND_SECONDS))
        node.kill9()
        stop.set()
        for t in threads:
            t.join(timeout=10)
    assert len(acked) > 100, "the load did not get going"
    dump = node.spool_dump()  # ec_spool fails on any corrupt message it would have to show
    counts = collections.Counter(d[1] for d in dump)
    twice = [m for m, c in counts.items() if c > 1]
    assert twice == [], f"messages stored twice: {twice[:5]}"
    missing = [m for m in acked if m not in counts]
    assert missing == [], f"{len(missing)} of {len(acked)} acknowledged messages lost"
    # Every stored message has its whole body.
    assert all(int(d[3]) > 2000 for d in dump)
