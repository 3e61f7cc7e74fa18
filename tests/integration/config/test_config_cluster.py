"""The config workflow end to end: ecconfigd and three eccfg working copies on 127.0.0.1, every
pull validated by the real ecmta --check-config (config_env.py sets the scene)."""
import http.client
import os
import random
import signal
import ssl
import subprocess
import time
from pathlib import Path

from config_env import (ECCFG, ECCONFIGD, PASSWORD, SLOW_VALIDATOR, conf, decode, edit_line,
                        encode, fsck, needs_ecmta, wait_for, write_conf)

pytestmark = needs_ecmta


def test_commit_on_one_node_appears_on_all(cluster):
    (cluster.wc("n1") / "default" / "new.conf").write_text("hello\n")
    r = cluster.commit("n1", "add new.conf", "--add-all")
    assert "Committed revision" in r.stdout
    for n in ("n2", "n3"):
        r = cluster.eccfg(n, "pull", check=True)
        assert r.stdout.startswith("OK:")
        assert conf(cluster, n, "default/new.conf") == "hello\n"
        assert cluster.node_head(n) == cluster.manager_head()
    r = cluster.eccfg("n2", "pull", check=True)
    assert "Already at revision" in r.stdout


def test_git_log_in_a_node_shows_the_manager_history(cluster):
    edit_line(cluster, "n1", 0, "option1 = 100")
    cluster.commit("n1", "raise option1")
    cluster.eccfg("n2", "pull", check=True)
    node_log = cluster.git("-C", str(cluster.wc("n2")), "log", "--format=%H %s")
    manager_log = cluster.git("--git-dir", str(cluster.state / "default.git"), "log",
                              "--format=%H %s", "main")
    assert node_log == manager_log
    assert "raise option1" in node_log
    assert cluster.git("-C", str(cluster.wc("n2")), "status", "--porcelain") == ""
    fsck(cluster.state / "default.git")
    clone = cluster.root / "clone"
    cluster.git("clone", "-q", str(cluster.state / "default.git"), str(clone))
    assert decode((clone / "default" / "ecelerity.conf").read_text()).startswith(
        "option1 = 100\n")
    r = cluster.eccfg("n2", "log", check=True)
    assert "raise option1" in r.stdout and "Initial configuration" in r.stdout


def test_local_edit_is_merged(cluster):
    edit_line(cluster, "n2", 7, "option8 = local")
    edit_line(cluster, "n1", 0, "option1 = upstream")
    cluster.commit("n1")
    r = cluster.eccfg("n2", "pull", check=True)
    assert "local edits merged" in r.stdout
    text = conf(cluster, "n2")
    assert text.startswith("option1 = upstream\n") and text.endswith("option8 = local\n")
    assert cluster.eccfg("n2", "status", check=True).stdout == "M default/ecelerity.conf\n"
    assert "+" + encode("option8 = local") in cluster.eccfg("n2", "diff", check=True).stdout


