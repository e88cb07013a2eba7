"""``pimm predict``: top-k classes of image files or folders, with a run, checkpoint or named model.

No torch import here; the command imports what it needs when it runs.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from .cli import EXIT_OK, subcommand


def _cmd_predict(args: argparse.Namespace) -> int:
    import torch

    from .predict import check_output_path, find_images, predict, write_predictions
    from .train.components import pick_device
    from .train.distributed import dist_info
    from .train.sources import load_model_source

    images = find_images(args.images)
    if args.out:
        check_output_path(args.out, args.overwrite)  # before any work
    pretrained = args.pretrained
    if pretrained is None and not Path(args.source).expanduser().exists():
        pretrained = True  # a bare model name: predicting with random weights would be useless
    src = load_model_source(args.source, args.model, pretrained)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = pick_device(args.device, dist_info())
    results = predict(src.model, images, top_k=args.top_k, tta=args.tta, batch_size=args.batch_size,
                      device=str(device), amp=args.amp, channels_last=args.channels_last,
                      fold_bn=args.fold_bn)
    if args.out:
        path = write_predictions(results, args.out, overwrite=args.overwrite)
        print(f"wrote {len(results)} predictions to {path}")
        return EXIT_OK
    for p in results:
        ranked = ", ".join(f"{lab} {100 * prob:.1f}%" for lab, prob in zip(p.labels, p.probs))
        print(f"{p.path}: {ranked}")
    return EXIT_OK


@subcommand("predict")
def _add_predict(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("predict", help="predict the classes of images with a run, checkpoint or model",
                       description="Top-k classes of image files (folders are searched recursively), using the "
                       "model's own eval preprocessing and the label names its checkpoint carries.")
    p.add_argument("source", metavar="MODEL_OR_RUN",
                   help="run directory, model directory, weights file (with --model), or model NAME[.TAG]/hf-hub:ID")
    p.add_argument("images", nargs="+", metavar="IMAGES_OR_FOLDER", help="image files and/or folders")
    p.add_argument("--model", "-m", help="model name for a plain weights file")
    p.add_argument("--pretrained", action="store_true", default=None,
                   help="load NAME's pretrained weights (the default for a model name; a missing file is a clear error)")
    p.add_argument("--top-k", "-k", type=int, default=5, help="classes shown per image (default: %(default)s)")
    p.add_argument("--tta", nargs="?", const="flip", default="none", choices=("none", "flip", "crops"),
                   help="test-time augmentation: flip (image + mirror; the value when --tta is given alone) or "
                   "crops (5 crops x mirror); predictions are averaged (default: %(default)s)")
    p.add_argument("--batch-size", "-b", type=int, default=32, help="images per forward pass (default: %(default)s)")
    p.add_argument("--out", "-o", help="write the results to a .csv or .json file instead of printing them")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N, mps (default: %(default)s)")
    p.add_argument("--threads", type=int, help="torch threads")
    p.add_argument("--amp", default="auto", choices=("auto", "none", "bf16", "fp16"),
                   help="mixed precision (default: auto, bf16 where the device has it natively)")
    p.add_argument("--no-amp", action="store_const", const="none", dest="amp", help="fp32: same as --amp none")
    p.add_argument("--channels-last", action="store_true", default=None,
                   help="channels-last memory format (default: on for conv nets)")
    p.add_argument("--no-channels-last", action="store_false", dest="channels_last", help="keep NCHW")
    p.add_argument("--no-fold-bn", action="store_false", dest="fold_bn",
                   help="run the model as it is (default: batch norms folded into the convolutions that feed them, "
                   "outputs equal up to fp32 rounding)")
    p.set_defaults(func=_cmd_predict)
