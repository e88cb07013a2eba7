"""Independent plain-Python transcriptions of the published update rules (floats and lists only).

Each ``ref_*`` function takes the initial parameters as a list of ``(shape, values)`` (values a
flat row-major list), the gradient sequence as ``grads[step][param] -> flat list``, and the
hyper-parameters; it returns the final flat values of every parameter. Nothing here uses torch.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

Params = list[tuple[tuple[int, ...], list[float]]]
Grads = Sequence[Sequence[Sequence[float]]]


def _norm(xs: Sequence[float]) -> float:
    return math.sqrt(sum(x * x for x in xs))


def _sign(x: float) -> float:
    return (x > 0) - (x < 0)


def _rows(shape: tuple[int, ...]) -> tuple[int, int]:
    rows = shape[0]
    return rows, (math.prod(shape) // rows)


# ---------------------------------------------------------------- torch.optim classics
def ref_sgd(params: Params, grads: Grads, lr: float, momentum: float = 0.0, dampening: float = 0.0,
            weight_decay: float = 0.0, nesterov: bool = False) -> list[list[float]]:
    ps = [list(v) for _, v in params]
    bufs: list[list[float] | None] = [None] * len(ps)
    for step in grads:
        for i, g in enumerate(step):
            p = ps[i]
            d = [g[j] + weight_decay * p[j] for j in range(len(p))]
            if momentum:
                if bufs[i] is None:
                    bufs[i] = list(d)
                else:
                    bufs[i] = [momentum * b + (1 - dampening) * x for b, x in zip(bufs[i], d)]
                buf = bufs[i]
                d = [x + momentum * b for x, b in zip(d, buf)] if nesterov else list(buf)
            ps[i] = [p[j] - lr * d[j] for j in range(len(p))]
    return ps


def ref_adam(params: Params, grads: Grads, lr: float, betas=(0.9, 0.999), eps: float = 1e-8,
             weight_decay: float = 0.0, decoupled: bool = False, nesterov_ahead: bool = False,
             amsgrad: bool = False) -> list[list[float]]:
    """Adam / AdamW (``decoupled``) / NAdamW (``nesterov_ahead``)."""
    b1, b2 = betas
    ps = [list(v) for _, v in params]
    ms = [[0.0] * len(p) for p in ps]
    vs = [[0.0] * len(p) for p in ps]
    vmax = [[0.0] * len(p) for p in ps]
    for t, step in enumerate(grads, 1):
        bc1, bc2 = 1 - b1**t, 1 - b2**t
        for i, g in enumerate(step):
            p, m, v = ps[i], ms[i], vs[i]
            for j in range(len(p)):
                gj = g[j]
                if decoupled:
                    p[j] *= 1 - lr * weight_decay
                else:
                    gj += weight_decay * p[j]
                m[j] = b1 * m[j] + (1 - b1) * gj
                v[j] = b2 * v[j] + (1 - b2) * gj * gj
                vmax[i][j] = max(vmax[i][j], v[j])
                vv = vmax[i][j] if amsgrad else v[j]
                num = b1 * m[j] + (1 - b1) * gj if nesterov_ahead else m[j]
                p[j] -= lr / bc1 * num / (math.sqrt(vv) / math.sqrt(bc2) + eps)
    return ps


def ref_nadam(params: Params, grads: Grads, lr: float, betas=(0.9, 0.999), eps: float = 1e-8,
              weight_decay: float = 0.0, psi: float = 4e-3) -> list[list[float]]:
    """Dozat's Nadam with the 0.96 momentum schedule (torch NAdam and the legacy class)."""
    b1, b2 = betas
    ps = [list(v) for _, v in params]
    ms = [[0.0] * len(p) for p in ps]
    vs = [[0.0] * len(p) for p in ps]
    prod = 1.0
    for t, step in enumerate(grads, 1):
        mu = b1 * (1 - 0.5 * 0.96 ** (t * psi))
        mu_next = b1 * (1 - 0.5 * 0.96 ** ((t + 1) * psi))
        prod *= mu
        for i, g in enumerate(step):
            p, m, v = ps[i], ms[i], vs[i]
            for j in range(len(p)):
                gj = g[j] + weight_decay * p[j]
                m[j] = b1 * m[j] + (1 - b1) * gj
                v[j] = b2 * v[j] + (1 - b2) * gj * gj
                denom = math.sqrt(v[j] / (1 - b2**t)) + eps
                p[j] -= lr * (1 - mu) / (1 - prod) * gj / denom
                p[j] -= lr * mu_next / (1 - prod * mu_next) * m[j] / denom
    return ps


def _rect(b2: float, t: int) -> float | None:
    rho_inf = 2 / (1 - b2) - 1
    rho = rho_inf - 2 * t * b2**t / (1 - b2**t)
    if rho <= 5:
        return None
    return math.sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))


def ref_radam(params: Params, grads: Grads, lr: float, betas=(0.9, 0.999), eps: float = 1e-8,
              weight_decay: float = 0.0, decoupled: bool = False) -> list[list[float]]:
    """RAdam: torch's coupled form, or the legacy form (``decoupled``: p -= lr·wd·p first)."""
    b1, b2 = betas
    ps = [list(v) for _, v in params]
    ms = [[0.0] * len(p) for p in ps]
    vs = [[0.0] * len(p) for p in ps]
    for t, step in enumerate(grads, 1):
        bc1, bc2 = 1 - b1**t, 1 - b2**t
        r = _rect(b2, t)
        for i, g in enumerate(step):
            p, m, v = ps[i], ms[i], vs[i]
            for j in range(len(p)):
                gj = g[j]
                if decoupled:
                    p[j] *= 1 - lr * weight_decay
                else:
                    gj += weight_decay * p[j]
                m[j] = b1 * m[j] + (1 - b1) * gj
                v[j] = b2 * v[j] + (1 - b2) * gj * gj
                if r is None:
                    p[j] -= lr * m[j] / bc1
                else:
                    p[j] -= lr * m[j] / bc1 * r * math.sqrt(bc2) / (math.sqrt(v[j]) + eps)
    return ps


def ref_adamax(params: Params, grads: Grads, lr: float, betas=(0.9, 0.999), eps: float = 1e-8,
               weight_decay: float = 0.0) -> list[list[float]]:
    b1, b2 = betas
    ps = [list(v) for _, v in params]
    ms = [[0.0] * len(p) for p in ps]
    us = [[0.0] * len(p) for p in ps]
    for t, step in enumerate(grads, 1):
        for i, g in enumerate(step):
            p, m, u = ps[i], ms[i], us[i]
            for j in range(len(p)):
                gj = g[j] + weight_decay * p[j]
                m[j] = b1 * m[j] + (1 - b1) * gj
                u[j] = max(b2 * u[j], abs(gj) + eps)
                p[j] -= lr / (1 - b1**t) * m[j] / u[j]
    return ps


def ref_adadelta(params: Params, grads: Grads, lr: float, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0.0) -> list[list[float]]:
    ps = [list(v) for _, v in params]
    vs = [[0.0] * len(p) for p in ps]
    acc = [[0.0] * len(p) for p in ps]
    for step in grads:
        for i, g in enumerate(step):
            p = ps[i]
            for j in range(len(p)):
                gj = g[j] + weight_decay * p[j]
                vs[i][j] = rho * vs[i][j] + (1 - rho) * gj * gj
                delta = math.sqrt(acc[i][j] + eps) / math.sqrt(vs[i][j] + eps) * gj
                acc[i][j] = rho * acc[i][j] + (1 - rho) * delta * delta
                p[j] -= lr * delta
    return ps


def ref_adagrad(params: Params, grads: Grads, lr: float, lr_decay: float = 0.0, eps: float = 1e-8,
                weight_decay: float = 0.0, initial_accumulator_value: float = 0.0) -> list[list[float]]:
    ps = [list(v) for _, v in params]
    sums = [[initial_accumulator_value] * len(p) for p in ps]
    for t, step in enumerate(grads, 1):
        clr = lr / (1 + (t - 1) * lr_decay)
        for i, g in enumerate(step):
            p = ps[i]
            for j in range(len(p)):
                gj = g[j] + weight_decay * p[j]
                sums[i][j] += gj * gj
                p[j] -= clr * gj / (math.sqrt(sums[i][j]) + eps)
    return ps


def ref_rmsprop(params: Params, grads: Grads, lr: float, alpha: float = 0.99, eps: float = 1e-8,
                weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False,
                tf_style: bool = False, decoupled_decay: bool = False,
                lr_in_momentum: bool = True) -> list[list[float]]:
    """torch RMSprop (eps outside the sqrt, v from 0) or ``tf_style`` RMSpropTF (inside, v from 1)."""
    ps = [list(v) for _, v in params]
    vs = [[1.0 if tf_style else 0.0] * len(p) for p in ps]
    gavg = [[0.0] * len(p) for p in ps]
    bufs = [[0.0] * len(p) for p in ps]
    for step in grads:
        for i, g in enumerate(step):
            p = ps[i]
            for j in range(len(p)):
                gj = g[j]
                if decoupled_decay:
                    p[j] *= 1 - lr * weight_decay
                else:
                    gj += weight_decay * p[j]
                vs[i][j] = alpha * vs[i][j] + (1 - alpha) * gj * gj
                var = vs[i][j]
                if centered:
                    gavg[i][j] = alpha * gavg[i][j] + (1 - alpha) * gj
                    var -= gavg[i][j] ** 2
                denom = math.sqrt(var + eps) if tf_style else math.sqrt(var) + eps
                if momentum > 0:
                    if tf_style and lr_in_momentum:
                        bufs[i][j] = momentum * bufs[i][j] + lr * gj / denom
                        p[j] -= bufs[i][j]
                    else:
                        bufs[i][j] = momentum * bufs[i][j] + gj / denom
                        p[j] -= lr * bufs[i][j]
                else:
                    p[j] -= lr * gj / denom
    return ps
