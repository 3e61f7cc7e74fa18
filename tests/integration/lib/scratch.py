"""Scratch directories for tests that are not pytest's tmp_path: those a dropped daemon (user
nobody) must traverse, which pytest's 0700 directories forbid, and those module fixtures share."""
import contextlib
import os
import shutil
import tempfile
from pathlib import Path


@contextlib.contextmanager
def scratch_dir(prefix, mode=None):
    """A fresh directory under /tmp named `prefix`..., chmod `mode` when given (0o755: every
    user may traverse it); removed with its contents however the block ends."""
    d = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    try:
        if mode is not None:
            os.chmod(d, mode)
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)
