"""``pimm example-hello``: a sub-command added by a plugin through the ``pimm_cli_commands`` hook.

The add function receives argparse's sub-parsers object, adds one parser and sets ``func``; the
command body imports what it needs when it runs (nothing heavy at ``pimm --help`` time).
"""

from __future__ import annotations

import argparse


def _hello(args: argparse.Namespace) -> int:
    from pimm.core import list_names

    models = list_names("model", "tinynet_*")
    print(f"hello {args.name}: the example plugin provides {', '.join(models)}")
    return 0


def add_hello(subparsers: argparse._SubParsersAction) -> None:
    """Add ``pimm example-hello [NAME]``."""
    parser = subparsers.add_parser("example-hello", help="say hello and list the example plugin's models")
    parser.add_argument("name", nargs="?", default="world", help="who to greet")
    parser.set_defaults(func=_hello)
