"""The ``pimm`` command: collects every sub-command through the ``pimm_cli_commands`` hook and runs one.

pimm's own commands (list, info, plugins, check, show, train, validate, export, predict, push) and a
plugin's commands are added the same way: an implementation of ``pimm_cli_commands`` returns
``{name: add_parser}``.

Errors print one line (``pimm: error: ...``) and exit non-zero; ``--debug`` shows the traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections.abc import Callable, Sequence
from typing import Any

from ..errors import PimmError
from ..hookspecs import hookimpl

EXIT_OK = 0
EXIT_FAILED = 1  # the command ran and found problems (failing checks)
EXIT_ERROR = 2  # bad input: unknown name, bad option, missing file ...
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE: the reader of a pipe closed it, as `yes | head` reports

_SUBCOMMANDS: dict[str, Callable[[argparse._SubParsersAction], None]] = {}


def subcommand(name: str) -> Callable[[Callable[[argparse._SubParsersAction], None]], Callable]:
    """Register a function that adds the ``name`` sub-parser (per-kind packages add their tools)."""

    def register(add_parser: Callable[[argparse._SubParsersAction], None]) -> Callable:
        _SUBCOMMANDS[name] = add_parser
        return add_parser

    return register


# -- entry point ---------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser: every command of every provider of the ``pimm_cli_commands`` hook."""
    from .._version import __version__

    parser = argparse.ArgumentParser(
        prog="pimm", description="pimm: pluggable image models. Every model, pool, augmentation, "
        "reader and optimizer is a plugin component; plugins can add commands too.")
    parser.add_argument("--version", action="version", version=f"pimm {__version__}")
    parser.add_argument("--debug", action="store_true", help="show full tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for provider, add in collect_commands():
        _add_command(sub, provider, add)
    return parser


def _warn(message: str) -> None:
    from ..manager import PimmPluginWarning

    warnings.warn(message, PimmPluginWarning, stacklevel=3)


def _add_command(sub: argparse._SubParsersAction, provider: str, add: tuple[str, Callable]) -> bool:
    """Let ``provider`` add command ``name``; a failing or misbehaving add is contained and reported.

    Returns whether the command is now there.
    """
    name, add_parser = add
    before = set(sub.choices)
    try:
        add_parser(sub)
    except Exception as exc:  # a plugin's command must never take the CLI down
        for added in set(sub.choices) - before:
            sub.choices.pop(added, None)
        _warn(f"pimm command {name!r} from plugin {provider!r} was left out: adding it failed with "
              f"{type(exc).__name__}: {exc}")
        return False
    added = set(sub.choices) - before
    if name not in added:
        _warn(f"plugin {provider!r} declared command {name!r} but its add_parser added "
              f"{', '.join(sorted(added)) or 'nothing'}; call subparsers.add_parser({name!r}, ...)")
    return name in added


def command_providers() -> dict[str, list[str]]:
    """``{provider: [command names]}`` of the commands that are really added (for ``pimm plugins``)."""
    scratch = argparse.ArgumentParser(prog="pimm").add_subparsers()
    found: dict[str, list[str]] = {}
    for provider, add in collect_commands():
        if _add_command(scratch, provider, add):
            found.setdefault(provider, []).append(add[0])
    return found


def collect_commands() -> list[tuple[str, tuple[str, Callable]]]:
    """(provider, (name, add_parser)) for every command: pimm's own first, then each plugin's.

    pimm's own commands come from :class:`BuiltinCommands`, an implementation of the same
    ``pimm_cli_commands`` hook a plugin writes; a plugin command whose name is already taken is
    left out with a warning (builtins win, then the first plugin in load order).
    """
    from ..manager import get_manager

    providers: list[tuple[str, Callable[[], Any]]] = [("pimm", BuiltinCommands().pimm_cli_commands)]
    try:
        providers += [(record.name, function) for record, function in get_manager().hook_functions("pimm_cli_commands")]
    except PimmError as exc:  # strict mode and a broken plugin set: the builtins still run
        _warn(f"plugin commands are unavailable: {exc}")
    taken: dict[str, str] = {}
    commands: list[tuple[str, tuple[str, Callable]]] = []
    for provider, hook in providers:
        try:
            declared = dict(hook() or {})
        except Exception as exc:
            _warn(f"pimm_cli_commands() of plugin {provider!r} failed ({type(exc).__name__}: {exc}); "
                  f"its commands are left out")
            continue
        for name, add_parser in declared.items():
            if not isinstance(name, str) or not callable(add_parser):
                _warn(f"plugin {provider!r}: pimm_cli_commands() must map command names to "
                      f"add_parser(subparsers) functions, got {name!r}: {add_parser!r}")
                continue
            if name in taken:
                _warn(f"plugin {provider!r} adds command {name!r}, which {taken[name]!r} already "
                      f"provides; the {taken[name]!r} one is kept")
                continue
            taken[name] = provider
            commands.append((provider, (name, add_parser)))
    return commands


class BuiltinCommands:
    """pimm's own commands, provided through the ``pimm_cli_commands`` hook like a plugin's."""

    @hookimpl
    def pimm_cli_commands(self) -> dict[str, Callable[[argparse._SubParsersAction], None]]:
        """Import the command modules (no torch) and return what they registered with ``subcommand``."""
        import importlib

        for module in _TOOL_MODULES:
            importlib.import_module(module, __package__)
        return dict(_SUBCOMMANDS)


#: Modules adding pimm's own commands via :func:`subcommand`; imported lazily, they must not import torch.
_TOOL_MODULES: tuple[str, ...] = (".cli_components", ".cli_show", ".cli_train", ".cli_predict", ".cli_push")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``pimm`` command; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        func = getattr(args, "func", None)
        if func is None:  # a plugin command that set no func=
            parser.error(f"command {args.command!r} does nothing: its plugin set no func= on its parser")
        status = int(func(args) or 0)
        sys.stdout.flush()  # a closed pipe shows up here, inside the handler below
        if _launched_by_torchrun():
            _exit_without_teardown(status)
        return status
    except PimmError as exc:
        if debug:
            raise
        print(f"pimm: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except (FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError) as exc:
        if debug:
            raise
        print(f"pimm: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:
        return _quiet_broken_pipe()
    except KeyboardInterrupt:
        print("pimm: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # anything else is a bug: one line, traceback behind --debug
        if debug:
            raise
        print(f"pimm: internal error: {type(exc).__name__}: {exc} (rerun with --debug for the traceback)",
              file=sys.stderr)
        return EXIT_FAILED


def _launched_by_torchrun() -> bool:
    return "TORCHELASTIC_RUN_ID" in os.environ and "RANK" in os.environ


def _exit_without_teardown(status: int) -> None:
    """End a torchrun worker whose command finished: skip interpreter teardown, where destructors of
    torch's gloo and DataLoader threads can abort the process ("terminate called without an active
    exception") after a successful run, which torchrun would count as a failed attempt and restart."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


def _quiet_broken_pipe() -> int:
    """The reader of our output went away (``pimm info ... | head``): stop quietly, like a Unix tool.

    stdout is pointed at /dev/null so that the interpreter's final flush does not raise again.
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # stdout without a file descriptor (captured)
        pass
    return EXIT_BROKEN_PIPE


if __name__ == "__main__":
    # Run as `python -m pimm.core.app.cli` this file is `__main__`; the tool modules register their
    # sub-commands on the importable `pimm.core.app.cli`, so dispatch through that one.
    from pimm.core.app.cli import main as _package_main

    sys.exit(_package_main())
