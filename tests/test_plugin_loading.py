"""Plugin loading through entry points of fake installed distributions, env switches, failures."""

from __future__ import annotations

import importlib
import threading

import pytest

from pimm import core
from pimm.core import manager
from pimm.core.errors import ConfigError, PimmError, PluginLoadError, UnknownComponentError, UnknownPluginError
from pimm.core.manager import PimmPluginWarning, get_manager

from kernel_helpers import forget_modules, make_distribution, pool_plugin

FAKE_PACKAGES = ("fake_good", "fake_boom", "fake_hookfail", "fake_junk", "fake_dup_a", "fake_dup_b",
                 "fake_typo", "fake_envmod", "fake_other", "fake_nohook", "fake_exit", "fake_hookexit",
                 "fake_ctrlc", "fake_callback", "fake_baddefault", "fake_marker")


@pytest.fixture
def site(monkeypatch, tmp_path):
    """An empty fake site directory on sys.path and a clean plugin state."""
    for var in (manager.ENV_BLOCK, manager.ENV_DISABLE_AUTOLOAD, manager.ENV_PLUGINS, manager.ENV_STRICT):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.syspath_prepend(str(tmp_path))
    manager._WARNED.clear()
    core.reset_plugins()
    yield tmp_path
    core.reset_plugins()
    forget_modules(FAKE_PACKAGES)


def add_good(site, name="good", pool="fakegem", version="1.2.0", package="fake_good"):
    make_distribution(site, f"fake-{name}", version, {name: package}, {package: pool_plugin(pool)})


def records():
    core.list_names("pool")
    return get_manager().records


def fakes():
    """Pool names provided by the fake distributions of these tests."""
    return core.list_names("pool", "fake*")


def test_good_plugin_is_loaded_with_distribution_and_version(site):
    add_good(site)
    assert "fakegem" in fakes()
    rec = records()["good"]
    assert (rec.distribution, rec.version, rec.source, rec.status) == ("fake-good", "1.2.0", "entry-point", "active")
    assert rec.counts["pool"] == 1
    assert core.create("pool", "fakegem", p=2.0) == {"flatten": True, "p": 2.0}


def test_plugin_failing_on_import_is_recorded_warned_once_and_skipped(site):
    add_good(site)
    make_distribution(site, "fake-boom", "0.3", {"boom": "fake_boom"},
                      {"fake_boom": "raise RuntimeError('kaboom at import')\n"})
    with pytest.warns(PimmPluginWarning, match=r"'boom' \(fake-boom 0.3\).*kaboom at import"):
        names = fakes()
    assert names == ["fakegem"]  # the good plugin keeps working
    rec = records()["boom"]
    assert rec.status == "failed" and "RuntimeError: kaboom at import" in rec.cause
    assert (rec.distribution, rec.version) == ("fake-boom", "0.3")
    core.reset_plugins()  # a reload in the same process does not warn again
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", PimmPluginWarning)
        core.list_names("pool")


def test_plugin_whose_hook_raises_is_skipped(site):
    add_good(site)
    make_distribution(site, "fake-hookfail", "1.0", {"hookfail": "fake_hookfail"}, {"fake_hookfail": """
        from pimm.core import hookimpl

        @hookimpl
        def pimm_pools():
            raise ValueError("hook exploded")
    """})
    with pytest.warns(PimmPluginWarning, match="hook exploded"):
        assert fakes() == ["fakegem"]
    assert records()["hookfail"].status == "failed"


@pytest.mark.parametrize("returned", ["'not a list'", "[{'name': 'x'}]", "[1, 2]", "42",
                                      "[ModelSpec(name='m', target='a:b')]"])
def test_plugin_returning_junk_is_skipped(site, returned):
    add_good(site)
    make_distribution(site, "fake-junk", "1.0", {"junk": "fake_junk"}, {"fake_junk": f"""
        from pimm.core import hookimpl
        from pimm.core.specs import ModelSpec

        @hookimpl
        def pimm_pools():
            return {returned}
    """})
    with pytest.warns(PimmPluginWarning, match="junk"):
        assert fakes() == ["fakegem"]
    rec = records()["junk"]
    assert rec.status == "failed" and "pimm_pools()" in rec.cause


