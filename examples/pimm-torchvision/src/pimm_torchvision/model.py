"""``TorchvisionNet``: any torchvision classification model behind pimm's model contract.

The torchvision model is built with torchvision's own builder and its top-level children are
adopted under their own names, so the state_dict keys are exactly torchvision's and torchvision
checkpoints load unchanged (strict). What pimm adds on top:

* ``forward_features`` runs the body (everything before torchvision's pooling): unpooled NCHW maps
  for conv nets and Swin/MaxViT, tokens ``(B, 1 + N, C)`` for ViT;
* the head (``head.py`` for pooled families, fixed-grid MLPs for AlexNet/VGG, the 1x1-conv head of
  SqueezeNet, the class token of ViT), ``reset_classifier``, ``num_classes=0`` and ``global_pool``;
* feature levels through ``torchvision.models.feature_extraction`` (``features.py``);
* ``in_chans`` (a first conv of the requested width), ``drop_rate``, ``drop_path_rate`` (torchvision's
  ``stochastic_depth_prob``) and ``output_stride`` (ResNet dilation) as options.
"""

# No `from __future__ import annotations` here: torch.fx copies forward's annotations into the code it
# generates, and TorchScript must be able to resolve them (pimm's kit scripts an FX trace of every model).
from typing import Any

import torch
from torch import nn
from torch.utils.checkpoint import checkpoint

from pimm.core.errors import ConfigError
from pimm.core.models.head import create_pool, module_device_dtype, pool_feat_mult

from .families import Family, family_of
from .features import FeatureMixin
from .head import PARAMETER_FREE, resize_pre_logits, run_pre_logits, set_submodule

__all__ = ["TorchvisionNet"]

_DILATION = {32: [False, False, False], 16: [False, False, True], 8: [False, True, True]}
# ImageNet statistics that torchvision's GoogLeNet/Inception weights fold into their input transform.
_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)


def _builder_kwargs(tv_name: str, family: Family, num_classes: int, output_stride: int,
                    drop_path_rate: float | None, img_size: Any) -> dict[str, Any]:
    kwargs: dict[str, Any] = {**family.builder_args, "num_classes": max(num_classes, 1)}
    if output_stride != 32:
        if not family.dilation:
            raise ConfigError(f"{tv_name} has no dilated variant: leave output_stride at 32 (only torchvision's "
                              "ResNet/ResNeXt/Wide-ResNet builders support 16 and 8)")
        kwargs["replace_stride_with_dilation"] = _DILATION[output_stride]
    if drop_path_rate is not None:
        if family.drop_path_arg:
            kwargs[family.drop_path_arg] = drop_path_rate
        elif drop_path_rate > 0:
            raise ConfigError(f"{tv_name} has no stochastic depth in torchvision; drop_path_rate works for "
                              "convnext, efficientnet, maxvit and swin models")
    if img_size is not None and family.fixed_size_arg:
        size = (img_size, img_size) if isinstance(img_size, int) else tuple(img_size)
        if family.fixed_size_arg == "image_size":
            if size[0] != size[1]:
                raise ConfigError(f"{tv_name} needs a square img_size, got {size}")
            kwargs["image_size"] = size[0]
        else:
            kwargs[family.fixed_size_arg] = size
    return kwargs


def _build(tv_name: str, kwargs: dict[str, Any]) -> nn.Module:
    import torchvision.models as tvm

    try:
        return tvm.get_model(tv_name, weights=None, **kwargs)
    except (AssertionError, ValueError, TypeError, RuntimeError) as exc:
        shown = {k: v for k, v in kwargs.items() if k != "num_classes"}
        raise ConfigError(f"torchvision cannot build {tv_name} with {shown}: {exc}") from None


