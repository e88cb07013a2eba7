"""Plain-Python transcriptions of the rules timm 1.0.31 added (and of caution / corrected decay).

Same conventions as ``reference_rules``: parameters as ``(shape, flat values)``, gradients as
``grads[step][param]``; each function returns the final flat values. ``lr`` is the learning rate
in use and ``peak_lr`` the one the optimizer was built with (they differ only to test corrected
weight decay). Written from the papers: ADOPT (Taniguchi et al., 2024), LaProp (Ziyin et al.,
2020), MARS (Yuan et al., 2024), big_vision Adafactor (Zhai et al., 2021), cautious optimizers
(Liang et al., 2024), corrected weight decay (Defazio, 2025).
"""

from __future__ import annotations

import math

from reference_rules import Grads, Params, _norm, _sign


def caution(u: list[float], g: list[float]) -> list[float]:
    """Keep the entries of u that agree in sign with g, scaled by 1/max(kept fraction, 1e-3)."""
    keep = [1.0 if a * b > 0 else 0.0 for a, b in zip(u, g)]
    frac = max(sum(keep) / len(keep), 1e-3)
    return [a * (k / frac) for a, k in zip(u, keep)]


def _decay(lr: float, peak_lr: float | None) -> float:
    return lr if peak_lr is None else lr * lr / peak_lr


def ref_adamw(params: Params, grads: Grads, lr: float, betas=(0.9, 0.999), eps: float = 1e-8,
              weight_decay: float = 1e-2, cautious: bool = False, peak_lr: float | None = None,
              nesterov_ahead: bool = False) -> list[list[float]]:
    """AdamW / NAdamW (``nesterov_ahead``) with optional caution and corrected decay."""
    b1, b2 = betas
    ps = [list(v) for _, v in params]
    ms = [[0.0] * len(p) for p in ps]
    vs = [[0.0] * len(p) for p in ps]
    for t, step in enumerate(grads, 1):
        for i, g in enumerate(step):
            p = [x * (1 - _decay(lr, peak_lr) * weight_decay) for x in ps[i]]
            ms[i] = [b1 * m + (1 - b1) * a for m, a in zip(ms[i], g)]
            vs[i] = [b2 * v + (1 - b2) * a * a for v, a in zip(vs[i], g)]
            num = [b1 * m + (1 - b1) * a for m, a in zip(ms[i], g)] if nesterov_ahead else ms[i]
            if cautious:
                num = caution(num, g)
            ps[i] = [x - lr / (1 - b1**t) * n / (math.sqrt(v / (1 - b2**t)) + eps)
                     for x, n, v in zip(p, num, vs[i])]
    return ps


def ref_lion(params: Params, grads: Grads, lr: float, betas=(0.9, 0.99), weight_decay: float = 0.0,
             cautious: bool = False, peak_lr: float | None = None) -> list[list[float]]:
    b1, b2 = betas
    ps = [list(v) for _, v in params]
    ms = [[0.0] * len(p) for p in ps]
    for step in grads:
        for i, g in enumerate(step):
            p = [x * (1 - _decay(lr, peak_lr) * weight_decay) for x in ps[i]]
            u = [float(_sign(b1 * m + (1 - b1) * a)) for m, a in zip(ms[i], g)]
            if cautious:
                u = caution(u, g)
            ps[i] = [x - lr * a for x, a in zip(p, u)]
            ms[i] = [b2 * m + (1 - b2) * a for m, a in zip(ms[i], g)]
    return ps


def ref_sgdw(params: Params, grads: Grads, lr: float, momentum: float = 0.9, weight_decay: float = 0.0,
             nesterov: bool = True, cautious: bool = False, peak_lr: float | None = None) -> list[list[float]]:
    ps = [list(v) for _, v in params]
    bufs: list[list[float] | None] = [None] * len(ps)
    for step in grads:
        for i, g in enumerate(step):
            p = [x * (1 - _decay(lr, peak_lr) * weight_decay) for x in ps[i]]
            bufs[i] = list(g) if bufs[i] is None else [momentum * b + a for b, a in zip(bufs[i], g)]
            d = [a + momentum * b for a, b in zip(g, bufs[i])] if nesterov else list(bufs[i])
            if cautious:
                d = caution(d, g)
            ps[i] = [x - lr * a for x, a in zip(p, d)]
    return ps