def test_misspelled_hookimpl_is_an_error_for_that_plugin(site):
    add_good(site)
    make_distribution(site, "fake-typo", "1.0", {"typo": "fake_typo"}, {"fake_typo": """
        from pimm.core import hookimpl

        @hookimpl
        def pimm_pool():
            return []
    """})
    with pytest.warns(PimmPluginWarning, match="unknown hook 'pimm_pool' \\(did you mean 'pimm_pools'\\?\\)"):
        assert fakes() == ["fakegem"]
    assert records()["typo"].status == "failed"


def test_duplicate_names_are_never_silent(site):
    make_distribution(site, "fake-dup-a", "1.0", {"dupa": "fake_dup_a"}, {"fake_dup_a": pool_plugin("fakegem")})
    make_distribution(site, "fake-dup-b", "2.0", {"dupb": "fake_dup_b"},
                      {"fake_dup_b": pool_plugin("fakegem") + pool_plugin("other_pool").split("class GemOptions")[0]})
    make_distribution(site, "fake-other", "1.0", {"other": "fake_other"}, {"fake_other": pool_plugin("fakeunrelated")})
    with pytest.raises(core.AmbiguousComponentError) as info:
        core.create("pool", "fakegem")
    message = str(info.value)
    for needed in ("'dupa' (fake-dup-a 1.0)", "'dupb' (fake-dup-b 2.0)", "dupa::fakegem", "dupb::fakegem",
                   "PIMM_BLOCK_PLUGINS"):
        assert needed in message
    assert core.create("pool", "dupb::fakegem", p=1.5)["p"] == 1.5  # qualified name resolves
    assert core.create("pool", "fakeunrelated") == {"flatten": True, "p": 3.0}  # other names unaffected


def test_blocking_one_duplicate_resolves_the_name(site, monkeypatch):
    make_distribution(site, "fake-dup-a", "1.0", {"dupa": "fake_dup_a"}, {"fake_dup_a": pool_plugin("fakegem")})
    make_distribution(site, "fake-dup-b", "2.0", {"dupb": "fake_dup_b"}, {"fake_dup_b": pool_plugin("fakegem")})
    monkeypatch.setenv("PIMM_BLOCK_PLUGINS", "dupb")
    assert core.create("pool", "fakegem") == {"flatten": True, "p": 3.0}
    assert records()["dupb"].status == "blocked"
    assert "fake_dup_b" not in __import__("sys").modules  # a blocked plugin is never imported


def test_blocking_by_distribution_name(site, monkeypatch):
    add_good(site)
    monkeypatch.setenv("PIMM_BLOCK_PLUGINS", "fake-good")
    assert fakes() == []
    assert records()["good"].status == "blocked"


def test_blocking_an_unknown_name_is_an_error(site, monkeypatch):
    add_good(site)
    monkeypatch.setenv("PIMM_BLOCK_PLUGINS", "good, nosuchplugin")
    with pytest.raises(UnknownPluginError, match="'nosuchplugin'.*known plugins:.*good"):
        core.list_names("pool")


def test_strict_mode_turns_failures_into_errors(site, monkeypatch):
    add_good(site)
    make_distribution(site, "fake-boom", "0.3", {"boom": "fake_boom"},
                      {"fake_boom": "raise RuntimeError('kaboom at import')\n"})
    monkeypatch.setenv("PIMM_STRICT_PLUGINS", "1")
    with pytest.raises(PluginLoadError, match="kaboom at import.*PIMM_STRICT_PLUGINS=1"):
        core.list_names("pool")


def test_strict_mode_catches_bad_hook_results(site, monkeypatch):
    make_distribution(site, "fake-junk", "1.0", {"junk": "fake_junk"}, {"fake_junk": """
        from pimm.core import hookimpl

        @hookimpl
        def pimm_pools():
            return [1]
    """})
    monkeypatch.setenv("PIMM_STRICT_PLUGINS", "true")
    with pytest.raises(PluginLoadError, match="expected PoolSpec"):
        core.list_names("pool")


