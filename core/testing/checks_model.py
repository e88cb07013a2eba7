"""Conformance checks of the model contract, run for every registered model (third-party included).

They check the contract only (shapes, finiteness, head handling, pools, feature levels, configs,
weight adaptation, saving, determinism), never builtin specifics. Inputs are small (32x32, or the
config's minimum/fixed size) and every check builds as few models as it can: one model per
component (``num_classes=7``) is built and shared by its consecutive checks (deep-copied by the
checks that change it), and variants (other ``in_chans``, no classifier) are built from its weights
through the pretrained-loading path, which skips initialisation. Checks that need a tag: ``classifier`` (has a classification head with
``reset_classifier``), ``features`` (declares ``feature_info``), ``intermediates``
(``forward_intermediates``), ``grad_checkpointing`` (``set_grad_checkpointing``).
"""

from __future__ import annotations

import copy
import math
import os
import tempfile
from typing import Any

from .kit import ComponentRef, check, skip

_CACHE: dict[str, Any] = {}
NUM_CLASSES = 7
BATCH = 2


def _base(component: ComponentRef) -> Any:
    """The component's model with ``num_classes=7``, built once and shared: callers must not change it."""
    from ..models.factory import create_model

    model = _CACHE.get(component.qualified_name)
    if model is None:
        _CACHE.clear()  # cases come grouped by component: keep one model alive
        options = {"num_classes": NUM_CLASSES} if "num_classes" in component.spec.options.model_fields else {}
        model = create_model(component.qualified_name, **options)
        _CACHE[component.qualified_name] = model
    return model.eval()


def _copy(component: ComponentRef) -> Any:
    """A private copy of the base model, free to modify."""
    return copy.deepcopy(_base(component))


def _variant(component: ComponentRef, **options: Any) -> Any:
    """The model built with other ``options``, loaded from the base model's weights (no re-initialisation).

    This goes through the same path as pretrained loading (remap hook, first-conv adaptation, head
    dropped when the class count differs, meta-device construction when possible).
    """
    from ..models.factory import build_with_state_dict

    from ..models.adapt import _guess_head

    base = _base(component)
    cfg = _cfg(component)
    cfg = cfg.model_copy(update={"num_classes": NUM_CLASSES, "classifier": cfg.classifier or _guess_head(base)})
    state = {k: v.clone() for k, v in base.state_dict().items()}
    model = build_with_state_dict(component.qualified_name, options, cfg, state)
    model.pretrained_cfg = model.default_cfg = base.pretrained_cfg
    return model.eval()


def _cfg(component: ComponentRef) -> Any:
    from ..models.pretrained import resolve_pretrained_cfg

    return resolve_pretrained_cfg(component.spec, component.name)  # type: ignore[arg-type]


def _input(component: ComponentRef, chans: int = 3, size: int = 32, batch: int = BATCH) -> Any:
    import torch

    cfg = _cfg(component)
    if cfg.fixed_input_size:
        h, w = cfg.input_size[1:]
    else:
        h = w = size
        if cfg.min_input_size:
            h, w = max(h, cfg.min_input_size[1]), max(w, cfg.min_input_size[2])
    gen = torch.Generator().manual_seed(0)
    return torch.randn(batch, chans, h, w, generator=gen)


def _close(a: Any, b: Any, what: str, rtol: float = 1e-5, atol: float = 1e-6) -> None:
    """Assert two tensors are close (plain torch.allclose: torch.testing imports hundreds of modules)."""
    import torch

    if not (a.shape == b.shape):
        raise AssertionError(f"{what}: shapes {tuple(a.shape)} and {tuple(b.shape)} differ")
    if not torch.allclose(a, b, rtol=rtol, atol=atol):
        diff = (a - b).abs().max().item()
        raise AssertionError(f"{what}: values differ (max abs difference {diff:.3g})")


def _finite(t: Any, what: str) -> None:
    import torch

    if not (torch.isfinite(t).all()):
        raise AssertionError(f"{what} has non-finite values")


@check("model")
def check_forward_backward(component: ComponentRef) -> None:
    """Train-mode forward gives (B, num_classes) finite logits; backward reaches every parameter."""
    model = _base(component).train()  # shared model: gradients are cleared and eval mode restored below
    try:
        x = _input(component)
        out = model(x)
        if not (out.shape[0] == x.shape[0]):
            raise AssertionError(f"output shape {tuple(out.shape)} lost the batch dimension")
        if "num_classes" in component.spec.options.model_fields:
            if not (out.shape == (x.shape[0], NUM_CLASSES)):
                raise AssertionError(f"output shape {tuple(out.shape)}, expected {(x.shape[0], 7)}")
        _finite(out, "output")
        out.mean().backward()
        missing = [n for n, p in model.named_parameters() if p.requires_grad and p.grad is None]
        if not (not missing):
            raise AssertionError(f"parameters without gradient: {missing[:5]}")
        for name, p in model.named_parameters():
            if p.grad is not None:
                _finite(p.grad, f"gradient of {name}")
    finally:
        model.zero_grad(set_to_none=True)
        model.eval()


