"""The conformance kit over every builtin component (and any installed third-party plugin).

Ids read ``kind/name::check``; select with ``-k``, e.g. ``pytest tests/test_conformance.py -k resnet50d``.
Cases of components tagged ``large`` run only with ``--run-large``.
"""

from __future__ import annotations

import pytest

from pimm.core.testing import parametrize_components

# Plugins that run the kit in their own test suite, sized for CI (pimm-torchvision: 80 models, one
# per family at small inputs in examples/pimm-torchvision/tests); listed here they are not run twice.
OWN_SUITES = {"torchvision"}
_ALL = parametrize_components()
_CASES = pytest.mark.parametrize(_ALL.args[0], [p for p in _ALL.args[1] if p.values[0].plugin not in OWN_SUITES])


@_CASES
def test_conformance(component, check):
    check(component)
