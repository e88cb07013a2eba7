"""Builtin plugin 'loggers': csv, jsonl, the text run log (train.log) and TensorBoard.

Specs and options only (no torch import here); the loggers live in :mod:`.files`,
:mod:`.text_log` and :mod:`.tensorboard`.
"""

from __future__ import annotations

from pydantic import Field

from pimm.core import hookimpl
from pimm.core.specs import LoggerSpec, Options


class FileOptions(Options):
    """Where in the run directory a file logger writes."""

    filename: str = Field(description="File name inside the run directory.", min_length=1)


class CsvOptions(FileOptions):
    """Options of the csv logger."""

    filename: str = Field("log.csv", min_length=1, description="File name inside the run directory.")


class JsonlOptions(FileOptions):
    """Options of the jsonl logger."""

    filename: str = Field("log.jsonl", min_length=1, description="File name inside the run directory.")


class TextOptions(FileOptions):
    """Options of the text run log."""

    filename: str = Field("train.log", min_length=1, description="File name inside the run directory.")
    level: str = Field("INFO", description="Lowest stdlib logging level written (DEBUG, INFO, WARNING ...).")


class TensorBoardOptions(Options):
    """Options of the TensorBoard logger."""

    subdir: str = Field("tensorboard", min_length=1, description="Event-file folder inside the run directory.")
    flush_secs: int = Field(30, ge=1, description="Seconds between flushes of the event file.")


_HERE = "pimm.plugins.loggers"


@hookimpl
def pimm_loggers() -> list[LoggerSpec]:
    """csv, jsonl, text (train.log) and tensorboard."""
    return [
        LoggerSpec(name="csv", target=f"{_HERE}.files:CsvLogger", options=CsvOptions, files=("log.csv",),
                   summary="One csv row per epoch, as it happens (metrics.csv's columns)."),
        LoggerSpec(name="jsonl", target=f"{_HERE}.files:JsonlLogger", options=JsonlOptions, files=("log.jsonl",),
                   summary="One JSON object per epoch, one per line."),
        LoggerSpec(name="text", aliases=("train_log",), target=f"{_HERE}.text_log:TextLogger", options=TextOptions,
                   files=("train.log",),
                   summary="train.log: everything the run prints plus library notices (stdlib logging)."),
        LoggerSpec(name="tensorboard", target=f"{_HERE}.tensorboard:TensorBoardLogger", options=TensorBoardOptions,
                   requires=("tensorboard",), install_hint="pip install 'pimm[tensorboard]'", files=("tensorboard",),
                   summary="TensorBoard scalars per epoch (torch.utils.tensorboard)."),
    ]
