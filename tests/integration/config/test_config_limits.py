"""ecconfigd under hostile clients, on loopback: oversized heads, a slowloris, too many
connections from one address, password guessing, credentials checked before the body, and eccfg
never taking the password on its command line (config_env.py sets the scene)."""
import socket
import ssl
import subprocess
import time

from config_env import ECCFG, ECCONFIGD, PASSWORD, edit_line, needs_ecmta

pytestmark = needs_ecmta


def restart(cluster, *options):
    cluster.daemon.terminate()
    cluster.daemon.wait(timeout=10)
    cluster.start_daemon(*options)


def connect(cluster, source="127.0.0.1", timeout=10.0):
    """A TLS connection to ecconfigd from `source`, the server's certificate pinned."""
    ctx = ssl.create_default_context(cafile=str(cluster.state / "server.crt"))
    ctx.check_hostname = False
    raw = socket.create_connection(("127.0.0.1", cluster.port), timeout=timeout,
                                   source_address=(source, 0))
    return ctx.wrap_socket(raw)


def read_status(conn, timeout=10.0):
    """The status code of the answer, or None when the server closed without one."""
    conn.settimeout(timeout)
    data = b""
    try:
        while b"\r\n" not in data and len(data) < 65536:
            chunk = conn.recv(4096)
            if not chunk:
                break
            data += chunk
    except (ssl.SSLError, ConnectionResetError):
        pass
    return int(data.split(b" ")[1]) if data.startswith(b"HTTP/1.1 ") else None


def request(cluster, method, target, auth, body=b"", source="127.0.0.1", length=None):
    conn = connect(cluster, source)
    head = "%s %s HTTP/1.1\r\nHost: x\r\nAuthorization: %s\r\nContent-Length: %d\r\n\r\n" % (
        method, target, auth, len(body) if length is None else length)
    conn.sendall(head.encode() + body)
    status = read_status(conn)
    conn.close()
    return status


def secret(cluster):
    return (cluster.state / "cluster.secret").read_text().strip()


def fetch(cluster, source="127.0.0.1"):
    return request(cluster, "GET", "/config/default/fetch", "Bearer " + secret(cluster),
                   source=source)


def basic(user, password):
    import base64
    return "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()


PUSH = "/config/default/push?old=%s&new=%s" % ("1" * 40, "2" * 40)


def test_oversized_head_is_refused(cluster):
    conn = connect(cluster)
    conn.sendall(b"GET /config/default/fetch HTTP/1.1\r\nX-Pad: " + b"a" * 40000 + b"\r\n\r\n")
    assert read_status(conn) == 431
    conn.close()
    assert fetch(cluster) == 200


def test_credentials_are_checked_before_the_body(cluster):
    """A wrong password with a 10 MB Content-Length is answered before any body byte is sent."""
    start = time.monotonic()
    assert request(cluster, "POST", PUSH, basic("admin", "wrong"), length=10 << 20) == 401
    assert request(cluster, "POST", PUSH, "Bearer nope", length=10 << 20) == 401
    # The right password with a body over --max-push-bytes: 413, again without the body.
    restart(cluster, "--max-push-bytes", "1000")
    assert request(cluster, "POST", PUSH, basic("admin", PASSWORD), length=5000) == 413
    assert time.monotonic() - start < 20


def test_slowloris_is_cut_off_while_others_are_served(cluster):
    restart(cluster, "--request-timeout", "2")
    slow = connect(cluster)
    slow.settimeout(0.1)
    head = b"GET /config/default/fetch HTTP/1.1\r\nX-Slow: " + b"a" * 100
    start = time.monotonic()
    cut = False
    for byte in head:  # bounded: the head is 130 bytes, a byte every half second
        try:
            slow.sendall(bytes([byte]))
            if slow.recv(4096) == b"":
                cut = True
                break
        except socket.timeout:
            pass
        except (ssl.SSLError, OSError):
            cut = True
            break
        assert fetch(cluster) == 200  # the loop keeps serving others meanwhile
        if time.monotonic() - start > 6:
            break
        time.sleep(0.5)
    assert cut, "a client dribbling its head was not cut off"
    assert time.monotonic() - start < 2 + 3
    slow.close()


