"""The training loop's numbers against hand-computed values: EMA, top-k, loss averaging, gradient
accumulation, exact distributed evaluation, and that a run actually learns."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
from run_helpers import fast_options
from torch import nn

from pimm.core.app.train.config import make_config
from pimm.core.app.train.ema import ModelEma
from pimm.core.app.train.launch import run_training
from pimm.core.app.train.loop import TrainState, evaluate, train_one_epoch
from pimm.core.app.train.metrics import topk_correct


def _linear(weight: float, bias: float = 0.0) -> nn.Linear:
    layer = nn.Linear(1, 1)
    with torch.no_grad():
        layer.weight.fill_(weight)
        layer.bias.fill_(bias)
    return layer


def test_ema_blends_towards_the_new_weights_by_one_minus_decay() -> None:
    model = nn.Sequential(_linear(1.0), nn.BatchNorm1d(1))
    ema = ModelEma(model, decay=0.9)
    with torch.no_grad():
        model[0].weight.fill_(11.0)
    model[1].num_batches_tracked.fill_(7)
    ema.update(model)
    # 0.9 * 1 + 0.1 * 11 = 2.0 (the other direction, 0.1 * 1 + 0.9 * 11, would be 10.0)
    assert ema.module[0].weight.item() == pytest.approx(2.0)
    ema.update(model)
    assert ema.module[0].weight.item() == pytest.approx(0.9 * 2.0 + 0.1 * 11.0)
    assert int(ema.module[1].num_batches_tracked) == 7  # integer buffers are copied, not averaged
    warm = ModelEma(nn.Sequential(_linear(0.0)), decay=0.99, warmup=True)
    for expected_decay in (1 / 10, 2 / 11, 3 / 12):
        assert warm.current_decay() == pytest.approx(expected_decay)
        before = warm.module[0].weight.item()
        warm.update(nn.Sequential(_linear(1.0)))
        assert warm.module[0].weight.item() == pytest.approx(expected_decay * before + (1 - expected_decay))


def test_top1_and_top5_from_fixed_logits() -> None:
    # 7 classes; the rank of the true class in each row is 1, 2, 5, 6 and 7 -> top-1 hits 1, top-5 hits 3
    logits = torch.tensor([
        [9.0, 1, 2, 3, 4, 5, 6],   # target 0: rank 1
        [1.0, 9, 8, 3, 4, 5, 6],   # target 2: rank 2
        [7.0, 6, 5, 4, 3, 2, 1],   # target 4: rank 5
        [7.0, 6, 5, 4, 3, 2, 1],   # target 5: rank 6
        [7.0, 6, 5, 4, 3, 2, 1],   # target 6: rank 7
    ])
    target = torch.tensor([0, 2, 4, 5, 6])
    assert topk_correct(logits, target, (1, 5)) == [1, 3]
    assert topk_correct(logits, target, (2, 6)) == [2, 4]
    assert topk_correct(logits[:, :3], torch.tensor([0, 2, 0, 1, 2]), (1, 5)) == [2, 5]  # k capped at C


def _batches(x: torch.Tensor, y: torch.Tensor, size: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    return [(x[i:i + size], y[i:i + size]) for i in range(0, len(x), size)]


def _data(n: int = 10, classes: int = 3, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 4, generator=g), torch.randint(0, classes, (n,), generator=g)


def test_evaluation_averages_over_samples_with_an_uneven_last_batch() -> None:
    torch.manual_seed(0)
    model = nn.Linear(4, 3)
    x, y = _data(10)
    with torch.no_grad():
        out = model(x)
    expected_loss = nn.functional.cross_entropy(out, y).item()
    expected_top1 = 100.0 * (out.argmax(-1) == y).sum().item() / 10
    result = evaluate(model, _batches(x, y, 4), torch.device("cpu"), num_batches=3, num_classes=3, show=False)
    assert result["count"] == 10
    assert result["loss"] == pytest.approx(expected_loss, rel=1e-6)  # a mean of batch means would differ
    assert result["top1"] == pytest.approx(expected_top1) and result["top5"] == 100.0


def _state(model: nn.Module, lr: float, accum: int = 1) -> TrainState:
    return TrainState(model=model, raw_model=model, optimizer=torch.optim.SGD(model.parameters(), lr=lr),
                      schedule=None, loss_fn=nn.CrossEntropyLoss(), device=torch.device("cpu"), grad_accum=accum,
                      show=False)


def test_training_loss_averages_over_samples_with_an_uneven_last_batch() -> None:
    torch.manual_seed(0)
    model = nn.Linear(4, 3)
    x, y = _data(10)
    with torch.no_grad():
        expected = nn.functional.cross_entropy(model(x), y).item()
    result = train_one_epoch(_state(model, lr=0.0), _batches(x, y, 4), 0, 3)  # lr 0: the loss stays put
    assert result["loss"] == pytest.approx(expected, rel=1e-6)


def test_two_accumulated_batches_make_the_update_of_one_twice_the_size() -> None:
    torch.manual_seed(0)
    base = nn.Linear(4, 3)
    x, y = _data(8)
    one, two = nn.Linear(4, 3), nn.Linear(4, 3)
    one.load_state_dict(base.state_dict())
    two.load_state_dict(base.state_dict())
    train_one_epoch(_state(one, lr=0.5), _batches(x, y, 8), 0, 1)
    train_one_epoch(_state(two, lr=0.5, accum=2), _batches(x, y, 4), 0, 2)
    assert not torch.equal(one.weight, base.weight)
    torch.testing.assert_close(two.weight, one.weight, rtol=0, atol=1e-6)
    torch.testing.assert_close(two.bias, one.bias, rtol=0, atol=1e-6)


def _distributed_eval(rank: int, world: int, port: int, queue: object) -> None:
    import torch.distributed as dist

    from pimm.core.app.train.distributed import EvalShardSampler

    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)
    try:
        # 11 one-hot samples; the "model" predicts the input's arg-max, so exactly 7 are right
        x = torch.eye(4)[torch.tensor([0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2])]
        y = torch.tensor([0, 1, 2, 3, 0, 1, 2, 0, 1, 0, 3])
        mine = list(EvalShardSampler(11, rank, world))
        batches = _batches(x[mine], y[mine], 2)
        result = evaluate(nn.Identity(), batches, torch.device("cpu"), len(batches), 4, show=False)
        queue.put((rank, result["count"], result["top1"]))  # type: ignore[attr-defined]
    finally:
        dist.destroy_process_group()


def test_distributed_evaluation_counts_every_sample_once() -> None:
    import torch.multiprocessing as mp

    from pimm.core.app.train.distributed import free_port

    ctx = mp.get_context("spawn")
    queue = ctx.SimpleQueue()
    mp.start_processes(_distributed_eval, args=(2, free_port(), queue), nprocs=2, join=True, start_method="spawn")
    results = sorted(queue.get() for _ in range(2))
    assert [r[1] for r in results] == [11, 11]
    assert all(r[2] == pytest.approx(100.0 * 7 / 11) for r in results)


def test_a_run_learns_an_easy_task(tiny_folder: Path, tmp_path: Path) -> None:
    result = run_training(make_config(fast_options(tiny_folder, tmp_path, epochs=3, batch_size=8, model_ema=False,
                                                   mixup=0.0, smoothing=0.0, lr=0.05)))
    chance = math.log(3)
    first, last = result.history[0], result.history[-1]
    assert last["train_loss"] < 0.4 * chance and last["train_loss"] < first["train_loss"], result.history
    assert last["val_loss"] < 0.25 * chance and last["val_top1"] >= 90.0, result.history
