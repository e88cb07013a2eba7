"""Fixtures of the model-family tests; the helpers live in family_helpers.py."""

from __future__ import annotations

import pytest
from family_helpers import deterministic_fill


@pytest.fixture
def fill():
    return deterministic_fill
