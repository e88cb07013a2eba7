"""Plain-Python transcriptions of the matrix-preconditioned rules: Muon's Newton-Schulz step
(Jordan et al., 2024) and PSGD Kron (Li). Same conventions as ``reference_rules``; no torch."""

from __future__ import annotations

import math

from reference_rules import Grads, Params, _norm


def _matmul(a: list[list[float]], b: list[list[float]]) -> list[list[float]]:
    return [[sum(x * y for x, y in zip(row, col)) for col in zip(*b)] for row in a]


def _newton_schulz(rows: list[list[float]], coeffs, steps: int = 5, eps: float = 1e-7) -> list[list[float]]:
    """Orthogonalize a matrix (list of rows) with the Newton-Schulz quintic of Jordan et al."""
    tall = len(rows) > len(rows[0])
    x = [list(c) for c in zip(*rows)] if tall else [list(r) for r in rows]
    norm = max(math.sqrt(sum(v * v for r in x for v in r)), eps)
    x = [[v / norm for v in r] for r in x]
    for i in range(steps):
        a, b, c = coeffs[min(i, len(coeffs) - 1)]
        gram = _matmul(x, [list(col) for col in zip(*x)])
        gram2 = _matmul(gram, gram)
        poly = [[b * g + c * h for g, h in zip(r1, r2)] for r1, r2 in zip(gram, gram2)]
        px = _matmul(poly, x)
        x = [[a * v + w for v, w in zip(r1, r2)] for r1, r2 in zip(x, px)]
    return [list(c) for c in zip(*x)] if tall else x


QUINTIC = [(4.0848, -6.8946, 2.9270), (3.9505, -6.3029, 2.6377), (3.7418, -5.5913, 2.3037),
           (2.8769, -3.1427, 1.2046), (2.8366, -3.0525, 1.2012)]


def ref_muon(params: Params, grads: Grads, lr: float = 0.02, weight_decay: float = 0.0, momentum: float = 0.95,
             nesterov: bool = False, betas=(0.9, 0.95), eps: float = 1e-7, fallback_lr_scale: float = 1.0,
             adjust: str = "match_rms_adamw") -> list[list[float]]:
    """Muon (flatten mode) for tensors with two non-unit leading dims >= 4; AdamW/NAdamW otherwise."""
    b1, b2 = betas
    ps = [list(v) for _, v in params]
    shapes = [s for s, _ in params]
    bufs = [[0.0] * len(p) for p in ps]
    ms = [[0.0] * len(p) for p in ps]
    vs = [[0.0] * len(p) for p in ps]
    for t, step in enumerate(grads, 1):
        for i, g in enumerate(step):
            shape = shapes[i]
            rows = shape[0]
            cols = len(g) // rows
            use_muon = len(shape) >= 2 and shape[1] > 1 and rows > 1 and min(rows, cols) >= 4
            if use_muon:
                p = [x * (1 - lr * weight_decay) for x in ps[i]]
                bufs[i] = [b + (1 - momentum) * (a - b) for b, a in zip(bufs[i], g)]
                u = [a + momentum * (b - a) for a, b in zip(g, bufs[i])] if nesterov else bufs[i]
                o = _newton_schulz([u[r * cols:(r + 1) * cols] for r in range(rows)], QUINTIC, eps=eps)
                scale = 0.2 * math.sqrt(max(rows, cols)) if adjust == "match_rms_adamw" else 1.0
                flat = [v for r in o for v in r]
                ps[i] = [x - lr * scale * v for x, v in zip(p, flat)]
            else:
                flr = lr * fallback_lr_scale
                p = [x * (1 - flr * weight_decay) for x in ps[i]]
                ms[i] = [b1 * m + (1 - b1) * a for m, a in zip(ms[i], g)]
                vs[i] = [b2 * v + (1 - b2) * a * a for v, a in zip(vs[i], g)]
                num = [b1 * m + (1 - b1) * a for m, a in zip(ms[i], g)] if nesterov else ms[i]
                ps[i] = [x - flr / (1 - b1**t) * n / (math.sqrt(v / (1 - b2**t)) + eps)
                         for x, n, v in zip(p, num, vs[i])]
    return ps


def _t(a: list[list[float]]) -> list[list[float]]:
    return [list(c) for c in zip(*a)]


def _solve_right_upper(v: list[list[float]], q: list[list[float]]) -> list[list[float]]:
    """X with X·Q = V for upper-triangular Q (forward substitution over columns)."""
    n = len(q)
    out = []
    for row in v:
        x = [0.0] * n
        for j in range(n):
            x[j] = (row[j] - sum(x[k] * q[k][j] for k in range(j))) / q[j][j]
        out.append(x)
    return out


