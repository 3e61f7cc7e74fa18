"""`ecmta --check-config`: what eccfg runs before switching a node to a new revision.

It must refuse what the language check alone cannot see (a banner that is not a 220 line, a
missing TLS key) as well as what it can (an unknown option), and pass a config a node runs."""
import subprocess

from lib import procs
from lib.mta import MtaNode


def check(node):
    r = subprocess.run([procs.find_binary("ecmta"), "--check-config", "--config",
                        node.config_path, "--root", node.root, "--node-name", node.node_name],
                       capture_output=True, text=True, timeout=60)
    return r.returncode, r.stdout + r.stderr


def test_a_config_the_node_runs_passes(tmp_path):
    node = MtaNode(tmp_path, listener_options='relay_hosts = ( "127.0.0.0/8" )')
    rc, out = check(node)
    assert rc == 0, out
    assert "configuration OK" in out
    with node:  # and the daemon does start on it
        assert node.summary_value("Connections") == 0


def test_unknown_option_is_refused_with_its_location(tmp_path):
    node = MtaNode(tmp_path, listener_options="no_such_option = 1")
    rc, out = check(node)
    assert rc != 0
    assert "ecelerity.conf:" in out and "no_such_option" in out


def test_banner_that_is_not_a_220_line_is_refused(tmp_path):
    node = MtaNode(tmp_path, listener_options='static_banner = "hello there"')
    rc, out = check(node)
    assert rc != 0, out
    assert "static_banner" in out and "220" in out


def test_missing_tls_key_is_refused(tmp_path):
    node = MtaNode(tmp_path, listener_options=(
        f'tls_certificate = "{tmp_path}/missing.crt"\n'
        f'tls_key = "{tmp_path}/missing.key"'))
    rc, out = check(node)
    assert rc != 0, out
    assert "missing" in out


def test_assignment_to_an_undeclared_binding_is_refused(tmp_path):
    # A typo in set_binding would otherwise send mail out of the wrong address without a word.
    node = MtaNode(tmp_path, listener_options='set_binding = "bulk-typo"',
                   extra_config='Binding "bulk" { bind_address = "127.0.0.5" }')
    rc, out = check(node)
    assert rc != 0, out
    assert 'Binding "bulk-typo"' in out and "not declared" in out


def test_bind_address_that_is_not_an_address_is_refused(tmp_path):
    node = MtaNode(tmp_path, extra_config='Binding "bulk" { bind_address = "mail.example.com" }')
    rc, out = check(node)
    assert rc != 0, out
    assert 'binding "bulk"' in out and "bind_address" in out
