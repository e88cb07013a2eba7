"""The builtin run-control plugin's parts on their own: early-stopping counters, top-k keeping."""

from __future__ import annotations

import json

from pimm.plugins.run_control.checkpoint_hist import keep_checkpoint
from pimm.plugins.run_control.early_stop import EarlyStopping


def test_early_stopping_counts_min_delta_and_modes():
    stop = EarlyStopping(patience=2, min_delta=0.5)
    assert stop.update(1, 10.0) is None
    assert stop.update(2, 10.4) is None  # +0.4 <= min_delta: no improvement (1 bad epoch)
    assert "for 2 epochs (best 10 at epoch 1)" in stop.update(3, 10.5)
    low = EarlyStopping(patience=1, lower_is_better=True)
    assert low.update(1, 1.0) is None and low.update(2, 0.9) is None
    assert low.update(3, 0.95) is not None


def test_replay_rebuilds_the_counters_of_a_resumed_run(tmp_path):
    csv = tmp_path / "metrics.csv"
    csv.write_text("epoch,val_top1\n1,50\n2,60\n3,55\n4,58\n5,70\n")
    replayed = EarlyStopping(patience=3)
    replayed.replay(csv, "val_top1", upto_epoch=4)
    assert (replayed.best, replayed.best_epoch, replayed.bad_epochs) == (60.0, 2, 2)
    assert "did not improve" in replayed.update(5, 59.0)


def test_keep_checkpoint_keeps_the_best_k(tmp_path):
    model = tmp_path / "last"
    model.mkdir()
    folder = tmp_path / "checkpoints"
    for epoch, metric in enumerate([50.0, 70.0, 60.0, 40.0], start=1):
        (model / "model.safetensors").write_bytes(bytes([epoch]))
        keep_checkpoint(folder, model, epoch, metric, keep=2)
    index = json.loads((folder / "index.json").read_text())
    assert [(e["epoch"], e["metric"]) for e in index] == [(2, 70.0), (3, 60.0)]
    assert sorted(p.name for p in folder.iterdir()) == ["epoch-0002", "epoch-0003", "index.json"]
    assert (folder / "epoch-0002" / "model.safetensors").read_bytes() == bytes([2])  # a copy, not the live file
    lowest = tmp_path / "low"
    for epoch, metric in enumerate([0.5, 0.3, 0.4], start=1):
        keep_checkpoint(lowest, model, epoch, metric, keep=1, lower_is_better=True)
    assert [e["epoch"] for e in json.loads((lowest / "index.json").read_text())] == [2]
