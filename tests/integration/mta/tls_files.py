"""TLS material for inbound tests: a throwaway self-signed certificate, and a client context
that accepts it."""
import ssl
import subprocess


def self_signed_cert(tmp_path, cn="mx.test"):
    """Writes cert.pem and key.pem (P-256, 2 days) under tmp_path; returns their paths."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj", f"/CN={cn}",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return cert, key


def client_context():
    """Trusts any certificate: the tests check ecmta's behaviour, not its certificate."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx
