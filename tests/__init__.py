"""moviebot's tests (a package, so tests.helpers is importable).

Each run imports every test module (assertion-rewritten) and ~250 modules of ours in every
test process; without bytecode caches all of it is compiled again each time, about a third of
the fast run's collection. The suite therefore keeps the caches even where
PYTHONDONTWRITEBYTECODE is set: they go to __pycache__/, which git ignores. This package is
imported before tests/conftest.py, so the caches cover everything the conftest imports too.
"""

import sys

sys.dont_write_bytecode = False