@check("model")
def check_eval_determinism(component: ComponentRef) -> None:
    """Two eval-mode forwards of the same input are identical."""
    import torch

    model = _base(component)
    x = _input(component)
    with torch.no_grad():
        a, b = model(x), model(x)
    if not (torch.equal(a, b)):
        raise AssertionError("eval forward is not deterministic")


@check("model", requires=("classifier",))
def check_features_and_head(component: ComponentRef) -> None:
    """forward == forward_head(forward_features); pre_logits width is head_hidden_size."""
    import torch

    model = _base(component)
    x = _input(component)
    with torch.no_grad():
        feats = model.forward_features(x)
        if not (feats.ndim == 4 and feats.shape[1] == model.num_features):
            raise AssertionError(f"forward_features gave {tuple(feats.shape)}; expected (B, num_features={model.num_features}, H, W)")
        pre = model.forward_head(feats, pre_logits=True)
        if not (pre.shape == (x.shape[0], model.head_hidden_size)):
            raise AssertionError(f"pre_logits shape {tuple(pre.shape)} != (B, head_hidden_size={model.head_hidden_size})")
        _close(model.forward_head(feats), model(x), "forward_head(forward_features(x)) vs forward(x)")
    if not (model.num_classes == 7):
        raise AssertionError('check failed: model.num_classes == 7')


@check("model", requires=("classifier",))
def check_reset_classifier(component: ComponentRef) -> None:
    """reset_classifier resizes the head and keeps the model's dtype and train/eval mode."""
    import torch

    model = _copy(component).to(torch.float64).eval()
    x = _input(component).double()
    model.reset_classifier(5)
    if not (model.num_classes == 5):
        raise AssertionError('check failed: model.num_classes == 5')
    head = model.get_classifier()
    if not (all(p.dtype == torch.float64 for p in head.parameters())):
        raise AssertionError("new head lost the model's dtype")
    if not (not any(m.training for m in model.modules())):
        raise AssertionError("reset_classifier switched eval modules to train")
    with torch.no_grad():
        if not (model(x).shape == (x.shape[0], 5)):
            raise AssertionError('check failed: model(x).shape == (x.shape[0], 5)')
    model.train()
    model.reset_classifier(3)
    if not (all(m.training for m in model.modules())):
        raise AssertionError("reset_classifier switched train modules to eval")
    if not (model(x).shape == (x.shape[0], 3)):
        raise AssertionError('check failed: model(x).shape == (x.shape[0], 3)')
    if torch.cuda.is_available():
        model = model.float().cuda()
        model.reset_classifier(4)
        if not (all(p.is_cuda for p in model.get_classifier().parameters())):
            raise AssertionError("new head left the model's device")


def _working_pools(feats: Any) -> list[tuple[str, int]]:
    """(qualified name, feat_mult) of each registered pool that works on its own on ``feats``.

    A pool that fails by itself is left out here: its own checks (checks_pool) blame it, so a broken
    third-party pool never fails a model's checks. Qualified names keep two plugins' same-named
    pools apart.
    """
    import torch

    from ..factory import create_entry
    from ..registry import get_registry

    pools = []
    for entry in get_registry().entries("pool"):
        mult = int(getattr(entry.spec, "feat_mult", 1))
        if entry.name == "":
            pools.append(("", 1))  # no pooling: handled by the model's head itself, never ambiguous
            continue
        try:
            out = create_entry(entry, flatten=True)(feats)
            works = (isinstance(out, torch.Tensor) and tuple(out.shape) == (feats.shape[0], feats.shape[1] * mult)
                     and bool(torch.isfinite(out).all()))
        except Exception:
            works = False
        if works:
            pools.append((entry.qualified_name, mult))
    return pools


