"""docs/hooks.md is runnable: every hookspec has its section, and every example works as a plugin.

Each ```python block of the page starts with ``# file: my_plugin/NAME.py``; the test writes the
blocks to those files, registers every module holding an ``@hookimpl`` as a plugin and uses what
it provides: each component is created and exercised, run events are called, the command runs.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import re
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from pimm import core
from pimm.core import hookspecs
from pimm.core.manager import get_manager

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "hooks.md"
BLOCK = re.compile(r"```python\n# file: (my_plugin/[\w/]+\.py)\n(.*?)```", re.S)


def _hook_names() -> list[str]:
    return [name for name, value in vars(hookspecs).items()
            if name.startswith("pimm_") and callable(value) and hasattr(value, "pimm_spec")]


def test_every_hookspec_has_a_heading_with_its_signature():
    text = PAGE.read_text()
    headings = [h.replace("'", "") for h in re.findall(r"^#+\s+`?(.+?)`?\s*$", text, flags=re.M)]
    names = _hook_names()
    assert len(names) >= 16, names
    for name in names:
        signature = f"{name}{inspect.signature(getattr(hookspecs, name))}".replace("'", "")
        assert any(h.startswith(signature) for h in headings), f"docs/hooks.md needs a heading `{signature}`"


def test_every_hookspec_has_a_runnable_example():
    text = PAGE.read_text()
    sources = "\n".join(source for _, source in BLOCK.findall(text))
    missing = [name for name in _hook_names() if f"def {name}(" not in sources]
    assert not missing, f"docs/hooks.md has no @hookimpl example for {missing}"


@pytest.fixture(scope="module")
def docs_plugins(tmp_path_factory):
    """The page's blocks as the package my_plugin, each hook module registered as a plugin (once)."""
    blocks = BLOCK.findall(PAGE.read_text())
    assert blocks, "no runnable blocks found in docs/hooks.md"
    root = tmp_path_factory.mktemp("docs_plugin")
    (root / "my_plugin").mkdir()
    (root / "my_plugin" / "__init__.py").write_text("")
    for path, source in blocks:
        (root / path).write_text(source)
    sys.path.insert(0, str(root))
    names = []
    try:
        for path, source in blocks:
            if "@hookimpl" in source:
                module = importlib.import_module(path[:-3].replace("/", "."))
                names.append(core.register_plugin(module, name=f"docs_{Path(path).stem}"))
        yield names
    finally:
        for name in names:
            core.unregister_plugin(name)
        sys.path.remove(str(root))
        for module in [m for m in sys.modules if m == "my_plugin" or m.startswith("my_plugin.")]:
            del sys.modules[module]


def test_the_examples_register_and_their_components_work(docs_plugins, tmp_path):
    import torch
    from PIL import Image

    records = get_manager().records
    assert all(records[name].status == "active" for name in docs_plugins), {
        name: records[name].cause for name in docs_plugins}

    model = core.create_model("docs_tinynet_8", num_classes=3, global_pool="docs_gem")
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 3)
    assert model.pretrained_cfg["input_size"] == (3, 32, 32)
    model.reset_classifier(5, "avg")
    assert model(torch.randn(1, 3, 32, 32)).shape == (1, 5)
    assert core.list_names("model", "docs_tinynet_*") == ["docs_tinynet_8", "docs_tinynet_16"]

    x = torch.rand(2, 4, 3, 3) + 0.1
    assert torch.allclose(core.create("pool", "docs_gem", p=1.0)(x), x.mean(dim=(2, 3)), atol=1e-5)  # the mean
    assert torch.allclose(core.create("pool", "docs_gem", p=2.0)(x), x.pow(2).mean(dim=(2, 3)).sqrt(), atol=1e-5)

    invert = core.create("augment", "docs_random_invert", p=1.0)
    assert invert(Image.new("RGB", (2, 2), (10, 20, 30))).getpixel((0, 0)) == (245, 235, 225)

    for i, label in enumerate(["cat", "dog", "cat"]):
        Image.new("RGB", (4, 4)).save(tmp_path / f"{i}.png")
    (tmp_path / "labels.csv").write_text("".join(f"{i}.png,{label}\n" for i, label in enumerate(["cat", "dog", "cat"])))
    reader = core.create("reader", "docs_csv", root=str(tmp_path))
    assert len(reader) == 3 and reader.class_to_idx == {"cat": 0, "dog": 1} and reader[1][1] == 1

    weight = torch.nn.Parameter(torch.ones(2))
    optimizer = core.create_optimizer([weight], "docs_nesterov", lr=0.1)
    assert optimizer.param_groups[0]["nesterov"] is True

    scheduler = core.create("scheduler", "docs_halving", optimizer, every=2)
    scheduler.step(4)
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.1 * 0.25)

    loss = core.create("loss", "docs_smoothed_ce")
    assert float(loss(torch.zeros(2, 4), torch.tensor([0, 1]))) == pytest.approx(float(torch.log(torch.tensor(4.0))))

    logger = core.create("logger", "docs_jsonl")
    logger.start(tmp_path, {})
    logger.log_epoch({"epoch": 1, "val_top1": 50.0})
    logger.close()
    assert (tmp_path / "epochs.jsonl").read_text().strip() == '{"epoch": 1, "val_top1": 50.0}'


