"""Plain-Python transcriptions of the published rules of pimm's own optimizers (no torch).

Same conventions as ``reference_rules``: parameters as ``(shape, flat values)``, gradients as
``grads[step][param]``; each function returns the final flat values.
"""

from __future__ import annotations

import math

from reference_rules import Grads, Params, _norm, _rect, _rows, _sign


def ref_lamb(params: Params, grads: Grads, lr: float, betas=(0.9, 0.999), eps: float = 1e-6,
             weight_decay: float = 0.01, max_grad_norm: float | None = 1.0, trust_clip: bool = False,
             decoupled: bool = False, always_adapt: bool = False, grad_averaging: bool = True,
             bias_correction: bool = True) -> list[list[float]]:
    b1, b2 = betas
    b3 = 1 - b1 if grad_averaging else 1.0
    ps = [list(v) for _, v in params]
    ms = [[0.0] * len(p) for p in ps]
    vs = [[0.0] * len(p) for p in ps]
    for t, step in enumerate(grads, 1):
        clip = 1.0
        if max_grad_norm is not None:
            total = math.sqrt(sum(x * x for g in step for x in g))
            clip = max(total / max_grad_norm, 1.0)
        bc1, bc2 = (1 - b1**t, 1 - b2**t) if bias_correction else (1.0, 1.0)
        for i, graw in enumerate(step):
            p, m, v = ps[i], ms[i], vs[i]
            u = []
            for j in range(len(p)):
                g = graw[j] / clip
                m[j] = b1 * m[j] + b3 * g
                v[j] = b2 * v[j] + (1 - b2) * g * g
                u.append((m[j] / bc1) / (math.sqrt(v[j]) / math.sqrt(bc2) + eps))
            if weight_decay:
                if decoupled:
                    ps[i] = p = [x * (1 - lr * weight_decay) for x in p]
                else:
                    u = [a + weight_decay * x for a, x in zip(u, p)]
            if weight_decay or always_adapt:
                wn, un = _norm(p), _norm(u)
                r = wn / un if wn > 0 and un > 0 else 1.0
                if trust_clip:
                    r = min(r, 1.0)
                u = [a * r for a in u]
            ps[i] = [x - lr * a for x, a in zip(p, u)]
    return ps


def ref_lars(params: Params, grads: Grads, lr: float, momentum: float = 0.0, dampening: float = 0.0,
             weight_decay: float = 0.0, nesterov: bool = False, trust_coeff: float = 1e-3,
             eps: float = 1e-8, trust_clip: bool = False, always_adapt: bool = False) -> list[list[float]]:
    ps = [list(v) for _, v in params]
    bufs: list[list[float] | None] = [None] * len(ps)
    for step in grads:
        for i, g in enumerate(step):
            p = ps[i]
            g = list(g)
            if weight_decay or always_adapt:
                wn, gn = _norm(p), _norm(g)
                r = trust_coeff * wn / (gn + wn * weight_decay + eps) if wn > 0 and gn > 0 else 1.0
                if trust_clip:
                    r = min(r / lr, 1.0)
                g = [(a + weight_decay * x) * r for a, x in zip(g, p)]
            if momentum:
                if bufs[i] is None:
                    bufs[i] = list(g)
                else:
                    bufs[i] = [momentum * b + (1 - dampening) * a for b, a in zip(bufs[i], g)]
                g = [a + momentum * b for a, b in zip(g, bufs[i])] if nesterov else list(bufs[i])
            ps[i] = [x - lr * a for x, a in zip(p, g)]
    return ps


def _project(shape, p, g, d, delta, wd_ratio, eps):
    """AdamP/SGDP projection on flat lists; returns (d, wd_scale)."""
    if len(shape) <= 1:
        return d, 1.0
    rows, cols = _rows(shape)
    for nrows, ncols in ((rows, cols), (1, rows * cols)):
        cos = []
        for r in range(nrows):
            sl = slice(r * ncols, (r + 1) * ncols)
            pr, gr = p[sl], g[sl]
            dot = sum(a * b for a, b in zip(gr, pr))
            cos.append(abs(dot) / (max(_norm(gr), eps) * max(_norm(pr), eps)))
        if max(cos) < delta / math.sqrt(ncols):
            out = list(d)
            for r in range(nrows):
                sl = range(r * ncols, (r + 1) * ncols)
                pn_norm = _norm([p[k] for k in sl]) + eps
                pn = {k: p[k] / pn_norm for k in sl}
                dot = sum(pn[k] * d[k] for k in sl)
                for k in sl:
                    out[k] = d[k] - pn[k] * dot
            return out, wd_ratio
    return d, 1.0


