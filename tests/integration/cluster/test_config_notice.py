"""Config notices end to end: a commit to the real ecconfigd is announced on the bus group
ec_config, and every running ecmta starts `eccfg pull --auto --root <its root>` for it at once.

The bus runs in plain text here (ecconfigd does not read CURVE keys yet). The nodes' roots hold
no bootstrapped working copy, so the pull itself fails; the test checks that each node received
the committed revision and ran eccfg for it, and that ecconfigd's re-announcements start no
further pull.
"""
import os
import re
import sys

import pytest

from lib import procs
from lib.cluster import LocalCluster, console

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "config"))
import config_env  # noqa: E402  (the config tests' ecconfigd + eccfg world)

CONFIGD_ADDRESS = "127.0.0.11"


def pulls(c, name):
    """(started, ok, failed) from the node's `cluster info`."""
    m = re.search(r"Config pulls: started (\d+), ok (\d+), failed (\d+)", cluster_info(c, name))
    return tuple(int(x) for x in m.groups()) if m else (0, 0, 0)


def cluster_info(c, name):
    rc, out = console(c.nodes[name].socket_path, "cluster info", timeout=10)
    return out if rc == 0 else ""


@pytest.mark.skipif(not config_env.ECCONFIGD.exists() or not config_env.ECCFG.exists(),
                    reason="needs ecconfigd and eccfg (build targets ecconfigd, eccfg)")
def test_commit_notice_reaches_every_node(tmp_path, monkeypatch):
    c = LocalCluster(tmp_path / "bus", nodes=2, curve=False, heartbeat=0.1, dead_timeout=1.0,
                     extra_peers={"configd": CONFIGD_ADDRESS},
                     cluster_options=f'eccfg_path = "{config_env.ECCFG}"')
    # ecconfigd reads <root>/etc/conf/global/msgc_server.conf and names itself from
    # EC_NODE_NAME.
    cfg_root = tmp_path / "cfg"
    bus_conf = cfg_root / "manager" / "etc" / "conf" / "global" / "msgc_server.conf"
    bus_conf.parent.mkdir(parents=True)
    with open(os.path.join(c.global_dir, "msgc_server.conf")) as f:
        bus_conf.write_text(f.read())
    configd = None
    try:
        c.start()
        c.wait_converged()
        monkeypatch.setenv("EC_NODE_NAME", "configd")
        configd = config_env.Cluster(cfg_root, nodes=("n1",))
        procs.wait_for(lambda: c.manager_view().get("configd") == "ALIVE", timeout=15,
                       what="ecconfigd to join the bus")
        config_env.edit_line(configd, "n1", 0, "option1 = 100")
        configd.commit("n1", "notice test")
        head = configd.manager_head()
        for name in c.names:
            procs.wait_for(lambda: f"Last config notice: {head}" in cluster_info(c, name),
                           timeout=15, what=f"{name} to hear revision {head[:8]}")
            # Every pull started has ended (each fails: no working copy to pull into).
            procs.wait_for(lambda: pulls(c, name)[0] >= 1 and
                           pulls(c, name)[0] == pulls(c, name)[2], timeout=30,
                           what=f"{name}'s pulls to end")
            log = c.nodes[name].process.log()
            assert f"event=config_pull_started revision={head}" in log, log
        started = {name: pulls(c, name)[0] for name in c.names}
        # ecconfigd repeats its heads every 2 s: no further pull.
        for name in c.names:
            procs.wait_for(lambda: "Config re-announcements ignored: 0" not in
                           cluster_info(c, name), timeout=15,
                           what=f"ecconfigd to re-announce to {name}")
            assert pulls(c, name)[0] == started[name]
    finally:
        if configd is not None:
            configd.stop()
        c.stop()
