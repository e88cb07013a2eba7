"""``pimm list``, ``info``, ``plugins`` and ``check``: the commands about components and plugins.

No torch import here. Kind arguments accept the singular (``model``) and the plural (``models``).
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from collections.abc import Sequence
from typing import Any

from ..errors import PimmError
from ..specs import KINDS
from .cli import EXIT_FAILED, EXIT_OK, subcommand


def plural(kind: str) -> str:
    """The plural of a kind name (``model`` -> ``models``, ``loss`` -> ``losses``)."""
    return kind + ("es" if kind.endswith(("s", "x", "ch", "sh")) else "s")


def kind_argument(text: str) -> str:
    """argparse ``type=`` for a kind: singular or plural, any case; an unknown one is a clear error."""
    wanted = text.strip().lower()
    for kind in KINDS:
        if wanted in (kind, plural(kind)):
            return kind
    raise argparse.ArgumentTypeError(
        f"unknown kind {text!r}; choose one of {', '.join(KINDS)} (plurals work too: {plural(KINDS[0])})")


def _print_table(rows: list[Sequence[Any]], header: Sequence[str]) -> None:
    cells = [[str(c) for c in header]] + [[("" if c is None else str(c)) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    for i, row in enumerate(cells):
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
        if i == 0:
            print("  ".join("-" * w for w in widths))


# -- list ----------------------------------------------------------------------------------------


def _kind_or_none(text: str) -> str | None:
    wanted = text.strip().lower()
    return next((k for k in KINDS if wanted in (k, plural(k))), None)


def _cmd_list(args: argparse.Namespace) -> int:
    from ..factory import list_names

    words = list(args.words)
    kind = _kind_or_none(words[0]) if words else None
    patterns = words[1:] if kind else words
    kinds = [kind] if kind else list(KINDS)
    found: dict[str, list[str]] = {}
    for k in kinds:
        try:
            found[k] = list_names(k, patterns or None, args.exclude or None)
        except PimmError:
            if kind:
                raise
            found[k] = []  # a kind no plugin provides yet: nothing to list
    if args.json:
        print(json.dumps(found[kind] if kind else found))
        return EXIT_OK
    if kind:
        for name in found[kind]:
            print(name)
    else:
        for k, names in found.items():
            if names:
                print(f"{plural(k)} ({len(names)}):")
                for name in names:
                    print(f"  {name}")
    if not any(found.values()):
        if words and not kind:
            print(f"(nothing matches {' '.join(words)!r}; to list one kind, start with one of "
                  f"{', '.join(KINDS)} (or its plural))", file=sys.stderr)
        elif sys.stdout.isatty():
            print(f"(no {plural(kind or 'component')} match {' '.join(patterns)!r})", file=sys.stderr)
    return EXIT_OK


@subcommand("list")
def _add_list(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("list", help="list registered component names (of one kind, or of every kind)",
                       description="pimm list [KIND] [PATTERN ...]: KIND is one of "
                       f"{', '.join(KINDS)} or its plural; without it every kind is listed, grouped.")
    p.add_argument("words", nargs="*", metavar="KIND_OR_PATTERN",
                   help="optional kind, then fnmatch wildcard(s), e.g. `models 'resnet*'` or just 'resnet*'")
    p.add_argument("--exclude", action="append", default=[], help="wildcard to leave out (repeatable)")
    p.add_argument("--json", action="store_true", help="print a JSON list (a JSON object by kind without KIND)")
    p.set_defaults(func=_cmd_list)


# -- info ----------------------------------------------------------------------------------------


def _type_name(annotation: Any) -> str:
    text = getattr(annotation, "__name__", None) if isinstance(annotation, type) else None
    return text or str(annotation).replace("typing.", "").replace("NoneType", "None")


def _cmd_info(args: argparse.Namespace) -> int:
    from ..factory import resolve

    entry = resolve(args.kind, args.name)
    spec = entry.spec
    if args.json:
        data = spec.describe()
        data["plugin"] = entry.plugin.as_dict()
        print(json.dumps(data, indent=2, default=str))
        return EXIT_OK
    plugin = entry.plugin
    print(f"{entry.kind} {spec.name}")
    if spec.summary:
        print(f"  {spec.summary}")
    print(f"  provider : {plugin.name} ({plugin.distribution or 'no distribution'} {plugin.version or ''})".rstrip())
    print(f"  target   : {spec.target}")
    if spec.aliases:
        print(f"  aliases  : {', '.join(spec.aliases)}")
    if spec.tags:
        print(f"  tags     : {', '.join(sorted(spec.tags))}")
    extra = {k: v for k, v in spec.model_dump(mode="json").items()
             if k not in {"name", "target", "options", "aliases", "tags", "summary", "pretrained_cfgs"}}
    for key, value in extra.items():
        if value not in (None, {}, [], ()):
            print(f"  {key:<9}: {json.dumps(value) if isinstance(value, (dict, list)) else value}")
    fields = spec.options.model_fields
    print(f"\noptions ({spec.options.__name__}):" if fields else "\noptions: none")
    if fields:
        rows = []
        for name, field in fields.items():
            default = "(required)" if field.is_required() else repr(field.get_default(call_default_factory=True))
            rows.append((name, _type_name(field.annotation), default, field.description or ""))
        _print_table(rows, ("name", "type", "default", "description"))
    cfgs = getattr(spec, "pretrained_cfgs", None)
    if cfgs:
        default_tag = spec.default_tag
        print(f"\npretrained tags ({len(cfgs)}; default {default_tag!r}):")
        rows = []
        for tag, cfg in cfgs.items():
            source = cfg.hf_hub_id or cfg.url or cfg.file or "-"
            size = "x".join(str(s) for s in cfg.input_size[1:])
            test = "x".join(str(s) for s in cfg.test_input_size[1:]) if cfg.test_input_size else "-"
            rows.append((f"{spec.name}.{tag}", size, test, cfg.interpolation, cfg.crop_pct, cfg.license or "-", source))
        _print_table(rows, ("name", "input", "test", "interp", "crop", "license", "weights"))
    return EXIT_OK


@subcommand("info")
def _add_info(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("info", help="describe one component: spec, options, provider, pretrained tags")
    p.add_argument("kind", type=kind_argument, help="component kind (singular or plural)")
    p.add_argument("name", help="component name, alias or plugin::name")
    p.add_argument("--json", action="store_true", help="print the spec and the options' JSON schema")
    p.set_defaults(func=_cmd_info)


# -- plugins -------------------------------------------------------------------------------------


def _cmd_plugins(args: argparse.Namespace) -> int:
    from ..manager import PimmPluginWarning, get_manager
    from ..registry import get_registry

    with warnings.catch_warnings():  # this command reports failures itself
        warnings.simplefilter("ignore", PimmPluginWarning)
        get_registry()
    records = list(get_manager().records.values())
    from .cli import command_providers

    with warnings.catch_warnings():  # the command line itself reported them already
        warnings.simplefilter("ignore", PimmPluginWarning)
        commands = command_providers()
    if args.json:
        print(json.dumps([{**r.as_dict(), "commands": commands.get(r.name, [])} for r in records], indent=2))
        return EXIT_OK
    rows = []
    for r in records:
        counts = ", ".join(f"{r.counts[k]} {k if r.counts[k] == 1 else plural(k)}" for k in KINDS if r.counts.get(k))
        if commands.get(r.name):
            counts = ", ".join(filter(None, [counts, "command " + ", ".join(commands[r.name])]))
        rows.append((r.name, r.distribution or "-", r.version or "-", r.source, r.status, counts or "-"))
    _print_table(rows, ("plugin", "distribution", "version", "source", "status", "provides"))
    for r in records:
        if r.status == "failed":
            print(f"\n{r.name}: failed: {r.cause}")
    return EXIT_OK


@subcommand("plugins")
def _add_plugins(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("plugins", help="list plugins: distribution, version, status, what they provide")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_cmd_plugins)


# -- check ---------------------------------------------------------------------------------------


def _cmd_check(args: argparse.Namespace) -> int:
    from ..testing import run_checks

    results = run_checks(kind=args.kind, plugin=args.plugin, include=args.include or None)
    if not results:
        print(f"plugin {args.plugin!r} provides no component matching the selection; nothing to check")
        return EXIT_FAILED
    failed = [r for r in results if not r.passed]
    skipped = [r for r in results if r.skipped]
    for r in results:
        if args.verbose or not r.passed:
            status = "SKIP" if r.skipped else ("PASS" if r.passed else "FAIL")
            print(f"{status} {r.case_id}" + (f": {r.message}" if r.message and (not r.passed or args.verbose) else ""))
    passed = len(results) - len(failed) - len(skipped)
    print(f"{passed} passed, {len(failed)} failed, {len(skipped)} skipped")
    return EXIT_FAILED if failed else EXIT_OK


@subcommand("check")
def _add_check(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("check", help="run the conformance kit on one plugin's components")
    p.add_argument("plugin", help="plugin name (see `pimm plugins`) or its distribution name")
    p.add_argument("--kind", type=kind_argument, default=None, help="only components of this kind")
    p.add_argument("--include", action="append", default=[], help="only component names matching (fnmatch)")
    p.add_argument("-v", "--verbose", action="store_true", help="print every case, not just failures")
    p.set_defaults(func=_cmd_check)
