"""Adahessian: Adam with a Hutchinson estimate of the Hessian diagonal (Yao et al., 2021)."""

from __future__ import annotations

from typing import Any

import torch

from pimm.core.errors import OptionsError

from ._base import PimmOptimizer, check_betas, check_range

__all__ = ["Adahessian"]


class Adahessian(PimmOptimizer):
    """Adahessian: a second-order optimizer; call ``loss.backward(create_graph=True)`` before ``step``.

    Rule: every ``update_each`` steps the Hessian diagonal is re-estimated by Hutchinson's method,
    ``h = mean over n_samples of z ⊙ (H z)`` with Rademacher ``z`` (own generator seeded 2147483647);
    ``avg_conv_kernel``: for 4-D tensors ``h = mean over the kernel dims of |h|``. Then
    ``p *= 1 - lr·wd``; ``m = β1·m + (1-β1)·g``; ``v = β2·v + (1-β2)·h²``;
    ``p -= (lr/bc1)·m/((v/bc2)^(k/2) + eps)`` with ``k = hessian_power``.

    Defaults: lr=0.1, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, hessian_power=1, update_each=1,
    n_samples=1, avg_conv_kernel=False.
    """

    state_keys = frozenset({"step", "exp_avg", "exp_hessian_diag_sq", "hessian"})

    supports_multi_tensor = False
    seed = 2147483647

    def __init__(self, params: Any, lr: float = 0.1, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, hessian_power: float = 1.0,
                 update_each: int = 1, n_samples: int = 1, avg_conv_kernel: bool = False) -> None:
        check_range("lr", lr, low_open=True)
        betas = check_betas(betas)
        check_range("eps", eps)
        check_range("weight_decay", weight_decay)
        check_range("hessian_power", hessian_power, 0.0, 1.0)
        if update_each < 1 or n_samples < 1:
            raise OptionsError(f"update_each and n_samples must be >= 1, got {update_each}, {n_samples}")
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        hessian_power=hessian_power)
        super().__init__(params, defaults)
        self.update_each = update_each
        self.n_samples = n_samples
        self.avg_conv_kernel = avg_conv_kernel
        self.generator = torch.Generator().manual_seed(self.seed)
        self._hessian_step = 0

    def _estimate_hessian(self) -> None:
        params = [p for g in self.param_groups for p in g["params"] if p.grad is not None]
        if self._hessian_step % self.update_each != 0:
            self._hessian_step += 1
            return
        self._hessian_step += 1
        if any(p.grad.grad_fn is None for p in params):
            raise RuntimeError("Adahessian needs gradients with a graph: call loss.backward(create_graph=True)")
        hessians = [torch.zeros_like(p) for p in params]
        grads = [p.grad for p in params]
        for i in range(self.n_samples):
            zs = [(torch.randint(0, 2, p.shape, generator=self.generator) * 2.0 - 1.0).to(p) for p in params]
            hzs = torch.autograd.grad(grads, params, grad_outputs=zs, retain_graph=i < self.n_samples - 1)
            for h, hz, z in zip(hessians, hzs, zs):
                h.add_(hz * z, alpha=1.0 / self.n_samples)
        for p, h in zip(params, hessians):
            if self.avg_conv_kernel and p.dim() == 4:
                h = h.abs().mean(dim=(2, 3), keepdim=True).expand_as(h).clone()
            self.state[p]["hessian"] = h

    def _prepare(self) -> Any:
        self._estimate_hessian()
        return None

    def _init_state(self, group: dict[str, Any], p: torch.Tensor, state: dict[str, Any]) -> None:
        state["step"] = 0
        state["exp_avg"] = torch.zeros_like(p)
        state["exp_hessian_diag_sq"] = torch.zeros_like(p)

    def _single(self, group: dict[str, Any], p: torch.Tensor, grad: torch.Tensor,
                state: dict[str, Any], ctx: Any) -> None:
        if "step" not in state:
            self._init_state(group, p, state)
        beta1, beta2 = group["betas"]
        lr = group["lr"]
        state["step"] += 1
        t = state["step"]
        p.mul_(1.0 - lr * group["weight_decay"])
        m, v = state["exp_avg"], state["exp_hessian_diag_sq"]
        h = state["hessian"]
        m.mul_(beta1).add_(grad.detach(), alpha=1.0 - beta1)
        v.mul_(beta2).addcmul_(h, h, value=1.0 - beta2)
        denom = (v / (1.0 - beta2**t)).pow_(group["hessian_power"] / 2).add_(group["eps"])
        p.addcdiv_(m, denom, value=-lr / (1.0 - beta1**t))

    def state_dict(self) -> dict[str, Any]:
        """The optimizer state, plus the Hutchinson generator's state and the Hessian step."""
        sd = super().state_dict()
        sd["adahessian"] = {"generator": self.generator.get_state(), "hessian_step": self._hessian_step}
        return sd

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load a state dict saved by :meth:`state_dict` (extra Adahessian entries are optional)."""
        state_dict = dict(state_dict)
        extra = state_dict.pop("adahessian", None)
        super().load_state_dict(state_dict)
        if extra is not None:
            self.generator.set_state(extra["generator"])
            self._hessian_step = int(extra["hessian_step"])
