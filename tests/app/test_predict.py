"""`pimm predict`: the model's eval preprocessing, its label names, batching, TTA, CSV/JSON output."""

from __future__ import annotations

import csv
import json

import pytest
import torch
from model_helpers import tiny_env  # noqa: F401 (fixture)
from PIL import Image

from pimm.core.app.cli import EXIT_ERROR, main
from pimm.core.app.predict import find_images, predict
from pimm.core.app.train.checkpoint import save_model_dir
from pimm.core.data import create_transform, resolve_data_config
from pimm.core.models import create_model

LABELS = ["cat", "dog", "fox"]


@pytest.fixture
def model_dir(tiny_env):
    torch.manual_seed(0)
    model = create_model("tinytest", num_classes=3)
    for p in model.parameters():
        torch.nn.init.normal_(p, std=0.5)
    return save_model_dir(model.eval(), tiny_env / "model", LABELS)


@pytest.fixture
def images(tmp_path):
    folder = tmp_path / "imgs"
    (folder / "sub").mkdir(parents=True)
    g = torch.Generator().manual_seed(1)
    paths = []
    for i, (w, h) in enumerate([(40, 30), (50, 64), (36, 36), (70, 45)]):
        data = torch.randint(0, 256, (h, w, 3), generator=g, dtype=torch.uint8).numpy()
        path = folder / ("sub" if i % 2 else "") / f"img{i}.png"
        Image.fromarray(data).save(path)
        paths.append(path)
    (folder / "notes.txt").write_text("not an image")
    return folder, sorted(paths)


def _manual_probs(model, path, views):
    dc = resolve_data_config({}, model=model)
    tf = create_transform(dc["input_size"], is_training=False, interpolation=dc["interpolation"], mean=dc["mean"],
                          std=dc["std"], crop_pct=dc["crop_pct"])
    x = tf(Image.open(path).convert("RGB")).unsqueeze(0)
    batch = torch.cat([x, x.flip(-1)]) if views == "flip" else x
    with torch.no_grad():
        return model(batch).softmax(-1).mean(0)


def test_predictions_match_the_model_with_label_names(model_dir, images):
    model = create_model(f"local-dir:{model_dir}").eval()
    found = find_images([str(images[0])])
    assert found == images[1]  # recursive, sorted, images only
    results = predict(model, found, top_k=2, batch_size=3)
    assert [r.path for r in results] == [str(p) for p in found]
    for r, path in zip(results, found):
        probs = _manual_probs(model, path, "none")
        top = probs.topk(2)
        assert r.indices == top.indices.tolist()
        assert r.labels == [LABELS[i] for i in r.indices]
        assert r.probs == pytest.approx(top.values.tolist(), abs=1e-5)
    one_by_one = predict(model, found, top_k=2, batch_size=1)
    assert [r.indices for r in one_by_one] == [r.indices for r in results]


def test_tta_flip_averages_the_mirror(model_dir, images):
    model = create_model(f"local-dir:{model_dir}").eval()
    path = images[1][0]
    got = predict(model, [path], top_k=3, tta="flip")[0]
    probs = _manual_probs(model, path, "flip")
    assert got.probs == pytest.approx(probs[got.indices].tolist(), abs=1e-5)
    plain = predict(model, [path], top_k=3)[0]
    assert plain.probs != pytest.approx(got.probs, abs=1e-4)  # the mirror changed something
    crops = predict(model, [path], top_k=3, tta="crops")[0]
    assert sum(crops.probs) == pytest.approx(1.0, abs=1e-5) and crops.probs != pytest.approx(got.probs, abs=1e-4)


def test_cli_writes_csv_and_json_and_refuses_to_overwrite(model_dir, images, tmp_path, capsys):
    folder, paths = images
    out_json = tmp_path / "preds.json"
    assert main(["predict", str(model_dir), str(folder), "--top-k", "2", "--out", str(out_json)]) == 0
    data = json.loads(out_json.read_text())
    assert [d["path"] for d in data] == [str(p) for p in paths]
    assert all(len(d["predictions"]) == 2 and d["predictions"][0]["label"] in LABELS for d in data)
    out_csv = tmp_path / "preds.csv"
    assert main(["predict", str(model_dir), str(paths[0]), "-k", "3", "--tta", "--out", str(out_csv)]) == 0
    rows = list(csv.DictReader(out_csv.open()))
    assert [r["rank"] for r in rows] == ["1", "2", "3"] and {r["label"] for r in rows} == set(LABELS)
    capsys.readouterr()
    before = out_csv.read_bytes()
    assert main(["predict", str(model_dir), str(paths[0]), "--out", str(out_csv)]) == EXIT_ERROR
    assert "exists; pass --overwrite" in capsys.readouterr().err and out_csv.read_bytes() == before
    assert main(["predict", str(model_dir), str(paths[0]), "-k", "1"]) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith(f"{paths[0]}: ") and line.split(": ")[1].split()[0] in LABELS


def test_bad_inputs_are_one_clear_error(model_dir, images, tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert main(["predict", str(model_dir), str(tmp_path / "empty")]) == EXIT_ERROR
    assert "holds no image files" in capsys.readouterr().err
    assert main(["predict", str(model_dir), str(tmp_path / "nope.jpg")]) == EXIT_ERROR
    assert "neither an image file nor a folder" in capsys.readouterr().err
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a png")
    assert main(["predict", str(model_dir), str(broken)]) == EXIT_ERROR
    err = capsys.readouterr().err
    assert "skipped: cannot read image" in err and "none of the 1 image(s) could be read" in err
    assert main(["predict", str(model_dir), str(images[1][0]), "--out", str(tmp_path / "x.txt")]) == EXIT_ERROR
    assert "must end in .csv or .json" in capsys.readouterr().err
    assert main(["predict", str(model_dir), str(images[1][0]), "--tta", "crops", "-k", "0"]) == EXIT_ERROR
    assert "--top-k must be at least 1" in capsys.readouterr().err


def test_a_bare_model_name_means_its_pretrained_weights(tiny_env, images, capsys):
    """`pimm predict NAME` loads NAME's weights (offline and uncached here: one clear error, not random guesses)."""
    assert main(["predict", "tinytest.a_in1k", str(images[1][0])]) == EXIT_ERROR
    err = capsys.readouterr().err
    assert "pretrained weights for tinytest.a_in1k are not available" in err
