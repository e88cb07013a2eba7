"""Architecture arguments of every registered ResNet name, as plain data (no torch).

Each entry is the set of knobs of the one generic builder (:class:`pimm.plugins.resnet.model.ResNet`)
that define the architecture; users cannot override them (they choose the options instead).
"""

from __future__ import annotations

from typing import Any

__all__ = ["ARCHS", "DEPTHS", "DEPRECATED", "LARGE"]

#: Blocks per stage for the usual depths.
DEPTHS: dict[str, list[int]] = {
    "10": [1, 1, 1, 1],
    "18": [2, 2, 2, 2],
    "26": [2, 2, 2, 2],
    "34": [3, 4, 6, 3],
    "50": [3, 4, 6, 3],
    "101": [3, 4, 23, 3],
    "152": [3, 8, 36, 3],
    "200": [3, 24, 36, 3],
    "269": [3, 30, 48, 8],
}

# Stem variants (timm's letter suffixes): c = deep 32, d = deep 32 + avg-down, s = deep 64,
# t = tiered deep 32 + avg-down.
_C = {"stem_width": 32, "stem_type": "deep"}
_D = {"stem_width": 32, "stem_type": "deep", "avg_down": True}
_S = {"stem_width": 64, "stem_type": "deep"}
_T = {"stem_width": 32, "stem_type": "deep_tiered", "avg_down": True}
_SE = {"attn": "se"}
_ECA = {"attn": "eca"}
_RS = {"stem_width": 32, "stem_type": "deep", "replace_stem_pool": True, "avg_down": True,
       "attn": "se", "attn_rd_ratio": 0.25}


def _basic(layers: list[int], **knobs: Any) -> dict[str, Any]:
    return {"block": "basic", "layers": layers, **knobs}


def _bottle(layers: list[int], **knobs: Any) -> dict[str, Any]:
    return {"block": "bottleneck", "layers": layers, **knobs}


def _x(cardinality: int, base_width: int) -> dict[str, Any]:
    return {"cardinality": cardinality, "base_width": base_width}


_L = DEPTHS

# Per-block [conv1, conv2, conv3] widths of the two channel-pruned ECA models (Knapsack pruning).
_PRUNED_50D = [
    [[47, 18, 19], [52, 22, 19], [64, 35, 19]],
    [[85, 37, 171], [107, 80, 171], [120, 85, 171], [125, 87, 171]],
    [[198, 126, 818], [255, 232, 818], [256, 233, 818], [253, 235, 818], [256, 225, 818], [256, 239, 818]],
    [[492, 237, 2022], [512, 500, 2022], [512, 490, 2022]],
]
_PRUNED_101D = [
    [[45, 25, 26], [53, 20, 26], [60, 27, 26]],
    [[81, 24, 142], [93, 49, 142], [102, 54, 142], [122, 78, 142]],
    [[101, 25, 278], [239, 160, 278], [234, 156, 278], [250, 176, 278], [253, 191, 278], [251, 175, 278],
     [230, 128, 278], [244, 154, 278], [244, 159, 278], [238, 97, 278], [244, 149, 278], [253, 181, 278],
     [245, 119, 278], [255, 216, 278], [256, 201, 278], [253, 149, 278], [254, 141, 278], [256, 190, 278],
     [256, 217, 278], [255, 156, 278], [256, 155, 278], [256, 232, 278], [256, 214, 278]],
    [[499, 289, 2042], [512, 512, 2042], [512, 502, 2042]],
]