def test_too_many_connections_from_one_address(cluster):
    restart(cluster, "--max-connections-per-address", "3")
    held = [connect(cluster) for _ in range(3)]
    extra = None
    try:
        extra = connect(cluster)
        status = read_status(extra, timeout=5)
        assert status is None, "a 4th connection from 127.0.0.1 was served"
    except (ssl.SSLError, ConnectionResetError, BrokenPipeError):
        pass  # closed at accept, before the TLS handshake
    assert fetch(cluster, source="127.0.0.2") == 200
    for conn in held:
        conn.close()
    if extra is not None:
        extra.close()
    deadline = time.monotonic() + 10
    while True:  # the freed slots serve 127.0.0.1 again, once the server saw the closes
        try:
            if fetch(cluster) == 200:
                break
        except (ssl.SSLError, ConnectionResetError):
            pass
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_password_guessing_is_throttled_per_address(cluster):
    statuses = [request(cluster, "POST", PUSH, basic("admin", "guess%d" % i)) for i in range(20)]
    assert statuses[:10] == [401] * 10, statuses
    assert statuses[10:] == [429] * 10, statuses
    # Held back for the window, even with the right password (a guesser that hits it learns
    # nothing until the window has passed).
    assert request(cluster, "POST", PUSH, basic("admin", PASSWORD)) == 429
    assert fetch(cluster) == 429
    status = request(cluster, "POST", PUSH, basic("admin", PASSWORD), source="127.0.0.2")
    assert status not in (401, 429, None), status
    log = (cluster.root / "ecconfigd.log").read_text()
    assert "login throttled" in log and "address=127.0.0.1" in log


def test_eccfg_takes_the_password_from_a_file_or_the_environment_only(cluster):
    edit_line(cluster, "n1", 0, "option1 = from-argv")
    r = cluster.eccfg("n1", "commit", "-m", "x", "--username", "admin", "--password", PASSWORD)
    assert r.returncode == 1 and "--password is refused" in r.stderr, r.stderr
    r = cluster.eccfg("n1", "commit", "-m", "x", "--username", "admin",
                      "--password=" + PASSWORD)
    assert r.returncode == 1
    # No source at all (stdin is not a terminal here): a clear refusal, nothing sent.
    r = cluster.eccfg("n1", "commit", "-m", "x", "--username", "admin",
                      env={"ECCFG_PASSWORD": ""})
    assert r.returncode == 5 and "--password-file" in r.stderr, r.stderr
    pw_file = cluster.root / "admin.pw"
    pw_file.write_text(PASSWORD + "\n")
    pw_file.chmod(0o600)
    r = cluster.eccfg("n1", "commit", "-m", "from a file", "--username", "admin",
                      "--password-file", str(pw_file), env={"ECCFG_PASSWORD": ""})
    assert r.returncode == 0, r.stderr
    edit_line(cluster, "n1", 1, "option2 = from-env")
    r = cluster.eccfg("n1", "commit", "-m", "from env", "--username", "admin",
                      env={"ECCFG_PASSWORD": PASSWORD})
    assert r.returncode == 0, r.stderr
    log = subprocess.run(["git", "-C", str(cluster.wc("n1")), "log", "--format=%s"],
                         capture_output=True, text=True, check=True).stdout
    assert "from a file" in log and "from env" in log
    assert ECCFG.exists()


def test_ecconfigd_passwd_upgrades_a_hash_and_the_new_one_logs_in(cluster):
    # The fixture's hash has 10,000 iterations, as an older version wrote; running
    # `ecconfigd passwd` again rewrites it with today's count, and the daemon (which reads the
    # file at each login) takes the new password at once.
    r = subprocess.run([str(ECCONFIGD), "passwd", "admin", "--state-dir", str(cluster.state)],
                       input="new-admin-pw\n", text=True, capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr
    line = (cluster.state / "passwd").read_text()
    assert line.startswith("admin:pbkdf2-sha256:600000:"), line
    assert oct((cluster.state / "passwd").stat().st_mode & 0o777) == "0o600"
    assert request(cluster, "POST", PUSH, basic("admin", PASSWORD)) == 401
    status = request(cluster, "POST", PUSH, basic("admin", "new-admin-pw"))
    assert status not in (401, 429, None), status
