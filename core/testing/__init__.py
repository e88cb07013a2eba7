"""pimm.core.testing: the conformance kit, public API for plugin authors.

Run every applicable check over every registered component (or one plugin's) with pytest::

    from pimm.core.testing import parametrize_components

    @parametrize_components(plugin="my_plugin")
    def test_conformance(component, check):
        check(component)

or from the shell with ``pimm check my_plugin``. Checks are plain functions registered per kind
with :func:`check`; spec tags select which apply (see ``docs/plugin-authors.md``).
"""

from .kit import (
    CheckDef,
    CheckResult,
    CheckSkipped,
    ComponentRef,
    check,
    checks_for,
    iter_cases,
    parametrize_components,
    run_checks,
    skip,
)

__all__ = [
    "CheckDef",
    "CheckResult",
    "CheckSkipped",
    "ComponentRef",
    "check",
    "checks_for",
    "iter_cases",
    "parametrize_components",
    "run_checks",
    "skip",
]
