"""Sub-commands come from the `pimm_cli_commands` hook: pimm's own and a plugin's, the same way."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

import pytest

from pimm import core
from pimm.core.app.cli import EXIT_BROKEN_PIPE, build_parser, collect_commands, main
from pimm.core.manager import PimmPluginWarning

BUILTIN = {"list", "info", "plugins", "check", "show", "train", "validate", "export"}


def _run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _add_shout(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("shout", help="print the word in capitals")
    p.add_argument("word")
    p.set_defaults(func=lambda args: print(args.word.upper()) or 0)


def _add_list_again(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("list", help="hijack")
    p.set_defaults(func=lambda args: print("hijacked") or 0)


def _add_broken(sub: argparse._SubParsersAction) -> None:
    sub.add_parser("broken")
    raise RuntimeError("cannot add")


class CommandPlugin:
    @core.hookimpl
    def pimm_cli_commands(self):
        return {"shout": _add_shout, "list": _add_list_again, "broken": _add_broken}


@pytest.fixture
def command_plugin():
    name = core.register_plugin(CommandPlugin(), name="cmdplugin")
    yield name
    core.unregister_plugin(name)


def test_builtin_commands_come_through_the_hook():
    provided = {name: provider for provider, (name, _) in collect_commands()}
    assert BUILTIN <= set(provided)
    assert all(provided[name] == "pimm" for name in BUILTIN)


def test_plugin_command_runs_and_clashes_and_failures_are_contained(capsys, command_plugin):
    with pytest.warns(PimmPluginWarning) as caught:
        code, out, _ = _run(capsys, "shout", "hello")
    assert code == 0 and out == "HELLO\n"
    messages = " | ".join(str(w.message) for w in caught)
    assert "adds command 'list', which 'pimm' already provides" in messages
    assert "command 'broken' from plugin 'cmdplugin' was left out" in messages and "cannot add" in messages
    with pytest.warns(PimmPluginWarning):
        parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert "broken" not in sub.choices  # the half-added parser is removed again
    with pytest.warns(PimmPluginWarning):
        code, out, _ = _run(capsys, "list", "pools", "avg")
    assert code == 0 and out == "avg\n"  # the builtin list, not the hijack


def test_example_plugin_command():
    pytest.importorskip("pimm_example_plugin")
    out = subprocess.run([sys.executable, "-m", "pimm.core.cli", "example-hello", "pimm"],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "hello pimm: the example plugin provides tinynet_8, tinynet_16"


def test_list_without_kind_groups_every_kind(capsys):
    code, out, _ = _run(capsys, "list")
    assert code == 0
    assert "models (" in out and "pools (" in out and "optimizers (" in out
    assert "  resnet18\n" in out and "  avg\n" in out
    code, out, _ = _run(capsys, "list", "--json")
    data = json.loads(out)
    assert "resnet18" in data["model"] and "avg" in data["pool"]
    code, out, _ = _run(capsys, "list", "resnet1?")  # a pattern alone searches every kind
    assert out.splitlines() == ["models (1):", "  resnet18"]
    assert "pools" not in out


def test_plural_kind_names(capsys):
    _, singular, _ = _run(capsys, "list", "model", "resnet1*")
    _, plural, _ = _run(capsys, "list", "models", "resnet1*")
    assert singular == plural and "resnet18\n" in plural
    code, out, _ = _run(capsys, "info", "pools", "avg")
    assert code == 0 and out.startswith("pool avg")
    code, out, err = _run(capsys, "list", "modle")
    assert code == 0 and out == "" and "nothing matches 'modle'" in err


def test_broken_pipe_is_silent():
    """`pimm list | head -0`: the reader is gone before pimm writes; no traceback, exit 141."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        proc = subprocess.run([sys.executable, "-m", "pimm.core.cli", "list", "models"], stdout=write_end,
                              stderr=subprocess.PIPE, text=True, timeout=120)
    finally:
        os.close(write_end)
    assert proc.stderr == ""
    assert proc.returncode == EXIT_BROKEN_PIPE


def test_plugins_lists_the_commands_a_plugin_adds(capsys, command_plugin):
    with pytest.warns(PimmPluginWarning):
        code, out, _ = _run(capsys, "plugins")
    row = next(line for line in out.splitlines() if line.startswith("cmdplugin"))
    assert code == 0 and row.endswith("command shout")
    with pytest.warns(PimmPluginWarning):
        code, out, _ = _run(capsys, "plugins", "--json")
    record = next(r for r in json.loads(out) if r["name"] == "cmdplugin")
    assert record["commands"] == ["shout"]  # "list" was refused, "broken" failed
