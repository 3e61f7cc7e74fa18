import os
import sys

# Make tests/integration/lib importable as `lib`.
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