@check("model", requires=("classifier",))
def check_every_pool(component: ComponentRef) -> None:
    """Every registered (working) pool works as global_pool; pooled width scales with its feat_mult."""
    import torch

    model = _copy(component)
    x = _input(component, batch=1)
    widths: dict[str, tuple[int, int]] = {}
    with torch.no_grad():
        feats = model.forward_features(x)  # the head is what changes: run only the head per pool
        for name, mult in _working_pools(feats):
            model.reset_classifier(0, name)
            out = model.forward_head(feats)
            if name == "":
                if not (out.ndim == 4):
                    raise AssertionError(f"global_pool='' gave {tuple(out.shape)}, expected 4-D maps")
                continue
            if not (out.ndim == 2):
                raise AssertionError(f"pool {name!r} gave {tuple(out.shape)}, expected (B, C)")
            _finite(out, f"output with pool {name!r}")
            widths[name] = (out.shape[1], mult)
            model.reset_classifier(3, name)
            if not (model.forward_head(feats).shape == (1, 3)):
                raise AssertionError(f"classifier after pool {name!r} has the wrong width")
    base = [w for w, m in widths.values() if m == 1]
    if not base:
        skip("no pool with feat_mult 1 registered to compare against")
    for name, (width, mult) in widths.items():
        if not (width == base[0] * mult):
            raise AssertionError(f"pool {name!r}: width {width} != {base[0]} x feat_mult {mult}")


@check("model", requires=("grad_checkpointing",))
def check_grad_checkpointing(component: ComponentRef) -> None:
    """set_grad_checkpointing(True) leaves outputs and gradients unchanged."""
    model = _base(component)  # shared model: checkpointing switched off and gradients cleared below
    x = _input(component, batch=1)
    try:
        ref = model(x)
        model.set_grad_checkpointing(True)
        out = model(x)
        _close(out, ref, "output with grad checkpointing", rtol=1e-4, atol=1e-5)
        out.sum().backward()
        if not (all(p.grad is not None for p in model.parameters() if p.requires_grad)):
            raise AssertionError('check failed: all(p.grad is not None for p in model.parameters() if p.requires_grad)')
    finally:
        model.set_grad_checkpointing(False)
        model.zero_grad(set_to_none=True)


def _scratch_dir() -> str:
    shm = "/dev/shm"
    return shm if os.path.isdir(shm) and os.access(shm, os.W_OK) else tempfile.gettempdir()


@check("model")
def check_save_load_round_trip(component: ComponentRef) -> None:
    """save_pretrained then create_model('local-dir:DIR') gives the same model and outputs."""
    import torch

    from ..models.factory import create_model
    from ..models.save import save_pretrained

    model = _base(component)
    x = _input(component, batch=1)
    with tempfile.TemporaryDirectory(dir=_scratch_dir()) as tmp:
        save_pretrained(model, tmp)
        again = create_model(f"local-dir:{tmp}").eval()
    if not (type(again) is type(model)):
        raise AssertionError('check failed: type(again) is type(model)')
    if not (list(again.state_dict()) == list(model.state_dict())):
        raise AssertionError('check failed: list(again.state_dict()) == list(model.state_dict())')
    with torch.no_grad():
        _close(again(x), model(x), "output after save/load")


@check("model")
def check_pretrained_cfgs(component: ComponentRef) -> None:
    """Each pretrained cfg names the architecture, and its first_conv/classifier exist in the state_dict."""
    import torch

    spec = component.spec
    cfgs = dict(spec.pretrained_cfgs)  # type: ignore[attr-defined]
    if not cfgs:
        skip("no pretrained configs")
    if not (spec.default_tag in cfgs):
        raise AssertionError('check failed: spec.default_tag in cfgs')
    default = _cfg(component)
    model = _base(component)
    keys = set(model.state_dict())
    for tag, cfg in cfgs.items():
        if not (cfg.architecture in (None, spec.name)):
            raise AssertionError(f"cfg {tag!r} names architecture {cfg.architecture!r}")
        if not (cfg.num_classes >= 0 and len(cfg.mean) == len(cfg.std) == cfg.input_size[0]):
            raise AssertionError('check failed: cfg.num_classes >= 0 and len(cfg.mean) == len(cfg.std) == cfg.input_size[0]')
        for field in ("first_conv", "classifier"):
            names = getattr(cfg, field)
            for name in [names] if isinstance(names, str) else list(names or ()):
                if not (f"{name}.weight" in keys):
                    raise AssertionError(f"cfg {tag!r}: {field} {name!r} has no '{name}.weight' in the state_dict")
    if default.pool_size and not default.fixed_input_size and "large" not in spec.tags:
        with torch.no_grad():
            x = torch.randn(1, *default.input_size)
            feats = model.eval().forward_features(x) if hasattr(model, "forward_features") else None
        if feats is not None and feats.ndim == 4:
            if not (tuple(feats.shape[-2:]) == tuple(default.pool_size)):
                raise AssertionError(f"forward_features at {default.input_size} gives {tuple(feats.shape[-2:])}, cfg pool_size "
                f"{default.pool_size}")


