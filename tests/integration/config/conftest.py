import os
import sys

import pytest

# Make tests/integration/lib importable as `lib`, and config_env.py beside this file.
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(__file__))

from config_env import Cluster  # noqa: E402
from lib.scratch import scratch_dir  # noqa: E402


@pytest.fixture
def cluster():
    with scratch_dir("ec_config_it.") as root:
        c = Cluster(root)
        yield c
        c.stop()