def ref_adamp(params: Params, grads: Grads, lr: float, betas=(0.9, 0.999), eps: float = 1e-8,
              weight_decay: float = 0.0, delta: float = 0.1, wd_ratio: float = 0.1,
              nesterov: bool = False) -> list[list[float]]:
    b1, b2 = betas
    ps = [list(v) for _, v in params]
    shapes = [s for s, _ in params]
    ms = [[0.0] * len(p) for p in ps]
    vs = [[0.0] * len(p) for p in ps]
    for t, step in enumerate(grads, 1):
        bc1, bc2 = 1 - b1**t, 1 - b2**t
        for i, g in enumerate(step):
            p, m, v = ps[i], ms[i], vs[i]
            d = []
            for j in range(len(p)):
                m[j] = b1 * m[j] + (1 - b1) * g[j]
                v[j] = b2 * v[j] + (1 - b2) * g[j] ** 2
                denom = math.sqrt(v[j]) / math.sqrt(bc2) + eps
                d.append((b1 * m[j] + (1 - b1) * g[j] if nesterov else m[j]) / denom)
            d, wd_scale = _project(shapes[i], p, g, d, delta, wd_ratio, eps)
            if weight_decay > 0:
                p = [x * (1 - lr * weight_decay * wd_scale) for x in p]
            ps[i] = [x - lr / bc1 * a for x, a in zip(p, d)]
    return ps


def ref_sgdp(params: Params, grads: Grads, lr: float, momentum: float = 0.0, dampening: float = 0.0,
             weight_decay: float = 0.0, nesterov: bool = False, eps: float = 1e-8, delta: float = 0.1,
             wd_ratio: float = 0.1) -> list[list[float]]:
    ps = [list(v) for _, v in params]
    shapes = [s for s, _ in params]
    bufs = [[0.0] * len(p) for p in ps]
    for step in grads:
        for i, g in enumerate(step):
            p = ps[i]
            bufs[i] = buf = [momentum * b + (1 - dampening) * a for b, a in zip(bufs[i], g)]
            d = [a + momentum * b for a, b in zip(g, buf)] if nesterov else list(buf)
            d, wd_scale = _project(shapes[i], p, g, d, delta, wd_ratio, eps)
            if weight_decay:
                p = [x * (1 - lr * weight_decay * wd_scale / (1 - momentum)) for x in p]
            ps[i] = [x - lr * a for x, a in zip(p, d)]
    return ps


def ref_sgdw(params: Params, grads: Grads, lr: float, momentum: float = 0.0, dampening: float = 0.0,
             weight_decay: float = 0.0, nesterov: bool = False) -> list[list[float]]:
    ps = [list(v) for _, v in params]
    bufs: list[list[float] | None] = [None] * len(ps)
    for step in grads:
        for i, g in enumerate(step):
            p = [x * (1 - lr * weight_decay) for x in ps[i]]
            g = list(g)
            if momentum:
                bufs[i] = list(g) if bufs[i] is None else [momentum * b + (1 - dampening) * a
                                                          for b, a in zip(bufs[i], g)]
                g = [a + momentum * b for a, b in zip(g, bufs[i])] if nesterov else list(bufs[i])
            ps[i] = [x - lr * a for x, a in zip(p, g)]
    return ps


def ref_adabelief(params: Params, grads: Grads, lr: float, betas=(0.9, 0.999), eps: float = 1e-16,
                  weight_decay: float = 0.0, decoupled: bool = True, fixed_decay: bool = False,
                  rectify: bool = True, degenerated_to_sgd: bool = True, amsgrad: bool = False) -> list[list[float]]:
    b1, b2 = betas
    ps = [list(v) for _, v in params]
    ms = [[0.0] * len(p) for p in ps]
    ss = [[0.0] * len(p) for p in ps]
    smax = [[0.0] * len(p) for p in ps]
    rho_inf = 2 / (1 - b2) - 1
    for t, step in enumerate(grads, 1):
        bc1, bc2 = 1 - b1**t, 1 - b2**t
        rho = rho_inf - 2 * t * b2**t / (1 - b2**t)
        for i, g in enumerate(step):
            p, m, s = ps[i], ms[i], ss[i]
            for j in range(len(p)):
                gj = g[j]
                if weight_decay:
                    if decoupled:
                        p[j] *= 1 - (weight_decay if fixed_decay else lr * weight_decay)
                    else:
                        gj += weight_decay * p[j]
                m[j] = b1 * m[j] + (1 - b1) * gj
                s[j] = b2 * s[j] + (1 - b2) * (gj - m[j]) ** 2 + eps
                smax[i][j] = max(smax[i][j], s[j])
                sv = smax[i][j] if amsgrad else s[j]
                if not rectify:
                    p[j] -= lr / bc1 * m[j] / (math.sqrt(sv) / math.sqrt(bc2) + eps)
                elif rho >= 5:
                    r = math.sqrt(bc2 * (rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))
                    p[j] -= lr * r / bc1 * m[j] / (math.sqrt(sv) + eps)
                elif degenerated_to_sgd:
                    p[j] -= lr / bc1 * m[j]
    return ps


