"""eccmgr's web dashboard in a real browser: headless Chromium driven by Selenium
(chromium, chromium-driver, python3-selenium) against a real eccmgr and three real ecmta nodes
that journal their logs to it. Members appear; a node killed -9 turns red (the time it takes is
printed); a mail's reception line appears in the log tail; paths leaving the web root are
refused; each node's config revision (from the eccfg checkout its config is read through) is
shown and one differing from the others marked. One cluster and one browser for the whole
file."""
import os
import shutil
import smtplib
import socket
import time
import uuid

import pytest

from lib import procs
from lib.cluster import LocalCluster
from lib.cluster_logs import configure_logs

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.chrome.service import Service as ChromeService  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402

WEB_ROOT = os.path.join(os.environ.get("EC_SOURCE_DIR", "."), "manager", "web")
RED = "rgb(207, 34, 46)"  # --bad in dashboard.css
# node1 starts on an older revision than the others (checkout names as eccfg makes them).
REV_OLD, REV_NEW = "0a1b2c3d4e5f", "f5e4d3c2b1a0"


def use_checkout(node, rev, tag):
    """Moves the node's config into etc/conf.<rev>.<tag>/ and points etc/conf at it, as
    `eccfg pull` leaves a working copy; the node reads its config through the link."""
    etc = os.path.join(node.root, "etc")
    checkout = os.path.join(etc, f"conf.{rev}.{tag}")
    os.makedirs(checkout)
    shutil.copy(node.config_path, os.path.join(checkout, "ecelerity.conf"))
    swap = os.path.join(etc, ".conf.swap." + tag)
    os.symlink(os.path.basename(checkout), swap)
    os.replace(swap, os.path.join(etc, "conf"))
    node.config_path = os.path.join(etc, "conf", "ecelerity.conf")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    c = LocalCluster(tmp_path_factory.mktemp("ecdash"), nodes=3)
    configure_logs(c)
    with open(c.manager.config_path, "a") as f:
        f.write(f'status_http_web_root = "{os.path.abspath(WEB_ROOT)}"\n')
    c.manager.extra_args = ["--log-file", os.path.join(c.manager.root, "eccmgr.log")]
    for name, node in c.nodes.items():
        use_checkout(node, REV_OLD if name == "node1" else REV_NEW, "aaaa0000")
    with c:
        c.wait_converged()
        yield c


@pytest.fixture(scope="module")
def browser(cluster):
    chromium = shutil.which("chromium")
    driver_path = shutil.which("chromedriver")
    assert chromium and driver_path, "chromium and chromium-driver are not installed"
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1280,1000"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "SEVERE"})
    service = ChromeService(executable_path=driver_path)
    driver = webdriver.Chrome(service=service, options=options)
    try:
        driver.get(f"http://{cluster.manager.host}:{cluster.manager.http_port}/")
        yield driver
    finally:
        driver.quit()


def rows(browser):
    """{member: (data-healthy, computed colour of its name)}, read in one go: the page rebuilds
    the table every second."""
    return {m: (h, c) for m, h, c in browser.execute_script("""
        return Array.from(document.querySelectorAll('#members tbody tr.member')).map(r =>
            [r.dataset.member, r.dataset.healthy,
             getComputedStyle(r.querySelector('td.member-name')).color]);""")}


def test_members_appear_healthy(cluster, browser):
    procs.wait_for(lambda: all(rows(browser).get(n, ("",))[0] == "true" for n in cluster.names),
                   timeout=10, interval=0.1, what="every node listed healthy")
    assert browser.title == "eccmgr dashboard"
    assert browser.find_element(By.ID, "manager-name").text == "manager"
    for name, (healthy, color) in rows(browser).items():
        assert color != RED, (name, healthy, color)
    # The browser console saw no error (a blocked or missing file, a script exception).
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert not errors, errors


def config_cells(browser):
    """{member: (revision shown, data-config-lag)}."""
    return {m: (t, lag) for m, t, lag in browser.execute_script("""
        return Array.from(document.querySelectorAll('#members tbody tr.member')).map(r =>
            [r.dataset.member, r.querySelector('td.config').textContent, r.dataset.configLag]);
        """)}


def test_config_revisions_and_the_lagging_node(cluster, browser):
    expected = {"node1": (REV_OLD, "true"), "node2": (REV_NEW, "false"),
                "node3": (REV_NEW, "false")}
    procs.wait_for(lambda: all(config_cells(browser).get(n) == v for n, v in expected.items()),
                   timeout=10, interval=0.1, what="each node's revision, node1 marked")
    health = cluster.manager.health()
    revs = {m["member"]: m.get("report", {}).get("config_revision") for m in health["members"]}
    assert revs["node1"] == REV_OLD and revs["node2"] == REV_NEW, revs
    assert config_cells(browser).get("manager", ("-", "false")) == ("-", "false")
    # node1 is switched to the others' revision; `config reload` makes it report that one.
    node1 = cluster.nodes["node1"]
    use_checkout(node1, REV_NEW, "bbbb1111")
    assert node1.console("config reload").strip() == "configuration reloaded"
    procs.wait_for(lambda: config_cells(browser).get("node1") == (REV_NEW, "false"),
                   timeout=10, interval=0.1, what="node1's new revision, no longer marked")