def test_disable_autoload_skips_entry_points_but_not_pimm_plugins(site, monkeypatch):
    add_good(site)
    (site / "fake_envmod.py").write_text(pool_plugin("fakeenvpool"))
    monkeypatch.setenv("PIMM_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.setenv("PIMM_PLUGINS", "fake_envmod")
    assert fakes() == ["fakeenvpool"]
    assert "good" not in records()
    assert records()["fake_envmod"].source == "env"


def test_loading_order_is_builtins_then_entry_points_then_env(site, monkeypatch):
    add_good(site)
    (site / "fake_envmod.py").write_text(pool_plugin("fakeenvpool"))
    monkeypatch.setenv("PIMM_PLUGINS", "fake_envmod")
    sources = [r.source for r in records().values()]
    assert sources == sorted(sources, key=["builtin", "entry-point", "env"].index)
    assert sources[-2:] == ["entry-point", "env"]


def test_pimm_plugins_module_that_fails_to_import(site, monkeypatch):
    monkeypatch.setenv("PIMM_PLUGINS", "fake_envmod_missing")
    with pytest.warns(PimmPluginWarning, match="fake_envmod_missing"):
        core.list_names("pool")
    assert records()["fake_envmod_missing"].status == "failed"


def test_unknown_name_mentions_failed_plugins(site):
    make_distribution(site, "fake-boom", "0.3", {"boom": "fake_boom"},
                      {"fake_boom": "raise ImportError('missing dependency foo')\n"})
    with pytest.warns(PimmPluginWarning):
        with pytest.raises(UnknownComponentError, match=r"failed to load.*boom.*missing dependency foo"):
            core.create("pool", "fakegem")


def test_loading_happens_on_first_use_not_at_import(site):
    add_good(site)
    import importlib
    import sys

    importlib.reload(sys.modules["pimm.core"])
    assert "fake_good" not in sys.modules
    core.list_names("pool")
    assert "fake_good" in sys.modules


# -- the plugin contract's holes, closed -----------------------------------------------------------


def test_installed_plugin_also_named_in_pimm_plugins_keeps_its_components(site, monkeypatch):
    add_good(site)
    monkeypatch.setenv("PIMM_PLUGINS", "fake_good")
    assert fakes() == ["fakegem"]
    assert records()["good"].status == "active"
    assert "fake_good" not in records()  # the same module is registered once, under its first name
    assert core.create("pool", "fakegem", p=2.0) == {"flatten": True, "p": 2.0}


def test_register_plugin_again_under_another_name_is_an_error_and_changes_nothing(site):
    add_good(site)
    module = importlib.import_module("fake_good")
    core.list_names("pool")
    with pytest.raises(PluginLoadError, match="already registered as plugin 'good'"):
        core.register_plugin(module, name="again")
    assert records()["good"].status == "active" and "again" not in records()
    assert core.create("pool", "fakegem") == {"flatten": True, "p": 3.0}


NO_HOOKIMPL = """
    from pimm.core.specs import PoolSpec

    def pimm_pools():  # the @hookimpl decorator is missing
        return [PoolSpec(name="fakenohook", target="collections:OrderedDict")]
"""


def test_plugin_without_any_hookimpl_is_reported_not_active(site):
    make_distribution(site, "fake-nohook", "1.0", {"nohook": "fake_nohook"}, {"fake_nohook": NO_HOOKIMPL})
    with pytest.warns(PimmPluginWarning, match="'nohook'.*implements no pimm hook.*forgotten @hookimpl"):
        core.list_names("pool")
    rec = records()["nohook"]
    assert rec.status == "failed" and "forgotten @hookimpl" in rec.cause


def test_plugin_without_any_hookimpl_fails_strict_mode_pimm_check_and_the_pytest_route(site, monkeypatch, capsys):
    from pimm.core.app.cli import main
    from pimm.core.testing import parametrize_components

    make_distribution(site, "fake-nohook", "1.0", {"nohook": "fake_nohook"}, {"fake_nohook": NO_HOOKIMPL})
    with pytest.warns(PimmPluginWarning):
        assert main(["check", "nohook"]) != 0
    assert "forgotten @hookimpl" in capsys.readouterr().err
    with pytest.raises(ConfigError, match="forgotten @hookimpl"):
        parametrize_components(plugin="nohook")  # a collection error, never "1 skipped"
    monkeypatch.setenv("PIMM_STRICT_PLUGINS", "1")
    core.reset_plugins()
    with pytest.raises(PluginLoadError, match="implements no pimm hook"):
        core.list_names("pool")


def test_pytest_route_on_a_plugin_that_provides_nothing_is_an_error_not_a_skip(site):
    from pimm.core.testing import parametrize_components

    make_distribution(site, "fake-other", "1.0", {"other": "fake_other"}, {"fake_other": """
        from pimm.core import hookimpl

        @hookimpl
        def pimm_pools():
            return []
    """})
    with pytest.raises(ConfigError, match="plugin 'other' provides no component"):
        parametrize_components(plugin="other")


@pytest.mark.parametrize("code", ["import sys\nsys.exit(3)\n", "raise SystemExit('bye')\n",
                                  "raise GeneratorExit()\n"])
def test_base_exceptions_at_import_are_contained(site, code):
    add_good(site)
    make_distribution(site, "fake-exit", "1.0", {"exit": "fake_exit"}, {"fake_exit": code})
    with pytest.warns(PimmPluginWarning, match="'exit'.*import failed"):
        assert fakes() == ["fakegem"]
    assert records()["exit"].status == "failed"


def test_system_exit_in_a_hook_is_contained(site):
    add_good(site)
    make_distribution(site, "fake-hookexit", "1.0", {"hookexit": "fake_hookexit"}, {"fake_hookexit": """
        import sys
        from pimm.core import hookimpl

        @hookimpl
        def pimm_pools():
            sys.exit("leaving")
    """})
    with pytest.warns(PimmPluginWarning, match="'hookexit'.*pimm_pools\\(\\) failed: SystemExit"):
        assert fakes() == ["fakegem"]


def test_a_real_ctrl_c_in_a_hook_still_interrupts(site):
    make_distribution(site, "fake-ctrlc", "1.0", {"ctrlc": "fake_ctrlc"}, {"fake_ctrlc": """
        from pimm.core import hookimpl

        @hookimpl
        def pimm_pools():
            raise KeyboardInterrupt
    """})
    with pytest.raises(KeyboardInterrupt):
        core.list_names("pool")


def test_hook_calling_back_into_the_registry_does_not_deadlock(site):
    add_good(site)
    make_distribution(site, "fake-callback", "1.0", {"callback": "fake_callback"}, {"fake_callback": """
        from pimm import core
        from pimm.core import hookimpl
        from pimm.core.specs import PoolSpec

        @hookimpl
        def pimm_pools():
            names = core.list_names("pool")
            core.get_spec("pool", "avg")
            return [PoolSpec(name=f"fakecopy{len(names)}", target="collections:OrderedDict")]
    """})
    outcome = {}

    def run():
        try:
            with pytest.warns(PimmPluginWarning, match="'callback'.*looked up components"):
                outcome["names"] = fakes()
        except BaseException as exc:  # report in the main thread
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout=20)
    assert not thread.is_alive(), "the registry deadlocked on a hook that called core.list_names"
    assert "error" not in outcome, outcome.get("error")
    assert outcome["names"] == ["fakegem"] and records()["callback"].status == "failed"


