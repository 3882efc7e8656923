"""Fixtures of the in-process layer: `h`, a Harness (harness.py) on a fresh simulator."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.inprocess.harness import Harness, harness


@pytest.fixture
async def h() -> AsyncIterator[Harness]:
    async with harness() as running:
        yield running