def _call(hook_name: str, plugin: str, **kwargs):
    """Call one docs plugin's implementation the way pluggy does: only the arguments it declares."""
    caller = getattr(get_manager()._pm.hook, hook_name)
    impls = [impl for impl in caller.get_hookimpls() if impl.plugin_name == plugin]
    assert len(impls) == 1, (hook_name, plugin)
    return impls[0].function(**{name: kwargs[name] for name in impls[0].argnames})


def test_the_run_event_example_stops_a_run_that_stopped_improving(docs_plugins):
    stops = []
    run = SimpleNamespace(state={}, request_stop=stops.append)
    _call("pimm_run_start", "docs_early_stop", run=run, start_epoch=0)
    for epoch, metric in enumerate([50.0, 60.0, 59.0, 58.0, 57.0], start=1):
        _call("pimm_validated", "docs_early_stop", run=run, epoch=epoch, metrics={"metric": metric})
        _call("pimm_epoch_end", "docs_early_stop", run=run, epoch=epoch, metrics={})
    assert stops == ["no improvement for 3 epochs (stopped after epoch 5)"]


def test_the_cli_example_adds_a_working_command(docs_plugins, capsys):
    parser = argparse.ArgumentParser()
    subparsers = parser.add_subparsers()
    functions = [f for _, f in get_manager().hook_functions("pimm_cli_commands") if f.__module__ == "my_plugin.commands"]
    assert len(functions) == 1
    for name, add_parser in functions[0]().items():
        add_parser(subparsers)
    args = parser.parse_args(["docs-count", "pool"])
    assert args.func(args) == 0
    assert int(capsys.readouterr().out) == len(core.list_names("pool"))


def test_the_journal_example_records_the_other_run_events(docs_plugins, tmp_path):
    checkpoint = tmp_path / "checkpoint"
    checkpoint.mkdir()
    (checkpoint / "model.safetensors").write_text("weights")
    run = SimpleNamespace(state={}, run_dir=tmp_path, epochs=2, is_main=True, stop_reason=None,
                          request_stop=lambda reason: None)
    _call("pimm_epoch_start", "docs_journal", run=run, epoch=1)
    _call("pimm_checkpoint_saved", "docs_journal", run=run, epoch=1, path=checkpoint, metrics={}, is_best=True)
    _call("pimm_run_end", "docs_journal", run=run, epochs_done=2, best={"metric": 60.0, "epoch": 1})
    _call("pimm_run_failed", "docs_journal", run=run, error=RuntimeError("disk full"))
    assert (tmp_path / "journal.txt").read_text().splitlines() == [
        "epoch 1/2 starts",
        "epoch 1 saved (best)",
        "done after 2 epochs; best {'metric': 60.0, 'epoch': 1}; stop reason None",
        "failed: RuntimeError: disk full",
    ]
    assert (tmp_path / "best-copy" / "model.safetensors").read_text() == "weights"