def test_strict_mode_raises_every_time_not_only_the_first(site, monkeypatch):
    add_good(site)
    make_distribution(site, "fake-boom", "0.3", {"boom": "fake_boom"},
                      {"fake_boom": "raise RuntimeError('kaboom at import')\n"})
    monkeypatch.setenv("PIMM_STRICT_PLUGINS", "1")
    for _ in range(3):
        with pytest.raises(PluginLoadError, match="kaboom at import"):
            core.list_names("pool")
        with pytest.raises(PluginLoadError, match="kaboom at import"):
            core.create("pool", "fakegem")


def test_strict_mode_raises_every_time_for_a_failing_hook_too(site, monkeypatch):
    make_distribution(site, "fake-hookexit", "1.0", {"hookexit": "fake_hookexit"}, {"fake_hookexit": """
        from pimm.core import hookimpl

        @hookimpl
        def pimm_pools():
            raise ValueError("broken hook")
    """})
    monkeypatch.setenv("PIMM_STRICT_PLUGINS", "1")
    for _ in range(2):
        with pytest.raises(PluginLoadError, match="broken hook"):
            core.list_names("pool")


BAD_DEFAULT = """
    from pydantic import Field
    from pimm.core import hookimpl
    from pimm.core.specs import Options, PoolSpec

    class BadOptions(Options):
        flatten: bool = Field(True, description="flatten")
        p: float = Field(-1.0, gt=0, description="exponent; the default breaks its own rule")

    @hookimpl
    def pimm_pools():
        return [PoolSpec(name="fakebaddefault", target="collections:OrderedDict", options=BadOptions)]
"""


