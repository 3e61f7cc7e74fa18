"""A DSN that cannot be written keeps the original queued: the spool sits on a small tmpfs that
fills up just as the remote answers 550, so the original is stored but its DSN is not. Once
there is room again `retry` writes the DSN, without delivering again, and only then does the
original leave the spool. Needs root (mount(8)); skipped otherwise. The same logic with injected
ENOSPC and EIO: tests/unit/mta/outbound/scheduler_bounce_test.cc."""
import errno
import os
import subprocess

import pytest

from helpers import mainlog, node, route_config, send
from lib import procs
from lib.sink import ScriptedReceiver


def fill(directory):
    """Writes a file in `directory` until the file system is full; returns its path."""
    path = os.path.join(directory, "filler")
    with open(path, "wb", buffering=0) as f:
        for chunk in (65536, 4096, 512):
            for _ in range(100000):  # bounded: a 4 MiB tmpfs takes far fewer
                try:
                    f.write(b"\0" * chunk)
                except OSError as e:
                    assert e.errno == errno.ENOSPC, e
                    break
    return path


@pytest.fixture
def small_spool(tmp_path):
    """The node's spool directory on a 4 MiB tmpfs, unmounted afterwards."""
    spool = tmp_path / "root-n1" / "spool"
    spool.mkdir(parents=True)
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(spool)],
                       capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        pytest.skip("cannot mount a tmpfs here: " + r.stderr.strip())
    yield str(spool)
    subprocess.run(["umount", "-l", str(spool)], capture_output=True, timeout=30)


def test_unwritable_bounce_keeps_the_original(tmp_path, small_spool):
    filler = []

    def policy(rcpt, attempt):
        if not filler:
            filler.append(fill(small_spool))  # the original is stored; its DSN will not fit
        return "550 5.1.1 <%s>: user unknown" % rcpt

    with ScriptedReceiver(policy=policy) as rx:
        # The DSN carries the whole original, so it needs fresh pages of the full tmpfs.
        cfg = route_config({"dst.test": f"smtp://127.0.0.1:{rx.port}"},
                           bounces_inline_original='"all"')
        cfg += 'Domain "src.test" { suspend_delivery = true }\n'
        with node(tmp_path, cfg) as a:
            send(a, "sender@src.test", ["gone@dst.test"], subject="orig",
                 body=("y" * 76 + "\r\n") * 600)
            procs.wait_for(lambda: any("not queued" in l for l in a.log_lines("paniclog.ec")),
                           timeout=20, what="the paniclog line of the unwritten DSN")
            assert len(mainlog(a, "P")) == 1
            assert a.summary_value("Bounces") == 0
            assert a.summary_value("Queued") == 1  # the original is still in the spool
            assert "delayed=1" in a.console("mailq")  # waiting for its DSN's next try

            os.unlink(filler[0])
            assert "1 messages scheduled" in a.console("retry dst.test")
            procs.wait_for(lambda: a.summary_value("Bounces") == 1, timeout=20,
                           what="the DSN written")
            # The original went in the same step: the spool holds the DSN alone.
            assert a.summary_value("Queued") == 1
            assert rx.attempts.get("gone@dst.test") == 1  # the retry delivered nothing
    # After the node stopped: only the DSN is left, addressed to the sender.
    r = subprocess.run([procs.find_binary("ec_spool"), "--spoolbase", small_spool, "list",
                        "--header", "Subject"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    rows = [l.split("\t") for l in r.stdout.splitlines()]
    assert len(rows) == 1 and "Undelivered Mail Returned to Sender" in rows[0][1], rows
