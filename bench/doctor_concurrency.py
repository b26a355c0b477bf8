"""Kept so ``make bench`` (``python -m bench.doctor_concurrency``) runs the real benchmark.

The benchmark is ``python -m bench``; see ``bench/__main__.py``.
"""

from __future__ import annotations

import sys

from bench.__main__ import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