ARCHS: dict[str, dict[str, Any]] = {
    # plain ResNets and the stem / downsample variants
    "resnet10t": _basic(_L["10"], **_T),
    "resnet14t": _bottle(_L["10"], **_T),
    "resnet18": _basic(_L["18"]),
    "resnet18d": _basic(_L["18"], **_D),
    "resnet26": _bottle(_L["26"]),
    "resnet26d": _bottle(_L["26"], **_D),
    "resnet26t": _bottle(_L["26"], **_T),
    "resnet34": _basic(_L["34"]),
    "resnet34d": _basic(_L["34"], **_D),
    "resnet50": _bottle(_L["50"]),
    "resnet50_gn": _bottle(_L["50"], norm="groupnorm"),
    "resnet50c": _bottle(_L["50"], **_C),
    "resnet50d": _bottle(_L["50"], **_D),
    "resnet50s": _bottle(_L["50"], **_S),
    "resnet50t": _bottle(_L["50"], **_T),
    "resnet101": _bottle(_L["101"]),
    "resnet101c": _bottle(_L["101"], **_C),
    "resnet101d": _bottle(_L["101"], **_D),
    "resnet101s": _bottle(_L["101"], **_S),
    "resnet152": _bottle(_L["152"]),
    "resnet152c": _bottle(_L["152"], **_C),
    "resnet152d": _bottle(_L["152"], **_D),
    "resnet152s": _bottle(_L["152"], **_S),
    "resnet200": _bottle(_L["200"]),
    "resnet200d": _bottle(_L["200"], **_D),
    # anti-aliased: avg-pool ('aa') and binomial blur-pool ('blur')
    "resnetaa34d": _basic(_L["34"], aa="avg", **_D),
    "resnetaa50": _bottle(_L["50"], aa="avg"),
    "resnetaa50d": _bottle(_L["50"], aa="avg", **_D),
    "resnetaa101d": _bottle(_L["101"], aa="avg", **_D),
    "resnetblur18": _basic(_L["18"], aa="blur"),
    "resnetblur50": _bottle(_L["50"], aa="blur"),
    "resnetblur50d": _bottle(_L["50"], aa="blur", **_D),
    "resnetblur101d": _bottle(_L["101"], aa="blur", **_D),
    # ResNet-RS
    "resnetrs50": _bottle(_L["50"], **_RS),
    "resnetrs101": _bottle(_L["101"], **_RS),
    "resnetrs152": _bottle(_L["152"], **_RS),
    "resnetrs200": _bottle(_L["200"], **_RS),
    "resnetrs270": _bottle([4, 29, 53, 4], **_RS),
    "resnetrs350": _bottle([4, 36, 72, 4], **_RS),
    "resnetrs420": _bottle([4, 44, 87, 4], **_RS),
    # ResNeXt and wide ResNets
    "resnext50_32x4d": _bottle(_L["50"], **_x(32, 4)),
    "resnext50d_32x4d": _bottle(_L["50"], **_x(32, 4), **_D),
    "resnext101_32x4d": _bottle(_L["101"], **_x(32, 4)),
    "resnext101_32x8d": _bottle(_L["101"], **_x(32, 8)),
    "resnext101_32x16d": _bottle(_L["101"], **_x(32, 16)),
    "resnext101_32x32d": _bottle(_L["101"], **_x(32, 32)),
    "resnext101_64x4d": _bottle(_L["101"], **_x(64, 4)),
    "wide_resnet50_2": _bottle(_L["50"], base_width=128),
    "wide_resnet101_2": _bottle(_L["101"], base_width=128),
    # squeeze-and-excitation
    "seresnet18": _basic(_L["18"], **_SE),
    "seresnet34": _basic(_L["34"], **_SE),
    "seresnet50": _bottle(_L["50"], **_SE),
    "seresnet50t": _bottle(_L["50"], **_T, **_SE),
    "seresnet101": _bottle(_L["101"], **_SE),
    "seresnet152": _bottle(_L["152"], **_SE),
    "seresnet152d": _bottle(_L["152"], **_D, **_SE),
    "seresnet200d": _bottle(_L["200"], **_D, **_SE),
    "seresnet269d": _bottle(_L["269"], **_D, **_SE),
    "seresnetaa50d": _bottle(_L["50"], aa="avg", **_D, **_SE),
    "seresnext26d_32x4d": _bottle(_L["26"], **_x(32, 4), **_D, **_SE),
    "seresnext26t_32x4d": _bottle(_L["26"], **_x(32, 4), **_T, **_SE),
    "seresnext50_32x4d": _bottle(_L["50"], **_x(32, 4), **_SE),
    "seresnext101_32x4d": _bottle(_L["101"], **_x(32, 4), **_SE),
    "seresnext101_32x8d": _bottle(_L["101"], **_x(32, 8), **_SE),
    "seresnext101_64x4d": _bottle(_L["101"], **_x(64, 4), **_SE),
    "seresnext101d_32x8d": _bottle(_L["101"], **_x(32, 8), **_D, **_SE),
    "seresnextaa101d_32x8d": _bottle(_L["101"], **_x(32, 8), aa="avg", **_D, **_SE),
    "seresnextaa201d_32x8d": _bottle(
        [3, 24, 36, 4], **_x(32, 8), aa="avg", stem_width=64, stem_type="deep", avg_down=True, **_SE
    ),
    "senet154": _bottle(
        _L["152"], **_x(64, 4), stem_type="deep", down_kernel_size=3, block_reduce_first=2, **_SE
    ),
    # efficient channel attention
    "ecaresnet26t": _bottle(_L["26"], **_T, **_ECA),
    "ecaresnet50d": _bottle(_L["50"], **_D, **_ECA),
    "ecaresnet50d_pruned": _bottle(_L["50"], **_D, **_ECA, pruned_widths=_PRUNED_50D),
    "ecaresnet50t": _bottle(_L["50"], **_T, **_ECA),
    "ecaresnet101d": _bottle(_L["101"], **_D, **_ECA),
    "ecaresnet101d_pruned": _bottle(_L["101"], **_D, **_ECA, pruned_widths=_PRUNED_101D),
    "ecaresnet200d": _bottle(_L["200"], **_D, **_ECA),
    "ecaresnet269d": _bottle(_L["269"], **_D, **_ECA),
    "ecaresnetlight": _bottle([1, 1, 11, 3], avg_down=True, **_ECA),
    "ecaresnext26t_32x4d": _bottle(_L["26"], **_x(32, 4), **_T, **_ECA),
    "ecaresnext50t_32x4d": _bottle(_L["50"], **_x(32, 4), **_T, **_ECA),
    # tiny mixed-block model for tests
    "test_resnet": {
        "block": ["basic", "basic", "bottleneck", "basic"],
        "layers": [1, 1, 1, 1],
        "stem_width": 16,
        "stem_type": "deep",
        "avg_down": True,
        "channels": [32, 48, 48, 96],
    },
}

