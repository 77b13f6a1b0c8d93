"""Fixtures for the landau tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch


@pytest.fixture(autouse=True)
def one_intra_op_thread() -> Iterator[None]:
    """Run each test on one intra-op thread, then restore the setting.

    The tensors here are small; on a machine with few, shared cores a second OpenMP thread
    buys nothing and can cost a lot when the other core is busy (a 200k-element step measured
    20x slower with two threads than with one under load).
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
