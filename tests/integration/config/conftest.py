import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

# Make tests/integration/lib importable as `lib`, and config_env.py beside this file.
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(__file__))

from config_env import Cluster  # noqa: E402


@pytest.fixture
def cluster():
    root = Path(tempfile.mkdtemp(prefix="ec_config_it."))
    c = Cluster(root)
    yield c
    c.stop()
    shutil.rmtree(root, ignore_errors=True)