def ref_lamb(params: Params, grads: Grads, lr: float, betas=(0.9, 0.999), eps: float = 1e-6,
             weight_decay: float = 0.01, max_grad_norm: float = 1.0, decoupled: bool = False,
             cautious: bool = False, peak_lr: float | None = None) -> list[list[float]]:
    b1, b2 = betas
    ps = [list(v) for _, v in params]
    ms = [[0.0] * len(p) for p in ps]
    vs = [[0.0] * len(p) for p in ps]
    for t, step in enumerate(grads, 1):
        clip = max(math.sqrt(sum(x * x for g in step for x in g)) / max_grad_norm, 1.0)
        for i, graw in enumerate(step):
            g = [x / clip for x in graw]
            ms[i] = [b1 * m + (1 - b1) * a for m, a in zip(ms[i], g)]
            vs[i] = [b2 * v + (1 - b2) * a * a for v, a in zip(vs[i], g)]
            u = [(m / (1 - b1**t)) / (math.sqrt(v) / math.sqrt(1 - b2**t) + eps) for m, v in zip(ms[i], vs[i])]
            if cautious:
                u = caution(u, g)
            p = ps[i]
            if weight_decay:
                if decoupled:
                    p = [x * (1 - _decay(lr, peak_lr) * weight_decay) for x in p]
                else:
                    u = [a + weight_decay * x for a, x in zip(u, p)]
                wn, un = _norm(p), _norm(u)
                r = wn / un if wn > 0 and un > 0 else 1.0
                u = [a * r for a in u]
            ps[i] = [x - lr * a for x, a in zip(p, u)]
    return ps


def ref_rmsproptf(params: Params, grads: Grads, lr: float, alpha: float = 0.9, eps: float = 1e-10,
                  momentum: float = 0.9, weight_decay: float = 0.0, decoupled: bool = False,
                  cautious: bool = False, peak_lr: float | None = None) -> list[list[float]]:
    """RMSpropTF (eps inside the sqrt, v from 1, lr inside the momentum buffer)."""
    ps = [list(v) for _, v in params]
    vs = [[1.0] * len(p) for p in ps]
    bufs = [[0.0] * len(p) for p in ps]
    for step in grads:
        for i, g in enumerate(step):
            p = ps[i]
            if decoupled:
                p = [x * (1 - _decay(lr, peak_lr) * weight_decay) for x in p]
            else:
                g = [a + weight_decay * x for a, x in zip(g, p)]
            vs[i] = [alpha * v + (1 - alpha) * a * a for v, a in zip(vs[i], g)]
            bufs[i] = [momentum * b + lr * a / math.sqrt(v + eps) for b, a, v in zip(bufs[i], g, vs[i])]
            d = caution(bufs[i], g) if cautious else bufs[i]
            ps[i] = [x - a for x, a in zip(p, d)]
    return ps


def ref_adopt(params: Params, grads: Grads, lr: float, betas=(0.9, 0.9999), eps: float = 1e-6,
              clip_exp: float | None = 0.333, weight_decay: float = 0.0, decoupled: bool = False,
              cautious: bool = False, peak_lr: float | None = None) -> list[list[float]]:
    b1, b2 = betas
    ps = [list(v) for _, v in params]
    ms = [[0.0] * len(p) for p in ps]
    vs = [[0.0] * len(p) for p in ps]
    for t, step in enumerate(grads, 1):
        for i, g in enumerate(step):
            p = ps[i]
            if not decoupled:
                g = [a + weight_decay * x for a, x in zip(g, p)]
            if t == 1:
                vs[i] = [a * a for a in g]
                continue
            if decoupled:
                p = [x * (1 - _decay(lr, peak_lr) * weight_decay) for x in p]
            n = [a / max(math.sqrt(v), eps) for a, v in zip(g, vs[i])]
            if clip_exp is not None:
                c = (t - 1) ** clip_exp
                n = [min(max(a, -c), c) for a in n]
            ms[i] = [b1 * m + (1 - b1) * a for m, a in zip(ms[i], n)]
            d = caution(ms[i], g) if cautious else ms[i]
            ps[i] = [x - lr * a for x, a in zip(p, d)]
            vs[i] = [b2 * v + (1 - b2) * a * a for v, a in zip(vs[i], g)]
    return ps


def ref_laprop(params: Params, grads: Grads, lr: float, betas=(0.9, 0.999), eps: float = 1e-15,
               weight_decay: float = 0.0, cautious: bool = False, peak_lr: float | None = None) -> list[list[float]]:
    b1, b2 = betas
    ps = [list(v) for _, v in params]
    ms = [[0.0] * len(p) for p in ps]
    vs = [[0.0] * len(p) for p in ps]
    for t, step in enumerate(grads, 1):
        lr_avg = lr * (1 - b1**t)  # the EMA of a constant lr from 0
        bc2 = 1 - b2**t
        for i, g in enumerate(step):
            vs[i] = [b2 * v + (1 - b2) * a * a for v, a in zip(vs[i], g)]
            ms[i] = [b1 * m + (1 - b1) * lr * a / (math.sqrt(v / bc2) + eps) for m, a, v in zip(ms[i], g, vs[i])]
            d = caution(ms[i], g) if cautious else ms[i]
            p = [x - lr / lr_avg * a for x, a in zip(ps[i], d)]
            ps[i] = [x * (1 - _decay(lr, peak_lr) * weight_decay) for x in p]
    return ps


