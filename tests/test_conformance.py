"""The conformance kit over every builtin component (and any installed third-party plugin).

Ids read ``kind/name::check``; select with ``-k``, e.g. ``pytest tests/test_conformance.py -k resnet50d``.
Cases of components tagged ``large`` run only with ``--run-large``.
"""

from __future__ import annotations

from pimm.core.testing import parametrize_components


@parametrize_components()
def test_conformance(component, check):
    check(component)
