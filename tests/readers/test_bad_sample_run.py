"""A training run over data with a bad image: one warning, one line per epoch and run, a list in the run."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import pytest
from reader_helpers import make_folder, write

from pimm.core.app.train.config import make_config
from pimm.core.app.train.launch import run_training
from pimm.core.data.image_load import BadSampleWarning


def test_run_reports_bad_samples_each_epoch_and_at_the_end(tmp_path: Path, capfd: pytest.CaptureFixture[str],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIMM_CACHE_DIR", str(tmp_path / "cache"))
    data = tmp_path / "data"
    for split in ("train", "val"):
        make_folder(str(data / split), {"blue": 4, "red": 4})
    write(str(data / "train" / "red" / "red_broken.png"), b"not an image at all")
    options = dict(data=str(data), output=str(tmp_path / "out"), experiment="run", model="resnet10t", input_size=16,
                   epochs=2, batch_size=4, workers=0, threads=1, lr=0.05, warmup_epochs=0, crop_pct=1.0,
                   interpolation="bilinear", color_jitter=0.0, scale=(0.5, 1.0))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run_training(make_config(options))
    out = capfd.readouterr()
    lines = [line for line in out.out.splitlines() if "bad train sample" in line]
    listing = tmp_path / "out" / "run" / "bad_samples_train.txt"
    assert [line.split(":")[0].split()[-2:] for line in lines[:2]] == [["epoch", "1"], ["epoch", "2"]]
    assert lines[-1].split(":")[0].endswith("run") and len(lines) == 3
    assert all("1 bad train sample skipped" in line and str(listing) in line for line in lines)
    assert listing.read_text().split("\t")[0] == os.path.join("red", "red_broken.png")
    # warned once for the whole run (across DataLoader workers: test_hostile_folders.py)
    assert len([w for w in caught if issubclass(w.category, BadSampleWarning)]) == 1
    assert not any("bad val sample" in line for line in out.out.splitlines())
