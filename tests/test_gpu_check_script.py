"""benchmarks/gpu_check.py, the prepared GPU script: its CPU dry run runs every part, and a failing part is
recorded without stopping the others."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCH))

import gpu_check  # noqa: E402


@pytest.mark.large  # ~60-90 s on 2 cores (two short pimm train runs); run before taking the script to a GPU
def test_cpu_dry_run_runs_every_part(tmp_path: Path) -> None:
    out = tmp_path / "gpu_check.json"
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, str(BENCH / "gpu_check.py"), "--device", "cpu", "--quick", "--out", str(out),
                           "--work", str(tmp_path / "work")], capture_output=True, text=True, timeout=240)
    elapsed = time.perf_counter() - start
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    data = json.loads(out.read_text())
    assert data["dry_run"] is True and data.get("finished")
    assert set(data["parts"]) == set(gpu_check.PARTS)
    failed = {name: part for name, part in data["parts"].items() if part["status"] != "PASS"}
    assert not failed, json.dumps(failed, indent=1)[:3000]
    checks = [c for part in data["parts"].values() for c in part.get("checks", [])]
    assert len(checks) >= 30 and all(c["ok"] for c in checks)
    figures = data["parts"]["figure_randaugment"]["figures"]
    assert figures["ratio"]["value"] > 0 and "cpu dry run" in figures["tensor_ms_per_image"]["how"]
    assert "cpu dry run" in proc.stdout and "== summary" in proc.stdout
    assert any(t["name"].startswith("RandAugment") for t in data["targets"])
    assert elapsed < 120, f"the dry run took {elapsed:.0f}s"


def _boom(ctx: gpu_check.Ctx) -> None:
    ctx.report.check("a check before the failure", True, "kept in the JSON")
    raise ZeroDivisionError("planted failure")


def _slow(ctx: gpu_check.Ctx) -> None:
    time.sleep(30)


def test_failing_and_slow_parts_are_recorded_and_the_others_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(gpu_check.PARTS, "randaugment_device", _boom)
    monkeypatch.setitem(gpu_check.PARTS, "optimizers_paths", _slow)
    monkeypatch.setitem(gpu_check.PARTS_CAPS, "optimizers_paths", 1)
    out = tmp_path / "r.json"
    start = time.perf_counter()
    rc = gpu_check.main(["--device", "cpu", "--quick", "--out", str(out), "--work", str(tmp_path / "w"),
                         "--parts", "randaugment_device,optimizers_paths,mixup_erasing_device"])
    assert rc == 0 and time.perf_counter() - start < 25  # the slow part was cut at its 1 s cap
    parts = json.loads(out.read_text())["parts"]
    assert list(parts) == ["randaugment_device", "optimizers_paths", "mixup_erasing_device"]
    boom = parts["randaugment_device"]
    assert boom["status"] == "FAIL" and "ZeroDivisionError: planted failure" in boom["error"]
    assert boom["checks"] == [{"name": "a check before the failure", "ok": True, "detail": "kept in the JSON"}]
    assert parts["optimizers_paths"]["status"] == "FAIL" and "PartTimeout" in parts["optimizers_paths"]["error"]
    assert parts["mixup_erasing_device"]["status"] == "PASS" and parts["mixup_erasing_device"]["checks"]
    printed = capsys.readouterr().out
    assert "FAIL randaugment_device: ZeroDivisionError" in printed and "PASS    mixup_erasing_device" in printed


def test_a_failed_check_fails_its_part(tmp_path: Path) -> None:
    report = gpu_check.Report(tmp_path / "r.json", dry=True)
    report.run_part("p", lambda: (report.check("good", True, ""), report.check("bad", False, "1 != 2")), 10)
    assert report.data["parts"]["p"]["status"] == "FAIL"
    assert json.loads((tmp_path / "r.json").read_text())["parts"]["p"]["checks"][1]["ok"] is False


def test_budget_skips_what_is_left(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    assert gpu_check.main(["--device", "cpu", "--quick", "--out", str(out), "--budget", "0",
                           "--parts", "environment"]) == 0
    assert json.loads(out.read_text())["parts"]["environment"]["status"] == "SKIP"


def test_unknown_part_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        gpu_check.main(["--device", "cpu", "--out", str(tmp_path / "r.json"), "--parts", "warp_drive"])
    assert exc.value.code == 2 and "unknown part(s) warp_drive" in capsys.readouterr().err


def test_without_cuda_it_says_so_and_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present")
    assert gpu_check.main(["--out", str(tmp_path / "r.json")]) == 0
    assert capsys.readouterr().out.strip() == (
        "no CUDA device: nothing to measure; run with --device cpu --quick for a dry run")
    assert not (tmp_path / "r.json").exists()


def test_cuda_only_lines_name_what_torch_cuda_has() -> None:
    """The CUDA branches cannot run here: every ``torch.cuda.X`` / ``torch.backends.X`` they name must exist."""
    import re

    import torch

    sources = "".join((BENCH / f).read_text() for f in ("gpu_check.py", "gpu_check_sides.py", "gpu_check_report.py"))
    named = set(re.findall(r"torch\.cuda\.(\w+)", sources))
    assert {"Event", "synchronize", "max_memory_allocated", "get_device_capability"} <= named
    assert not [n for n in named if not hasattr(torch.cuda, n)]
    for path in re.findall(r"torch\.backends\.([\w.]+)", sources):
        obj = torch.backends
        for part in path.split("."):
            obj = getattr(obj, part)  # raises on a misspelt switch


def test_cuda_timing_and_memory_branch(monkeypatch: pytest.MonkeyPatch) -> None:
    """time_steps' CUDA branch, with torch.cuda's events and allocator counters stood in for on the CPU."""
    import torch

    import gpu_check_sides as sides
    from common import fixed_params

    class Event:
        def __init__(self, enable_timing: bool = False) -> None:
            assert enable_timing
            self.at = 0.0

        def record(self) -> None:
            self.at = time.perf_counter()

        def synchronize(self) -> None:
            pass

        def elapsed_time(self, end: "Event") -> float:
            return (end.at - self.at) * 1000.0

    monkeypatch.setattr(torch.cuda, "Event", Event)
    for name in ("synchronize", "reset_peak_memory_stats"):
        monkeypatch.setattr(torch.cuda, name, lambda *a: None)
    monkeypatch.setattr(torch.cuda, "memory_allocated", lambda *a: 1000)
    monkeypatch.setattr(torch.cuda, "max_memory_allocated", lambda *a: 1000 + 3 * 2**20)
    opt = torch.optim.SGD(fixed_params([(4, 4), (4,)]), lr=0.1)
    out = sides.time_steps(opt, cuda=True, rounds=2, per_round=3)
    assert 0 < out["ms"] < 1000 and out["step_extra_mib"] == 3.0


def test_cuda_branches_of_environment_and_expected_plan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The CUDA-only branches of the environment part and of the expected speed plan, with torch.cuda's
    queries answered as a pre-Ampere GPU without bf16 would (fp16 + GradScaler, no TF32)."""
    from types import SimpleNamespace

    import torch

    monkeypatch.setattr(torch.cuda, "get_device_name", lambda *a: "Fake V100")
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda *a: (7, 0))
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a: False)
    monkeypatch.setattr(torch.cuda, "get_device_properties", lambda *a: SimpleNamespace(total_memory=16 * 2**30))
    report = gpu_check.Report(tmp_path / "r.json", dry=False)
    ctx = gpu_check.Ctx(torch.device("cuda"), True, tmp_path, report, time.perf_counter() + 60)
    ctx.timm_python = None
    assert gpu_check._expected_plan(ctx) == {"amp": "fp16", "channels_last": True, "tf32": False,
                                             "cudnn_benchmark": True, "fused_optimizer": True}
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a: True)
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda *a: (9, 0))
    assert gpu_check._expected_plan(ctx)["amp"] == "bf16" and gpu_check._expected_plan(ctx)["tf32"] is True
    report.run_part("environment", lambda: gpu_check.part_environment(ctx), 30)
    device = json.loads((tmp_path / "r.json").read_text())["device"]
    assert report.data["parts"]["environment"]["status"] == "PASS"
    assert device["name"] == "Fake V100" and device["capability"] == [9, 0] and device["memory_gib"] == 16.0
    assert device["timm"].startswith("timm not available")


def test_without_timm_the_figures_say_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(gpu_check, "timm_python", lambda: None)
    out = tmp_path / "r.json"
    assert gpu_check.main(["--device", "cpu", "--quick", "--out", str(out), "--work", str(tmp_path / "w"),
                           "--parts", "environment,figure_optimizers"]) == 0
    data = json.loads(out.read_text())
    assert all(p["status"] == "PASS" for p in data["parts"].values())
    assert data["device"]["timm"].startswith("timm not available")
    figures = data["parts"]["figure_optimizers"]["figures"]
    assert figures["timm"]["value"] == "timm not available" and figures["lamb"]["value"] > 0
    assert data["targets"] == [{"name": "optimizer steps vs timm, gmean over the issue's 7", "value": None,
                                "target": ">= 1.3x", "met": None, "note": "cpu dry run (not a GPU figure)"}]
    assert "n/a" in capsys.readouterr().out
