"""``pimm show``: pictures that help understand a model or an augmentation.

``pimm show features MODEL_OR_RUN IMAGE -o maps.png`` renders each feature level's maps;
``pimm show augment CONFIG IMAGE -o grid.png`` renders a grid of augmented samples.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from .cli import EXIT_OK, subcommand
from ..errors import ConfigError


def _existing_image(path: str) -> Path:
    image = Path(path)
    if not image.is_file():
        raise ConfigError(f"image {path!r} does not exist; pass the path of a PNG or JPEG file")
    return image


def _cmd_show_features(args: argparse.Namespace) -> int:
    from .show_features import render_feature_maps

    out = render_feature_maps(args.model, _existing_image(args.image), Path(args.output),
                              max_channels=args.channels, input_size=args.input_size,
                              pretrained=False if args.random_init else None)
    print(f"wrote {out}")
    return EXIT_OK


def _cmd_show_augment(args: argparse.Namespace) -> int:
    from .show_augment import render_augment_grid

    out = render_augment_grid(args.config, _existing_image(args.image), Path(args.output),
                              rows=args.rows, cols=args.cols, seed=args.seed)
    print(f"wrote {out}")
    return EXIT_OK


@subcommand("show")
def _add_show(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("show", help="render pictures: feature maps of a model, augmented samples")
    kinds = p.add_subparsers(dest="what", metavar="WHAT")
    kinds.required = True

    f = kinds.add_parser("features", help="feature maps of each level of MODEL for IMAGE")
    f.add_argument("model", help="model name (NAME[.TAG], hf-hub:ID, local-dir:DIR), a model directory or a "
                   "run directory of pimm train (its best/ model)")
    f.add_argument("image", help="input image file")
    f.add_argument("-o", "--output", default="feature_maps.png", help="output PNG path (default: %(default)s)")
    f.add_argument("--channels", type=int, default=8, help="channels shown per level (default: %(default)s)")
    f.add_argument("--input-size", type=int, default=None,
                   help="square input size (default: the model's own input size)")
    f.add_argument("--random-init", action="store_true",
                   help="do not try pretrained weights for a model name (default: try them, fall back to random)")
    f.set_defaults(func=_cmd_show_features)

    a = kinds.add_parser("augment", help="grid of augmented samples of IMAGE")
    a.add_argument("config", help="'rrc', a RandAugment/AutoAugment/AugMix string, 'mixup' or 'cutmix'")
    a.add_argument("image", help="input image file")
    a.add_argument("-o", "--output", default="augment_grid.png", help="output PNG path (default: %(default)s)")
    a.add_argument("--rows", type=int, default=2, help="grid rows (default: %(default)s)")
    a.add_argument("--cols", type=int, default=4, help="grid columns (default: %(default)s)")
    a.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    a.set_defaults(func=_cmd_show_augment)
