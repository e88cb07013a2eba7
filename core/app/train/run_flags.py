"""``pimm train`` flags for the schedule, the loss, the loggers and run control (timm's spellings).

No torch import. Each flag maps onto the :class:`~pimm.core.app.train.config.TrainConfig` field of
the same name; ``core/app/cli_train.py`` adds them to the ``train`` parser.
"""

from __future__ import annotations

from typing import Any

__all__ = ["SCHEDULE_LOSS_LOG_OPTIONS"]

_F: dict[str, Any] = {"type": float}

#: (flags, argparse keywords) of the schedule / loss / logger / run-control options.
SCHEDULE_LOSS_LOG_OPTIONS: list[tuple[tuple[str, ...], dict[str, Any]]] = [
    (("--sched",), {"help": "lr scheduler, any registered one: cosine, tanh, poly, step, multistep, plateau, "
                            "constant ... (`pimm list scheduler`; cosine)"}),
    (("--sched-on-updates",), {"action": "store_true", "help": "step the lr every optimizer update (default: per "
                                                               "epoch, like timm; the demo steps per update)"}),
    (("--sched-on-epochs",), {"action": "store_false", "dest": "sched_on_updates",
                              "help": "step the lr once per epoch (the default)"}),
    (("--warmup-epochs",), {**_F, "help": "linear warmup epochs (0)"}),
    (("--warmup-lr",), {**_F, "help": "lr at the start of the warmup (1e-5)"}),
    (("--warmup-prefix",), {"action": "store_true", "help": "decay starts after the warmup (default: overlaps it)"}),
    (("--min-lr",), {**_F, "help": "lowest lr of cosine/tanh/poly/plateau (0)"}),
    (("--cooldown-epochs",), {**_F, "help": "last epochs at --min-lr, counted inside --epochs (0)"}),
    (("--decay-epochs",), {**_F, "help": "step: epochs between decays (90)"}),
    (("--decay-milestones",), {**_F, "nargs": "+", "metavar": "EPOCH",
                               "help": "multistep: decay epochs (90 180 270)"}),
    (("--decay-rate", "--dr"), {**_F, "dest": "decay_rate", "help": "lr factor per decay; poly: power (0.1)"}),
    (("--patience-epochs",), {"type": int, "help": "plateau: epochs without improvement before a decay (10)"}),
    (("--lr-cycle-mul",), {**_F, "help": "cycle length multiplier (1.0)"}),
    (("--lr-cycle-decay",), {**_F, "help": "peak lr factor per cycle (0.5)"}),
    (("--lr-cycle-limit",), {"type": int, "help": "number of cycles within --epochs (1)"}),
    (("--lr-k-decay",), {**_F, "help": "k-decay of cosine/poly (1.0)"}),
    (("--lr-noise",), {**_F, "nargs": "+", "metavar": "FRACTION",
                       "help": "lr noise from this fraction of the schedule, or between two fractions"}),
    (("--lr-noise-pct",), {**_F, "help": "lr noise limit (0.67)"}),
    (("--lr-noise-std",), {**_F, "help": "lr noise standard deviation (1.0)"}),
    (("--loss",), {"help": "training loss, any registered one: cross_entropy, label_smoothing, soft_target, bce "
                           "(`pimm list loss`; default: timm's choice from --mixup/--smoothing)"}),
    (("--bce-loss",), {"action": "store_true", "help": "binary cross-entropy loss"}),
    (("--bce-sum",), {"action": "store_true", "help": "BCE: sum over classes before the batch mean"}),
    (("--bce-target-thresh",), {**_F, "help": "BCE: binarize targets above this value"}),
    (("--bce-pos-weight",), {**_F, "help": "BCE: weight of the positive terms"}),
    (("--log",), {"metavar": "NAMES", "help": "extra run loggers, comma-separated: text (train.log), csv, jsonl, "
                                              "tensorboard ... (`pimm list logger`); metrics.csv is always written"}),
    (("--patience",), {"type": int, "help": "early stopping: stop after N epochs without improvement"}),
    (("--min-delta",), {**_F, "help": "early stopping: smallest improvement that counts (0)"}),
    (("--checkpoint-hist",), {"type": int, "help": "keep the K best epochs' weights in RUN/checkpoints (0: off)"}),
]
