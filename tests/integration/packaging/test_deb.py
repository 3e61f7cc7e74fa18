"""The Debian package: built by cpack from the build directory (EC_BINARY_DIR), installed with
`dpkg --root` into a scratch root where its postinst runs for real (dpkg chroots into the root
for maintainer scripts; scratch_root.py lends it the host's binaries read-only). Checks the
files, their owners and modes, the account and directories postinst made, the conffiles, an
upgrade over the installed package, and the systemd units with `systemd-analyze verify`.

systemctl itself cannot run here (no systemd as PID 1 in a container): the units are verified,
and test_readiness.py checks the Type=notify side (sd_notify) against a real ecmta. Needs root
(ownership, chroot) and mount namespaces; skips otherwise. Scratch files live in a /tmp
directory named ectest-deb-*, removed in every outcome."""
import os
import shlex
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

import scratch_root
from lib.scratch import scratch_dir

ACCOUNT = "ecuser"
BINARIES = ("ecmta", "ec_console", "ec_duravip_keeper", "ec_spool", "ec_conf", "eccfg", "eccmgr",
            "ecconfigd", "ec_msgc_keygen", "eccluster_request")
UNITS = ("ecmta.service", "eccmgr.service", "ecconfigd.service", "eccfg-watch.service",
         "eccfg-pull.service", "eccfg-pull.timer")


def run(argv, timeout=180, **kw):
    r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, **kw)
    assert r.returncode == 0, f"{argv} exited {r.returncode}:\n{r.stdout}\n{r.stderr}"
    return r


@pytest.fixture(scope="module")
def work():
    if os.geteuid() != 0:
        pytest.skip("needs root: dpkg --root chroots for the maintainer scripts and chowns")
    for tool in ("cpack", "dpkg", "dpkg-deb", "unshare"):
        if not shutil.which(tool):
            pytest.skip(f"{tool} is not installed (scripts/install-deps.sh)")
    if not scratch_root.can_mount():
        pytest.skip("cannot bind-mount in a mount namespace here (needs CAP_SYS_ADMIN)")
    with scratch_dir("ectest-deb-") as d:
        yield d


@pytest.fixture(scope="module")
def deb(work):
    config = Path(os.environ["EC_BINARY_DIR"]) / "CPackConfig.cmake"
    assert config.exists(), f"{config} missing: configure the build directory first"
    out = work / "out"
    # Uncompressed: the package's contents and scripts are what is tested, and gzip of the
    # sanitizer build's binaries was half of this test's CPU.
    run(["cpack", "--config", str(config), "-B", str(out),
         "-D", "CPACK_DEBIAN_COMPRESSION_TYPE=none"], timeout=240)
    debs = sorted(out.glob("*.deb"))
    assert len(debs) == 1, debs
    return debs[0]


@pytest.fixture(scope="module")
def root(work, deb):
    r = work / "root"
    scratch_root.make_root(r, ACCOUNT)
    assert scratch_root.account_entry(r, "passwd", ACCOUNT) is None
    result = scratch_root.run_in_root(
        r, ["dpkg", "--root", str(r), "--force-depends", "--force-not-root", "-i", str(deb)])
    assert result.returncode == 0, result.stdout + result.stderr
    return r


def owner(path):
    st = os.lstat(path)
    return st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)


def test_control_fields(deb):
    fields = run(["dpkg-deb", "--field", str(deb), "Package", "Depends", "Architecture"]).stdout
    assert "Package: ecmta" in fields
    # dpkg-shlibdeps found the libraries the binaries link.
    for lib in ("libgit2", "libzmq5", "libevent", "libsystemd0", "libc6", "passwd"):
        assert lib in fields, fields
    listing = run(["dpkg-deb", "--info", str(deb)]).stdout
    for name in ("postinst", "prerm", "postrm", "conffiles"):
        assert name in listing, listing


def test_installed_and_registered(root):
    status = run(["dpkg", "--root", str(root), "-s", "ecmta"]).stdout
    assert "Status: install ok installed" in status, status
    conffiles = (root / "var/lib/dpkg/info/ecmta.conffiles").read_text().split()
    assert conffiles == ["/etc/logrotate.d/ecmta", "/etc/default/ecmta"]


