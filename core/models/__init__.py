"""pimm.core.models: the model contract and the machinery every model plugin gets for free.

Names are resolved lazily so that importing this package does not import torch.
"""

from __future__ import annotations

from .._lazy import lazy_exports

_LAZY: dict[str, str] = {
    # public name -> submodule defining it
    "ModelOptions": ".options",
    "PoolOptions": ".options",
    "FeatureInfo": ".feature_info",
    "ClassifierHead": ".head",
    "create_pool": ".head",
    "create_classifier": ".head",
    # factory, listing, weights, features, saving (model contract machinery)
    "create_model": ".factory",
    "load_pretrained": ".factory",
    "list_models": ".pretrained",
    "list_pretrained": ".pretrained",
    "is_model": ".pretrained",
    "get_pretrained_cfg": ".pretrained",
    "get_pretrained_cfg_value": ".pretrained",
    "list_modules": ".pretrained",
    "parse_model_name": ".pretrained",
    "split_model_name_tag": ".pretrained",
    "save_pretrained": ".save",
    "load_checkpoint": ".adapt",
    "adapt_input_conv": ".adapt",
    "unwrap_checkpoint": ".adapt",
    "CheckpointMismatchError": ".adapt",
    "resolve_weights": ".weights",
    "read_checkpoint": ".weights",
    "WeightsNotFoundError": ".weights",
    "UnsafeCheckpointError": ".weights",
    "ChecksumError": ".weights",
    "FeatureListNet": ".features",
    "FeatureDictNet": ".features",
    "create_features": ".features",
}


__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
