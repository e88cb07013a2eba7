"""``pimm push RUN --repo OWNER/NAME``: upload a run's best model and config to the Hugging Face hub."""

from __future__ import annotations

import argparse

from .cli import EXIT_OK, subcommand


def _cmd_push(args: argparse.Namespace) -> int:
    from .push import push_run

    info = push_run(args.source, args.repo, private=args.private, token=args.token, message=args.message)
    url = getattr(info, "commit_url", None) or str(info)
    print(f"pushed {args.source} to {args.repo} ({url}); load it with create_model('hf-hub:{args.repo}')")
    return EXIT_OK


@subcommand("push")
def _add_push(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("push", help="upload a run's best model (weights + config) to a Hugging Face hub repo",
                       description="Uploads RUN/best (or RUN/last) and the run's config.json to --repo, "
                       "creating the repository if needed. Authentication: huggingface_hub's token "
                       "(`hf auth login` or HF_TOKEN) or --token.")
    p.add_argument("source", metavar="RUN", help="run directory of pimm train, or a model directory")
    p.add_argument("--repo", required=True, metavar="OWNER/NAME", help="hub repository id")
    p.add_argument("--private", action="store_true", help="create the repository as private")
    p.add_argument("--token", help="hub token (default: huggingface_hub's stored token or HF_TOKEN)")
    p.add_argument("--message", "-m", help="commit message")
    p.set_defaults(func=_cmd_push)
