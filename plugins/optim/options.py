"""Options models of the builtin optimizers (pydantic only; no torch import).

One model per factory name: the fields are exactly the keyword arguments of the class the name
builds, with that name's defaults (so ``core.create("optimizer", name, params)`` and
``create_optimizer(params, name)`` agree).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, create_model, field_validator

from pimm.core.specs import Options

_Betas2 = tuple[float, float]
_Betas3 = tuple[float, float, float]


def _check_betas(value: Any) -> Any:
    """Every beta of every optimizer lies in [0, 1)."""
    for i, beta in enumerate(value or ()):
        if not 0.0 <= beta < 1.0:
            raise ValueError(f"betas[{i}] = {beta!r} must be in [0, 1)")
    return value

#: Range of each setting wherever it appears (pydantic Field constraints), so a bad value is one
#: OptionsError naming the option, for torch.optim-backed names as well as pimm's own classes.
BOUNDS: dict[str, dict[str, float]] = {
    "lr": {"gt": 0.0}, "weight_decay": {"ge": 0.0}, "eps": {"ge": 0.0}, "momentum": {"ge": 0.0},
    "dampening": {"ge": 0.0, "le": 1.0}, "alpha": {"ge": 0.0, "le": 1.0}, "rho": {"ge": 0.0, "le": 1.0},
    "lr_decay": {"ge": 0.0}, "eps_scale": {"ge": 0.0}, "trust_coeff": {"ge": 0.0}, "wd_ratio": {"ge": 0.0},
    "delta": {"ge": 0.0}, "clip_threshold": {"gt": 0.0}, "max_grad_norm": {"gt": 0.0},
    "momentum_decay": {"ge": 0.0}, "initial_accumulator_value": {"ge": 0.0}, "gamma": {"ge": 0.0},
    "clip_exp": {"ge": 0.0}, "lr_1d_factor": {"ge": 0.0}, "beta2_cap": {"ge": 0.0, "le": 1.0},
    "clipping_threshold": {"gt": 0.0}, "fallback_lr_scale": {"ge": 0.0}, "ns_steps": {"ge": 1},
    "safety_factor": {"gt": 0.0},
    "hessian_power": {"ge": 0.0, "le": 1.0}, "update_each": {"ge": 1}, "n_samples": {"ge": 1},
    "min_dim_size_to_factor": {"ge": 1}, "decay_offset": {"ge": 0}, "precond_lr": {"gt": 0.0},
    "precond_init_scale": {"gt": 0.0}, "preconditioner_update_probability": {"gt": 0.0, "le": 1.0},
    "max_size_triangular": {"ge": 0}, "min_ndim_triangular": {"ge": 0},
}

_DESCRIPTIONS: dict[str, str] = {
    "lr": "Learning rate.",
    "momentum": "Momentum factor (0 disables momentum).",
    "dampening": "Dampening applied to the gradient added to the momentum buffer.",
    "weight_decay": "Weight decay factor (coupled L2 or decoupled, per the optimizer's rule).",
    "nesterov": "Use Nesterov momentum.",
    "maximize": "Maximize the objective instead of minimizing it.",
    "foreach": "Multi-tensor (torch._foreach) path: True/False force it; None chooses by device.",
    "differentiable": "Let autograd differentiate through the step (torch.optim option).",
    "fused": "torch's fused kernel: True/False force it; None: create_optimizer picks it when foreach is not "
             "given and every parameter is a float tensor on CPU/CUDA (torch alone would not).",
    "capturable": "Keep the step count on device so the step is CUDA-graph capturable (torch.optim option).",
    "betas": "Coefficients of the running averages of the gradient and of its square.",
    "eps": "Term added for numerical stability (see the optimizer's rule for where).",
    "amsgrad": "Use the running maximum of the second moment (AMSGrad).",
    "decoupled_weight_decay": "Apply weight decay decoupled from the gradient (AdamW style).",
    "momentum_decay": "Momentum schedule decay (NAdam's psi).",
    "alpha": "Smoothing constant of the squared-gradient average.",
    "centered": "Normalize by the estimated gradient variance (centered RMSprop).",
    "rho": "Coefficient of the running average of squared gradients and updates.",
    "lr_decay": "Learning-rate decay per step.",
    "initial_accumulator_value": "Initial value of the sum of squared gradients.",
    "decoupled_decay": "Apply weight decay decoupled from the gradient (p *= 1 - lr*wd).",
    "lr_in_momentum": "Fold the learning rate into the momentum buffer (TensorFlow behaviour).",
    "bias_correction": "Apply Adam bias correction to the moments.",
    "grad_averaging": "Scale the gradient by 1-beta1 when adding it to the first moment.",
    "max_grad_norm": "Global gradient-norm clipping threshold (None disables clipping).",
    "trust_clip": "Clip the trust ratio at 1 (LAMBC / LARC).",
    "always_adapt": "Apply the trust ratio even to groups without weight decay.",
    "trust_coeff": "LARS trust coefficient.",
    "delta": "Cosine-similarity threshold below which a weight is treated as scale invariant.",
    "wd_ratio": "Weight-decay scale for weights that were projected.",
    "fixed_decay": "Decoupled weight decay not scaled by the learning rate (p *= 1 - wd).",
    "rectify": "Use RAdam-style variance rectification.",
    "degenerated_to_sgd": "Take SGD steps while the rectification term is undefined.",
    "no_prox": "Decoupled weight decay before the update instead of the proximal form after it.",
    "eps_scale": "Lower bound of the parameter RMS used to scale the relative step size.",
    "clip_threshold": "Threshold on the update RMS.",
    "decay_rate": "Exponent of the second-moment decay schedule (beta2_t = 1 - t^decay_rate).",
    "scale_parameter": "Scale the relative step size by the parameter RMS.",
    "warmup_init": "Warm the relative step size up linearly (needs lr=None).",
    "min_dim_size_to_factor": "Smallest dimension size for which the second moment is factored.",
    "hessian_power": "Exponent of the Hessian-diagonal term.",
    "update_each": "Re-estimate the Hessian every this many steps.",
    "n_samples": "Hutchinson samples per Hessian estimate.",
    "avg_conv_kernel": "Average the Hessian over conv kernel dimensions.",
    "schedule_decay": "Momentum schedule decay (Nadam's psi).",
    "caution": "Cautious update: zero the update where its sign disagrees with the gradient (Liang et al., 2024).",
    "corrected_weight_decay": "Scale decoupled weight decay by lr**2/peak_lr instead of lr (peak_lr: the "
                              "constructor's lr).",
    "clip_exp": "Clip the normalized gradient to +-(step-1)**clip_exp (None disables).",
    "decoupled": "Apply weight decay decoupled from the gradient (p *= 1 - lr*wd).",
    "gamma": "Scale of the variance-reduction (gradient difference) term.",
    "mars_type": "The step MARS corrects: 'adamw' or 'lion'.",
    "optimize_1d": "Apply MARS to 1-D tensors too (else they take an AdamW step).",
    "lr_1d_factor": "Learning-rate factor of the AdamW step on 1-D tensors.",
    "betas_1d": "Betas of the AdamW step on 1-D tensors (None: betas).",
    "decay_offset": "Steps by which the second-moment decay schedule is delayed.",
    "beta2_cap": "Upper bound of the second-moment decay.",
    "momentum_dtype": "dtype of the momentum buffer: 'bfloat16', 'float16' or 'float32'.",
    "clipping_threshold": "Clip the update to this RMS (None disables).",
    "unscaled_wd": "Weight decay not scaled by the learning rate (p *= 1 - wd), as big_vision.",
    "ns_steps": "Newton-Schulz iterations of the orthogonalization.",
    "ns_coefficients": "Newton-Schulz coefficients: a preset ('quintic', 'original', 'polar_express') or (a, b, c) "
                       "triples.",
    "safety_factor": "Factor on the Frobenius norm that starts the Newton-Schulz iteration.",
    "adjust_lr_fn": "Per-shape lr scale of the Muon step: 'match_rms_adamw', 'original', 'rms_to_rms', 'rsqrt_in' "
                    "or None.",
    "conv_mode": "Conv kernels as one (out, in*k*k) matrix ('flatten') or one (out, in) matrix per position "
                 "('batched').",
    "normalize_spatial": "In 'batched' mode, scale the step by 1/sqrt(kernel positions).",
    "fallback_lr_scale": "lr factor of the AdamW fallback for parameters Muon does not take.",
    "algo": "'muon', or 'adamuon' (a second moment on the orthogonalized step).",
    "scale_eps": "Scale the Newton-Schulz eps by sqrt(in/out) and add it to the norm (muP).",
    "preconditioner_update_probability": "Probability of refitting the preconditioner each step (None: 1 for "
                                         "500 steps, then annealed to 0.03).",
    "max_size_triangular": "Largest dim that gets a triangular (not diagonal) preconditioner factor.",
    "min_ndim_triangular": "Fewest dims a tensor needs for triangular factors.",
    "memory_save_mode": "Diagonal factors to save memory: None, 'one_diag', 'smart_one_diag', 'all_diag'.",
    "momentum_into_precond_update": "Fit the preconditioner on the momentum instead of the raw gradient.",
    "precond_lr": "Step size of the preconditioner fit.",
    "precond_init_scale": "Initial scale of the preconditioner.",
    "mu_dtype": "dtype of the momentum buffer (None: the parameter's).",
    "precond_dtype": "dtype of the preconditioner factors (None: the parameter's).",
    "flatten": "Flatten dims flatten_start_dim..flatten_end_dim before preconditioning.",
    "flatten_start_dim": "First dim flattened with flatten=True.",
    "flatten_end_dim": "Last dim flattened with flatten=True.",
    "stochastic_weight_decay": "Scale weight decay by a random factor in [0, 2) each step.",
    "deterministic": "Draw the preconditioner probes from the optimizer's own saved RNG (exact resume).",
    "ns_dtype": "dtype of the Newton-Schulz iteration ('bfloat16' as timm; 'float32'/'float64' for exactness).",
}


def _options(name: str, **fields: tuple[Any, Any]) -> type[Options]:
    """An options model named ``name`` with ``field=(type, default)`` entries."""
    beta_fields = [k for k in fields if k.startswith("betas")]
    validators = {"_betas_range": field_validator(*beta_fields)(_check_betas)} if beta_fields else None
    model = create_model(  # type: ignore[call-overload]
        name,
        __base__=Options,
        __module__=__name__,
        __validators__=validators,
        **{k: (tp, Field(default, description=_DESCRIPTIONS[k], **BOUNDS.get(k, {})))
           for k, (tp, default) in fields.items()},
    )
    model.__qualname__ = name
    model.__doc__ = f"Keyword options of the optimizer built by {name[:-7].lower()!r}."
    return model


_FE = (bool | None, None)


def _torch_sgd(nesterov: bool, momentum: float) -> dict[str, tuple[Any, Any]]:
    return dict(lr=(float, 1e-3), momentum=(float, momentum), dampening=(float, 0),
                weight_decay=(float, 0), nesterov=(bool, nesterov), maximize=(bool, False),
                foreach=_FE, differentiable=(bool, False), fused=_FE)


def _torch_adam(lr: float, wd: float) -> dict[str, tuple[Any, Any]]:
    return dict(lr=(float, lr), betas=(_Betas2, (0.9, 0.999)), eps=(float, 1e-8),
                weight_decay=(float, wd or 0), foreach=_FE, maximize=(bool, False),
                capturable=(bool, False), differentiable=(bool, False))


# torch.optim classes ------------------------------------------------------------------------
SgdOptions = _options("SgdOptions", **_torch_sgd(True, 0.9))
MomentumOptions = _options("MomentumOptions", **_torch_sgd(False, 0))
AdamOptions = _options("AdamOptions", **_torch_adam(1e-3, 0.0), amsgrad=(bool, False), fused=_FE,
                       decoupled_weight_decay=(bool, False))
AdamwOptions = _options("AdamwOptions", **_torch_adam(1e-3, 1e-2), amsgrad=(bool, False), fused=_FE)
NadamOptions = _options("NadamOptions", **_torch_adam(2e-3, 0.0), momentum_decay=(float, 4e-3),
                        decoupled_weight_decay=(bool, False))
RadamOptions = _options("RadamOptions", **_torch_adam(1e-3, 0.0), decoupled_weight_decay=(bool, False))
AdamaxOptions = _options("AdamaxOptions", **_torch_adam(2e-3, 0.0))
AdadeltaOptions = _options(
    "AdadeltaOptions", lr=(float, 1.0), rho=(float, 0.9), eps=(float, 1e-6), weight_decay=(float, 0),
    foreach=_FE, capturable=(bool, False), maximize=(bool, False), differentiable=(bool, False))
AdagradOptions = _options(
    "AdagradOptions", lr=(float, 1e-2), lr_decay=(float, 0), weight_decay=(float, 0),
    initial_accumulator_value=(float, 0), eps=(float, 1e-8), foreach=_FE, maximize=(bool, False),
    differentiable=(bool, False), fused=_FE)
RmspropOptions = _options(
    "RmspropOptions", lr=(float, 1e-2), alpha=(float, 0.9), eps=(float, 1e-8), weight_decay=(float, 0),
    momentum=(float, 0), centered=(bool, False), capturable=(bool, False), foreach=_FE,
    maximize=(bool, False), differentiable=(bool, False))

# pimm's own classes --------------------------------------------------------------------------
RmsproptfOptions = _options(
    "RmsproptfOptions", lr=(float, 1e-2), alpha=(float, 0.9), eps=(float, 1e-10), weight_decay=(float, 0.0),
    momentum=(float, 0.0), centered=(bool, False), decoupled_decay=(bool, False),
    corrected_weight_decay=(bool, False), lr_in_momentum=(bool, True), caution=(bool, False), foreach=_FE)


def _lamb(trust_clip: bool, decoupled: bool) -> dict[str, tuple[Any, Any]]:
    return dict(lr=(float, 1e-3), bias_correction=(bool, True), betas=(_Betas2, (0.9, 0.999)),
                eps=(float, 1e-6), weight_decay=(float, 0.01), grad_averaging=(bool, True),
                max_grad_norm=(float | None, 1.0), trust_clip=(bool, trust_clip),
                always_adapt=(bool, False), caution=(bool, False), decoupled_decay=(bool, decoupled),
                corrected_weight_decay=(bool, False), foreach=_FE)


LambOptions = _options("LambOptions", **_lamb(False, False))
LambcOptions = _options("LambcOptions", **_lamb(True, False))
LambwOptions = _options("LambwOptions", **_lamb(False, True))


def _lars(nesterov: bool, trust_clip: bool) -> dict[str, tuple[Any, Any]]:
    return dict(lr=(float, 1.0), momentum=(float, 0.9 if nesterov else 0.0), dampening=(float, 0.0),
                weight_decay=(float, 0.0), nesterov=(bool, nesterov), trust_coeff=(float, 1e-3),
                eps=(float, 1e-8), trust_clip=(bool, trust_clip), always_adapt=(bool, False), foreach=_FE)


LarsOptions = _options("LarsOptions", **_lars(False, False))
LarcOptions = _options("LarcOptions", **_lars(False, True))
NlarsOptions = _options("NlarsOptions", **_lars(True, False))
NlarcOptions = _options("NlarcOptions", **_lars(True, True))

AdampOptions = _options(
    "AdampOptions", lr=(float, 1e-3), betas=(_Betas2, (0.9, 0.999)), eps=(float, 1e-8),
    weight_decay=(float, 0.0), delta=(float, 0.1), wd_ratio=(float, 0.01), nesterov=(bool, True),
    caution=(bool, False), foreach=_FE)
SgdpOptions = _options(
    "SgdpOptions", lr=(float | None, None), momentum=(float, 0.0), dampening=(float, 0.0),
    weight_decay=(float, 0.0), nesterov=(bool, True), eps=(float, 1e-8), delta=(float, 0.1),
    wd_ratio=(float, 0.1), caution=(bool, False), foreach=_FE)
SgdwOptions = _options(
    "SgdwOptions", lr=(float, 1e-3), momentum=(float, 0.9), dampening=(float, 0.0), weight_decay=(float, 0.0),
    nesterov=(bool, True), caution=(bool, False), corrected_weight_decay=(bool, False),
    maximize=(bool, False), foreach=_FE)


def _adabelief(rectify: bool) -> dict[str, tuple[Any, Any]]:
    return dict(lr=(float, 1e-3), betas=(_Betas2, (0.9, 0.999)), eps=(float, 1e-16),
                weight_decay=(float, 0.0), amsgrad=(bool, False), decoupled_decay=(bool, True),
                fixed_decay=(bool, False), rectify=(bool, rectify), degenerated_to_sgd=(bool, True), foreach=_FE)


AdabeliefOptions = _options("AdabeliefOptions", **_adabelief(False))
RadabeliefOptions = _options("RadabeliefOptions", **_adabelief(True))


def _adan(no_prox: bool) -> dict[str, tuple[Any, Any]]:
    return dict(lr=(float, 1e-3), betas=(_Betas3, (0.98, 0.92, 0.99)), eps=(float, 1e-8),
                weight_decay=(float, 0.0), no_prox=(bool, no_prox), caution=(bool, False), foreach=_FE)


AdanOptions = _options("AdanOptions", **_adan(False))
AdanwOptions = _options("AdanwOptions", **_adan(True))
AdafactorOptions = _options(
    "AdafactorOptions", lr=(float | None, None), eps=(float, 1e-30), eps_scale=(float, 1e-3),
    clip_threshold=(float, 1.0), decay_rate=(float, -0.8), betas=(_Betas2 | None, None),
    weight_decay=(float, 0.0), scale_parameter=(bool, True), warmup_init=(bool, False),
    min_dim_size_to_factor=(int, 16), caution=(bool, False))
AdahessianOptions = _options(
    "AdahessianOptions", lr=(float, 0.1), betas=(_Betas2, (0.9, 0.999)), eps=(float, 1e-8),
    weight_decay=(float, 0.0), hessian_power=(float, 1.0), update_each=(int, 1), n_samples=(int, 1),
    avg_conv_kernel=(bool, False))
LionOptions = _options(
    "LionOptions", lr=(float, 1e-4), betas=(_Betas2, (0.9, 0.99)), weight_decay=(float, 0.0),
    caution=(bool, False), corrected_weight_decay=(bool, False), maximize=(bool, False), foreach=_FE)


def _madgrad(decoupled: bool) -> dict[str, tuple[Any, Any]]:
    return dict(lr=(float, 1e-2), momentum=(float, 0.9), weight_decay=(float, 0.0), eps=(float, 1e-6),
                decoupled_decay=(bool, decoupled), foreach=_FE)


MadgradOptions = _options("MadgradOptions", **_madgrad(False))
MadgradwOptions = _options("MadgradwOptions", **_madgrad(True))
NovogradOptions = _options(
    "NovogradOptions", lr=(float, 1e-3), betas=(_Betas2, (0.95, 0.98)), eps=(float, 1e-8),
    weight_decay=(float, 0.0), grad_averaging=(bool, False), amsgrad=(bool, False),
    decoupled_decay=(bool, False), corrected_weight_decay=(bool, False))
NadamwOptions = _options(
    "NadamwOptions", lr=(float, 1e-3), betas=(_Betas2, (0.9, 0.999)), eps=(float, 1e-8),
    weight_decay=(float, 1e-2), caution=(bool, False), corrected_weight_decay=(bool, False),
    maximize=(bool, False), foreach=_FE)
AdamwlegacyOptions = _options(
    "AdamwlegacyOptions", lr=(float, 1e-3), betas=(_Betas2, (0.9, 0.999)), eps=(float, 1e-8),
    weight_decay=(float, 1e-2), amsgrad=(bool, False), caution=(bool, False),
    corrected_weight_decay=(bool, False), foreach=_FE)
NadamlegacyOptions = _options(
    "NadamlegacyOptions", lr=(float, 2e-3), betas=(_Betas2, (0.9, 0.999)), eps=(float, 1e-8),
    weight_decay=(float, 0.0), schedule_decay=(float, 4e-3))
RadamlegacyOptions = _options(
    "RadamlegacyOptions", lr=(float, 1e-3), betas=(_Betas2, (0.9, 0.999)), eps=(float, 1e-8),
    weight_decay=(float, 0.0))

# optimizers timm 1.0.31 added -----------------------------------------------------------------
AdoptOptions = _options(
    "AdoptOptions", lr=(float, 1e-3), betas=(_Betas2, (0.9, 0.9999)), eps=(float, 1e-6),
    clip_exp=(float | None, 0.333), weight_decay=(float, 0.0), decoupled=(bool, False),
    corrected_weight_decay=(bool, False), caution=(bool, False), maximize=(bool, False), foreach=_FE)
LapropOptions = _options(
    "LapropOptions", lr=(float, 4e-4), betas=(_Betas2, (0.9, 0.999)), eps=(float, 1e-15),
    weight_decay=(float, 0.0), caution=(bool, False), corrected_weight_decay=(bool, False), foreach=_FE)
MarsOptions = _options(
    "MarsOptions", lr=(float, 3e-3), betas=(_Betas2, (0.9, 0.99)), eps=(float, 1e-8), weight_decay=(float, 0.0),
    gamma=(float, 0.025), mars_type=(Literal["adamw", "lion"], "adamw"), optimize_1d=(bool, False),
    lr_1d_factor=(float, 1.0), betas_1d=(_Betas2 | None, None), caution=(bool, False))
AdafactorbvOptions = _options(
    "AdafactorbvOptions", lr=(float, 1.0), min_dim_size_to_factor=(int, 16), decay_rate=(float, 0.8),
    decay_offset=(int, 0), beta2_cap=(float, 0.999), momentum=(float | None, 0.9),
    momentum_dtype=(Literal["bfloat16", "float16", "float32"], "bfloat16"), eps=(float | None, None),
    weight_decay=(float, 0.0), clipping_threshold=(float | None, None), unscaled_wd=(bool, False),
    caution=(bool, False), corrected_weight_decay=(bool, False))

def _muon(algo: str, nesterov: bool) -> dict[str, tuple[Any, Any]]:
    return dict(lr=(float, 0.02), weight_decay=(float, 0.0), momentum=(float, 0.95), nesterov=(bool, nesterov),
                ns_steps=(int, 5), ns_coefficients=(str | list[tuple[float, float, float]], "quintic"),
                eps=(float, 1e-7), safety_factor=(float, 1.0),
                adjust_lr_fn=(Literal["original", "match_rms_adamw", "rms_to_rms", "rsqrt_in"] | None,
                              "match_rms_adamw"),
                conv_mode=(Literal["flatten", "batched"], "flatten"), normalize_spatial=(bool, True),
                fallback_lr_scale=(float, 1.0), betas=(_Betas2, (0.9, 0.95)),
                algo=(Literal["muon", "adamuon"], algo), scale_eps=(bool, False),
                ns_dtype=(Literal["bfloat16", "float32", "float64"], "bfloat16"))


MuonOptions = _options("MuonOptions", **_muon("muon", False))
NmuonOptions = _options("NmuonOptions", **_muon("muon", True))
AdamuonOptions = _options("AdamuonOptions", **_muon("adamuon", False))
NadamuonOptions = _options("NadamuonOptions", **_muon("adamuon", True))


_DT = Literal["float32", "bfloat16", "float16", "float64"] | None


def _kron(decoupled: bool, corrected: bool) -> dict[str, tuple[Any, Any]]:
    return dict(lr=(float, 1e-3), momentum=(float, 0.9), weight_decay=(float, 0.0),
                preconditioner_update_probability=(float | None, None), max_size_triangular=(int, 2048),
                min_ndim_triangular=(int, 2),
                memory_save_mode=(Literal["one_diag", "smart_one_diag", "all_diag"] | None, None),
                momentum_into_precond_update=(bool, True), precond_lr=(float, 0.1), precond_init_scale=(float, 1.0),
                mu_dtype=(_DT, None), precond_dtype=(_DT, None), decoupled_decay=(bool, decoupled),
                corrected_weight_decay=(bool, corrected), flatten=(bool, False), flatten_start_dim=(int, 2),
                flatten_end_dim=(int, -1), stochastic_weight_decay=(bool, False), deterministic=(bool, False))


KronOptions = _options("KronOptions", **_kron(False, False))
KronwOptions = _options("KronwOptions", **_kron(True, False))
KroncOptions = _options("KroncOptions", **_kron(True, True))
