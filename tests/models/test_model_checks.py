"""The model conformance checks themselves: they pass on contract-following models and catch breaks."""

from __future__ import annotations

from model_helpers import BrokenPlugin, tiny_env  # noqa: F401

from pimm import core
from pimm.core.testing import run_checks


def _model_check_results(include: str):
    return [r for r in run_checks("model", include=include) if "::check_" in r.case_id]


def test_checks_pass_on_tiny_models(tiny_env):
    results = _model_check_results("tinytest*")
    names = {r.case_id.split("::")[1] for r in results}
    assert {"check_forward_backward", "check_reset_classifier", "check_every_pool", "check_features_only",
            "check_in_chans_adaptation", "check_save_load_round_trip", "check_no_classifier_and_unpooled",
            "check_forward_intermediates", "check_pretrained_cfgs", "check_eval_determinism",
            "check_fx_then_torchscript"} <= names
    failed = [f"{r.case_id}: {r.message}" for r in results if not r.passed]
    assert not failed, "\n".join(failed)


def test_checks_catch_a_broken_reset_classifier(tiny_env):
    name = core.register_plugin(BrokenPlugin(), name="broken_tiny")
    try:
        results = {r.case_id: r for r in _model_check_results("tinytest_badreset")}
    finally:
        core.unregister_plugin(name)
    bad = results["model/tinytest_badreset::check_reset_classifier"]
    assert not bad.passed and "dtype" in bad.message
    assert results["model/tinytest_badreset::check_forward_backward"].passed


class _StringAnnotatedPlugin:
    """One model whose forward has string annotations (``from __future__ import annotations``)."""

    @core.hookimpl
    def pimm_models(self):
        from model_helpers import _CFG, TinyOptions

        from pimm.core.specs import ModelSpec, PretrainedCfg

        return [ModelSpec(name="tinytest_strann", target="string_annotated:StringAnnotatedTinyNet",
                          options=TinyOptions, pretrained_cfgs={"untrained": PretrainedCfg(**_CFG)},
                          tags=frozenset({"classifier"}))]


def test_fx_then_torchscript_check_names_string_annotations(tiny_env):
    """The FX→TorchScript check fails on a forward with string annotations and says how to fix it."""
    name = core.register_plugin(_StringAnnotatedPlugin(), name="strann_tiny")
    try:
        results = {r.case_id: r for r in _model_check_results("tinytest_strann")}
    finally:
        core.unregister_plugin(name)
    bad = results["model/tinytest_strann::check_fx_then_torchscript"]
    assert not bad.passed
    assert "from __future__ import annotations" in bad.message and "forward" in bad.message
    assert results["model/tinytest_strann::check_forward_backward"].passed
