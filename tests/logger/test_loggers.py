"""Run loggers: files written and rewritten on resume, train.log, TensorBoard events read back."""

from __future__ import annotations

import csv
import json
import logging
import warnings

import pytest

from pimm.core import create, hookimpl, register_plugin, unregister_plugin
from pimm.core.errors import ConfigError
from pimm.core.logger import CONSOLE_LOGGER, RunLoggers, parse_logger_names
from pimm.core.specs import LoggerSpec

ROWS = [
    {"epoch": 1, "train_loss": 2.0, "val_top1": 10.0, "lr": 0.1},
    {"epoch": 2, "train_loss": 1.5, "val_top1": float("nan"), "lr": 0.05},
    {"epoch": 3, "train_loss": 1.0, "val_top1": 30.0, "lr": 0.01},
]


def _run(names, run_dir, rows, resume=0):
    loggers = RunLoggers(names)
    loggers.start(run_dir, {"model": "x"}, resume)
    for row in rows:
        loggers.log_epoch(row)
    loggers.close()


def test_parse_names():
    assert parse_logger_names(" csv, tensorboard,csv ,") == ["csv", "tensorboard"]
    assert parse_logger_names(None) == []


def test_csv_and_jsonl_rows_and_resume(tmp_path):
    _run(["csv", "jsonl"], tmp_path, ROWS)
    with (tmp_path / "log.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert [r["epoch"] for r in rows] == ["1", "2", "3"]
    assert rows[1]["val_top1"] == "" and rows[0]["lr"] == "0.1"
    lines = [json.loads(x) for x in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert lines[1]["val_top1"] is None and lines[2]["train_loss"] == 1.0
    # resuming after epoch 1 drops the later rows, then appends the new ones: one history
    _run(["csv", "jsonl"], tmp_path, [{"epoch": 2, "train_loss": 9.0, "val_top1": 1.0, "lr": 0.2, "extra": 4}],
         resume=1)
    with (tmp_path / "log.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert [(r["epoch"], r["train_loss"]) for r in rows] == [("1", "2"), ("2", "9")]
    assert rows[1]["extra"] == "4" and rows[0]["extra"] == ""  # a new column extends the header
    lines = [json.loads(x) for x in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert [x["epoch"] for x in lines] == [1, 2] and lines[1]["train_loss"] == 9.0


def test_text_log_has_console_lines_library_notices_and_epochs(tmp_path):
    loggers = RunLoggers(["text"])
    loggers.start(tmp_path, {}, 0)
    logging.getLogger(CONSOLE_LOGGER).info("pimm train: the header line")
    logging.getLogger("some.library").warning("a library notice")
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.warn("a python warning", UserWarning)
    loggers.log_epoch(ROWS[0])
    loggers.close(RuntimeError("boom"))
    logging.getLogger(CONSOLE_LOGGER).info("after close: not in the file")
    text = (tmp_path / "train.log").read_text()
    for expected in ("pimm train: the header line", "a library notice", "a python warning",
                     "epoch 1: train_loss 2, val_top1 10, lr 0.1", "run failed: RuntimeError: boom"):
        assert expected in text
    assert "after close" not in text
    assert not any(getattr(h, "baseFilename", "").endswith("train.log") for h in logging.getLogger().handlers)


def test_tensorboard_events_read_back(tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    _run(["tensorboard"], tmp_path, ROWS)
    acc = EventAccumulator(str(tmp_path / "tensorboard"))
    acc.Reload()
    tags = set(acc.Tags()["scalars"])
    assert {"train/loss", "val/top1", "lr"} <= tags
    assert [(e.step, round(e.value, 4)) for e in acc.Scalars("train/loss")] == [(1, 2.0), (2, 1.5), (3, 1.0)]
    assert [e.step for e in acc.Scalars("val/top1")] == [1, 3]  # NaN is not written


class _NeedsMissingModule:
    @hookimpl
    def pimm_loggers(self):
        return [LoggerSpec(name="fakelog_needs_module", target="pimm.plugins.loggers.files:CsvLogger",
                           requires=("no_such_module_pimm_test",), install_hint="pip install no-such-thing")]


def test_missing_requirement_is_one_error_before_anything_is_built(tmp_path):
    register_plugin(_NeedsMissingModule(), name="fakelog")
    try:
        with pytest.raises(ConfigError, match="no_such_module_pimm_test.*pip install no-such-thing"):
            RunLoggers(["csv", "fakelog_needs_module"])
    finally:
        unregister_plugin("fakelog")
    with pytest.raises(KeyError, match="tensorbaord"):
        RunLoggers(["tensorbaord"])
    with pytest.raises(ConfigError, match="not a logging level"):
        create("logger", "text", level="LOUD")


def test_cli_logging_routes_library_notices_and_warnings_and_is_undone(capsys, caplog):
    from pimm.core.app.train.run_parts import configure_cli_logging

    root_before = list(logging.getLogger().handlers)
    show_before = warnings.showwarning
    with configure_cli_logging():
        logging.getLogger(CONSOLE_LOGGER).info("a run line")
        warnings.warn_explicit("a python warning", UserWarning, "somefile.py", 1)
    assert "a run line" in capsys.readouterr().out
    routed = [r for r in caplog.records if r.name == "py.warnings"]
    assert routed and "a python warning" in routed[0].getMessage()
    assert list(logging.getLogger().handlers) == root_before
    assert warnings.showwarning is show_before  # warnings display as before once the command is done
