"""The run lifecycle hooks in a real (tiny) run: order, arguments, failures; early stopping, top-k
checkpoints, loggers chosen by --log, metric-driven schedules, and a run that still learns."""

from __future__ import annotations

import json

import pytest

from pimm.core import hookimpl, register_plugin, unregister_plugin
from pimm.core.app.train.config import make_config
from pimm.core.app.train.launch import run_training
from pimm.core.app.train.run_events import HookError
from pimm.core.errors import ConfigError

from logger_helpers import run_options


class Recorder:
    """A third-party plugin that records every run event it sees."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []

    @hookimpl
    def pimm_run_start(self, run, start_epoch):
        self.calls.append(("run_start", start_epoch, run.epochs, run.is_main))

    @hookimpl
    def pimm_epoch_start(self, epoch):
        self.calls.append(("epoch_start", epoch))

    @hookimpl
    def pimm_validated(self, epoch, metrics):
        self.calls.append(("validated", epoch, sorted(metrics)))

    @hookimpl
    def pimm_checkpoint_saved(self, epoch, path, is_best):
        self.calls.append(("checkpoint_saved", epoch, (path / "model.safetensors").is_file(), is_best))

    @hookimpl
    def pimm_epoch_end(self, epoch, metrics):
        self.calls.append(("epoch_end", epoch, metrics["epoch"]))

    @hookimpl
    def pimm_run_end(self, epochs_done, best):
        self.calls.append(("run_end", epochs_done, best is not None))

    @hookimpl
    def pimm_run_failed(self, error):
        self.calls.append(("run_failed", type(error).__name__))


@pytest.fixture
def recorder():
    plugin = Recorder()
    register_plugin(plugin, name="recorder")
    yield plugin
    unregister_plugin("recorder")


def test_hooks_in_order_with_their_arguments(colour_folder, tmp_path, recorder):
    run_training(make_config(run_options(colour_folder, tmp_path, log="csv,jsonl,text")))
    names = [c[0] for c in recorder.calls]
    assert names == ["run_start"] + ["epoch_start", "validated", "checkpoint_saved", "epoch_end"] * 2 + ["run_end"]
    assert recorder.calls[0] == ("run_start", 0, 2, True)
    assert recorder.calls[2] == ("validated", 1, ["loss", "metric", "top1", "top5"])
    assert recorder.calls[3][:3] == ("checkpoint_saved", 1, True)
    assert recorder.calls[-1] == ("run_end", 2, True)
    run = tmp_path / "run"
    assert (run / "log.csv").read_text().count("\n") == 3 and (run / "log.jsonl").read_text().count("\n") == 2
    log = (run / "train.log").read_text()
    assert "pimm train: resnet10t" in log and "epoch 2: train_loss" in log


class Broken:
    @hookimpl
    def pimm_epoch_start(self, epoch):
        raise ValueError("the plugin is broken")


def test_a_failing_hook_names_its_plugin_and_run_failed_is_called(colour_folder, tmp_path, recorder):
    register_plugin(Broken(), name="broken_hooks")
    try:
        with pytest.raises(HookError, match="broken_hooks.*pimm_epoch_start.*the plugin is broken"):
            run_training(make_config(run_options(colour_folder, tmp_path)))
    finally:
        unregister_plugin("broken_hooks")
    assert recorder.calls[-1] == ("run_failed", "HookError")


def test_early_stopping_stops_after_patience(colour_folder, tmp_path, capsys):
    # min_delta is larger than any change of top-1, so only epoch 1 improves; patience 2 -> stop after 3
    result = run_training(make_config(run_options(colour_folder, tmp_path, epochs=6, patience=2, min_delta=1000.0)))
    assert result.epochs_done == 3
    rows = (tmp_path / "run" / "metrics.csv").read_text().strip().splitlines()
    assert len(rows) == 1 + 3
    assert "stopped after epoch 3: early stopping: top1 did not improve" in capsys.readouterr().out
    with pytest.raises(HookError, match="--patience stops on the validation metric"):
        run_training(make_config(run_options(colour_folder, tmp_path, patience=2, val_split=None, experiment="nv")))


def test_checkpoint_hist_keeps_the_k_best(colour_folder, tmp_path):
    run_training(make_config(run_options(colour_folder, tmp_path, epochs=3, checkpoint_hist=2, eval_metric="loss")))
    folder = tmp_path / "run" / "checkpoints"
    index = json.loads((folder / "index.json").read_text())
    assert len(index) == 2
    losses = [e["metric"] for e in index]
    assert losses == sorted(losses)  # best (lowest loss) first
    kept = sorted(p.name for p in folder.iterdir() if p.is_dir())
    assert kept == sorted(e["dir"] for e in index)
    for entry in index:
        assert (folder / entry["dir"] / "model.safetensors").stat().st_size > 0


def test_plateau_schedule_runs_on_validation_and_needs_a_split(colour_folder, tmp_path, monkeypatch):
    from pimm.plugins.schedulers.plateau import PlateauLRScheduler

    seen = []
    original = PlateauLRScheduler.step

    def spy(self, epoch, metric=None):
        seen.append((epoch, metric))
        original(self, epoch, metric)

    monkeypatch.setattr(PlateauLRScheduler, "step", spy)
    result = run_training(make_config(run_options(colour_folder, tmp_path, sched="plateau", patience_epochs=0,
                                                  decay_rate=0.5, min_delta=0.0)))
    assert result.epochs_done == 2
    # stepped once per epoch, after validation, with that epoch's --eval-metric (top-1)
    assert [e for e, _ in seen] == [1, 2]
    assert [m for _, m in seen] == pytest.approx([row["val_top1"] for row in result.history], rel=1e-5)
    with pytest.raises(ConfigError, match="no validation split"):
        run_training(make_config(run_options(colour_folder, tmp_path, sched="plateau", val_split=None,
                                             experiment="noval")))


def test_unknown_scheduler_and_missing_logger_fail_before_training(colour_folder, tmp_path):
    with pytest.raises(KeyError, match="cosin"):
        run_training(make_config(run_options(colour_folder, tmp_path, sched="cosin")))
    with pytest.raises(KeyError, match="tensorbord"):
        run_training(make_config(run_options(colour_folder, tmp_path, log="tensorbord", experiment="b")))


@pytest.mark.parametrize("on_updates", [False, True])
def test_a_run_still_learns_with_the_scheduler_component(colour_folder, tmp_path, on_updates):
    options = run_options(colour_folder, tmp_path, epochs=4, sched="cosine", sched_on_updates=on_updates,
                          warmup_epochs=1, opt="adamw", lr=3e-3)
    result = run_training(make_config(options))
    rows = result.history
    assert rows[-1]["train_loss"] < 0.6  # chance is ln 3 = 1.10
    assert rows[-1]["lr"] == pytest.approx(0.0, abs=1e-12)  # the cosine ends at min_lr 0 after --epochs


def test_third_party_scheduler_loss_and_logger_in_a_run(colour_folder, tmp_path):
    """The example plugin's linear schedule, focal loss and Markdown logger, picked by name like builtins."""
    pytest.importorskip("pimm_example_plugin")
    options = run_options(colour_folder, tmp_path, epochs=2, sched="linear", loss="focal", smoothing=0.0,
                          log="markdown", warmup_epochs=0)
    result = run_training(make_config(options))
    table = (tmp_path / "run" / "results.md").read_text().splitlines()
    assert table[0].startswith("| epoch") and len(table) == 2 + 2
    assert result.history[0]["lr"] == pytest.approx(0.05 * 0.5)  # linear: half-way after epoch 1 of 2


def test_resume_continues_every_log_as_one_history(colour_folder, tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    options = run_options(colour_folder, tmp_path, epochs=3, log="csv,jsonl,text,tensorboard", patience=5)
    run_training(make_config(options), max_epochs=2)
    run = tmp_path / "run"
    # a crashed attempt may have logged an epoch the checkpoint does not have: the resume drops it
    with (run / "log.jsonl").open("a") as f:
        f.write('{"epoch": 3, "train_loss": 99.0}\n')
    result = run_training(make_config({"resume": str(run)}))
    assert result.epochs_done == 3
    csv_epochs = [line.split(",")[0] for line in (run / "log.csv").read_text().splitlines()[1:]]
    assert csv_epochs == ["1", "2", "3"]
    lines = [json.loads(x) for x in (run / "log.jsonl").read_text().splitlines()]
    assert [x["epoch"] for x in lines] == [1, 2, 3] and lines[2]["train_loss"] != 99.0
    assert "resumed after epoch 2" in (run / "train.log").read_text()
    acc = EventAccumulator(str(run / "tensorboard"))
    acc.Reload()
    assert [e.step for e in acc.Scalars("train/loss")] == [1, 2, 3]
