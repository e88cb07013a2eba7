"""`pimm export`: the measured difference to eager is printed, files carry metadata (labels, mean/std,
input size), and a missing optional exporter (ONNX without onnx) skips that format, not the others."""

from __future__ import annotations

import json
import sys

import pytest
import torch

from pimm.core.app.cli import EXIT_ERROR, main
from pimm.core.app.train.export import METADATA_FILE, export_report

EXPECTED = {"label_names": ["blue", "green", "red"], "input_size": [3, 16, 16], "num_classes": 3,
            "mean": pytest.approx([0.485, 0.456, 0.406]), "std": pytest.approx([0.229, 0.224, 0.225]),
            "architecture": "resnet10t"}


def _check_meta(meta: dict) -> None:
    for key, value in EXPECTED.items():
        assert meta[key] == value, key


def test_every_format_carries_metadata_and_reports_its_difference(app_run, tmp_path, capsys):
    pytest.importorskip("onnx")
    code = main(["export", str(app_run), "-f", "torchscript", "-f", "torch.export", "-f", "onnx",
                 "-o", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0, out
    lines = [line for line in out.splitlines() if line.startswith("wrote")]
    assert len(lines) == 3 and all("max difference to the eager model" in line for line in lines)
    diffs = [float(line.rsplit(" ", 1)[1].rstrip(")")) for line in lines]
    assert all(0.0 <= d <= 1e-4 for d in diffs)
    extra = {METADATA_FILE: ""}
    torch.jit.load(str(next(tmp_path.glob("*.torchscript.pt"))), _extra_files=extra)
    _check_meta(json.loads(extra[METADATA_FILE]))
    extra = {METADATA_FILE: ""}
    torch.export.load(str(next(tmp_path.glob("*.pt2"))), extra_files=extra)
    _check_meta(json.loads(extra[METADATA_FILE]))
    import onnx

    props = {p.key: json.loads(p.value) for p in onnx.load(str(next(tmp_path.glob("*.onnx")))).metadata_props}
    _check_meta(props)


def test_missing_onnx_skips_onnx_only(app_run, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)  # as if onnx were not installed
    code = main(["export", str(app_run), "-f", "onnx", "-f", "torchscript", "-o", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0
    assert "skipped onnx: ONNX export needs the onnx package: pip install onnx" in out
    assert len(list(tmp_path.glob("*.torchscript.pt"))) == 1 and not list(tmp_path.glob("*.onnx"))
    report = export_report(str(app_run), formats=["onnx"], output=str(tmp_path / "o"))
    assert report.written == [] and "onnx" in report.skipped
    assert main(["export", str(app_run), "-f", "onnx", "-o", str(tmp_path / "o2")]) == EXIT_ERROR
    assert "nothing was exported" in capsys.readouterr().err


def test_a_failing_format_does_not_stop_the_others(app_run, tmp_path, capsys):
    code = main(["export", str(app_run), "-f", "torch.export", "-f", "torchscript", "--atol", "-1",
                 "-o", str(tmp_path)])
    captured = capsys.readouterr()
    assert code == EXIT_ERROR and "differs from the eager model" in captured.err
    assert not list(tmp_path.iterdir())  # with an impossible tolerance nothing passes the check
