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
            "check_forward_intermediates", "check_pretrained_cfgs", "check_eval_determinism"} <= names
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
