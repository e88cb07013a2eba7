"""The kit itself: case ids, tag gating, expected failures, run_checks outside pytest."""

from __future__ import annotations

import pytest
from pydantic import Field

from pimm import core
from pimm.core.errors import ConfigError
from pimm.core.specs import Options, PoolSpec
from pimm.core.testing import check, iter_cases, parametrize_components, run_checks, skip
from pimm.core.testing import kit

CALLS: list[str] = []


def make(**kwargs):
    return kwargs


class KitPlugin:
    @core.hookimpl
    def pimm_pools(self):
        return [PoolSpec(name="kit_plain", target="test_conformance_kit:make"),
                PoolSpec(name="kit_tagged", target="test_conformance_kit:make", tags=frozenset({"kit-special"})),
                PoolSpec(name="kit_broken", target="test_conformance_kit:missing")]


@pytest.fixture
def plugin():
    @check("pool", requires=("kit-special",))
    def check_kit_special(component):
        CALLS.append(component.name)

    @check("pool", excludes=("kit-special",))
    def check_kit_skipping(component):
        skip("does not apply")

    name = core.register_plugin(KitPlugin(), name="kitplugin")
    yield name
    core.unregister_plugin(name)
    kit._CHECKS[:] = [c for c in kit._CHECKS if not c.name.startswith("check_kit_")]


def test_case_ids_and_tag_gating(plugin):
    ids = [cid for cid, _, _ in iter_cases(plugin="kitplugin")]
    assert "pool/kit_tagged::check_kit_special" in ids
    assert "pool/kit_plain::check_kit_special" not in ids
    assert "pool/kit_plain::check_kit_skipping" in ids
    assert "pool/kit_plain::check_spec_json_round_trip" in ids


def test_run_checks_outside_pytest(plugin):
    results = {r.case_id: r for r in run_checks(plugin="kitplugin")}
    assert results["pool/kit_tagged::check_kit_special"].passed
    assert results["pool/kit_plain::check_kit_skipping"].skipped
    broken = results["pool/kit_broken::check_target_importable"]
    assert not broken.passed and "cannot import 'test_conformance_kit:missing'" in broken.message
    assert "kit_tagged" in CALLS


def test_parametrize_marks_expected_failures(plugin):
    mark = parametrize_components(plugin="kitplugin", include="kit_broken",
                                  expected_failures={"pool/kit_broken::check_target_importable": "no target"})
    params = {p.id: p for p in mark.args[1]}
    xfail = [m for m in params["pool/kit_broken::check_target_importable"].marks if m.name == "xfail"]
    assert xfail and xfail[0].kwargs["strict"] is True
    with pytest.raises(ConfigError, match="do not exist"):
        parametrize_components(plugin="kitplugin", expected_failures={"pool/nope::check_x": "?"})


def test_selection_by_plugin_unknown(plugin):
    with pytest.raises(core.UnknownPluginError):
        iter_cases(plugin="nope")


class BrokenPoolPlugin:
    """A third-party pool that builds but returns the wrong shape, plus a same-named 'avg'."""

    @core.hookimpl
    def pimm_pools(self):
        from pimm.core.specs import PoolSpec

        return [PoolSpec(name="kit_broken_pool", target="torch.nn:Identity", options=FlattenOptions),
                PoolSpec(name="avg", target="torch.nn:Identity", options=FlattenOptions)]


class FlattenOptions(Options):
    flatten: bool = Field(True, description="ignored by the broken pool")


def test_a_broken_third_party_pool_is_blamed_not_the_builtin_models():
    name = core.register_plugin(BrokenPoolPlugin(), name="brokenpools")
    try:
        cases = [(c, d) for _, c, d in iter_cases(kind="model", include="resnet10t") if d.name == "check_every_pool"]
        assert cases
        for component, check_def in cases:
            check_def(component)  # the builtin model passes: the broken pool is not its fault
        pool_results = run_checks(kind="pool", plugin="brokenpools")
        assert any(not r.passed for r in pool_results if "kit_broken_pool" in r.case_id)
    finally:
        core.unregister_plugin(name)
