"""2-process DDP on CPU (gloo), exact distributed validation, ``pimm validate`` and ``pimm export``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from train_helpers import tiny_options

from pimm.core.app.cli import main
from pimm.core.app.train.config import make_config
from pimm.core.app.train.distributed import EvalShardSampler
from pimm.core.app.train.export import ExportError, export_model
from pimm.core.app.train.launch import run_training
from pimm.core.app.train.validate import ValidateConfig, run_validation


@pytest.fixture(scope="module")
def trained_run(tiny_folder: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished 1-epoch run directory (shared by the validate/export tests)."""
    out = tmp_path_factory.mktemp("runs")
    run_training(make_config(tiny_options(tiny_folder, out, epochs=1)))
    return out / "run"


def test_eval_shards_cover_every_sample_once() -> None:
    for size in (0, 1, 7, 10):
        shards = [list(EvalShardSampler(size, r, 3)) for r in range(3)]
        assert sorted(i for s in shards for i in s) == list(range(size))


def test_two_process_ddp_train_and_validate(tiny_folder: Path, tmp_path: Path) -> None:
    result = run_training(make_config(tiny_options(tiny_folder, tmp_path, epochs=1, nproc=2, batch_size=4)))
    rows = result.history
    assert len(rows) == 1 and rows[0]["val_top1"] is not None
    run = tmp_path / "run"
    assert (run / "best" / "model.safetensors").is_file()
    single = run_validation(ValidateConfig(source=str(run), data=str(tiny_folder), threads=1, workers=0))
    double = run_validation(ValidateConfig(source=str(run), data=str(tiny_folder), threads=1, workers=0, nproc=2))
    assert single["count"] == double["count"] == 15  # 15 val images: no padding duplicates across 2 ranks
    assert single["top1"] == pytest.approx(double["top1"]) and single["loss"] == pytest.approx(double["loss"])


def test_validate_run_dir_per_class(trained_run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["validate", str(trained_run), "--per-class", "--workers", "0"])
    out = capsys.readouterr().out
    assert code == 0 and "top-1" in out
    for name in ("blue", "green", "red"):
        assert any(line.strip().startswith(name) and line.rstrip().endswith("/5)") for line in out.splitlines()), out


def test_validate_class_count_mismatch_is_one_line(trained_run: Path, tiny_folder: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(trained_run), "--num-classes", "7"]) == 2
    err = capsys.readouterr().err.strip()
    assert "has 3 classes but --num-classes is 7" in err and "\n" not in err
    weights = trained_run / "best" / "model.safetensors"
    assert main(["validate", str(weights), "--model", "resnet10t", "--num-classes", "5",
                 "--data", str(tiny_folder)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("pimm: error:") and "\n" not in err


def test_validate_weights_file_with_model_name(trained_run: Path, tiny_folder: Path) -> None:
    weights = trained_run / "best" / "model.safetensors"
    result = run_validation(ValidateConfig(source=str(weights), model="resnet10t", num_classes=3,
                                           data=str(tiny_folder), input_size=16, workers=0))
    assert result["count"] == 15 and result["input_size"] == [3, 16, 16]


def test_export_torchscript_and_torch_export(trained_run: Path, tmp_path: Path) -> None:
    paths = export_model(str(trained_run), formats=["torchscript", "torch.export"], output=str(tmp_path))
    assert [p.name for p in paths] == ["resnet10t.torchscript.pt", "resnet10t.pt2"]
    scripted = torch.jit.load(str(paths[0]))
    program = torch.export.load(str(paths[1]))
    x = torch.randn(3, 3, 16, 16)
    from pimm.core.models import create_model

    eager = create_model(f"local-dir:{trained_run / 'best'}").eval()
    with torch.no_grad():
        assert torch.allclose(scripted(x), eager(x), atol=1e-4)
        assert torch.allclose(program.module()(x), eager(x), atol=1e-4)


def test_export_registered_model_by_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["export", "resnet10t", "--num-classes", "4", "--input-size", "32", "-o", str(tmp_path)])
    assert code == 0 and (tmp_path / "resnet10t.torchscript.pt").is_file()
    assert "wrote" in capsys.readouterr().out


def test_onnx_export_or_clear_error(trained_run: Path, tmp_path: Path) -> None:
    try:
        import onnx  # noqa: F401
    except ImportError:
        with pytest.raises(ExportError, match="pip install onnx"):
            export_model(str(trained_run), formats=["onnx"], output=str(tmp_path))
        return
    (path,) = export_model(str(trained_run), formats=["onnx"], output=str(tmp_path))
    import onnx

    graph = onnx.load(str(path)).graph
    assert graph.input[0].type.tensor_type.shape.dim[0].dim_param  # dynamic batch dimension