def test_files_owners_modes(root):
    opt = root / "opt/ecmta"
    for b in BINARIES:
        path = opt / "bin" / b
        assert owner(path) == (0, 0, 0o755), (b, owner(path))
    # Stripped: no .debug_info left (CPACK_STRIP_FILES).
    sections = run(["readelf", "-S", str(opt / "bin/ecmta")]).stdout
    assert ".debug_info" not in sections
    for helper in ("ecmta-install-user", "ecmta-reopen-logs"):
        assert owner(opt / "libexec" / helper) == (0, 0, 0o755)
    for conf in ("global/msgc_server.conf", "default/ecelerity.conf", "default/eccluster.conf",
                 "default/ecelerity-cluster.conf"):
        assert owner(opt / "share/conf" / conf) == (0, 0, 0o644), conf
    assert (opt / "share/doc/install.md").exists()
    assert (opt / "share/doc/operator-guide.md").exists()
    for unit in UNITS:
        assert owner(root / "lib/systemd/system" / unit) == (0, 0, 0o644), unit
    assert owner(root / "etc/logrotate.d/ecmta") == (0, 0, 0o644)
    assert owner(root / "etc/default/ecmta") == (0, 0, 0o644)


def test_postinst_account_and_directories(root):
    user = scratch_root.account_entry(root, "passwd", ACCOUNT)
    group = scratch_root.account_entry(root, "group", ACCOUNT)
    assert user is not None and group is not None, "postinst did not create ecuser"
    uid, gid = int(user[2]), int(group[2])
    assert user[3] == group[2] and user[6] == "/usr/sbin/nologin", user
    assert uid < 1000, "a system account"
    for d in ("etc", "spool", "log", "run"):
        path = root / "opt/ecmta" / d
        assert owner(path) == (uid, gid, 0o750), (d, owner(path))
    assert owner(root / "opt/ecmta") == (0, 0, 0o755)


def test_upgrade_keeps_account_and_local_edits(root, deb):
    """A second install is an upgrade: postinst runs with the old version, the account and
    directory owners stay, an edited conffile is kept."""
    uid_before = scratch_root.account_entry(root, "passwd", ACCOUNT)[2]
    spool_file = root / "opt/ecmta/spool/keep-me"
    spool_file.write_text("queued mail\n")
    default = root / "etc/default/ecmta"
    default.write_text(default.read_text() + 'ECMTA_OPTS="--node-name node7"\n')
    result = scratch_root.run_in_root(
        root, ["dpkg", "--root", str(root), "--force-depends", "--force-not-root",
               "--force-confold", "-i", str(deb)])
    assert result.returncode == 0, result.stdout + result.stderr
    assert scratch_root.account_entry(root, "passwd", ACCOUNT)[2] == uid_before
    assert spool_file.read_text() == "queued mail\n"
    assert 'ECMTA_OPTS="--node-name node7"' in default.read_text()
    assert owner(root / "opt/ecmta/spool")[2] == 0o750


def test_units_verify(root):
    analyze = shutil.which("systemd-analyze")
    if not analyze:
        pytest.skip("systemd-analyze is not installed (scripts/install-deps.sh installs systemd)")
    units = [str(root / "lib/systemd/system" / u) for u in UNITS]
    # verify checks that every Exec*= binary exists: the scratch root's /opt/ecmta is shown at
    # /opt/ecmta in a private mount namespace (over a tmpfs /opt, so the host's stays unseen).
    # systemd's own units (sysinit.target, ...) come from the host. Warnings (an unknown key,
    # a bad value) go to stderr with exit status 0: both must be clean.
    script = (f"mount -t tmpfs ectest-opt /opt && mkdir /opt/ecmta && "
              f"mount --bind {shlex.quote(str(root / 'opt/ecmta'))} /opt/ecmta && "
              f"exec {shlex.quote(analyze)} verify --man=no " + " ".join(map(shlex.quote, units)))
    r = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and not r.stderr.strip(), r.stdout + r.stderr


def test_unit_contents(root):
    """What systemd-analyze cannot judge: the daemons start as root and drop by themselves
    (Security { user }), report readiness, and reload through the console."""
    unit = {u: (root / "lib/systemd/system" / u).read_text() for u in UNITS}
    for daemon in ("ecmta.service", "eccmgr.service", "ecconfigd.service"):
        assert "Type=notify" in unit[daemon]
        assert "--foreground" in unit[daemon]  # Type=notify: the main PID must not fork away
        assert "\nUser=" not in unit[daemon]
    assert 'ec_console /opt/ecmta/run/ec_console.sock "config reload"' in unit["ecmta.service"]
    assert 'ec_console /opt/ecmta/run/eccmgr.sock "config reload"' in unit["eccmgr.service"]
    assert "eccfg pull --watch" in unit["eccfg-watch.service"]
    assert "eccfg pull --auto" in unit["eccfg-pull.service"]
    assert "OnCalendar=minutely" in unit["eccfg-pull.timer"]
