"""`pimm validate`: the model's test size by default (--use-train-size opts out), and --per-class with
precision, recall, F1 and a confusion matrix written as CSV and a picture."""

from __future__ import annotations

import csv

import pytest
from PIL import Image

from pimm.core.app.cli import main
from pimm.core.app.train.class_report import class_metrics


def test_class_metrics_by_hand():
    confusion = [[3, 1, 0],   # true a: 3 right, 1 taken for b
                 [2, 2, 0],   # true b
                 [0, 0, 0]]   # c: no images, never predicted
    rows = {r["name"]: r for r in class_metrics(confusion, ["a", "b", "c"])}
    assert rows["a"]["recall"] == pytest.approx(3 / 4) and rows["a"]["precision"] == pytest.approx(3 / 5)
    assert rows["a"]["f1"] == pytest.approx(2 * 0.6 * 0.75 / 1.35)
    assert rows["b"]["recall"] == pytest.approx(2 / 4) and rows["b"]["precision"] == pytest.approx(2 / 3)
    assert rows["c"]["recall"] is None and rows["c"]["precision"] is None and rows["c"]["f1"] is None
    assert rows["b"]["support"] == 4 and rows["b"]["predicted"] == 3


def test_per_class_files_agree_with_the_totals(app_run, app_folder, capsys):
    assert main(["validate", str(app_run), "--per-class", "--workers", "0", "--threads", "1"]) == 0
    out = capsys.readouterr().out
    folder = app_run / "eval-val"
    per_class = list(csv.DictReader((folder / "per_class.csv").open()))
    assert [r["class"] for r in per_class] == ["blue", "green", "red"]
    matrix = [[int(v) for v in row[1:]] for row in list(csv.reader((folder / "confusion.csv").open()))[1:]]
    assert sum(map(sum, matrix)) == 18 and [sum(row) for row in matrix] == [6, 6, 6]
    top1 = float(out.split("top-1 ")[1].split("%")[0])
    assert 100.0 * sum(matrix[i][i] for i in range(3)) / 18 == pytest.approx(top1, abs=0.01)
    for i, row in enumerate(per_class):
        column = sum(matrix[t][i] for t in range(3))
        assert float(row["recall"]) == pytest.approx(matrix[i][i] / 6, abs=1e-6)
        if column:
            assert float(row["precision"]) == pytest.approx(matrix[i][i] / column, abs=1e-6)
    for name in ("blue", "green", "red"):  # one line per class, ending with (correct/images)
        assert any(line.strip().startswith(name) and line.rstrip().endswith("/6)") for line in out.splitlines())
    assert "confusion.png" in out
    with Image.open(folder / "confusion.png") as picture:
        assert picture.format == "PNG" and picture.width >= 450 and picture.height >= 400


def _size_line(out: str) -> str:
    return next(line for line in out.splitlines() if line.startswith("pimm validate:"))


def test_test_size_by_default_train_size_on_request(app_folder, capsys):
    common = ["--data", str(app_folder), "--workers", "0", "--threads", "1", "-b", "32"]
    assert main(["validate", "resnet10t", *common]) == 0
    assert "at 224x224" in _size_line(capsys.readouterr().out)  # resnet10t: train 176, test 224
    assert main(["validate", "resnet10t", "--use-train-size", *common]) == 0
    assert "at 176x176" in _size_line(capsys.readouterr().out)