#: Old timm names and the 'arch.tag' (or arch) they now mean; they resolve with a warning.
DEPRECATED: dict[str, str] = {
    "tv_resnet34": "resnet34.tv_in1k",
    "tv_resnet50": "resnet50.tv_in1k",
    "tv_resnet101": "resnet101.tv_in1k",
    "tv_resnet152": "resnet152.tv_in1k",
    "tv_resnext50_32x4d": "resnext50_32x4d.tv_in1k",
    "ig_resnext101_32x8d": "resnext101_32x8d.fb_wsl_ig1b_ft_in1k",
    "ig_resnext101_32x16d": "resnext101_32x8d.fb_wsl_ig1b_ft_in1k",
    "ig_resnext101_32x32d": "resnext101_32x8d.fb_wsl_ig1b_ft_in1k",
    "ig_resnext101_32x48d": "resnext101_32x8d.fb_wsl_ig1b_ft_in1k",
    "ssl_resnet18": "resnet18.fb_ssl_yfcc100m_ft_in1k",
    "ssl_resnet50": "resnet50.fb_ssl_yfcc100m_ft_in1k",
    "ssl_resnext50_32x4d": "resnext50_32x4d.fb_ssl_yfcc100m_ft_in1k",
    "ssl_resnext101_32x4d": "resnext101_32x4d.fb_ssl_yfcc100m_ft_in1k",
    "ssl_resnext101_32x8d": "resnext101_32x8d.fb_ssl_yfcc100m_ft_in1k",
    "ssl_resnext101_32x16d": "resnext101_32x16d.fb_ssl_yfcc100m_ft_in1k",
    "swsl_resnet18": "resnet18.fb_swsl_ig1b_ft_in1k",
    "swsl_resnet50": "resnet50.fb_swsl_ig1b_ft_in1k",
    "swsl_resnext50_32x4d": "resnext50_32x4d.fb_swsl_ig1b_ft_in1k",
    "swsl_resnext101_32x4d": "resnext101_32x4d.fb_swsl_ig1b_ft_in1k",
    "swsl_resnext101_32x8d": "resnext101_32x8d.fb_swsl_ig1b_ft_in1k",
    "swsl_resnext101_32x16d": "resnext101_32x16d.fb_swsl_ig1b_ft_in1k",
    "gluon_resnet18_v1b": "resnet18.gluon_in1k",
    "gluon_resnet34_v1b": "resnet34.gluon_in1k",
    "gluon_resnet50_v1b": "resnet50.gluon_in1k",
    "gluon_resnet101_v1b": "resnet101.gluon_in1k",
    "gluon_resnet152_v1b": "resnet152.gluon_in1k",
    "gluon_resnet50_v1c": "resnet50c.gluon_in1k",
    "gluon_resnet101_v1c": "resnet101c.gluon_in1k",
    "gluon_resnet152_v1c": "resnet152c.gluon_in1k",
    "gluon_resnet50_v1d": "resnet50d.gluon_in1k",
    "gluon_resnet101_v1d": "resnet101d.gluon_in1k",
    "gluon_resnet152_v1d": "resnet152d.gluon_in1k",
    "gluon_resnet50_v1s": "resnet50s.gluon_in1k",
    "gluon_resnet101_v1s": "resnet101s.gluon_in1k",
    "gluon_resnet152_v1s": "resnet152s.gluon_in1k",
    "gluon_resnext50_32x4d": "resnext50_32x4d.gluon_in1k",
    "gluon_resnext101_32x4d": "resnext101_32x4d.gluon_in1k",
    "gluon_resnext101_64x4d": "resnext101_64x4d.gluon_in1k",
    "gluon_seresnext50_32x4d": "seresnext50_32x4d.gluon_in1k",
    "gluon_seresnext101_32x4d": "seresnext101_32x4d.gluon_in1k",
    "gluon_seresnext101_64x4d": "seresnext101_64x4d.gluon_in1k",
    "gluon_senet154": "senet154.gluon_in1k",
    "seresnext26tn_32x4d": "seresnext26t_32x4d",
}

#: Architectures over 100M parameters (the conformance matrix runs them behind the 'large' marker).
LARGE: frozenset[str] = frozenset({
    "ecaresnet269d", "resnetrs270", "resnetrs350", "resnetrs420", "resnext101_32x16d", "resnext101_32x32d",
    "senet154", "seresnet269d", "seresnextaa201d_32x8d", "wide_resnet101_2",
})
