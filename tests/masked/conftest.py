"""The masked study's tests share tests/reference_impl.py (the slow reference of Algorithm 1)."""

import sys
from pathlib import Path

TESTS = str(Path(__file__).resolve().parents[1])
if TESTS not in sys.path:
    sys.path.insert(0, TESTS)