def _lower_bound(a: list[list[float]]) -> float:
    """Spectral-norm lower bound: one power step from the heaviest row or column."""
    scale = max(abs(v) for r in a for v in r)
    if scale == 0:
        return 0.0
    b = [[v / scale for v in r] for r in a]
    cols = [sum(r[j] ** 2 for r in b) for j in range(len(b[0]))]
    rows = [sum(v * v for v in r) for r in b]
    if max(cols) > max(rows):
        j = cols.index(max(cols))
        x = [sum(b[i][j] * b[i][k] for i in range(len(b))) for k in range(len(b[0]))]  # column j · B
        nx = _norm(x)
        y = [sum(x[k] / nx * b[i][k] for k in range(len(x))) for i in range(len(b))]  # (x/|x|)·Bᵀ
    else:
        i0 = rows.index(max(rows))
        x = [sum(b[i][k] * b[i0][k] for k in range(len(b[0]))) for i in range(len(b))]  # B · row i0
        nx = _norm(x)
        y = [sum(b[i][k] * x[i] / nx for i in range(len(b))) for k in range(len(b[0]))]  # Bᵀ·(x/|x|)
    return scale * _norm(y)


def ref_kron(params: Params, grads: Grads, probes, lr: float = 1e-3, momentum: float = 0.9,
             weight_decay: float = 0.0, precond_lr: float = 0.1, decoupled: bool = False) -> list[list[float]]:
    """PSGD Kron for 2-D (two triangular factors) and 1-D (one diagonal factor) parameters,
    refitting every step, with the given normal probes ``probes[step][param]`` (flat lists)."""
    tiny = 2.0 ** -126  # the smallest normal bfloat16, the fit's guard
    balance_rng = __import__("random").Random(1337)
    ps = [list(v) for _, v in params]
    shapes = [s for s, _ in params]
    bufs = [[0.0] * len(p) for p in ps]
    qs: list[list] = []
    for s in shapes:
        qs.append([[[float(i == j) for j in range(n)] for i in range(n)] for n in s] if len(s) == 2 else [[1.0] * s[0]])
    for t, step in enumerate(grads, 1):
        for i, g in enumerate(step):
            bufs[i] = [momentum * b + (1 - momentum) * a for b, a in zip(bufs[i], g)]
            mhat = [b / (1 - momentum**t) for b in bufs[i]]
            balance = balance_rng.random() < 0.01
            v = probes[t - 1][i]
            if len(shapes[i]) == 2:
                r, c = shapes[i]
                q0, q1 = qs[i]
                if balance:
                    n0, n1 = (max(abs(x) for row in q for x in row) for q in (q0, q1))
                    mean = (n0 * n1) ** 0.5
                    q0 = [[x * mean / n0 for x in row] for row in q0]
                    q1 = [[x * mean / n1 for x in row] for row in q1]
                m = [mhat[k * c:(k + 1) * c] for k in range(r)]
                a = _matmul(_matmul(q0, m), _t(q1))                      # Q0·M·Q1ᵀ
                vm = [v[k * c:(k + 1) * c] for k in range(r)]
                b = _t(_solve_right_upper(_t(vm), q0))                 # Q0⁻ᵀ·V
                b = _solve_right_upper(b, q1)                          # ·Q1⁻¹
                new = []
                for q, t1, t2 in ((q0, _matmul(a, _t(a)), _matmul(b, _t(b))),
                                  (q1, _matmul(_t(a), a), _matmul(_t(b), b))):
                    n = len(q)
                    total = [[t1[x][y] + t2[x][y] for y in range(n)] for x in range(n)]
                    d = _lower_bound(total) + tiny
                    upd = [[precond_lr * (t1[x][y] - t2[x][y]) / d if y >= x else 0.0 for y in range(n)]
                           for x in range(n)]
                    upd_q = _matmul(upd, q)
                    new.append([[q[x][y] - upd_q[x][y] for y in range(n)] for x in range(n)])
                q0, q1 = new
                qs[i] = [q0, q1]
                u = _matmul(_matmul(_matmul(_t(q0), q0), m), _matmul(_t(q1), q1))
                flat = [x for row in u for x in row]
            else:
                q = qs[i][0]
                a = [x * y for x, y in zip(q, mhat)]
                b = [x / y for x, y in zip(v, q)]
                t1, t2 = [x * x for x in a], [x * x for x in b]
                d = max(abs(x + y) for x, y in zip(t1, t2)) + tiny
                q = [x - precond_lr * (y - z) * x / d for x, y, z in zip(q, t1, t2)]
                qs[i] = [q]
                flat = [x * x * y for x, y in zip(q, mhat)]
            rms = math.sqrt(sum(x * x for x in flat) / len(flat))
            flat = [x * min(1.0, 1.1 / (rms + 1e-8)) for x in flat]
            p = ps[i]
            if decoupled:
                p = [x * (1 - lr * weight_decay) for x in p]
            else:
                flat = [x + weight_decay * y for x, y in zip(flat, p)]
            ps[i] = [x - lr * y for x, y in zip(p, flat)]
    return ps