def test_conflict_is_refused_then_mine_theirs_manual(cluster):
    for n in ("n2", "n3"):
        edit_line(cluster, n, 3, "option4 = local-" + n)
    edit_line(cluster, "n1", 3, "option4 = upstream")
    edit_line(cluster, "n1", 0, "option1 = upstream")
    cluster.commit("n1")
    for n in ("n2", "n3"):
        link = os.readlink(cluster.wc(n))
        before = conf(cluster, n)
        r = cluster.eccfg(n, "pull")
        assert r.returncode == 2, r.stderr
        assert "conflict" in r.stderr and "default/ecelerity.conf" in r.stderr
        assert os.readlink(cluster.wc(n)) == link
        assert conf(cluster, n) == before
        assert cluster.node_head(n) != cluster.manager_head()
    cluster.eccfg("n2", "pull", "--mine", check=True)
    text = conf(cluster, "n2")
    assert "option4 = local-n2\n" in text and text.startswith("option1 = upstream\n")
    cluster.eccfg("n3", "pull", "--theirs", check=True)
    assert "option4 = upstream\n" in conf(cluster, "n3")
    assert cluster.eccfg("n3", "status", check=True).stdout == ""

    # --manual: markers, C in status, commit refused until resolved.
    edit_line(cluster, "n3", 5, "option6 = n3")
    edit_line(cluster, "n1", 5, "option6 = n1")
    cluster.commit("n1")
    r = cluster.eccfg("n3", "pull", "--manual", check=True)
    assert "C default/ecelerity.conf" in r.stdout
    # Markers are no config: checking and reloading wait for the last resolve.
    assert "reloaded once the last one is resolved" in r.stdout
    assert "<<<<<<< local" in conf(cluster, "n3")
    assert cluster.eccfg("n3", "status", check=True).stdout == "C default/ecelerity.conf\n"
    assert cluster.commit("n3", check=False).returncode == 4
    assert cluster.eccfg("n3", "resolve", "default/ecelerity.conf").returncode == 4
    lines = [l for l in conf(cluster, "n3").splitlines()
             if not l.startswith(("<<<<<<<", "=======", ">>>>>>>", "|||||||", "option6"))]
    write_conf(cluster, "n3", "\n".join(lines[:5] + ["option6 = both"] + lines[5:]) + "\n")
    r = cluster.eccfg("n3", "resolve", "default/ecelerity.conf", check=True)
    assert "All conflicts resolved" in r.stdout
    cluster.commit("n3", "merged option6")
    cluster.eccfg("n1", "pull", check=True)
    assert "option6 = both\n" in conf(cluster, "n1")


def test_stale_commit_is_refused(cluster):
    edit_line(cluster, "n1", 0, "option1 = n1")
    cluster.commit("n1")
    (cluster.wc("n2") / "default" / "other.conf").write_text("x\n")
    r = cluster.commit("n2", "late", "--add-all", check=False)
    assert r.returncode == 4, r.stderr
    assert "stale base" in r.stderr and cluster.manager_head() in r.stderr
    cluster.eccfg("n2", "pull", check=True)
    cluster.commit("n2", "now based on the head", "--add-all")


def test_invalid_config_is_refused_at_pull(cluster):
    # An unknown option, then a value of the wrong type: ecmta --check-config refuses both.
    link = os.readlink(cluster.wc("n2"))
    before = conf(cluster, "n2")
    for bad, why in (("no_such_option = 1", "no_such_option"),
                     ('Domain "option3.test" { Max_Outbound_Connections = lots }', "lots")):
        edit_line(cluster, "n1", 2, bad)
        cluster.commit("n1")  # the committer's own copy is not validated by commit
        r = cluster.eccfg("n2", "pull")
        assert r.returncode == 3, r.stdout + r.stderr
        assert "refused by the validator" in r.stderr and why in r.stderr, r.stderr
        assert "default/ecelerity.conf:3" in r.stderr, r.stderr
        assert os.readlink(cluster.wc("n2")) == link
        assert conf(cluster, "n2") == before
        assert len(cluster.checkouts("n2")) == 1
    edit_line(cluster, "n1", 2, "option3 = fixed")
    cluster.commit("n1")
    cluster.eccfg("n2", "pull", check=True)
    assert "option3 = fixed\n" in conf(cluster, "n2")


def test_wrong_password_is_refused(cluster):
    edit_line(cluster, "n1", 0, "option1 = x")
    r = cluster.eccfg("n1", "commit", "-m", "x", "--username", "admin",
                      env={"ECCFG_PASSWORD": "wrong"})
    assert r.returncode == 5, r.stderr
    assert "wrong user name or password" in r.stderr
    r = cluster.eccfg("n1", "commit", "-m", "x", "--username", "mallory",
                      env={"ECCFG_PASSWORD": PASSWORD})
    assert r.returncode == 5
    assert cluster.eccfg("n1", "status", check=True).stdout == "M default/ecelerity.conf\n"


