"""eps where it matters: every trajectory case of an optimizer with an eps, re-run at eps=1e-3.

At the usual 1e-8 eps a rule that adds eps in the wrong place (outside instead of inside
RMSpropTF's sqrt, before instead of after the bias correction) is invisible in fp32; at 1e-3
against gradients of size ~0.5 it moves the trajectory well beyond the tolerance.
"""

from __future__ import annotations

import inspect

import pytest

from pimm import core
from test_optim_trajectories import CASES, assert_close, by_name, make_problem, run_impl

EPS = 1e-3


def _eps_cases():
    for case_id, name, options, ref, ref_kwargs in CASES:
        fields = core.get_spec("optimizer", name).options.model_fields
        if "eps" in fields and "eps" in inspect.signature(ref).parameters:
            yield pytest.param(name, options, ref, ref_kwargs, id=case_id)


@pytest.mark.parametrize("foreach", [False, True], ids=["per-tensor", "multi-tensor"])
@pytest.mark.parametrize("name,options,ref,ref_kwargs", list(_eps_cases()))
def test_trajectory_at_large_eps(name, options, ref, ref_kwargs, foreach):
    fields = core.get_spec("optimizer", name).options.model_fields
    if foreach and "foreach" not in fields:
        pytest.skip("no multi-tensor path")
    params, grads = make_problem()
    opts = dict(options, eps=EPS)
    if "foreach" in fields:
        opts["foreach"] = foreach
    got = run_impl(by_name(name, **opts), params, grads)
    assert_close(got, ref(params, grads, **dict(ref_kwargs, eps=EPS)))


def test_every_eps_optimizer_has_a_large_eps_case():
    covered = {p.values[0] for p in _eps_cases()}
    builtin_with_eps = {n for n in core.list_names("optimizer")
                        if "eps" in core.get_spec("optimizer", n).options.model_fields
                        and core.resolve("optimizer", n).plugin.name == "optim"}
    # variants share their base's rule (covered through it) and the recent set runs its own eps cases
    bases = {"adam", "adamw", "nadam", "radam", "adamax", "adadelta", "adagrad", "rmsprop", "rmsproptf", "lamb",
             "lars", "adamp", "sgdp", "adabelief", "adan", "madgrad", "novograd", "nadamw", "adamwlegacy",
             "nadamlegacy", "radamlegacy", "adafactor"}
    assert bases <= builtin_with_eps
    assert bases - {"adafactor"} <= covered, sorted(bases - covered)