class TorchvisionNet(FeatureMixin, nn.Module):
    """A torchvision classification model with pimm's model contract (keys stay torchvision's)."""

    def __init__(self, tv_name: str, num_features: int, feature_info: list[dict[str, Any]] | None = None,
                 num_classes: int = 1000, in_chans: int = 3, global_pool: str = "avg",
                 drop_rate: float | None = None, drop_path_rate: float | None = None, output_stride: int = 32,
                 img_size: int | tuple[int, int] | None = None, features_only: bool = False,
                 out_indices: Any = None, feature_cls: str = "list", default_img_size: int | None = None) -> None:
        super().__init__()
        img_size = default_img_size if img_size is None else img_size
        if features_only:  # ViT's options carry these three so that the error below names the reason
            raise ConfigError(f"{tv_name} has no feature maps, so features_only=True is not available; use "
                              "forward_features(x) for its tokens")
        family = family_of(tv_name)
        self.tv_name = tv_name
        self.family = family.name
        self.head_type = family.head
        self.num_classes = num_classes
        self.in_chans = in_chans
        self.num_features = num_features
        self.grad_checkpointing = False
        self.pretrained_cfg: dict[str, Any] = {}
        self._check_head(global_pool, num_classes)
        tv = _build(tv_name, _builder_kwargs(tv_name, family, num_classes, output_stride, drop_path_rate, img_size))
        self._adopt(tv, family)
        self.transform_input = bool(getattr(tv, "transform_input", False)) and in_chans == 3
        if family.layout == "tokens":
            self.class_token = tv.class_token
            self.patch_size, self.image_size, self.hidden_dim = tv.patch_size, tv.image_size, tv.hidden_dim
        self._set_first_conv(family.first_conv, in_chans)
        self._classifier_path = family.classifier
        self._setup_head(tv, global_pool, drop_rate)
        self.feature_info = self._feature_info(feature_info, output_stride)

    # -- construction -------------------------------------------------------------------------
    def _adopt(self, tv: nn.Module, family: Family) -> None:
        """Take over torchvision's children (same names); drop parameter-free head parts."""
        body: list[str] = []
        for name, child in tv.named_children():
            if name in family.head_children:
                has_state = any(True for _ in child.parameters()) or any(True for _ in child.buffers())
                if has_state or (family.head == "grid" and name == "avgpool"):
                    self.add_module(name, child)
            else:
                self.add_module(name, child)
                body.append(name)
        self._body = tuple(body)

    def _set_first_conv(self, path: str, in_chans: int) -> None:
        conv = self.get_submodule(path)
        if in_chans == conv.in_channels:
            return
        fresh = nn.Conv2d(in_chans, conv.out_channels, conv.kernel_size, conv.stride, conv.padding, conv.dilation,
                          conv.groups, conv.bias is not None, conv.padding_mode)
        set_submodule(self, path, fresh)

    def _check_head(self, global_pool: str, num_classes: int) -> None:
        if self.head_type == "grid" and global_pool not in ("avg", ""):
            raise ConfigError(f"{self.tv_name} pools to a fixed grid before its MLP classifier, so global_pool "
                              f"can only be 'avg' (that grid) or '' (unpooled maps), not {global_pool!r}")
        if self.head_type == "grid" and global_pool == "" and num_classes:
            raise ConfigError(f"{self.tv_name}: global_pool='' returns unpooled maps, which its MLP classifier "
                              "cannot take; use num_classes=0 with global_pool=''")
        if self.head_type == "conv" and global_pool not in ("avg", ""):
            raise ConfigError(f"{self.tv_name} classifies with a 1x1 conv before pooling; global_pool can only be "
                              f"'avg' or '' (per-position outputs), not {global_pool!r}")
        if self.head_type == "tokens" and global_pool not in ("token", "avg", ""):
            raise ConfigError(f"{self.tv_name}: global_pool must be 'token' (class token), 'avg' (mean of patch "
                              f"tokens) or '' (all tokens), not {global_pool!r}")

    def _setup_head(self, tv: nn.Module, global_pool: str, drop_rate: float | None) -> None:
        container = self.get_submodule(self._classifier_path.rpartition(".")[0] or self._classifier_path)
        default_p = 0.0
        pre: list[str] = []
        if isinstance(container, nn.Sequential) and self.head_type != "grid":
            prefix = self._classifier_path.rpartition(".")[0]
            for index, layer in container.named_children():
                path = f"{prefix}.{index}"
                if path == self._classifier_path:
                    break
                if isinstance(layer, nn.Dropout):
                    default_p = layer.p
                if isinstance(layer, PARAMETER_FREE):
                    container[int(index)] = nn.Identity()
                else:
                    pre.append(path)
        for name in ("dropout",):
            if isinstance(getattr(tv, name, None), nn.Dropout):
                default_p = getattr(tv, name).p
        p = default_p if drop_rate is None else drop_rate
        if self.head_type == "grid":
            for layer in container:
                if isinstance(layer, nn.Dropout) and drop_rate is not None:
                    layer.p = drop_rate
        self._pre_paths = tuple(pre)
        self.head_drop = nn.Dropout(p)
        self._reset_head(self.num_classes, global_pool)

    def _reset_head(self, num_classes: int, global_pool: str) -> None:
        device, dtype = module_device_dtype(self)
        self.pool_type = global_pool
        width = self.num_features
        if self.head_type == "pooled":
            self.global_pool = create_pool(global_pool, flatten=True)
            width *= pool_feat_mult(global_pool)
            layers, width = resize_pre_logits([self.get_submodule(p) for p in self._pre_paths], width, device, dtype)
            for path, layer in zip(self._pre_paths, layers):
                set_submodule(self, path, layer)
        elif self.head_type == "grid":  # the MLP's last hidden layer feeds the classifier
            width = next(m.out_features for m in reversed(list(self.classifier)[:-1]) if isinstance(m, nn.Linear))
        self.head_hidden_size = width
        old = self.get_submodule(self._classifier_path)
        if num_classes == 0:
            fc: nn.Module = nn.Identity()
        elif self.head_type == "conv":
            fc = old if getattr(old, "out_channels", None) == num_classes else nn.Conv2d(
                width, num_classes, 1, device=device, dtype=dtype)
        elif isinstance(old, nn.Linear) and old.in_features == width and old.out_features == num_classes:
            fc = old
        else:
            fc = nn.Linear(width, num_classes, bias=self.family != "maxvit", device=device, dtype=dtype)
        set_submodule(self, self._classifier_path, fc)
        self.num_classes = num_classes

    # -- the contract --------------------------------------------------------------------------
    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Unpooled NCHW feature maps (conv nets, Swin, MaxViT) or tokens ``(B, 1 + N, C)`` (ViT)."""
        return run_body(self, x)

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        """Pool → pre-logit layers → dropout → classifier (``pre_logits=True`` stops before the classifier)."""
        fc = self.get_submodule(self._classifier_path)
        if self.head_type == "tokens":
            x = x[:, 0] if self.pool_type == "token" else x[:, 1:].mean(1) if self.pool_type == "avg" else x
            x = self.head_drop(x)
            return x if pre_logits else fc(x)
        if self.head_type == "grid":
            if self.pool_type == "":
                return x
            x = torch.flatten(self.avgpool(x), 1)
            for layer in list(self.classifier)[:-1]:
                x = layer(x)
            return x if pre_logits else fc(x)
        if self.head_type == "conv":
            if pre_logits or self.num_classes == 0:
                return x.mean((2, 3)) if self.pool_type == "avg" else x
            x = torch.relu(fc(self.head_drop(x)))
            return x.mean((2, 3)) if self.pool_type == "avg" else x
        x = self.global_pool(x)
        maps = self.pool_type == ""  # only the '' pool keeps maps (decided here, not on x: FX-traceable)
        if maps:
            x = x.permute(0, 2, 3, 1)
        x = run_pre_logits([self.get_submodule(p) for p in self._pre_paths], x)
        x = self.head_drop(x)
        if not pre_logits:
            x = fc(x)
        return x.permute(0, 3, 1, 2) if maps else x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))

    def get_classifier(self) -> nn.Module:
        """The final classification layer (torchvision's own module path)."""
        return self.get_submodule(self._classifier_path)

    def reset_classifier(self, num_classes: int, global_pool: str | None = None) -> None:
        """New classifier (and pool, unless None), keeping device, dtype and train/eval mode."""
        pool = self.pool_type if global_pool is None else global_pool
        self._check_head(pool, num_classes)
        self._reset_head(num_classes, pool)
        self.train(self.training)

    def checkpoint_filter_fn(self, state_dict: dict[str, Any]) -> dict[str, Any]:
        """torchvision checkpoints need no remap. ViT position embeddings are resampled to this model's
        grid; a wide pool that cannot take the pre-logit weights is a clear error."""
        own = self.state_dict()
        key = "encoder.pos_embedding"
        if key in state_dict and key in own and state_dict[key].shape != own[key].shape:
            state_dict = {**state_dict, key: resample_position_embedding(state_dict[key], own[key].shape[1] - 1)}
        for path in self._pre_paths:
            key = f"{path}.weight"
            if key in state_dict and key in own and tuple(state_dict[key].shape) != tuple(own[key].shape):
                raise ConfigError(
                    f"{self.tv_name}: global_pool {self.pool_type!r} gives {self.num_features * pool_feat_mult(self.pool_type)} "
                    f"pooled features, but the checkpoint's {path} takes {state_dict[key].shape[-1]}. Use a pool with "
                    "feat_mult 1 (e.g. 'avg' or 'max') with these weights, or pretrained=False."
                )
        return state_dict

    def set_grad_checkpointing(self, enable: bool = True) -> None:
        """Recompute each body child's activations in the backward pass instead of storing them."""
        self.grad_checkpointing = enable

    def no_weight_decay(self) -> set[str]:
        """Parameters exempt from weight decay beyond 1-D ones (ViT's class token and position embedding)."""
        return {"class_token", "encoder.pos_embedding"} if self.head_type == "tokens" else set()


def resample_position_embedding(embedding: torch.Tensor, patches: int) -> torch.Tensor:
    """A ViT position embedding ``(1, 1 + n*n, C)`` resampled (bicubic) to ``patches`` grid positions."""
    old = int(round((embedding.shape[1] - 1) ** 0.5))
    new = int(round(patches ** 0.5))
    if old * old != embedding.shape[1] - 1 or new * new != patches:
        raise ConfigError(f"cannot resample a position embedding of {embedding.shape[1] - 1} positions to {patches}: "
                          "both must be square grids")
    cls, grid = embedding[:, :1], embedding[:, 1:]
    grid = grid.reshape(1, old, old, -1).permute(0, 3, 1, 2).float()
    grid = torch.nn.functional.interpolate(grid, size=(new, new), mode="bicubic", align_corners=False)
    grid = grid.permute(0, 2, 3, 1).reshape(1, new * new, -1).to(embedding.dtype)
    return torch.cat([cls, grid], dim=1)


@torch.fx.wrap
def check_input_size(x: torch.Tensor, size: int) -> torch.Tensor:
    """``x`` unchanged when it is ``size`` x ``size``; a clear error otherwise (ViT's position embedding is fixed)."""
    if x.shape[-2] != size or x.shape[-1] != size:
        raise ConfigError(
            "this ViT was built for " + str(size) + "x" + str(size) + " inputs, got " + str(x.shape[-2]) + "x"
            + str(x.shape[-1]) + "; create it with img_size=... for another size"
        )
    return x


def renormalise_input(x: torch.Tensor) -> torch.Tensor:
    """GoogLeNet/Inception weights expect ImageNet-normalised inputs re-mapped to mean 0.5 / std 0.5 statistics."""
    channels = [x[:, i:i + 1] * (s / 0.5) + (m - 0.5) / 0.5 for i, (m, s) in enumerate(zip(_IMAGENET_MEAN, _IMAGENET_STD))]
    return torch.cat(channels, 1)


def _segments(blocks: list[nn.Module]) -> list[list[nn.Module]]:
    """Checkpoint segments: each block with parameters plus the parameter-free ones after it.

    A parameter-free block (ReLU(inplace=True), pooling) never starts a segment, so no segment
    modifies in place a tensor that an earlier checkpointed segment returned.
    """
    segments: list[list[nn.Module]] = []
    for block in blocks:
        if segments and not any(True for _ in block.parameters()):
            segments[-1].append(block)
        else:
            segments.append([block])
    return segments


def _run_all(segment: list[nn.Module], x: torch.Tensor) -> torch.Tensor:
    for block in segment:
        x = block(x)
    return x


def run_body(root: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Run the body children of ``root`` (a TorchvisionNet or its feature view) on ``x``."""
    family = root.family
    if root.transform_input:
        x = renormalise_input(x)
    if family == "vit":
        x = check_input_size(x, root.image_size)
        x = root.conv_proj(x).flatten(2).transpose(1, 2)
        x = torch.cat([root.class_token.expand(x.shape[0], -1, -1), x], dim=1)
        if getattr(root, "grad_checkpointing", False):
            x = x + root.encoder.pos_embedding
            for layer in (root.encoder.dropout, *root.encoder.layers, root.encoder.ln):
                x = checkpoint(layer, x, use_reentrant=False)
            return x
        return root.encoder(x)
    blocks: list[nn.Module] = []
    for name in root._body:
        child = getattr(root, name)
        blocks.extend(child if isinstance(child, nn.ModuleList) else (child,))
    if getattr(root, "grad_checkpointing", False):
        for segment in _segments(blocks):
            x = checkpoint(_run_all, segment, x, use_reentrant=False)
    else:
        for block in blocks:
            x = block(x)
    if family == "densenet":
        x = torch.relu(x)
    elif family == "swin":
        x = x.permute(0, 3, 1, 2)
    return x
