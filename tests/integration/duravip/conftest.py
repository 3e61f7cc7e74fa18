import os
import sys

# Make tests/integration/lib importable as `lib`.
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "balance_interval(seconds): the cluster's view_balance_interval for this test")