@check("model", requires=("features",))
def check_features_only(component: ComponentRef) -> None:
    """features_only output matches feature_info: level count, channels, reductions and spatial sizes."""
    import torch

    from ..models.features import create_features

    model = _base(component)
    net = create_features(model)
    x = _input(component, size=64, batch=1)
    with torch.no_grad():
        outs = net(x)
    info = net.feature_info
    if not (len(outs) == len(info)):
        raise AssertionError(f"{len(outs)} outputs for {len(info)} feature levels")
    if not ([o.shape[1] for o in outs] == info.channels()):
        raise AssertionError(f"channels {[o.shape[1] for o in outs]} != feature_info {info.channels()}")
    for out, red in zip(outs, info.reduction()):
        for dim, size in zip(out.shape[-2:], x.shape[-2:]):
            if not (abs(dim - size / red) <= 1 or dim == math.ceil(size / red)):
                raise AssertionError(f"level with reduction {red}: spatial {tuple(out.shape[-2:])} for input {tuple(x.shape[-2:])}")
        _finite(out, "feature map")
    keys = set(net.state_dict())
    if not (keys <= set(model.state_dict())):
        raise AssertionError("features_only renamed state_dict keys")


@check("model", requires=("intermediates",))
def check_forward_intermediates(component: ComponentRef) -> None:
    """forward_intermediates: final output equals forward_features, one tap per feature level."""
    import torch

    model = _base(component)
    x = _input(component, batch=1)
    with torch.no_grad():
        final, taps = model.forward_intermediates(x)
        _close(final, model.forward_features(x), "forward_intermediates final output vs forward_features")
        only = model.forward_intermediates(x, indices=[-1], intermediates_only=True)
    info = model.feature_info
    info = info.get_dicts() if hasattr(info, "get_dicts") else list(info)
    if not ([t.shape[1] for t in taps] == [d["num_chs"] for d in info]):
        raise AssertionError('check failed: [t.shape[1] for t in taps] == [d["num_chs"] for d in info]')
    if not (len(only) == 1 and only[0].shape == taps[-1].shape):
        raise AssertionError('check failed: len(only) == 1 and only[0].shape == taps[-1].shape')


@check("model")
def check_in_chans_adaptation(component: ComponentRef) -> None:
    """Weights of a 3-channel model load into in_chans 1, 2 and 4 with the adapted first conv."""
    import torch

    from ..models.adapt import adapt_input_conv

    cfg = _cfg(component)
    first = cfg.first_conv if isinstance(cfg.first_conv, str) else (cfg.first_conv or (None,))[0]
    if not first:
        skip("pretrained cfg names no first_conv")
    fields = component.spec.options.model_fields
    if "in_chans" not in fields:
        skip("model has no in_chans option")
    source = _base(component)
    state = source.state_dict()
    key = f"{first}.weight"
    if not (key in state):
        raise AssertionError(f"first_conv {first!r} has no weight in the state_dict")
    base = {"num_classes": NUM_CLASSES} if "num_classes" in fields else {}
    for chans in (1, 2, 4):
        model = _variant(component, **base, in_chans=chans)
        _close(model.state_dict()[key], adapt_input_conv(chans, state[key]), f"{key} adapted to in_chans={chans}")
        with torch.no_grad():
            out = model(_input(component, chans=chans, batch=1))
        _finite(out, f"output with in_chans={chans}")


@check("model", requires=("classifier",))
def check_no_classifier_and_unpooled(component: ComponentRef) -> None:
    """num_classes=0 gives pooled (B, head_hidden_size) features; global_pool='' gives 4-D maps."""
    import torch

    model = _variant(component, num_classes=0, global_pool="")
    x = _input(component)
    with torch.no_grad():
        maps = model(x)
        if not (maps.ndim == 4 and maps.shape[0] == x.shape[0]):
            raise AssertionError(f"global_pool='' output {tuple(maps.shape)} is not 4-D")
        model.reset_classifier(0, "avg")
        pooled = model(x)
    if not (model.num_classes == 0):
        raise AssertionError('check failed: model.num_classes == 0')
    if not (pooled.shape == (x.shape[0], model.head_hidden_size)):
        raise AssertionError(f"num_classes=0 output {tuple(pooled.shape)} != (B, head_hidden_size={model.head_hidden_size})")
    if not (isinstance(model.get_classifier(), torch.nn.Identity) or sum(
        p.numel() for p in model.get_classifier().parameters()
    ) == 0):
        raise AssertionError("num_classes=0 should leave an identity classifier")