def ref_adan(params: Params, grads: Grads, lr: float, betas=(0.98, 0.92, 0.99), eps: float = 1e-8,
             weight_decay: float = 0.0, no_prox: bool = False) -> list[list[float]]:
    b1, b2, b3 = betas
    ps = [list(v) for _, v in params]
    ms = [[0.0] * len(p) for p in ps]
    ds = [[0.0] * len(p) for p in ps]
    ns = [[0.0] * len(p) for p in ps]
    prev = [list(g) for g in grads[0]]
    for t, step in enumerate(grads, 1):
        for i, g in enumerate(step):
            p = ps[i]
            for j in range(len(p)):
                diff = g[j] - prev[i][j]
                ms[i][j] = b1 * ms[i][j] + (1 - b1) * g[j]
                ds[i][j] = b2 * ds[i][j] + (1 - b2) * diff
                u = g[j] + b2 * diff
                ns[i][j] = b3 * ns[i][j] + (1 - b3) * u * u
                denom = math.sqrt(ns[i][j]) / math.sqrt(1 - b3**t) + eps
                upd = lr / (1 - b1**t) * ms[i][j] / denom + lr * b2 / (1 - b2**t) * ds[i][j] / denom
                if no_prox:
                    p[j] = p[j] * (1 - lr * weight_decay) - upd
                else:
                    p[j] = (p[j] - upd) / (1 + lr * weight_decay)
            prev[i] = list(g)
    return ps


def ref_lion(params: Params, grads: Grads, lr: float, betas=(0.9, 0.99),
             weight_decay: float = 0.0) -> list[list[float]]:
    b1, b2 = betas
    ps = [list(v) for _, v in params]
    ms = [[0.0] * len(p) for p in ps]
    for step in grads:
        for i, g in enumerate(step):
            p, m = ps[i], ms[i]
            for j in range(len(p)):
                p[j] = p[j] * (1 - lr * weight_decay) - lr * _sign(b1 * m[j] + (1 - b1) * g[j])
                m[j] = b2 * m[j] + (1 - b2) * g[j]
    return ps


def ref_madgrad(params: Params, grads: Grads, lr: float, momentum: float = 0.9, weight_decay: float = 0.0,
                eps: float = 1e-6, decoupled: bool = False) -> list[list[float]]:
    ps = [list(v) for _, v in params]
    x0 = [list(p) for p in ps]
    big = [[0.0] * len(p) for p in ps]
    small = [[0.0] * len(p) for p in ps]
    for k, step in enumerate(grads, 1):
        lam = (lr + eps) * math.sqrt(k)
        for i, g in enumerate(step):
            p = ps[i]
            for j in range(len(p)):
                gj = g[j]
                if weight_decay:
                    if decoupled:
                        p[j] *= 1 - lr * weight_decay
                    else:
                        gj += weight_decay * p[j]
                if momentum == 0:
                    x0[i][j] = p[j] + small[i][j] / (big[i][j] ** (1 / 3) + eps)
                big[i][j] += lam * gj * gj
                small[i][j] += lam * gj
                z = x0[i][j] - small[i][j] / (big[i][j] ** (1 / 3) + eps)
                p[j] = momentum * p[j] + (1 - momentum) * z
    return ps


