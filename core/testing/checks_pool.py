"""Conformance checks for pool components: shapes, feature multiplier, flatten on/off, tiny maps.

A pool takes an NCHW map and returns ``(B, C*feat_mult, 1, 1)``, or ``(B, C*feat_mult)`` when built
with ``flatten=True``; the identity pool (tag ``identity``) returns the map itself (or it flattened).
"""

from __future__ import annotations

from .kit import ComponentRef, check

_SIZES = ((1, 1), (2, 2), (5, 7), (8, 8))


def _input(height: int, width: int, channels: int = 6):
    import torch

    gen = torch.Generator().manual_seed(0)
    return torch.randn(2, channels, height, width, generator=gen)


def _mult(component: ComponentRef) -> int:
    return int(getattr(component.spec, "feat_mult", 1))


@check("pool", excludes=("identity",))
def check_pool_shapes(component: ComponentRef) -> None:
    """Unflattened: (B, C*feat_mult, 1, 1); flattened: (B, C*feat_mult), for 1x1, odd and even maps."""
    mult = _mult(component)
    kept, flat = component.create(flatten=False), component.create(flatten=True)
    for height, width in _SIZES:
        x = _input(height, width)
        out = kept(x)
        if not (tuple(out.shape) == (2, 6 * mult, 1, 1)):
            raise AssertionError(f"{height}x{width}: unflattened shape {tuple(out.shape)}")
        out_flat = flat(x)
        if not (tuple(out_flat.shape) == (2, 6 * mult)):
            raise AssertionError(f"{height}x{width}: flattened shape {tuple(out_flat.shape)}")
        if not ((out_flat == out.flatten(1)).all()):
            raise AssertionError("flatten=True must equal flattening the unflattened output")


@check("pool", requires=("identity",))
def check_identity_pool(component: ComponentRef) -> None:
    """The identity pool returns the map unchanged (flattened to (B, C*H*W) only when asked)."""
    x = _input(5, 7)
    if not ((component.create(flatten=False)(x) == x).all()):
        raise AssertionError('check failed: (component.create(flatten=False)(x) == x).all()')
    if not (tuple(component.create(flatten=True)(x).shape) == (2, 6 * 5 * 7)):
        raise AssertionError('check failed: tuple(component.create(flatten=True)(x).shape) == (2, 6 * 5 * 7)')


@check("pool")
def check_pool_is_module_and_finite(component: ComponentRef) -> None:
    """Pools are torch modules without parameters, with finite outputs and a gradient path to the input."""
    import torch

    pool = component.create(flatten=True)
    if not (isinstance(pool, torch.nn.Module)):
        raise AssertionError(f"pool built a {type(pool).__name__}, expected an nn.Module")
    if not (sum(p.numel() for p in pool.parameters()) == 0):
        raise AssertionError("global pools must not have parameters")
    x = _input(3, 3).requires_grad_(True)
    out = pool(x)
    if not (torch.isfinite(out).all()):
        raise AssertionError('check failed: torch.isfinite(out).all()')
    out.sum().backward()
    if not (x.grad is not None and torch.isfinite(x.grad).all()):
        raise AssertionError('check failed: x.grad is not None and torch.isfinite(x.grad).all()')


@check("pool")
def check_pool_batch_independent(component: ComponentRef) -> None:
    """Each sample is pooled on its own: pooling a batch equals pooling its samples one by one."""
    import torch

    pool = component.create(flatten=True)
    x = _input(4, 4)
    together = pool(x)
    apart = torch.cat([pool(x[i : i + 1]) for i in range(x.shape[0])])
    if not (torch.allclose(together, apart, atol=1e-6)):
        raise AssertionError('check failed: torch.allclose(together, apart, atol=1e-6)')


@check("pool")
def check_pool_timm_queries(component: ComponentRef) -> None:
    """A pool answering timm's ``feat_mult()`` / ``is_identity()`` agrees with its spec."""
    pool = component.create(flatten=True)
    answer = getattr(pool, "feat_mult", None)
    if callable(answer) and answer() != _mult(component):
        raise AssertionError(f"feat_mult() is {answer()}, the spec says {_mult(component)}")
    identity = getattr(pool, "is_identity", None)
    tagged = "identity" in component.spec.tags
    if callable(identity) and bool(identity()) != tagged:
        raise AssertionError(f"is_identity() is {identity()} but the spec is {'' if tagged else 'not '}tagged 'identity'")
