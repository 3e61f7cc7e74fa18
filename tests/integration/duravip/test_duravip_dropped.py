"""DuraVIP keeps working when ecmta has dropped root: the keeper is forked before the drop and
keeps root's capabilities, ecmta itself runs as "nobody" with only net_admin, net_raw and
net_bind_service, and the VIP's port-25 listener (bound after the election, after the drop)
answers. Two nodes in network namespaces (lib/netns.py); roots in /tmp/ectest-priv-* (pytest's
tmp dirs are root-only), removed in every outcome. Needs root, `ip netns` and user nobody."""
import glob
import pwd

import pytest

from lib import netns, procs
from lib.duravip_cluster import NetnsCluster
from lib.scratch import scratch_dir

VIP = "198.18.0.100"
CAPS = (1 << 10) | (1 << 12) | (1 << 13)  # net_bind_service, net_admin, net_raw
SECURITY = ('Security {\n  user = "nobody"\n'
            '  capabilities = "cap_net_admin+ep cap_net_raw+ep cap_net_bind_service+ep"\n}')


def children(pid):
    kids = []
    for path in glob.glob(f"/proc/{pid}/task/*/children"):
        with open(path) as f:
            kids += [int(p) for p in f.read().split()]
    return kids


def test_duravip_with_dropped_ecmta():
    netns.skip_unless_available()
    try:
        nobody = pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("needs the user 'nobody' to drop to")
    with scratch_dir("ectest-priv-", mode=0o755) as world:
        with NetnsCluster(world, nodes=2, vips=[{"address": VIP, "preference": "node1"}],
                          node_extra=lambda name: SECURITY) as c:
            c.wait_single_owner(VIP, "node1", timeout=30)
            pid = c.node("node1").process.pid
            for task in glob.glob(f"/proc/{pid}/task/*/status"):
                s = procs.proc_status(task)
                assert s["Uid"] == [str(nobody.pw_uid)] * 4, s["Uid"]
                assert int(s["CapEff"][0], 16) == CAPS and int(s["CapBnd"][0], 16) == CAPS
            keepers = [k for k in children(pid)
                       if "duravip" in open(f"/proc/{k}/comm").read()]
            assert keepers, f"no keeper among ecmta's children {children(pid)}"
            keeper = procs.proc_status(f"/proc/{keepers[0]}/status")
            assert keeper["Uid"][0] == "0"  # forked before the drop
            # The VIP's listener was bound after the election, so after the drop.
            procs.wait_for(lambda: procs.port_open(VIP, 25, c.bed.members["node2"].netns),
                           timeout=15, what=f"{VIP}:25 to answer")