def test_options_defaults_that_fail_their_own_validation_are_reported_at_load(site):
    add_good(site)
    make_distribution(site, "fake-baddefault", "1.0", {"baddefault": "fake_baddefault"},
                      {"fake_baddefault": BAD_DEFAULT})
    with pytest.warns(PimmPluginWarning, match="'fakebaddefault'.*BadOptions.*defaults that fail.*p=-1.0"):
        assert fakes() == ["fakegem"]
    assert records()["baddefault"].status == "failed"


def test_options_defaults_that_fail_are_an_error_in_strict_mode(site, monkeypatch):
    make_distribution(site, "fake-baddefault", "1.0", {"baddefault": "fake_baddefault"},
                      {"fake_baddefault": BAD_DEFAULT})
    monkeypatch.setenv("PIMM_STRICT_PLUGINS", "1")
    with pytest.raises(PluginLoadError, match="defaults that fail its own validation"):
        core.list_names("pool")


@pytest.mark.parametrize("marker", ["tryfirst=True", "trylast=True", "hookwrapper=True", "wrapper=True"])
def test_ordering_markers_on_collection_hooks_are_rejected(site, marker):
    add_good(site)
    make_distribution(site, "fake-marker", "1.0", {"marker": "fake_marker"}, {"fake_marker": f"""
        from pimm.core import hookimpl

        @hookimpl({marker})
        def pimm_pools():
            yield
    """})
    name = marker.split("=")[0]
    with pytest.warns(PimmPluginWarning, match=f"pimm_pools is marked {name}, which pimm does not honour"):
        assert fakes() == ["fakegem"]
    assert records()["marker"].status == "failed"


def test_blocked_plugin_is_named_in_unknown_name_errors(site, monkeypatch):
    add_good(site)
    monkeypatch.setenv("PIMM_BLOCK_PLUGINS", "good")
    with pytest.raises(UnknownComponentError, match="'good' are blocked by PIMM_BLOCK_PLUGINS"):
        core.create("pool", "fakegem")


def test_pimm_plugins_module_names_its_distribution_even_after_an_earlier_scan(site, monkeypatch):
    from pimm.core.plugin_record import distribution_of_module

    assert distribution_of_module("fake_other") == (None, None)  # scanned (and kept) before it exists
    make_distribution(site, "fake-other", "4.5", {}, {"fake_other": pool_plugin("fakeother")})
    monkeypatch.setenv("PIMM_PLUGINS", "fake_other")
    rec = records()["fake_other"]
    assert (rec.distribution, rec.version, rec.status) == ("fake-other", "4.5", "active")


def test_one_hook_implemented_twice_through_specname_is_rejected(site):
    class Twice:
        @core.hookimpl
        def pimm_pools(self):
            return []

        @core.hookimpl(specname="pimm_pools")
        def more_pools(self):
            return []

    with pytest.warns(PimmPluginWarning, match="pimm_pools is implemented twice"):
        core.register_plugin(Twice(), name="twice")
    assert records()["twice"].status == "failed"


def test_a_default_naming_a_blocked_component_does_not_fail_the_plugin(site, monkeypatch):
    """Blocking the builtin pools leaves the model plugins working: global_pool='' still builds."""
    monkeypatch.setenv("PIMM_BLOCK_PLUGINS", "pools")
    assert records()["resnet"].status == "active"
    model = core.create_model("resnet10t", global_pool="", num_classes=0).eval()
    assert model(__import__("torch").zeros(1, 3, 64, 64)).ndim == 4
    with pytest.raises(PimmError, match="unknown pool 'avg'.*'pools' are blocked"):
        core.create_model("resnet10t")


def test_loading_interrupted_by_ctrl_c_starts_again_on_the_next_call(site):
    marker = site / "interrupted-once"
    make_distribution(site, "fake-ctrlc", "1.0", {"ctrlc": "fake_ctrlc"}, {"fake_ctrlc": f"""
        import pathlib

        marker = pathlib.Path({str(marker)!r})
        if not marker.exists():
            marker.write_text("1")
            raise KeyboardInterrupt
        from fake_good import pimm_pools  # the second import works
    """})
    add_good(site)  # sorted after 'ctrlc': not loaded at all by the interrupted pass
    with pytest.raises(KeyboardInterrupt):
        core.list_names("pool")
    forget_modules(("fake_ctrlc",))
    assert fakes() == ["fakegem"]  # both plugins provide it now
    assert records()["good"].status == "active" and records()["ctrlc"].status == "active"