def test_mail_appears_in_the_log_tail(cluster, browser):
    tag = "dash" + uuid.uuid4().hex[:10]
    node = cluster.nodes["node2"]
    with smtplib.SMTP(node.host, node.port, timeout=10) as s:
        s.sendmail(f"{tag}@example.org", ["someone@example.net"], "Subject: dash\r\n\r\nhi\r\n")
    start = time.monotonic()

    def shown():
        return [t for t in browser.execute_script(
            "return Array.from(document.querySelectorAll('#log-tail .log-line'))"
            ".map(e => e.textContent);") if tag in t]
    lines = procs.wait_for(shown, timeout=20, interval=0.2, what="the mail's line in the tail")
    print(f"mail line shown in the log tail {time.monotonic() - start:.2f} s after sending")
    assert lines[0].startswith("node2 mainlog"), lines


def test_killed_node_turns_red(cluster, browser):
    victim = cluster.nodes["node3"]
    victim.kill9()
    start = time.monotonic()
    procs.wait_for(lambda: rows(browser).get("node3", ("", ""))[1] == RED, timeout=10,
                   interval=0.05, what="node3 to turn red")
    elapsed = time.monotonic() - start
    print(f"node3 killed -9: red in the browser after {elapsed:.2f} s "
          f"(dead_timeout {cluster.dead_timeout} s, page polls every 1 s)")
    assert elapsed < 5
    assert rows(browser)["node3"][0] == "false"
    assert all(rows(browser)[n][1] != RED for n in ("node1", "node2"))


def raw_get(cluster, target):
    """The status line of a GET sent byte for byte (no client-side path normalization)."""
    with socket.create_connection((cluster.manager.host, cluster.manager.http_port), 5) as s:
        s.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while b"\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    return int(data.split(b" ", 2)[1])


@pytest.mark.parametrize("target", [
    "/../etc/passwd", "/..%2f..%2fetc%2fpasswd", "/%2e%2e/%2e%2e/etc/passwd",
    "/%2E%2E/index.html", "/./dashboard.js", "/.hidden.html", "/index.html%00.js",
    "/dashboard.js/../../x.js", "/etc/passwd", "/x%zz.html"])
def test_paths_outside_the_web_root_are_refused(cluster, target):
    assert raw_get(cluster, target) in (400, 404), target


def test_json_views(cluster):
    status, ctype, body = cluster.manager.http("/api/history")
    assert status == 200 and ctype == "application/json"
    assert '"node1":[' in body
    status, ctype, body = cluster.manager.http("/dashboard.css")
    assert status == 200 and ctype == "text/css; charset=utf-8" and "--bad" in body
    assert raw_get(cluster, "/api/logs?lines=0") == 400
    assert raw_get(cluster, "/api/logs?node=..") == 400


def test_reload_serves_a_new_web_root(cluster, tmp_path):
    """status_http_web_root alone changes: after `config reload` the new files are served on
    the same listener; the original root is put back for the tests after this one."""
    marker = "webroot" + uuid.uuid4().hex[:10]
    (tmp_path / "index.html").write_text(f"<html><title>{marker}</title></html>\n")
    with open(cluster.manager.config_path) as f:
        original = f.read()
    line = f'status_http_web_root = "{os.path.abspath(WEB_ROOT)}"\n'
    assert line in original
    try:
        with open(cluster.manager.config_path, "w") as f:
            f.write(original.replace(line, f'status_http_web_root = "{tmp_path}"\n'))
        cluster.manager.console("config reload")
        status, _, body = cluster.manager.http("/index.html")
        assert status == 200 and marker in body
    finally:
        with open(cluster.manager.config_path, "w") as f:
            f.write(original)
        cluster.manager.console("config reload")
    status, _, body = cluster.manager.http("/index.html")
    assert status == 200 and marker not in body and "eccmgr dashboard" in body


def test_reopen_logs_after_logrotate_renamed_the_file(cluster):
    """What the logrotate snippet does: rename eccmgr's log, send `reopen logs`; eccmgr writes
    to a new file at the old path (its cluster-health lines keep coming)."""
    path = os.path.join(cluster.manager.root, "eccmgr.log")
    procs.wait_for(lambda: os.path.exists(path) and os.path.getsize(path) > 0, timeout=10,
                   interval=0.1, what="eccmgr's log file")
    os.rename(path, path + ".1")
    assert cluster.manager.console("reopen logs").strip() == "logs reopened"
    procs.wait_for(lambda: os.path.exists(path) and "cluster health" in open(path).read(),
                   timeout=10, interval=0.1, what="a health line in the reopened log")
    os.remove(path + ".1")
