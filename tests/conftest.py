"""Fixtures for every test."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def collect_garbage_after_each_test() -> Iterator[None]:
    """Finalize what a test left behind before the next one starts.

    An unclosed client then warns (an error, by ``filterwarnings``) in the test that leaked it,
    not in whichever later test the garbage collector happened to run in; on Python 3.11 a
    finalizer that runs inside ``ast.parse`` can even crash an unrelated test.
    """
    yield
    gc.collect()
