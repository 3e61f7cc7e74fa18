"""Outbound STARTTLS: required (with CA verification) to a second ecmta that offers it,
required to a server without STARTTLS (a transient failure, never a clear-text delivery),
ifavailable to the same server (delivered in clear)."""
import subprocess

from helpers import mainlog, node, route_config, send
from lib import procs
from lib.mta import MtaNode
from lib.sink import ScriptedReceiver
from helpers import RELAY


def make_cert(tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj", "/CN=mx.test",
                    "-addext", "subjectAltName=DNS:mx.test,IP:127.0.0.2",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return cert, key


def test_required_tls_to_second_ecmta(tmp_path):
    cert, key = make_cert(tmp_path)
    b = MtaNode(tmp_path, host="127.0.0.2", node_name="b",
                listener_options=RELAY + f'\n tls_certificate = "{cert}"\n tls_key = "{key}"',
                extra_config='Domain "dst.test" { suspend_delivery = true }')
    with b:
        cfg = route_config({"dst.test": f"smtp://{b.host}:{b.port}"}, tls="required",
                           tls_verify="ca", tls_ca=f'"{cert}"')
        with node(tmp_path, cfg, name="a") as a:
            send(a, "s@src.test", ["u@dst.test"], count=3)
            procs.wait_for(lambda: len(mainlog(a, "D")) == 3, timeout=20, what="3 D lines")
            log = open(a.root + "/ecmta.out").read()
            assert "outbound TLS established" in log and "TLSv1.3" in log
    assert len(b.spool_dump()) == 3


def test_required_tls_without_starttls_is_transient(tmp_path):
    with ScriptedReceiver() as rx:
        cfg = route_config({"plain.test": f"smtp://127.0.0.1:{rx.port}"}, tls="required",
                           retry_interval=60)
        with node(tmp_path, cfg) as a:
            send(a, "s@src.test", ["u@plain.test"])
            t = procs.wait_for(lambda: mainlog(a, "T"), timeout=15, what="a T line")
            assert "STARTTLS" in t[0][13]
            assert t[0][9] == "4"  # stage: STARTTLS
            assert not rx.delivered()


def test_ifavailable_falls_back_to_clear(tmp_path):
    with ScriptedReceiver() as rx:
        cfg = route_config({"plain.test": f"smtp://127.0.0.1:{rx.port}"}, tls="ifavailable")
        with node(tmp_path, cfg) as a:
            send(a, "s@src.test", ["u@plain.test"])
            procs.wait_for(lambda: mainlog(a, "D"), timeout=15, what="a D line")
    assert len(rx.delivered()) == 1
