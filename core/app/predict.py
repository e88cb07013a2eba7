"""``pimm predict``: class predictions for image files with a model's own eval preprocessing.

The model comes from anything ``pimm validate`` accepts (a run directory, a model directory, a
weights file with ``--model``, a model name or ``hf-hub:``/``local-dir:``). Images are preprocessed
with the model's data config (input size, crop, interpolation, mean/std), run in batches, and the
top-k classes are named with the label names the checkpoint carries (``label_names`` in its
config, which ``pimm train`` writes), else by index.

Test-time augmentation averages the softmax over views: ``flip`` = the image and its mirror;
``crops`` = the four corner crops and the centre crop of the resized image, each with its mirror
(10 views).
"""

from __future__ import annotations

import csv
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError

__all__ = ["Prediction", "find_images", "predict", "check_output_path", "write_predictions", "IMAGE_SUFFIXES", "TTA_MODES"]

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".gif", ".tif", ".tiff", ".ppm")
TTA_MODES = ("none", "flip", "crops")


@dataclass
class Prediction:
    """The top-k classes of one image: ``labels[i]`` has index ``indices[i]`` and ``probs[i]`` (0-1)."""

    path: str
    indices: list[int] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    probs: list[float] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON form: the path and a ranked list of {index, label, probability}."""
        return {"path": self.path, "predictions": [
            {"index": i, "label": lab, "probability": p} for i, lab, p in zip(self.indices, self.labels, self.probs)]}


def find_images(inputs: list[str]) -> list[Path]:
    """The image files named by ``inputs``: files as given, folders searched recursively (sorted)."""
    if not inputs:
        raise ConfigError("pimm predict needs at least one image file or folder")
    found: list[Path] = []
    for item in inputs:
        path = Path(item).expanduser()
        if path.is_dir():
            inside = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
            if not inside:
                raise ConfigError(f"folder {str(path)!r} holds no image files ({', '.join(IMAGE_SUFFIXES)})")
            found.extend(inside)
        elif path.is_file():
            found.append(path)
        else:
            raise ConfigError(f"{item!r} is neither an image file nor a folder")
    return found


def _label_names(model: Any, num_classes: int) -> list[str]:
    names = list((getattr(model, "pretrained_cfg", None) or {}).get("label_names") or [])
    if len(names) != num_classes:
        return [str(i) for i in range(num_classes)]
    return [str(n) for n in names]


class _Views:
    """PIL image -> tensor of views (V, C, H, W) for one TTA mode."""

    def __init__(self, dc: dict[str, Any], tta: str) -> None:
        from ..data import create_transform

        self.tta = tta
        self.eval = create_transform(dc["input_size"], is_training=False, interpolation=dc["interpolation"],
                                     mean=dc["mean"], std=dc["std"], crop_pct=dc["crop_pct"],
                                     crop_mode=dc.get("crop_mode"))
        if tta == "crops":
            self._build_crops(dc)

    def _build_crops(self, dc: dict[str, Any]) -> None:
        import math

        from torchvision import transforms as T
        from torchvision.transforms import InterpolationMode

        h, w = dc["input_size"][1:]
        scale = (math.floor(h / dc["crop_pct"]), math.floor(w / dc["crop_pct"]))
        modes = {"bilinear": InterpolationMode.BILINEAR, "bicubic": InterpolationMode.BICUBIC,
                 "nearest": InterpolationMode.NEAREST}
        self.resize = T.Resize(scale, interpolation=modes.get(dc["interpolation"], InterpolationMode.BICUBIC))
        self.five = T.FiveCrop((h, w))
        self.to_tensor = T.Compose([T.ToTensor(), T.Normalize(dc["mean"], dc["std"])])

    def __call__(self, image: Any) -> Any:
        import torch

        if self.tta == "crops":
            views = [self.to_tensor(c) for c in self.five(self.resize(image))]
        else:
            views = [self.eval(image)]
        if self.tta in ("flip", "crops"):
            views += [v.flip(-1) for v in views]
        return torch.stack(views)


def _load_rgb(path: Path) -> Any:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            return img.convert("RGB")
    except (UnidentifiedImageError, OSError) as exc:
        raise ConfigError(f"cannot read image {str(path)!r}: {exc}") from None


def predict(model: Any, images: list[Path], top_k: int = 5, tta: str = "none", batch_size: int = 32,
            device: str = "cpu", skip_unreadable: bool = True, amp: str = "none",
            channels_last: bool | None = None, fold_bn: bool = False) -> list[Prediction]:
    """Top-``top_k`` predictions for each of ``images`` (``tta``: none, flip or crops).

    ``amp`` / ``channels_last`` as for ``pimm train``: 'auto' / None pick the fastest safe setting for
    the device and model (:mod:`pimm.core.app.train.fast_defaults`; ``pimm predict`` passes 'auto');
    this function's default is fp32 ('none'), whose probabilities equal the model's own. With ``fold_bn``
    (``pimm predict``'s default) a copy of the model with its batch norms folded into the convolutions that
    feed them does the work (:mod:`pimm.core.app.train.bn_folding`); ``model`` itself is not changed.

    Unreadable files are skipped with a notice on stderr when ``skip_unreadable`` (an error
    otherwise); when none is readable that is an error.
    """
    import torch

    from ..data import resolve_data_config

    if tta not in TTA_MODES:
        raise ConfigError(f"--tta must be one of {', '.join(TTA_MODES)}, got {tta!r}")
    if top_k < 1:
        raise ConfigError(f"--top-k must be at least 1, got {top_k}")
    if batch_size < 1:
        raise ConfigError(f"--batch-size must be at least 1, got {batch_size}")
    num_classes = getattr(model, "num_classes", None)
    if not num_classes:
        raise ConfigError("this model has no classifier (num_classes=0); predict needs one")
    dc = resolve_data_config({}, model=model)
    views = _Views(dc, tta)
    names = _label_names(model, num_classes)
    k = min(top_k, num_classes)
    model = model.to(device).eval()
    from .train.bn_folding import fold_for_eval
    from .train.fast_defaults import apply_plan, plan_speed, probe_plan
    from .train.loop import autocast_context

    run_on = torch.device(device)
    plan = plan_speed(run_on, model, amp, channels_last)
    if fold_bn:
        import copy

        model = copy.deepcopy(model)  # the caller's model keeps its batch norms
        fold_for_eval(model, plan, True, tuple(dc["input_size"]))
    plan = probe_plan(model, plan, run_on, tuple(dc["input_size"]), train=False)
    apply_plan(model, plan, run_on)
    for notice in plan.notices:
        print(f"pimm predict: {notice}", file=sys.stderr)
    memory_format = torch.channels_last if plan.channels_last else torch.contiguous_format
    results: list[Prediction] = []
    skipped: list[str] = []
    batch: list[tuple[Path, Any]] = []

    def flush() -> None:
        if not batch:
            return
        stacked = torch.stack([v for _, v in batch])  # (B, V, C, H, W)
        b, v = stacked.shape[:2]
        with torch.inference_mode(), autocast_context(run_on, plan.amp):
            logits = model(stacked.flatten(0, 1).to(device).contiguous(memory_format=memory_format)).float()
        probs = logits.softmax(-1).view(b, v, -1).mean(1)
        top = probs.topk(k, dim=-1)
        for (path, _), p, i in zip(batch, top.values.tolist(), top.indices.tolist()):
            results.append(Prediction(str(path), i, [names[j] for j in i], p))
        batch.clear()

    for path in images:
        try:
            batch.append((path, views(_load_rgb(path))))
        except ConfigError as exc:
            if not skip_unreadable:
                raise
            skipped.append(str(exc))
            continue
        if len(batch) == batch_size:
            flush()
    flush()
    for message in skipped:
        print(f"pimm predict: skipped: {message}", file=sys.stderr)
    if not results:
        raise ConfigError(f"none of the {len(images)} image(s) could be read")
    return results


def check_output_path(out: str | Path, overwrite: bool = False) -> Path:
    """``out`` as a path, after checking its suffix (.csv/.json) and that it replaces nothing unasked."""
    path = Path(out).expanduser()
    if path.suffix.lower() not in (".csv", ".json"):
        raise ConfigError(f"--out {str(path)!r}: the file name must end in .csv or .json")
    if path.exists() and not overwrite:
        raise ConfigError(f"{str(path)!r} exists; pass --overwrite to replace it, or choose another --out")
    return path


def write_predictions(predictions: list[Prediction], out: str | Path, overwrite: bool = False) -> Path:
    """Write ``predictions`` as CSV (one row per image and rank) or JSON, by the file's suffix."""
    path = check_output_path(out, overwrite)
    suffix = path.suffix.lower()
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".json":
        path.write_text(json.dumps([p.as_dict() for p in predictions], indent=2) + "\n")
        return path
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["path", "rank", "index", "label", "probability"])
        for p in predictions:
            for rank, (i, lab, prob) in enumerate(zip(p.indices, p.labels, p.probs), start=1):
                writer.writerow([p.path, rank, i, lab, f"{prob:.6f}"])
    return path
