"""The spec table and the names: data only, consistent with the installed torchvision, no clashes."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pimm.core import list_models, list_pretrained
from pimm.core.models.pretrained import get_pretrained_cfg, resolve_model_name
from pimm.core.registry import get_registry

from pimm_torchvision.generate import build_table
from pimm_torchvision.table import load_table, pimm_name

_STRUCTURE_KEYS = ("num_features", "feature_info")


def _describe_difference(stored: dict, fresh: dict) -> str:
    lines = []
    old, new = stored["architectures"], fresh["architectures"]
    for name in sorted(set(old) ^ set(new)):
        lines.append(f"  {name}: {'only in the stored table' if name in old else 'new in torchvision'}")
    for name in sorted(set(old) & set(new)):
        for key in sorted(set(old[name]) | set(new[name])):
            if old[name].get(key) != new[name].get(key):
                lines.append(f"  {name}.{key} differs")
    if stored["label_sets"] != fresh["label_sets"]:
        lines.append("  label_sets differ")
    return "\n".join(lines[:20])


def _without_structure(table: dict) -> dict:
    archs = {n: {k: v for k, v in a.items() if k not in _STRUCTURE_KEYS} for n, a in table["architectures"].items()}
    return {**table, "architectures": archs}


def _assert_same(stored: dict, fresh: dict) -> None:
    if stored != fresh:
        raise AssertionError(
            f"the spec table was generated from torchvision {stored['torchvision_version']} and does not match the "
            f"installed torchvision {fresh['torchvision_version']}:\n{_describe_difference(stored, fresh)}\n"
            "Regenerate it: python examples/pimm-torchvision/scripts/generate_table.py"
        )


def test_table_matches_installed_torchvision():
    """Weights, URLs, hash prefixes, preprocessing, labels and counts equal a fresh read of torchvision."""
    _assert_same(_without_structure(json.loads(json.dumps(load_table()))), build_table(structure=False))


@pytest.mark.large
def test_table_structure_matches_installed_torchvision():
    """Feature widths and levels equal a fresh measurement of every model (about 30-60 s)."""
    _assert_same(load_table(), build_table())


def test_table_difference_is_reported_clearly():
    stored = json.loads(json.dumps(load_table()))
    fresh = json.loads(json.dumps(stored))
    fresh["architectures"]["resnet18"]["weights"][0]["url"] = "https://example.invalid/other.pth"
    with pytest.raises(AssertionError, match=r"resnet18\.weights differs[\s\S]*generate_table\.py"):
        _assert_same(stored, fresh)


def test_every_torchvision_classification_model_is_registered():
    import torchvision.models as tvm

    expected = {pimm_name(n) for n in tvm.list_models(module=tvm)}
    assert expected == set(list_models("tv-*")), "regenerate the table after a torchvision upgrade"
    assert len(expected) >= 80


def test_names_cannot_clash_with_builtin_names_or_deprecated_aliases():
    registry = get_registry()
    others, ours = set(), set()
    for entry in registry.entries("model"):
        names = {entry.name, *entry.spec.aliases, *entry.spec.deprecated_names}
        (ours if entry.plugin.name == "torchvision" else others).update(names)
    assert len(ours) >= 80 and not ours & others, sorted(ours & others)[:5]
    assert not any("-" in name for name in others), "the tv- scheme relies on builtins never using '-'"
    with pytest.warns(FutureWarning):  # pimm's own legacy alias keeps meaning pimm's resnet50
        spec, arch, tag = resolve_model_name("tv_resnet50")
    assert (arch, tag) == ("resnet50", "tv_in1k")
    spec, arch, _ = resolve_model_name("torchvision::tv-resnet50")
    assert spec.name == "tv-resnet50"


def test_tags_are_torchvision_weight_names_and_default_is_torchvisions():
    import torchvision.models as tvm

    for tv_name in ("resnet50", "vit_h_14", "regnet_y_16gf", "efficientnet_b1", "vgg16"):
        enum = tvm.get_model_weights(tv_name)
        assert get_pretrained_cfg(pimm_name(tv_name)).tag == enum.DEFAULT.name.lower()
        assert set(list_pretrained(pimm_name(tv_name))) == {f"{pimm_name(tv_name)}.{w.name.lower()}" for w in enum}


def test_pretrained_cfg_carries_torchvision_metadata():
    import torchvision.models as tvm

    weights = tvm.ResNet50_Weights.IMAGENET1K_V2
    cfg = get_pretrained_cfg("tv-resnet50.imagenet1k_v2")
    assert cfg.url == weights.url and weights.url.rsplit("/", 1)[-1] == f"resnet50-{cfg.hash_prefix}.pth"
    assert cfg.label_names == tuple(weights.meta["categories"])
    assert cfg.input_size == (3, 224, 224) and cfg.interpolation == "bilinear"
    assert cfg.origin_url == weights.meta["recipe"] and cfg.classifier == "fc" and cfg.first_conv == "conv1"
    table = load_table()
    assert list(table["label_sets"]) == ["imagenet1k"], "label names are stored once, not per weight"
    assert table["architectures"]["resnet50"]["num_params"] == weights.meta["num_params"]
    swag = get_pretrained_cfg("tv-vit_h_14.imagenet1k_swag_e2e_v1")
    assert swag.input_size == (3, 518, 518) and swag.fixed_input_size and "SWAG" in swag.license


def test_largest_models_carry_the_large_tag():
    registry = get_registry()
    table = load_table()["architectures"]
    for entry in registry.entries("model"):
        if entry.plugin.name == "torchvision":
            big = table[entry.name[3:]]["num_params"] > 100_000_000
            assert ("large" in entry.spec.tags) == big, entry.name
    assert "large" in registry.lookup("model", "tv-vit_h_14").spec.tags


def test_listing_imports_neither_torch_nor_torchvision():
    code = (
        "import sys\n"
        "from pimm.core import list_models, list_pretrained\n"
        "names = list_models('tv-*'); tags = list_pretrained('tv-*')\n"
        "assert len(names) >= 80 and len(tags) > len(names), (len(names), len(tags))\n"
        "heavy = [m for m in ('torch', 'torchvision', 'PIL') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    pimm = Path(sys.executable).with_name("pimm")
    cli = subprocess.run([str(pimm), "list", "model", "tv-*"], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPROFILEIMPORTTIME": "1"})
    assert cli.returncode == 0, cli.stderr[-2000:]
    assert "tv-resnet50" in cli.stdout
    imported = {line.split("|")[-1].strip() for line in cli.stderr.splitlines() if "|" in line}
    assert "pimm_torchvision.table" in imported and not {"torch", "torchvision"} & imported


def test_crop_pct_reproduces_torchvisions_resize_size_exactly():
    import math

    from pimm_torchvision.table import crop_pct_for

    pairs = {(w["crop_size"], w["resize_size"]) for a in load_table()["architectures"].values() for w in a["weights"]}
    pairs |= {(48, 59), (85, 108), (95, 121), (100, 127)}  # crop / (crop / resize) lands just below resize
    for crop, resize in sorted(pairs):
        assert math.floor(crop / crop_pct_for(crop, resize)) == resize, (crop, resize)
