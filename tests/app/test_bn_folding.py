"""Batch norms folded into the convolutions that feed them for evaluation: which pairs fold, which must not,
the output check that restores a model folding would change, and the wiring into validate and predict."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from torch import nn

from pimm.core.app.cli import main
from pimm.core.app.train.bn_folding import fold_batchnorm
from pimm.core.models import create_model


def _trained_statistics(model: nn.Module) -> nn.Module:
    """Non-trivial running statistics and affine parameters, so a wrong fold shows in the outputs."""
    gen = torch.Generator().manual_seed(3)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d) and m.running_mean is not None:
                m.running_mean.normal_(0, 0.5, generator=gen)
                m.running_var.uniform_(0.2, 3.0, generator=gen)
                if m.affine:
                    m.weight.uniform_(0.5, 1.5, generator=gen)
                    m.bias.normal_(0, 0.3, generator=gen)
    return model.eval()


def _count(model: nn.Module, kind: type) -> int:
    return sum(isinstance(m, kind) for m in model.modules())


def test_every_resnet_batch_norm_folds_and_outputs_stay_equal():
    torch.manual_seed(0)
    model = _trained_statistics(create_model("resnet10t", num_classes=5))
    x = torch.randn(3, 3, 32, 32)
    with torch.no_grad():
        before = model(x)
    norms = _count(model, nn.BatchNorm2d)
    result = fold_batchnorm(model, (3, 32, 32))
    assert result.folded == norms == 14 and result.reason == ""
    assert _count(model, nn.BatchNorm2d) == 0
    assert type(model).__name__ == "ResNet" and model.num_classes == 5  # still the model, not a graph copy
    with torch.no_grad():
        after = model(x)
    assert torch.allclose(after, before, rtol=1e-5, atol=1e-5)


class _Shared(nn.Module):
    """One batch norm used after two convolutions: folding it into either would break the other."""

    def __init__(self) -> None:
        super().__init__()
        self.a, self.b = nn.Conv2d(3, 4, 3, padding=1), nn.Conv2d(3, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn(self.a(x)) + self.bn(self.b(x))


class _Branch(nn.Module):
    """A convolution whose output feeds a batch norm and a skip path."""

    def __init__(self) -> None:
        super().__init__()
        self.conv, self.bn = nn.Conv2d(3, 3, 3, padding=1), nn.BatchNorm2d(3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv(x)
        return self.bn(y) + y


class _ReadsStatistics(nn.Module):
    """Reads the batch norm's weight itself: the batch norm must stay."""

    def __init__(self) -> None:
        super().__init__()
        self.conv, self.bn = nn.Conv2d(3, 3, 3, padding=1), nn.BatchNorm2d(3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn(self.conv(x)) * self.bn.weight.view(1, -1, 1, 1)


class _Untraceable(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv, self.bn = nn.Conv2d(3, 3, 3, padding=1), nn.BatchNorm2d(3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.sum() > 0:  # data-dependent control flow: torch.fx cannot trace it
            x = -x
        return self.bn(self.conv(x))


class _BatchStatistics(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv, self.bn = nn.Conv2d(3, 3, 3, padding=1), nn.BatchNorm2d(3, track_running_stats=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn(self.conv(x))


@pytest.mark.parametrize("make, reason", [
    (_Shared, "no convolution feeds a batch norm directly"),
    (_Branch, "no convolution feeds a batch norm directly"),
    (_ReadsStatistics, "no convolution feeds a batch norm directly"),
    (_Untraceable, "cannot be traced"),
    (_BatchStatistics, "no convolution feeds a batch norm directly"),
])
def test_pairs_that_must_not_fold_leave_the_model_as_it_was(make, reason):
    torch.manual_seed(0)
    model = _trained_statistics(make())
    x = torch.randn(2, 3, 8, 8) - 5  # negative sum: the untraceable model takes its plain path
    with torch.no_grad():
        before = model(x)
    modules = [type(m) for m in model.modules()]
    result = fold_batchnorm(model, (3, 8, 8))
    assert result.folded == 0 and reason in result.reason
    assert [type(m) for m in model.modules()] == modules  # restored where folding was tried
    with torch.no_grad():
        assert torch.equal(model(x), before)


def test_a_fold_that_changes_the_outputs_is_undone(monkeypatch):
    """The fp32 check against the unfolded model: a wrong fold (here: the conv kept as it was, the batch norm
    dropped) is found and the model restored."""
    import torch.nn.utils.fusion as fusion

    monkeypatch.setattr(fusion, "fuse_conv_bn_eval", lambda conv, bn: conv)
    torch.manual_seed(0)
    model = _trained_statistics(create_model("resnet10t", num_classes=5))
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        before = model(x)
    result = fold_batchnorm(model, (3, 32, 32))
    assert result.folded == 0 and "folding changed the outputs" in result.reason
    assert _count(model, nn.BatchNorm2d) == 14
    with torch.no_grad():
        assert torch.equal(model(x), before)


def test_a_module_with_hooks_is_not_folded():
    model = _trained_statistics(nn.Sequential(nn.Conv2d(3, 3, 3), nn.BatchNorm2d(3)))
    model[1].register_forward_hook(lambda *_: None)
    assert fold_batchnorm(model, (3, 8, 8)).folded == 0
    assert isinstance(model[1], nn.BatchNorm2d)


def test_validate_folds_by_default_says_so_and_keeps_its_numbers(app_run, tmp_path, capsys):
    folded_file, plain_file = tmp_path / "folded.json", tmp_path / "plain.json"
    assert main(["validate", str(app_run), "--no-amp", "--results", str(folded_file)]) == 0
    out = capsys.readouterr().out
    assert "batch norms folded" in out
    assert main(["validate", str(app_run), "--no-amp", "--no-fold-bn", "--no-keep-memory", "--no-cudnn-benchmark",
                 "--results", str(plain_file)]) == 0
    assert "batch norms folded" not in capsys.readouterr().out
    folded, plain = json.loads(folded_file.read_text()), json.loads(plain_file.read_text())
    assert folded["speed"]["fold_bn"] > 0 and "folded into" in folded["speed"]["reasons"]["fold_bn"]
    assert plain["speed"]["fold_bn"] == 0 and plain["speed"]["reasons"]["fold_bn"] == "off (--no-fold-bn)"
    assert folded["speed"]["keep_memory"] is True and plain["speed"]["keep_memory"] is False  # validate's opt-out too
    assert folded["top1"] == plain["top1"] and folded["top5"] == plain["top5"]
    assert folded["loss"] == pytest.approx(plain["loss"], rel=1e-5)


def test_validate_times_after_one_warm_up_pass(app_run, monkeypatch):
    """The timed pass starts after one forward on a batch of zeros of the first batch's shape and memory format."""
    from pimm.core.app.train import loop, validate

    events: list[object] = []
    real_evaluate = loop.evaluate

    def spy_evaluate(model, *args, **kwargs):
        events.append("evaluate")
        return real_evaluate(model, *args, **kwargs)

    real_warm_up = validate._warm_up

    def spy_warm_up(model, plan, device, batch, input_size):
        handle = model.register_forward_pre_hook(lambda _m, args: events.append(
            (tuple(args[0].shape), bool(args[0].eq(0).all()),
             args[0].is_contiguous(memory_format=torch.channels_last))))
        try:
            real_warm_up(model, plan, device, batch, input_size)
        finally:
            handle.remove()

    monkeypatch.setattr(loop, "evaluate", spy_evaluate)
    monkeypatch.setattr(validate, "_warm_up", spy_warm_up)
    result = validate.run_validation(validate.ValidateConfig(source=str(app_run), batch_size=4,
                                                             channels_last=True))
    size = tuple(result["input_size"])
    assert events == [((4, *size), True, True), "evaluate"]


def test_predict_folds_a_copy_and_leaves_the_callers_model_alone(app_run):
    from pimm.core.app.predict import predict
    from pimm.core.app.train.sources import load_model_source

    model = _trained_statistics(load_model_source(str(app_run), None, False).model)
    norms = _count(model, nn.BatchNorm2d)
    images = sorted((Path(json.loads((app_run / "config.json").read_text())["data"]) / "val").rglob("*.png"))[:5]
    assert images
    plain = predict(model, images, top_k=3)
    folded = predict(model, images, top_k=3, fold_bn=True)
    assert _count(model, nn.BatchNorm2d) == norms  # the caller's model still has its batch norms
    for a, b in zip(plain, folded):
        assert a.labels == b.labels
        assert a.probs == pytest.approx(b.probs, abs=1e-5)