def test_kill_9_during_a_pull_leaves_the_copy_whole(cluster):
    edit_line(cluster, "n1", 0, "option1 = after-kill")
    cluster.commit("n1")
    flag = cluster.root / "slow"
    flag.write_text("")
    link = os.readlink(cluster.wc("n2"))
    before = conf(cluster, "n2")
    proc = subprocess.Popen([str(ECCFG), "pull", "--wc", str(cluster.wc("n2")),
                             "--validate", str(SLOW_VALIDATOR)],
                            env=dict(os.environ, EC_TEST_SLOW_FLAG=str(flag)),
                            start_new_session=True, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    wait_for(lambda: Path(str(flag) + ".started").exists(), what="the pull to reach validation")
    os.killpg(proc.pid, signal.SIGKILL)  # eccfg and its validator: the group we started
    proc.communicate(timeout=10)
    assert os.readlink(cluster.wc("n2")) == link
    assert conf(cluster, "n2") == before
    assert len(cluster.checkouts("n2")) == 2  # the half-made checkout is left behind ...
    assert cluster.git("-C", str(cluster.wc("n2")), "status", "--porcelain") == ""
    fsck(cluster.wc("n2").parent / ".conf.store.git")
    flag.unlink()
    cluster.eccfg("n2", "pull", check=True)
    assert conf(cluster, "n2").startswith("option1 = after-kill\n")
    assert len(cluster.checkouts("n2")) == 1  # ... and removed by the next pull
    fsck(cluster.wc("n2").parent / ".conf.store.git")
    fsck(cluster.state / "default.git")


def test_concurrent_pulls_serialise(cluster):
    for i in range(3):
        (cluster.wc("n1") / "default" / ("f%d.conf" % i)).write_text("%d\n" % i)
    cluster.commit("n1", "three files", "--add-all")
    procs = [subprocess.Popen([str(ECCFG), "pull", "--wc", str(cluster.wc("n2"))],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(4)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], outs
    assert sum(o[0].startswith("OK:") for o in outs) == 1
    assert cluster.node_head("n2") == cluster.manager_head()
    assert len(cluster.checkouts("n2")) == 1
    assert conf(cluster, "n2", "default/f2.conf") == "2\n"


def https_push(cluster, old, new, body):
    ctx = ssl.create_default_context(cafile=str(cluster.state / "server.crt"))
    ctx.check_hostname = False
    conn = http.client.HTTPSConnection("127.0.0.1", cluster.port, context=ctx, timeout=30)
    import base64
    auth = base64.b64encode(("admin:" + PASSWORD).encode()).decode()
    conn.request("POST", "/config/default/push?old=%s&new=%s" % (old, new), body=body,
                 headers={"Authorization": "Basic " + auth})
    resp = conn.getresponse()
    return resp.status, resp.read().decode()


def test_corrupt_and_truncated_packs_are_refused(cluster):
    head = cluster.manager_head()
    work = cluster.root / "work"
    cluster.git("clone", "-q", str(cluster.state / "default.git"), str(work))
    (work / "default" / "ecelerity.conf").write_text(encode("option1 = replaced\n"))
    cluster.git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam", "x", cwd=work)
    new = cluster.git("rev-parse", "HEAD", cwd=work).strip()
    pack = subprocess.run(["git", "pack-objects", "--revs", "--stdout", "-q"], cwd=work,
                          input=("%s\n^%s\n" % (new, head)).encode(), capture_output=True,
                          check=True).stdout
    corrupt = bytearray(pack)
    corrupt[len(corrupt) // 2] ^= 0x41
    for bad in (pack[:len(pack) - 9], bytes(corrupt), b"not a pack"):
        status, text = https_push(cluster, head, new, bad)
        assert status == 400, text
        assert cluster.manager_head() == head
    fsck(cluster.state / "default.git")
    status, text = https_push(cluster, head, new, pack)
    assert status == 200 and text.strip() == new
    cluster.eccfg("n3", "pull", check=True)
    assert conf(cluster, "n3") == "option1 = replaced\n"


def test_watch_mode_applies_a_commit_within_a_second(cluster):
    out = open(cluster.root / "watch.out", "w")
    watch = subprocess.Popen([str(ECCFG), "pull", "--watch", "--wait", "20",
                              "--wc", str(cluster.wc("n3"))], stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: (cluster.root / "watch.out").read_text().startswith("Already"),
                 what="the watcher's first pull")
        edit_line(cluster, "n1", 0, "option1 = watched")
        cluster.commit("n1")
        committed = time.monotonic()
        wait_for(lambda: conf(cluster, "n3").startswith("option1 = watched\n"), timeout=10,
                 what="the watcher to apply the commit")
        print("commit to applied on a watching node: %.3f s" % (time.monotonic() - committed))
        # The watch checks through its kept `ecmta --check-config-server`, exactly as strictly:
        # an invalid revision is refused with ecmta's file:line, and nothing changes.
        kids = Path("/proc/%d/task/%d/children" % (watch.pid, watch.pid)).read_text().split()
        assert any(b"--check-config-server" in Path("/proc/%s/cmdline" % k).read_bytes()
                   for k in kids), kids
        link = os.readlink(cluster.wc("n3"))
        edit_line(cluster, "n1", 2, "no_such_option = 1")
        cluster.commit("n1")
        wait_for(lambda: "refused by the validator" in (cluster.root / "watch.out").read_text(),
                 timeout=10, what="the watcher to refuse the invalid revision")
        refusal = (cluster.root / "watch.out").read_text()
        assert "default/ecelerity.conf:3" in refusal and "no_such_option" in refusal, refusal
        assert os.readlink(cluster.wc("n3")) == link
        edit_line(cluster, "n1", 2, "option3 = fixed")
        cluster.commit("n1")
        wait_for(lambda: "option3 = fixed\n" in conf(cluster, "n3"), timeout=10,
                 what="the watcher to apply the fixed revision")
        # The refused head was waited past, not pulled again and again until the fix came.
        refusals = (cluster.root / "watch.out").read_text().count("refused by the validator")
        assert refusals == 1, (cluster.root / "watch.out").read_text()
    finally:
        watch.terminate()
        watch.wait(timeout=10)
        out.close()


def test_watch_retries_a_refused_revision_only_when_a_poll_times_out(cluster):
    # A validator that fails for a passing reason (here: until a file appears). The watch does
    # not spin on the refused head; it tries it again when its 1 s long poll times out.
    ok = cluster.root / "validator-ok"
    out_path = cluster.root / "watch-retry.out"
    out = open(out_path, "w")
    watch = subprocess.Popen([str(ECCFG), "pull", "--watch", "--wait", "1", "--validate",
                              "test -e %s || { echo not yet; exit 1; }" % ok,
                              "--wc", str(cluster.wc("n3"))], stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: out_path.read_text().startswith("Already"), what="the first pull")
        edit_line(cluster, "n1", 0, "option1 = retried")
        cluster.commit("n1")
        wait_for(lambda: "refused by the validator" in out_path.read_text(), timeout=10,
                 what="the refusal")
        refused_at = time.monotonic()
        ok.write_text("")
        wait_for(lambda: conf(cluster, "n3").startswith("option1 = retried\n"), timeout=10,
                 what="the retry after the poll timed out")
        # One refusal, then the retry that applied it: at most one per poll period between.
        refusals = out_path.read_text().count("refused by the validator")
        assert refusals <= 1 + int(time.monotonic() - refused_at) + 1, out_path.read_text()
    finally:
        watch.terminate()
        watch.wait(timeout=10)
        out.close()


def test_reload_hook_and_rollback(cluster):
    marker = cluster.root / "reloaded"
    hook = "echo \"$EC_CONF_REVISION\" >> %s" % marker
    first = cluster.node_head("n2")
    edit_line(cluster, "n1", 0, "option1 = v2")
    cluster.commit("n1")
    cluster.eccfg("n2", "pull", "--reload", hook, check=True)
    assert marker.read_text() == cluster.manager_head() + "\n"
    r = cluster.eccfg("n2", "rollback", first[:10], "--username", "admin",
                      env={"ECCFG_PASSWORD": PASSWORD}, check=True)
    assert conf(cluster, "n2").startswith("option1 = 1\n")
    assert cluster.node_head("n2") == cluster.manager_head()
    log = cluster.eccfg("n2", "log", check=True).stdout.splitlines()
    assert log[0].endswith("Rollback to " + first)
    r = cluster.eccfg("n2", "pull", "--reload", "exit 7")
    assert r.returncode == 0  # nothing new: no reload
    cluster.eccfg("n1", "pull", check=True)
    edit_line(cluster, "n1", 1, "option2 = v3")
    cluster.commit("n1")
    r = cluster.eccfg("n2", "pull", "--reload", "echo ecmta is down; exit 1")
    assert r.returncode == 7 and "ecmta is down" in r.stderr
    assert "option2 = v3\n" in conf(cluster, "n2")


def test_concurrent_commits_serialise_one_wins(cluster):
    procs = []
    for n in ("n1", "n2", "n3"):
        (cluster.wc(n) / "default" / (n + ".conf")).write_text(n + "\n")
    for n in ("n1", "n2", "n3"):
        procs.append(subprocess.Popen(
            [str(ECCFG), "commit", "--wc", str(cluster.wc(n)), "-m", "from " + n, "--add-all",
             "--username", "admin"], env=dict(os.environ, ECCFG_PASSWORD=PASSWORD),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    outs = [p.communicate(timeout=120) for p in procs]
    codes = sorted(p.returncode for p in procs)
    assert codes == [0, 4, 4], outs
    assert all("stale base" in o[1] for p, o in zip(procs, outs) if p.returncode == 4)
    count = cluster.git("--git-dir", str(cluster.state / "default.git"), "rev-list", "--count",
                        "main")
    assert count.strip() == "2"
    fsck(cluster.state / "default.git")


def test_kill_9_of_ecconfigd_during_pushes_leaves_a_valid_repository(cluster):
    """ecconfigd killed at random moments while commits arrive: stock git fsck agrees with the
    repository each time, its head is one whole revision, and after a restart commits work."""
    rng = random.Random(5)
    deadline = time.monotonic() + 120
    for round_ in range(6):
        assert time.monotonic() < deadline
        cluster.eccfg("n1", "pull", check=True)
        edit_line(cluster, "n1", round_ % 8, "option%d = kill%d" % (round_ % 8 + 1, round_))
        committer = subprocess.Popen(
            [str(ECCFG), "commit", "--wc", str(cluster.wc("n1")), "-m", "round %d" % round_,
             "--username", "admin"], env=dict(os.environ, ECCFG_PASSWORD=PASSWORD),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(rng.uniform(0.0, 0.08))  # a random moment of the push
        cluster.daemon.kill()
        cluster.daemon.wait()
        committer.communicate(timeout=60)
        fsck(cluster.state / "default.git")
        head = cluster.manager_head()
        cluster.git("--git-dir", str(cluster.state / "default.git"), "ls-tree", "-r", head)
        cluster.start_daemon()
    # The manager serves and accepts again; every node converges.
    cluster.eccfg("n1", "pull", check=True)
    edit_line(cluster, "n1", 7, "option8 = after-restarts")
    cluster.commit("n1", "after the kills")
    for n in ("n2", "n3"):
        cluster.eccfg(n, "pull", "--theirs", check=True)
        assert "option8 = after-restarts\n" in conf(cluster, n)
    fsck(cluster.state / "default.git")


def test_ecconfigd_pid_file_and_signals(cluster):
    """One ecconfigd per pid file (common/daemon PidFile); SIGTERM stops it cleanly."""
    pid_file = cluster.root / "manager" / "run" / "ecconfigd.pid"
    assert pid_file.read_text().strip() == str(cluster.daemon.pid)
    second = subprocess.run(
        [str(ECCONFIGD), "--foreground", "--root", str(cluster.root / "manager"),
         "--state-dir", str(cluster.state), "--listen", "127.0.0.1", "--port", "0"],
        capture_output=True, text=True, timeout=30)
    assert second.returncode == 2, second.stderr
    assert str(cluster.daemon.pid) in second.stderr, second.stderr
    cluster.daemon.send_signal(signal.SIGTERM)
    assert cluster.daemon.wait(timeout=10) == 0
    assert not pid_file.exists()
    cluster.start_daemon()  # a clean stop leaves nothing that blocks the next start
    assert pid_file.read_text().strip() == str(cluster.daemon.pid)
    cluster.eccfg("n1", "pull", check=True)
