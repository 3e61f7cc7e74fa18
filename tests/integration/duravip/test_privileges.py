"""DuraVIP needs CAP_NET_ADMIN (addresses) and CAP_NET_RAW (gratuitous ARP): an ecmta without
them refuses to start with a message naming what is missing, rather than failing at the first
takeover. Runs ecmta as root with both capabilities taken out of its bounding set (setpriv), so
nothing but the capabilities differs. Needs root and setpriv; skips otherwise."""
import os
import shutil
import subprocess

import pytest

from lib import procs
from lib.mta import MtaNode

CONFIG = """
msgc_server { peers = [ node1 = "127.0.0.1" ] port = 24811 curve = false }
cluster { Topology "198.18.0.0/24" { interface = "eth1" cidrmask = "24" } }
"""


def test_ecmta_without_net_admin_refuses_duravip(tmp_path):
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        pytest.skip("needs root and setpriv (util-linux) to start ecmta without capabilities")
    node = MtaNode(tmp_path, node_name="node1",
                   listener_options='Listen "198.18.0.100:25" { Enable_Duravip = true }',
                   extra_config=CONFIG)
    argv = ["setpriv", "--bounding-set", "-net_admin,-net_raw", "--inh-caps", "-all",
            procs.find_binary("ecmta"), "--config", node.config_path, "--root", node.root,
            "--node-name", "node1", "--foreground"]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    out = r.stdout + r.stderr
    assert r.returncode != 0, out
    assert "CAP_NET_ADMIN" in out and "CAP_NET_RAW" in out, out
