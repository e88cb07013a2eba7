"""``pimm export``: TorchScript, ONNX and ``torch.export`` files of any registered model or run checkpoint.

Every file is checked before it is written: the exported program runs on a sample batch (and on a
batch of another size, since the batch dimension is dynamic) and must match the eager model within
``atol``; the measured largest difference is reported. ONNX needs the ``onnx`` package (``pip install
onnx``); the check runs the graph with onnxruntime when installed, else with onnx's reference
evaluator. A format whose optional package is missing is skipped with the reason, and the other
formats are still written.

Every file carries the metadata a user of the file needs (:func:`export_metadata`: label names,
mean/std, input size, interpolation, crop, architecture): in TorchScript and ``torch.export`` files as
the extra file ``pimm_metadata.json``, in ONNX files as ``metadata_props`` (one key per field, values
JSON-encoded).
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ...errors import PimmError

__all__ = ["ExportError", "MissingExporter", "ExportReport", "export_model", "export_report", "export_metadata",
           "FORMATS", "METADATA_FILE"]

FORMATS = ("torchscript", "onnx", "torch.export")
_SUFFIX = {"torchscript": ".torchscript.pt", "onnx": ".onnx", "torch.export": ".pt2"}
METADATA_FILE = "pimm_metadata.json"


class ExportError(PimmError, RuntimeError):
    """A model could not be exported, or the export does not match the eager model."""


class MissingExporter(ExportError):
    """The optional package a format needs is not installed; the format is skipped."""


@dataclass
class ExportReport:
    """What one ``pimm export`` did: files written with their largest difference to eager, formats skipped or failed."""

    written: list[tuple[str, Path, float]] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)


def export_metadata(model: Any, dc: dict[str, Any]) -> dict[str, Any]:
    """The metadata written into every exported file."""
    from ..._version import __version__

    cfg = getattr(model, "pretrained_cfg", None) or {}
    labels = cfg.get("label_names")
    return {"architecture": cfg.get("architecture") or type(model).__name__,
            "num_classes": getattr(model, "num_classes", None),
            "label_names": list(labels) if labels else None,
            "input_size": list(dc["input_size"]), "interpolation": dc["interpolation"],
            "crop_pct": dc["crop_pct"], "crop_mode": dc.get("crop_mode"),
            "mean": list(dc["mean"]), "std": list(dc["std"]), "exported_by": f"pimm {__version__}"}


def _compare(name: str, fmt: str, run: Callable[[Any], Any], eager: Callable[[Any], Any], batches: list[Any],
             atol: float) -> float:
    import torch

    worst = 0.0
    for x in batches:
        expected = eager(x)
        got = torch.as_tensor(run(x))
        if got.shape != expected.shape:
            raise ExportError(f"{fmt} export of {name} gives shape {tuple(got.shape)} for a batch of {x.shape[0]}, "
                              f"the eager model {tuple(expected.shape)}; nothing written")
        diff = float((got.float() - expected.float()).abs().max()) if got.numel() else 0.0
        if not diff <= atol:
            raise ExportError(f"{fmt} export of {name} differs from the eager model by {diff:.3g} (> --atol {atol}); "
                              "nothing written")
        worst = max(worst, diff)
    return worst


def _torchscript(model: Any, sample: Any, path: Path, check: Callable[..., float], meta: str) -> float:
    import torch

    try:
        scripted = torch.jit.script(model)
    except Exception:  # noqa: BLE001 - models that do not script are traced (fixed control flow)
        try:
            scripted = torch.jit.trace(model, sample, check_trace=False)
        except Exception as exc:  # noqa: BLE001
            raise ExportError(f"TorchScript export failed: {type(exc).__name__}: {str(exc).splitlines()[0]}") from None
    diff = check(lambda x: scripted(x))
    torch.jit.save(scripted, str(path), _extra_files={METADATA_FILE: meta})
    return diff


def _onnx(model: Any, sample: Any, path: Path, check: Callable[..., float], opset: int | None, meta: str) -> float:
    try:
        import onnx
    except ImportError:
        raise MissingExporter("ONNX export needs the onnx package: pip install onnx") from None
    import torch

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / path.name
        kwargs: dict[str, Any] = {"input_names": ["input"], "output_names": ["logits"],
                                  "dynamic_axes": {"input": {0: "batch"}, "logits": {0: "batch"}}}
        if opset is not None:
            kwargs["opset_version"] = opset
        try:
            torch.onnx.export(model, (sample,), str(out), dynamo=False, **kwargs)
        except TypeError:  # torch without the dynamo switch
            torch.onnx.export(model, (sample,), str(out), **kwargs)
        except Exception as exc:  # noqa: BLE001
            raise ExportError(f"ONNX export failed: {type(exc).__name__}: {str(exc).splitlines()[0]}") from None
        diff = check(_onnx_runner(out))
        graph = onnx.load(str(out))
        for key, value in json.loads(meta).items():
            prop = graph.metadata_props.add()
            prop.key, prop.value = key, json.dumps(value)
        onnx.save(graph, str(path))
    return diff


def _onnx_runner(path: Path) -> Callable[[Any], Any]:
    try:
        import onnxruntime as ort

        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        return lambda x: session.run(None, {"input": x.numpy()})[0]
    except ImportError:
        from onnx.reference import ReferenceEvaluator

        evaluator = ReferenceEvaluator(str(path))
        return lambda x: evaluator.run(None, {"input": x.numpy()})[0]


def _torch_export(model: Any, sample: Any, path: Path, check: Callable[..., float], meta: str) -> float:
    import torch

    batch = torch.export.Dim("batch", min=1, max=4096)
    try:
        program = torch.export.export(model, (sample,), dynamic_shapes=({0: batch},))
    except Exception:  # noqa: BLE001 - some models specialise the batch: export it static and say so
        try:
            program = torch.export.export(model, (sample,))
        except Exception as exc:  # noqa: BLE001
            raise ExportError(f"torch.export failed: {type(exc).__name__}: {str(exc).splitlines()[0]}") from None
        diff = check(lambda x: program.module()(x), static=True)
    else:
        diff = check(lambda x: program.module()(x))
    torch.export.save(program, str(path), extra_files={METADATA_FILE: meta})
    return diff


def export_model(source: str, formats: list[str] | None = None, output: str | None = None,
                 model_name: str | None = None, pretrained: bool = False, batch_size: int = 2,
                 input_size: list[int] | None = None, num_classes: int | None = None, opset: int | None = None,
                 atol: float = 1e-4) -> list[Path]:
    """Export the model ``source`` names (run dir, model dir, weights file or name); return the written paths.

    Raises :class:`ExportError` when a format fails or none could be written (see :func:`export_report`
    for the variant that reports skipped and failed formats instead).
    """
    report = export_report(source, formats, output, model_name, pretrained, batch_size, input_size,
                           num_classes, opset, atol)
    problems = {**report.skipped, **report.failed}
    if problems and (report.failed or not report.written):
        raise ExportError("; ".join(problems.values()))
    return [path for _, path, _ in report.written]


def export_report(source: str, formats: list[str] | None = None, output: str | None = None,
                  model_name: str | None = None, pretrained: bool = False, batch_size: int = 2,
                  input_size: list[int] | None = None, num_classes: int | None = None, opset: int | None = None,
                  atol: float = 1e-4) -> ExportReport:
    """Export to every format asked for; one format's missing package or failure does not stop the others."""
    import torch

    from . import components as setup
    from .sources import load_model_source

    formats = list(dict.fromkeys(formats or ["torchscript"]))
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise ExportError(f"unknown export format(s) {unknown}; use {', '.join(FORMATS)}")
    src = load_model_source(source, model_name, pretrained or None, num_classes)
    model = src.model.eval()
    dc = setup.data_config_for(_SizeOverride(input_size), model)
    meta = json.dumps(export_metadata(model, dc))
    c, h, w = dc["input_size"]
    g = torch.Generator().manual_seed(0)
    sample = torch.randn(batch_size, c, h, w, generator=g)
    other = torch.randn(batch_size + 1, c, h, w, generator=g)
    out_dir = Path(output) if output else (src.run_dir / "exports" if src.run_dir else Path("exports"))
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = getattr(getattr(model, "pimm_origin", None), "name", None) or Path(src.location).name
    report = ExportReport()
    with torch.no_grad():
        for fmt in formats:
            path = out_dir / f"{stem}{_SUFFIX[fmt]}"

            def check(run: Callable[[Any], Any], static: bool = False, _fmt: str = fmt) -> float:
                return _compare(stem, _fmt, run, model, [sample] if static else [sample, other], atol)

            try:
                if fmt == "torchscript":
                    diff = _torchscript(model, sample, path, check, meta)
                elif fmt == "onnx":
                    diff = _onnx(model, sample, path, check, opset, meta)
                else:
                    diff = _torch_export(model, sample, path, check, meta)
            except MissingExporter as exc:
                report.skipped[fmt] = str(exc)
                continue
            except ExportError as exc:
                report.failed[fmt] = str(exc)
                continue
            report.written.append((fmt, path, diff))
    return report


class _SizeOverride:
    def __init__(self, input_size: list[int] | None) -> None:
        size = None
        if input_size:
            if len(input_size) not in (1, 3):
                raise ExportError(f"--input-size takes N or C H W, got {input_size}")
            size = input_size[0] if len(input_size) == 1 else tuple(input_size)
        self.input_size = size
        self.in_chans = None
        self.crop_pct = None
        self.interpolation = None
        self.mean = None
        self.std = None
