"""`ecmta --check-config` on cluster-wide limits (docs/cluster-limits.md): a limit without the
Replicate type that carries it is refused with the file:line to fix, every such problem at
once; with its Replicate it is accepted. Runs the real ecmta; no daemon is started."""
import subprocess

from lib import procs
from lib.mta import MtaNode

from config_env import needs_ecmta

pytestmark = needs_ecmta


def check(node):
    r = subprocess.run([procs.find_binary("ecmta"), "--check-config", "--config",
                        node.config_path, "--root", node.root, "--node-name", node.node_name],
                       capture_output=True, text=True, timeout=60)
    return r.returncode, r.stdout + r.stderr


def line_of(node, text):
    """The 1-based line of the config file holding `text` (exactly one)."""
    with open(node.config_path) as f:
        hits = [i + 1 for i, line in enumerate(f) if text in line]
    assert len(hits) == 1, hits
    return hits[0]


LIMIT = 'Domain "limited.test" { cluster_max_outbound_connections = 20 }'


def test_limit_without_its_replicate_is_refused_with_file_and_line(tmp_path):
    node = MtaNode(tmp_path, extra_config=LIMIT)
    rc, out = check(node)
    assert rc != 0, out
    assert "configuration OK" not in out, out  # a refused config never says it is fine
    where = "%s:%d:" % (node.config_path, line_of(node, "cluster_max_outbound_connections"))
    problems = [l for l in out.splitlines() if "needs Replicate" in l]
    assert len(problems) == 1, out
    assert problems[0].startswith(where), out
    assert problems[0].endswith(
        'cluster_max_outbound_connections needs Replicate "outbound_domains" in cluster { }'), out


def test_limit_with_its_replicate_is_accepted(tmp_path):
    node = MtaNode(tmp_path, extra_config=LIMIT + '\ncluster { Replicate "outbound_domains" { } }')
    rc, out = check(node)
    assert rc == 0, out
    assert "configuration OK" in out
    assert "needs Replicate" not in out


def test_every_problem_is_reported_at_once(tmp_path):
    # OBTM is missing for the throttle, and the Replicate that is there has an absurd max_delay.
    node = MtaNode(tmp_path, extra_config=LIMIT + """
Binding_Group "bulk" { cluster_outbound_throttle_messages = "100/60" }
cluster { Replicate "outbound_domains" {
  max_delay = 3600
} }""")
    rc, out = check(node)
    assert rc != 0, out
    throttle = "%s:%d:" % (node.config_path, line_of(node, "cluster_outbound_throttle_messages"))
    delay = "%s:%d:" % (node.config_path, line_of(node, "max_delay"))
    lines = out.splitlines()
    assert any(l.startswith(throttle) and 'needs Replicate "OBTM"' in l for l in lines), out
    assert any(l.startswith(delay) and "must be more than 0 and at most 60" in l
               for l in lines), out
    assert "cluster_max_outbound_connections needs" not in out


BUS = 'msgc_server { peers = [ n1 = "127.0.0.2" n2 = "127.0.0.3" ] }'
SHARED = 'Shared_Throttle "partners" {\n  messages = "600/60"\n}'


def test_shared_throttle_in_a_cluster_needs_its_replicate(tmp_path):
    node = MtaNode(tmp_path, listener_options='shared_throttle = "partners"',
                   extra_config=BUS + "\n" + SHARED)
    rc, out = check(node)
    assert rc != 0, out
    where = "%s:%d:" % (node.config_path, line_of(node, "messages = "))
    problems = [l for l in out.splitlines() if "needs Replicate" in l]
    assert len(problems) == 1 and problems[0].startswith(where), out
    assert 'Shared_Throttle "partners" needs Replicate "shared_named_throttles"' in out, out
    # With its Replicate: accepted, and the type is no longer "not acted on".
    node.write_config(extra_config=BUS + "\n" + SHARED +
                      '\ncluster { Replicate "x" { type = "shared_named_throttles" } }')
    rc, out = check(node)
    assert rc == 0, out
    assert "shared_named_throttles" not in out, out
    # A single node needs none.
    node.write_config(extra_config=SHARED)
    rc, out = check(node)
    assert rc == 0, out


def test_shared_throttle_naming_no_throttle_is_refused(tmp_path):
    node = MtaNode(tmp_path, listen_options='Peer "127.0.0.0/8" { shared_throttle = "nobody" }',
                   extra_config=SHARED)
    rc, out = check(node)
    assert rc != 0, out
    where = "%s:%d:" % (node.config_path, line_of(node, '"nobody"'))
    problems = [l for l in out.splitlines() if "names no Shared_Throttle" in l]
    assert len(problems) == 1 and problems[0].startswith(where), out
