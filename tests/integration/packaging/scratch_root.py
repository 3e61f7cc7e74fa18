"""A scratch root to install a .deb into with `dpkg --root`, which runs the maintainer scripts
chrooted there: they need a shell and the account tools. The host's /usr/bin, /usr/sbin, the
shared libraries and /dev/null are bind-mounted read-only inside a private mount namespace
(gone when the command ends, whatever happens); /etc holds copies of the account files without
`account`, so postinst must really create it; everything the package writes lands in the
scratch root only (/lib/systemd/system included: /lib -> usr/lib is a real directory here)."""
import glob
import os
import shlex
import shutil
import subprocess
from pathlib import Path

ACCOUNT_FILES = ("passwd", "group", "shadow", "gshadow")
COPIED_ETC = ACCOUNT_FILES + ("login.defs", "nsswitch.conf", "ld.so.cache")


def _read_only_binds():
    """(host dir, path inside the root) pairs the maintainer scripts need."""
    dirs = ["/usr/bin", "/usr/sbin", "/usr/lib64"] + glob.glob("/usr/lib/*-linux-gnu")
    for top in ("/bin", "/sbin", "/lib64"):
        if os.path.isdir(top) and not os.path.islink(top):  # a system without merged /usr
            dirs.append(top)
    if os.path.isdir("/lib") and not os.path.islink("/lib"):
        dirs += glob.glob("/lib/*-linux-gnu")
    return [d for d in dirs if os.path.isdir(d)]


def make_root(root, account):
    root = Path(root)
    for d in ("etc", "tmp", "dev", "var/lib/dpkg/info", "var/lib/dpkg/updates",
              "var/lib/dpkg/triggers", "var/log", "usr/lib"):
        (root / d).mkdir(parents=True, exist_ok=True)
    os.chmod(root / "tmp", 0o1777)
    for f in ("status", "available"):
        (root / "var/lib/dpkg" / f).touch()
    for top in ("bin", "sbin", "lib", "lib64"):
        host = Path("/" + top)
        if host.is_symlink():
            os.symlink(os.readlink(host), root / top)
        else:
            (root / top).mkdir(exist_ok=True)
    for name in COPIED_ETC:
        src = Path("/etc") / name
        if not src.exists():
            continue
        if name in ACCOUNT_FILES:
            lines = src.read_text().splitlines(keepends=True)
            lines = [l for l in lines if l.split(":", 1)[0] != account]
            (root / "etc" / name).write_text("".join(lines))
            shutil.copymode(src, root / "etc" / name)
        else:
            shutil.copy(src, root / "etc" / name)
    for d in _read_only_binds():
        (root / d.lstrip("/")).mkdir(parents=True, exist_ok=True)
    (root / "dev/null").touch()  # a bind-mount target: scripts redirect to /dev/null


def run_in_root(root, command, timeout=120):
    """`command` (argv) in a private mount namespace where `root` has the host's binaries."""
    mounts = []
    for d in _read_only_binds():
        target = shlex.quote(str(Path(root) / d.lstrip("/")))
        mounts.append(f"mount --bind {shlex.quote(d)} {target} && "
                      f"mount -o remount,bind,ro {target}")
    null = shlex.quote(str(Path(root) / "dev/null"))
    mounts.append(f"mount --bind /dev/null {null}")
    script = " && ".join(mounts + ["exec " + shlex.join(command)])
    return subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
                          capture_output=True, text=True, timeout=timeout)


def can_mount():
    """True when this process may make a mount namespace and bind-mount in it."""
    probe = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c",
                            "mount --bind /usr/bin /usr/bin"], capture_output=True, timeout=20)
    return probe.returncode == 0


def account_entry(root, file, name):
    """The fields of `name`'s line in <root>/etc/<file>, or None."""
    for line in (Path(root) / "etc" / file).read_text().splitlines():
        fields = line.split(":")
        if fields[0] == name:
            return fields
    return None