def ref_novograd(params: Params, grads: Grads, lr: float, betas=(0.95, 0.98), eps: float = 1e-8,
                 weight_decay: float = 0.0, grad_averaging: bool = False,
                 decoupled: bool = False) -> list[list[float]]:
    b1, b2 = betas
    ps = [list(v) for _, v in params]
    ms = [[0.0] * len(p) for p in ps]
    vs = [0.0] * len(ps)
    for step in grads:
        for i, g in enumerate(step):
            p = ps[i]
            sq = sum(x * x for x in g)
            vs[i] = sq if vs[i] == 0 else b2 * vs[i] + (1 - b2) * sq
            u = [x / (math.sqrt(vs[i]) + eps) for x in g]
            if weight_decay:
                if decoupled:
                    p = [x * (1 - lr * weight_decay) for x in p]
                else:
                    u = [a + weight_decay * x for a, x in zip(u, p)]
            if grad_averaging:
                u = [a * (1 - b1) for a in u]
            ms[i] = [b1 * mm + a for mm, a in zip(ms[i], u)]
            ps[i] = [x - lr * mm for x, mm in zip(p, ms[i])]
    return ps


def ref_adafactor(params: Params, grads: Grads, lr: float | None = None, eps: float = 1e-30,
                  eps_scale: float = 1e-3, clip_threshold: float = 1.0, decay_rate: float = -0.8,
                  beta1: float | None = None, weight_decay: float = 0.0, scale_parameter: bool = True,
                  min_dim_size_to_factor: int = 16) -> list[list[float]]:
    """Adafactor for 1-D and 2-D parameters (2-D ones factor when both dims exceed the minimum)."""
    ps = [list(v) for _, v in params]
    shapes = [s for s, _ in params]
    state: list[dict] = [{} for _ in ps]
    for t, step in enumerate(grads, 1):
        for i, g in enumerate(step):
            p, shape, st = ps[i], shapes[i], state[i]
            n = len(p)
            rms_p = _norm(p) / math.sqrt(n)
            if lr is None:
                lr_t = min(1e-2, 1 / math.sqrt(t)) * (max(eps_scale, rms_p) if scale_parameter else 1.0)
            else:
                lr_t = lr
            w = t**decay_rate  # 1 - beta2t
            q = [x * x + eps for x in g]
            factored = len(shape) == 2 and shape[0] > min_dim_size_to_factor and shape[1] > min_dim_size_to_factor
            if factored:
                rows, cols = shape
                row_mean = [sum(q[r * cols:(r + 1) * cols]) / cols for r in range(rows)]
                col_mean = [sum(q[r * cols + c] for r in range(rows)) / rows for c in range(cols)]
                st.setdefault("r", [0.0] * rows)
                st.setdefault("c", [0.0] * cols)
                st["r"] = [a + w * (b - a) for a, b in zip(st["r"], row_mean)]
                st["c"] = [a + w * (b - a) for a, b in zip(st["c"], col_mean)]
                rmean = sum(st["r"]) / rows
                u = [g[r * cols + c] / math.sqrt(st["r"][r] / rmean) / math.sqrt(st["c"][c])
                     for r in range(rows) for c in range(cols)]
            else:
                st.setdefault("v", [0.0] * n)
                st["v"] = [a + w * (b - a) for a, b in zip(st["v"], q)]
                u = [x / math.sqrt(v) for x, v in zip(g, st["v"])]
            rms_u = _norm(u) / math.sqrt(n)
            u = [x / max(rms_u / clip_threshold, 1.0) * lr_t for x in u]
            if beta1 is not None:
                st.setdefault("m", [0.0] * n)
                st["m"] = [a + (1 - beta1) * (b - a) for a, b in zip(st["m"], u)]
                u = list(st["m"])
            if weight_decay:
                p = [x * (1 - weight_decay * lr_t) for x in p]
            ps[i] = [x - a for x, a in zip(p, u)]
    return ps


def ref_lookahead(params: Params, grads: Grads, inner, alpha: float = 0.5, k: int = 6, **inner_kwargs):
    """Lookahead around a reference rule ``inner`` that must be restartable from given params.

    Implemented by running the inner rule in chunks of ``k`` steps from the synced weights would
    reset its state, so instead this re-derives the fast weights step by step with a stateful
    inner rule: ``inner(params, grads_prefix)`` is re-run over the full prefix with the syncs
    applied, which is exact for plain SGD (the only rule this is used with).
    """
    ps = [list(v) for _, v in params]
    shapes = [s for s, _ in params]
    slow: list[list[float]] | None = None
    for t in range(len(grads)):
        ps = inner(list(zip(shapes, ps)), [grads[t]], **inner_kwargs)
        if (t + 1) % k == 0:
            if slow is None:
                slow = [list(p) for p in ps]
            slow = [[s + alpha * (f - s) for s, f in zip(sp, fp)] for sp, fp in zip(slow, ps)]
            ps = [list(s) for s in slow]
    return ps


__all__ = [n for n in dir() if n.startswith("ref_")] + ["_rect"]