def ref_mars(params: Params, grads: Grads, lr: float, betas=(0.9, 0.99), eps: float = 1e-8,
             weight_decay: float = 0.0, gamma: float = 0.025, mars_type: str = "adamw",
             optimize_1d: bool = False, lr_1d_factor: float = 1.0, betas_1d=None,
             cautious: bool = False) -> list[list[float]]:
    ps = [list(v) for _, v in params]
    shapes = [s for s, _ in params]
    ms = [[0.0] * len(p) for p in ps]
    vs = [[0.0] * len(p) for p in ps]
    last = [[0.0] * len(p) for p in ps]
    for t, step in enumerate(grads, 1):
        for i, g in enumerate(step):
            p = ps[i]
            if len(shapes[i]) >= 2 or optimize_1d:
                b1, b2 = betas
                if t == 1:
                    c = list(g)
                else:
                    k = gamma * b1 / (1 - b1)
                    c = [a + k * (a - b) for a, b in zip(g, last[i])]
                scale = max(_norm(c), 1.0)
                c = [a / scale for a in c]
                ms[i] = [b1 * m + (1 - b1) * a for m, a in zip(ms[i], c)]
                d = caution(ms[i], g) if cautious else ms[i]
                if mars_type == "adamw":
                    vs[i] = [b2 * v + (1 - b2) * a * a for v, a in zip(vs[i], c)]
                    u = [(m / (1 - b1**t)) / (math.sqrt(v) / math.sqrt(1 - b2**t) + eps) for m, v in zip(d, vs[i])]
                else:
                    u = [float(_sign(m)) for m in d]
                step_lr = lr
            else:
                b1, b2 = betas_1d or betas
                ms[i] = [b1 * m + (1 - b1) * a for m, a in zip(ms[i], g)]
                vs[i] = [b2 * v + (1 - b2) * a * a for v, a in zip(vs[i], g)]
                d = caution(ms[i], g) if cautious else ms[i]
                u = [(m / (1 - b1**t)) / (math.sqrt(v) / math.sqrt(1 - b2**t) + eps) for m, v in zip(d, vs[i])]
                step_lr = lr * lr_1d_factor
            ps[i] = [x - step_lr * (a + weight_decay * x) for x, a in zip(p, u)]
            last[i] = list(g)
    return ps


def ref_adafactorbv(params: Params, grads: Grads, lr: float = 1.0, min_dim_size_to_factor: int = 16,
                    decay_rate: float = 0.8, decay_offset: int = 0, beta2_cap: float = 0.999,
                    momentum: float | None = 0.9, eps: float = 1e-30, weight_decay: float = 0.0,
                    clipping_threshold: float | None = None, cautious: bool = False,
                    peak_lr: float | None = None) -> list[list[float]]:
    """2-D tensors (rows x cols) factor when min(rows, cols) >= min_dim_size_to_factor."""
    ps = [list(v) for _, v in params]
    shapes = [s for s, _ in params]
    state: list[dict] = [{} for _ in ps]
    ms = [[0.0] * len(p) for p in ps]
    for t, step in enumerate(grads, 1):
        b2 = min(beta2_cap, 1.0 - max(t - decay_offset, 1) ** (-decay_rate))
        for i, g in enumerate(step):
            q = [a * a + eps for a in g]
            shape = shapes[i]
            if len(shape) == 2 and min(shape) >= min_dim_size_to_factor:
                rows, cols = shape
                big_is_cols = cols >= rows  # the larger dim (the later on a tie) is averaged first
                st = state[i]
                # r: mean over the largest dim, c: mean over the other one
                if big_is_cols:
                    r_new = [sum(q[a * cols + b] for b in range(cols)) / cols for a in range(rows)]
                    c_new = [sum(q[a * cols + b] for a in range(rows)) / rows for b in range(cols)]
                else:
                    r_new = [sum(q[a * cols + b] for a in range(rows)) / rows for b in range(cols)]
                    c_new = [sum(q[a * cols + b] for b in range(cols)) / cols for a in range(rows)]
                st["r"] = [x + (1 - b2) * (y - x) for x, y in zip(st.get("r", [0.0] * len(r_new)), r_new)]
                st["c"] = [x + (1 - b2) * (y - x) for x, y in zip(st.get("c", [0.0] * len(c_new)), c_new)]
                r_mean = sum(st["r"]) / len(st["r"])
                u = []
                for a in range(rows):
                    for b in range(cols):
                        ri, ci = (a, b) if big_is_cols else (b, a)
                        u.append(g[a * cols + b] / math.sqrt(st["r"][ri] / r_mean) / math.sqrt(st["c"][ci]))
            else:
                v = state[i].get("v", [0.0] * len(q))
                state[i]["v"] = v = [x + (1 - b2) * (y - x) for x, y in zip(v, q)]
                u = [a / math.sqrt(x) for a, x in zip(g, v)]
            if clipping_threshold is not None:
                rms = _norm(u) / math.sqrt(len(u))
                u = [a / max(1.0, rms / clipping_threshold) for a in u]
            if momentum is not None:
                ms[i] = [m + (1 - momentum) * (a - m) for m, a in zip(ms[i], u)]
                u = caution(ms[i], g) if cautious else list(ms[i])
            p = [x * (1 - _decay(lr, peak_lr) * weight_decay) for x in ps[i]]
            ps[i] = [x - lr * a for x, a in zip(p, u)]
    return ps

