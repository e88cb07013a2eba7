"""The `pimm` command: output and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from pydantic import Field

from pimm import core
from pimm.core.app.cli import EXIT_ERROR, EXIT_FAILED, main
from pimm.core.specs import Options, PoolSpec


class GemOptions(Options):
    flatten: bool = Field(True, description="flatten the pooled output")
    p: float = Field(3.0, gt=0, description="generalised-mean exponent")


def make_pool(flatten=True, p=3.0):
    return {"flatten": flatten, "p": p}


def broken_target(**kwargs):
    raise RuntimeError("cannot build")


class CliPlugin:
    @core.hookimpl
    def pimm_pools(self):
        return [
            PoolSpec(name="cli_gem", target="test_cli:make_pool", options=GemOptions, summary="GeM pooling",
                     aliases=("cli_generalized_mean",)),
            PoolSpec(name="cli_bad", target="test_cli:does_not_exist", summary="broken target"),
        ]


@pytest.fixture
def plugin():
    name = core.register_plugin(CliPlugin(), name="cliplugin")
    yield name
    core.unregister_plugin(name)


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_list_and_json(capsys, plugin):
    code, out, _ = run(capsys, "list", "pool", "cli_*")
    assert code == 0 and out.split() == ["cli_bad", "cli_gem"]
    code, out, _ = run(capsys, "list", "pool", "cli_*", "--exclude", "*bad", "--json")
    assert json.loads(out) == ["cli_gem"]


def test_info_shows_spec_options_and_provider(capsys, plugin):
    code, out, _ = run(capsys, "info", "pool", "cli_generalized_mean")
    assert code == 0
    for needed in ("pool cli_gem", "GeM pooling", "provider : cliplugin", "target   : test_cli:make_pool",
                   "flatten", "generalised-mean exponent", "3.0", "feat_mult"):
        assert needed in out
    code, out, _ = run(capsys, "info", "pool", "cli_gem", "--json")
    data = json.loads(out)
    assert data["plugin"]["name"] == "cliplugin" and "p" in data["options_schema"]["properties"]


def test_unknown_name_is_one_line_and_exit_2(capsys, plugin):
    code, out, err = run(capsys, "info", "pool", "cli_gme")
    assert code == EXIT_ERROR
    assert err.count("\n") == 1 and err.startswith("pimm: error: unknown pool 'cli_gme'")
    assert "Did you mean: cli_gem" in err and "Traceback" not in err


def test_debug_shows_the_traceback(plugin):
    with pytest.raises(core.UnknownComponentError):
        main(["--debug", "info", "pool", "cli_gme"])


def test_plugins_table_and_json(capsys, plugin):
    code, out, _ = run(capsys, "plugins")
    assert code == 0 and "cliplugin" in out and "runtime" in out and "2 pools" in out
    code, out, _ = run(capsys, "plugins", "--json")
    rec = next(r for r in json.loads(out) if r["name"] == "cliplugin")
    assert rec["status"] == "active" and rec["counts"]["pool"] == 2


def test_check_reports_failures_with_exit_1(capsys, plugin):
    code, out, _ = run(capsys, "check", "cliplugin")
    assert code == EXIT_FAILED
    assert "FAIL pool/cli_bad::check_target_importable" in out
    assert "PASS" not in out  # passing cases are quiet without -v
    assert out.splitlines()[-1].endswith("skipped") and " 0 failed" not in out.splitlines()[-1]


def test_check_passes_for_a_conforming_plugin(capsys):
    code, out, _ = run(capsys, "check", "pools", "-v")
    assert code == 0, out
    assert "PASS pool/avg::check_spec_json_round_trip" in out
    assert ", 0 failed," in out.splitlines()[-1]


def test_check_unknown_plugin(capsys):
    code, _, err = run(capsys, "check", "no-such-plugin")
    assert code == EXIT_ERROR and "no plugin named 'no-such-plugin'" in err


def test_bad_usage_exits_2(capsys):
    with pytest.raises(SystemExit) as info:
        main(["info", "modle", "resnet18"])
    assert info.value.code == 2
    assert "unknown kind 'modle'" in capsys.readouterr().err


def test_console_script_runs():
    exe = [sys.executable, "-m", "pimm.core.cli"]
    out = subprocess.run([*exe, "list", "pool", "--json"], capture_output=True, text=True)
    assert out.returncode == 0 and isinstance(json.loads(out.stdout), list)
    bad = subprocess.run([*exe, "info", "model", "resnet5O"], capture_output=True, text=True)
    assert bad.returncode == EXIT_ERROR and bad.stderr.startswith("pimm: error: unknown model")


def test_module_entry_point_knows_the_tool_commands():
    """`python -m pimm.core.cli train ...` (as torchrun runs it) sees the same sub-commands as `pimm`."""
    out = subprocess.run([sys.executable, "-m", "pimm.core.cli", "train", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "--model" in out.stdout, out.stderr
