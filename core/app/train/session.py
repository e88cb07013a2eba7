"""One process's share of a training run: the objects it builds and the epoch loop it drives."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import torch

from ...errors import ConfigError
from . import components as setup
from .checkpoint import commit_generation, has_checkpoint, rng_state, write_file_atomic
from .config import TrainConfig
from .distributed import DistInfo, barrier
from .loop import TrainState, evaluate, train_one_epoch
from .metrics import read_metrics
from .progress import format_duration
from .outcome import RunResult, check_finite, check_weights_finite, is_oom, oom_error
from .resume import restore_run
from .run_parts import console, create_run_events, create_run_loss, stop_agreed
from .timm_flags import scaled_lr, sync_batchnorm

__all__ = ["Session"]


def _record_data_config(model: torch.nn.Module, dc: dict[str, Any], size_changed: bool, num_classes: int) -> None:
    """Store the run's preprocessing in the model's pretrained_cfg, so saved checkpoints carry it."""
    cfg = dict(getattr(model, "pretrained_cfg", None) or {})
    cfg.update({k: (tuple(v) if isinstance(v, (list, tuple)) else v) for k, v in dc.items()})
    if size_changed:
        cfg.pop("test_input_size", None)
        cfg.pop("test_crop_pct", None)
    cfg["num_classes"] = num_classes
    model.pretrained_cfg = cfg


class Session:
    """Builds model, data and optimisation for ``cfg`` on this process and runs the epochs."""

    def __init__(self, cfg: TrainConfig, info: DistInfo, wall_start: float) -> None:
        self.cfg = cfg
        self.info = info
        self.wall_start = wall_start
        self.device = setup.pick_device(cfg.device, info)
        self.run_dir = Path(cfg.output).expanduser() / str(cfg.experiment)
        self.main = info.is_main
        torch.set_num_threads(cfg.threads or setup.default_threads(info))

    def say(self, text: str) -> None:
        """Print on the main process only."""
        if self.main:
            console().info(text)

    # -- building ------------------------------------------------------------------------------
    def build(self) -> None:
        """Datasets, model, loaders, optimizer, schedule, EMA, AMP, Mixup, loss; resume state."""
        cfg = self.cfg
        if cfg.amp == "fp16" and self.device.type != "cuda":
            raise ConfigError("--amp fp16 needs a CUDA device; use --amp bf16 on CPU")
        if cfg.data is None and not self.main:
            barrier()  # rank 0 generates the demo set first
        train_ds, val_ds = setup.load_datasets(cfg, self.info)
        if cfg.data is None and self.main:
            barrier()
        data_classes = setup.count_classes(train_ds)
        setup.check_class_sets(train_ds, val_ds, cfg.train_split, cfg.val_split)
        num_classes = cfg.num_classes or data_classes
        if num_classes < data_classes:
            raise ConfigError(f"--num-classes {num_classes} is less than the {data_classes} classes in the training "
                              f"data; pass --num-classes {data_classes} (or leave it out)")
        self.num_classes = num_classes
        self.class_names = setup.class_names(train_ds, num_classes)
        setup.seed_everything(cfg.seed)
        model, notes = setup.build_model(cfg, num_classes)
        if cfg.sync_bn:
            model, note = sync_batchnorm(model, self.info.distributed, self.device)
            notes.append(note)
        for note in notes:
            self.say(f"note: {note}")
        self.data_config = setup.data_config_for(cfg, model)
        _record_data_config(model, self.data_config, cfg.input_size is not None, num_classes)
        train_ds.transform = setup.train_transform(cfg, self.data_config)
        workers = cfg.workers if cfg.workers is not None else setup.default_workers(self.info)
        self.train_loader = setup.make_loader(train_ds, cfg.batch_size, workers, True, self.info, cfg.seed, self.device,
                                              pin_memory=cfg.pin_mem, aug_repeats=cfg.aug_repeats,
                                              persistent=cfg.epochs > 1)
        if len(self.train_loader) == 0:
            raise ConfigError(f"the training split has {len(train_ds)} images: not one batch; add data")
        self.val_loader = None
        if val_ds is not None:
            val_ds.transform = setup.eval_transform(self.data_config)
            self.val_loader = setup.make_loader(val_ds, cfg.val_batch_size or 2 * cfg.batch_size, workers, False,
                                                self.info, cfg.seed, self.device, persistent=cfg.epochs > 1)
        self._build_optimisation(model)
        self.train_images, self.val_images = len(train_ds), (len(val_ds) if val_ds is not None else 0)
        self._datasets = {"train": train_ds, "val": val_ds}  # for the bad-sample reports

    def _build_optimisation(self, model: torch.nn.Module) -> None:
        from ...optim import create_optimizer
        from .ema import ModelEma
        from .schedule import create_schedule

        cfg = self.cfg
        model.to(self.device)
        self.plan = self._plan_speed(model)  # amp, channels_last, TF32: fast_defaults.py
        self.model = model
        global_batch = cfg.batch_size * self.info.world_size * cfg.grad_accum
        self.lr = scaled_lr(cfg, global_batch)  # --lr, else --lr-base scaled as timm does (timm_flags.py)
        optimizer = self._create_optimizer(model, create_optimizer)
        steps = (len(self.train_loader) + cfg.grad_accum - 1) // cfg.grad_accum
        schedule = create_schedule(optimizer, cfg, steps)
        ema = ModelEma(model, cfg.model_ema_decay, cfg.model_ema_warmup) if cfg.model_ema else None
        scaler = torch.amp.GradScaler("cuda") if self.plan.amp == "fp16" else None
        mixup = None
        if cfg.mixup > 0 or cfg.cutmix > 0 or cfg.cutmix_minmax is not None:
            from ...data import Mixup

            mixup = Mixup(mixup_alpha=cfg.mixup, cutmix_alpha=cfg.cutmix, cutmix_minmax=cfg.cutmix_minmax,
                          prob=cfg.mixup_prob, switch_prob=cfg.mixup_switch_prob, mode=cfg.mixup_mode,
                          label_smoothing=cfg.smoothing, num_classes=self.num_classes)
        # torch's cross-entropy covers hard targets with smoothing and Mixup's soft targets alike
        loss_fn = create_run_loss(cfg, mixup is not None, self.device)
        wrapped: torch.nn.Module = model
        if cfg.compile:
            wrapped = torch.compile(wrapped)
        if self.info.distributed:
            from torch.nn.parallel import DistributedDataParallel

            ids = [self.device.index] if self.device.type == "cuda" else None
            wrapped = DistributedDataParallel(wrapped, device_ids=ids)
        self.state = TrainState(model=wrapped, raw_model=model, optimizer=optimizer, schedule=schedule,
                                loss_fn=loss_fn, device=self.device, amp=self.plan.amp, scaler=scaler, ema=ema,
                                mixup=mixup, channels_last=self.plan.channels_last, grad_accum=cfg.grad_accum,
                                clip_grad=cfg.clip_grad, clip_mode=cfg.clip_mode, log_interval=cfg.log_interval,
                                show=self.main)
        if cfg.recovery_interval and self.main:
            from .recovery import RecoveryWriter

            self.state.recovery = RecoveryWriter(self.run_dir, model, cfg.recovery_interval, self.class_names)
        self._record_speed()
        self.start_epoch = 0
        self.best: tuple[float, int] | None = None
        self.time_to_target: float | None = None
        if cfg.resume:
            self._load_resume()
        if cfg.start_epoch is not None:
            self._start_at(cfg.start_epoch)

    def _plan_speed(self, model: torch.nn.Module) -> Any:
        """The fastest safe settings for this model and device (fast_defaults.py), probed and put into effect."""
        from .fast_defaults import apply_plan, plan_speed, probe_plan

        cfg = self.cfg
        plan = plan_speed(self.device, model, cfg.amp, cfg.channels_last, cfg.tf32, cfg.cudnn_benchmark,
                          cfg.keep_memory)
        plan = probe_plan(model, plan, self.device, tuple(self.data_config["input_size"]), train=True)
        apply_plan(model, plan, self.device)
        for notice in plan.notices:
            self.say(notice)
        return plan

    def _create_optimizer(self, model: torch.nn.Module, create_optimizer: Any) -> Any:
        """The optimizer as the factory builds it (torch's fused kernel by default where the optimizer has
        one, on CPU and CUDA: pimm.core.optim.fused); the plan records which step it got, and why."""
        cfg, plan = self.cfg, self.plan
        optimizer = create_optimizer(model, opt=cfg.opt, lr=self.lr, weight_decay=cfg.weight_decay,
                                     momentum=cfg.momentum, layer_decay=cfg.layer_decay, **cfg.opt_kwargs)
        # a lookahead_<name> wrapper's groups are its base optimizer's
        plan.fused_optimizer = any(bool(g.get("fused")) for g in optimizer.param_groups)
        if "fused" in cfg.opt_kwargs or "foreach" in cfg.opt_kwargs:
            plan.reasons["fused_optimizer"] = "as --opt-kwargs say"
        elif plan.fused_optimizer:
            plan.reasons["fused_optimizer"] = "on: torch's fused kernel for this optimizer (one pass per tensor)"
        else:
            plan.reasons["fused_optimizer"] = f"off: {cfg.opt} has no fused kernel" + (
                " (its multi-tensor step runs on CUDA)" if self.device.type == "cuda" else "")
        return optimizer

    def _record_speed(self) -> None:
        """Keep the settings the run uses in its config (config.json), so a resume runs the same way."""
        plan = self.plan
        speed = {**plan.as_dict(), "workers": self.train_loader.workers, "pin_memory": self.train_loader.pin_memory,
                 "persistent_workers": self.train_loader.persistent}
        self.cfg = self.cfg.model_copy(update={"amp": plan.amp or "none", "channels_last": plan.channels_last,
                                               "tf32": plan.tf32 if self.device.type == "cuda" else self.cfg.tf32,
                                               "speed": speed})

    def _start_at(self, epoch: int) -> None:
        """timm's ``--start-epoch``: begin at ``epoch`` with the schedule there (never rewinding a resumed run)."""
        if epoch < self.start_epoch:
            raise ConfigError(f"--start-epoch {epoch} is before epoch {self.start_epoch}, where {self.run_dir} "
                              "resumes; its later epochs are already recorded. Start a new run with "
                              "--initial-checkpoint instead")
        self.start_epoch = epoch
        self.state.schedule.set_position(epoch)
        if self.state.schedule.on_updates:
            self.state.schedule.step_update(epoch, 0)
        self.say(f"starting at epoch {epoch + 1} of {self.cfg.epochs} (--start-epoch {epoch})")

    def _load_resume(self) -> None:
        if not has_checkpoint(self.run_dir):
            self.say(f"{self.run_dir} has no finished epoch yet: starting it from the beginning")
            return
        st = self.state
        restored = restore_run(self.run_dir, self.model, st.optimizer, st.schedule, st.ema, st.scaler,
                               self._signature(), resume_opt=not self.cfg.no_resume_opt)
        self.start_epoch = restored.epoch
        self.best = restored.best
        self.time_to_target = restored.time_to_target
        self.say(f"resumed {self.run_dir} after epoch {self.start_epoch}")

    def _signature(self) -> dict[str, Any]:
        """What a resume state must match: the optimizer, the model and its parameter shapes."""
        shapes = [list(p.shape) for g in self.state.optimizer.param_groups for p in g["params"]]
        return {"opt": self.cfg.opt, "model": self.cfg.model, "param_shapes": shapes}

    # -- running -------------------------------------------------------------------------------
    def _header(self) -> None:
        cfg = self.cfg
        params = sum(p.numel() for p in self.model.parameters()) / 1e6
        data = "demo (built-in shapes)" if cfg.data is None else cfg.data
        size = "x".join(str(s) for s in self.data_config["input_size"][1:])
        self.say(f"pimm train: {cfg.model} ({params:.1f}M params, {self.num_classes} classes) on {data}: "
                 f"{self.train_images} train / {self.val_images} val images at {size}")
        self.say(f"  {cfg.epochs} epochs, batch {cfg.batch_size}x{self.info.world_size}x{cfg.grad_accum}, {cfg.opt} "
                 f"lr {self.lr:.3g} ({cfg.sched}), {self.device.type} x{self.info.world_size}, "
                 f"{torch.get_num_threads()} threads; run dir {self.run_dir}")
        self.say(f"  {self.plan.banner()}; {self.train_loader.describe()} (why: config.json 'speed')")

    def fit(self, max_epochs: int | None = None) -> RunResult:
        """Run the remaining epochs (at most ``max_epochs`` in this call); return the result."""
        cfg = self.cfg
        if self.main:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            write_file_atomic(self.run_dir / "config.json", cfg.model_copy(update={"resume": None}).to_json())
            write_file_atomic(self.run_dir / "classes.json", json.dumps(self.class_names) + "\n")
        events = self.events = create_run_events(cfg, self.run_dir, self.main, self.info.rank)
        events.start_loggers(self.start_epoch)  # before the header, so train.log has it
        self._header()
        end = cfg.epochs if max_epochs is None else min(cfg.epochs, self.start_epoch + max_epochs)
        epoch = self.start_epoch
        last_val: dict[str, Any] = {}
        done = end
        try:
            events.run_start(self.start_epoch)
            for epoch in range(self.start_epoch, end):
                last_val = self._epoch(epoch)
                if stop_agreed(events, self.device, self.info.distributed):
                    done = epoch + 1
                    self.say(f"stopped after epoch {done}: {events.stop_reason or 'another process asked to stop'}")
                    break
        except BaseException as exc:
            events.run_failed(exc)
            if isinstance(exc, MemoryError) or (isinstance(exc, RuntimeError) and is_oom(exc)):
                raise oom_error(cfg, self.device) from None
            raise
        events.run_end(done, self.best)
        self._report_bad_samples("run")
        elapsed = time.time() - self.wall_start
        if self.main and (done == cfg.epochs or events.stop_reason):
            self._final_message(elapsed)
        return RunResult(self.run_dir, epochs_done=done, best_metric=self.best[0] if self.best else None,
                         best_epoch=self.best[1] if self.best else None, last_val=last_val,
                         history=read_metrics(self.run_dir / "metrics.csv") if self.main else [],
                         elapsed=elapsed, time_to_target=self.time_to_target)

    def _epoch(self, epoch: int) -> dict[str, Any]:
        cfg = self.cfg
        self.events.epoch_start(epoch + 1)
        setup.seed_everything(cfg.seed, epoch, self.info.rank)
        mix = not (cfg.mixup_off_epoch and epoch >= cfg.mixup_off_epoch)
        loader = self.train_loader.for_epoch(epoch)
        train = train_one_epoch(self.state, loader, epoch, len(self.train_loader), mix=mix,
                                label=f"epoch {epoch + 1}/{cfg.epochs}")
        check_finite(train["loss"], epoch)
        check_weights_finite(self.model, epoch)
        val: dict[str, Any] = {}
        if self.val_loader is not None:
            val = self._validate(epoch)
            check_finite(val["loss"], epoch, "validation")
            self.events.validated(epoch + 1, val, cfg.eval_metric)
            self.state.schedule.after_validation(epoch + 1, val.get(cfg.eval_metric))
        row = {"epoch": epoch + 1, "train_loss": train["loss"], "train_top1": train["top1"],
               "val_loss": val.get("loss"), "val_top1": val.get("top1"), "val_top5": val.get("top5"),
               "lr": self.state.schedule.current_lr(), "train_img_s": train["img_s"],
               "epoch_time_s": train["time"] + val.get("time", 0.0), "elapsed_s": time.time() - self.wall_start}
        improved = self._track_best(val, epoch, row["elapsed_s"])
        if self.main:
            self._save(epoch, improved, row)
            self.events.checkpoint_saved(epoch + 1, self.run_dir / "last", row, improved)
        barrier()
        self._report_bad_samples(f"epoch {epoch + 1}")
        self.events.epoch_end(epoch + 1, row)
        return val

    def _report_bad_samples(self, when: str) -> None:
        """One line per dataset that skipped bad samples; their list is written to the run directory."""
        if not self.main:
            return
        for label, dataset in getattr(self, "_datasets", {}).items():
            report = getattr(dataset, "bad_samples_report", None)
            line = report(self.run_dir / f"bad_samples_{label}.txt", label) if report is not None else None
            if line:
                self.say(f"{when}: {line}")

    def _validate(self, epoch: int) -> dict[str, Any]:
        kw = dict(device=self.device, num_batches=len(self.val_loader), num_classes=self.num_classes,
                  amp=self.plan.amp, channels_last=self.plan.channels_last, show=self.main)
        val = evaluate(self.state.model, self.val_loader.for_epoch(0), label=f"epoch {epoch + 1}/{self.cfg.epochs} val", **kw)
        if self.state.ema is not None:
            ema_val = evaluate(self.state.ema.module, self.val_loader.for_epoch(0),
                               label=f"epoch {epoch + 1}/{self.cfg.epochs} val (EMA)", **kw)
            return {**ema_val, "raw": val}
        return val

    def _track_best(self, val: dict[str, Any], epoch: int, elapsed: float) -> bool:
        if not val:
            self.best = (float(epoch + 1), epoch + 1)  # no validation: the last epoch is the best
            return True
        key = self.cfg.eval_metric
        value = float(val[key])
        if self.cfg.data is None and self.time_to_target is None and val["top1"] >= 90.0:
            self.time_to_target = elapsed
        better = self.best is None or (value < self.best[0] if key == "loss" else value > self.best[0])
        if better:
            self.best = (value, epoch + 1)
        return better

    def _save(self, epoch: int, improved: bool, row: dict[str, Any]) -> None:
        from .plot import plot_curves

        to_save = self.state.ema.module if self.state.ema is not None else self.model
        models: dict[str, Any] = {"last": self.model}
        if self.state.ema is not None:
            models["last_ema"] = self.state.ema.module
        models["best"] = to_save if improved else None
        state = {"epoch": epoch + 1, "optimizer": self.state.optimizer.state_dict(),
                 "schedule": self.state.schedule.state_dict(), "rng": rng_state(),
                 "best_metric": self.best[0] if self.best else None, "best_epoch": self.best[1] if self.best else None,
                 "time_to_target": self.time_to_target}
        if self.state.ema is not None:
            state["ema"] = self.state.ema.state_dict()
        if self.state.scaler is not None:
            state["scaler"] = self.state.scaler.state_dict()
        state.update(self._signature())
        summary = {"best_metric": state["best_metric"], "best_epoch": state["best_epoch"],
                   "eval_metric": self.cfg.eval_metric, "epochs_done": epoch + 1, "time_to_target": self.time_to_target}
        commit_generation(self.run_dir, epoch + 1, models, state, row, summary, self.class_names)
        plot_curves(read_metrics(self.run_dir / "metrics.csv"), self.run_dir / "curves.png",
                    title=f"{self.cfg.model} - {self.run_dir.name}")

    def _final_message(self, elapsed: float) -> None:
        self.say(f"learning curves: {self.run_dir / 'curves.png'}; metrics per epoch: {self.run_dir / 'metrics.csv'}")
        if self.best is None or self.val_loader is None:
            self.say(f"done in {format_duration(elapsed)}; checkpoints in {self.run_dir}")
            return
        key = self.cfg.eval_metric
        shown = f"{self.best[0]:.1f}%" if key != "loss" else f"{self.best[0]:.4f}"
        self.say(f"best {key} {shown} at epoch {self.best[1]}; model in {self.run_dir / 'best'}")
        if self.time_to_target is not None:
            rows = read_metrics(self.run_dir / "metrics.csv")
            best_top1 = max((r["val_top1"] or 0.0) for r in rows) if rows else 0.0
            self.say(f"reached {best_top1:.1f}% top-1 in {format_duration(elapsed)} "
                     f"(>= 90% after {format_duration(self.time_to_target)})")
        elif self.cfg.data is None:
            self.say(f"did not reach 90% top-1 on the demo set in {format_duration(elapsed)}: try --epochs "
                     f"{self.cfg.epochs * 2}")
        else:
            self.say(f"done in {format_duration(elapsed)}")
