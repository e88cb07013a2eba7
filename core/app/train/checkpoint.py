"""Run checkpoints, committed atomically: each epoch's checkpoint is one *generation*.

A generation is a directory ``RUN/.checkpoints/gen-NNNNNN/`` holding everything ``--resume`` and
the user need after that epoch: ``last/`` (and ``last_ema/`` with ``--model-ema``), ``best/``
(model directories in safetensors, see :func:`pimm.core.models.save_pretrained`), ``state.pt``
(optimizer, schedule, EMA, AMP scaler, epoch, best metric, random-generator states),
``metrics.csv`` (one row per epoch so far) and ``summary.json``. ``RUN/.checkpoints/current`` is
a symbolic link naming the committed generation, and ``RUN/last``, ``RUN/best``, ``RUN/state.pt``,
``RUN/metrics.csv`` ... are fixed links through it, so users read the usual paths.

Commit sequence (:func:`commit_generation`): write the new generation into ``gen-NNNNNN.tmp``
(files fsync'ed; a ``best/`` that did not change is hard-linked from the previous generation),
rename it to ``gen-NNNNNN``, then switch ``current`` with one atomic ``rename`` of a new link over
it, then delete older generations. A kill at any moment leaves ``current`` naming either the
previous or the new complete generation; leftovers (``*.tmp``, generations ``current`` does not
name) are removed by :func:`recover` with a one-line notice. ``state.pt`` holds plain tensors
and numbers only and is read with ``torch.load(weights_only=True)``: a file that would run code
is refused.
"""

from __future__ import annotations

import json
import os
import random
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from ...errors import ConfigError

__all__ = ["save_model_dir", "commit_generation", "recover", "has_checkpoint", "epochs_done", "load_state",
           "write_file_atomic", "rng_state", "set_rng_state", "STATE_FILE", "CHECKPOINT_DIR", "LINKED"]

STATE_FILE = "state.pt"
CHECKPOINT_DIR = ".checkpoints"
CURRENT = "current"
#: What ``RUN/<name>`` links to inside the current generation.
LINKED: tuple[str, ...] = ("last", "last_ema", "best", STATE_FILE, "metrics.csv", "summary.json")

#: Fault injection for tests: called with (point name, path just written) at every point of the
#: commit sequence; a test makes it raise or ``os._exit`` to simulate a kill at that moment.
fault_hook: Callable[[str, Path], None] | None = None


def _point(name: str, path: Path) -> None:
    if fault_hook is not None:
        fault_hook(name, path)


def _umask() -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except OSError:  # pragma: no cover - not Linux
        pass
    mask = os.umask(0o022)  # pragma: no cover
    os.umask(mask)  # pragma: no cover
    return mask  # pragma: no cover


def _finish_tree(root: Path) -> None:
    """Give every file and folder under ``root`` the user's default permissions and flush it to disk."""
    mask = _umask()
    for path in [root, *sorted(root.rglob("*"))]:
        if path.is_symlink():
            continue
        if path.is_dir():
            os.chmod(path, 0o777 & ~mask)
            _fsync_dir(path)
        else:
            os.chmod(path, 0o666 & ~mask)
            with open(path, "rb") as f:
                os.fsync(f.fileno())


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory handles
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def write_file_atomic(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename (default permissions)."""
    out = Path(path)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(text)
    os.chmod(tmp, 0o666 & ~_umask())
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, out)
    _fsync_dir(out.parent)


def save_model_dir(model: Any, directory: str | Path, label_names: list[str] | None = None) -> Path:
    """Write ``model`` as a pimm model directory (safetensors + config.json) at ``directory`` (new)."""
    from ...models import save_pretrained

    out = Path(directory)
    if label_names is not None:
        cfg = dict(getattr(model, "pretrained_cfg", None) or {})
        cfg["label_names"] = list(label_names)
        model.pretrained_cfg = cfg
    save_pretrained(model, out)
    return out


def _root(run_dir: Path) -> Path:
    return Path(run_dir) / CHECKPOINT_DIR


def _current(run_dir: Path) -> Path | None:
    """The committed generation's directory, or None before the first commit."""
    link = _root(run_dir) / CURRENT
    if not link.is_symlink():
        return None
    target = _root(run_dir) / os.readlink(link)
    return target if target.is_dir() else None


def has_checkpoint(run_dir: str | Path) -> bool:
    """True when the run has a committed checkpoint (or a legacy ``state.pt`` of older pimm)."""
    run = Path(run_dir)
    return _current(run) is not None or (run / STATE_FILE).is_file()


def epochs_done(run_dir: str | Path) -> int | None:
    """Epochs of the committed checkpoint (from its summary), None when unknown."""
    current = _current(Path(run_dir))
    try:
        data = json.loads(((current or Path(run_dir)) / "summary.json").read_text())
        return int(data["epochs_done"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _adopt_legacy(run: Path) -> list[str]:
    """Make the files of a run written by older pimm (real ``last/``, ``state.pt`` ... in the run directory)
    the first generation: hard-linked into it, committed, then each replaced by its link."""
    notices = []
    if _current(run) is None and (run / STATE_FILE).is_file() and not (run / STATE_FILE).is_symlink():
        notices.append(_commit_legacy(run))
    if _current(run) is not None:
        for item in LINKED:  # the generation is committed: old copies give way to links
            src = run / item
            if src.is_dir() and not src.is_symlink():
                shutil.rmtree(src)
            elif src.is_file() and not src.is_symlink():
                src.unlink()
    return notices


def _commit_legacy(run: Path) -> str:
    root = _root(run)
    root.mkdir(exist_ok=True)
    name = f"gen-{epochs_done(run) or 0:06d}"
    tmp = root / f"{name}.tmp"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    for item in LINKED:
        src = run / item
        if src.is_dir() and not src.is_symlink():
            _link_tree(src, tmp / item)
        elif src.is_file() and not src.is_symlink():
            shutil.copy2(src, tmp / item)
    _finish_tree(tmp)
    os.replace(tmp, root / name)
    link_tmp = root / f"{CURRENT}.tmp"
    if link_tmp.is_symlink():
        link_tmp.unlink()
    os.symlink(name, link_tmp)
    os.replace(link_tmp, root / CURRENT)
    _fsync_dir(root)
    return f"moved the checkpoint of an older pimm into {CHECKPOINT_DIR}/{name} (committed checkpoints)"


def recover(run_dir: str | Path) -> list[str]:
    """Remove what an interrupted commit left behind (and adopt an older pimm's layout); one notice per item."""
    adopted = _adopt_legacy(Path(run_dir))
    root = _root(Path(run_dir))
    if not root.is_dir():
        return adopted
    current = _current(Path(run_dir))
    notices = adopted
    for item in sorted(root.iterdir()):
        if item.name == CURRENT or (current is not None and item.resolve() == current.resolve()):
            continue
        half = item.name.endswith(".tmp")
        if item.is_symlink() or item.is_file():
            item.unlink()
        else:
            shutil.rmtree(item)
        what = "a half-written checkpoint" if half else "a superseded checkpoint"
        notices.append(f"removed {what} ({CHECKPOINT_DIR}/{item.name}) left by an interrupted run")
    _ensure_links(Path(run_dir))
    return notices


def _ensure_links(run_dir: Path, generation: Path | None = None) -> None:
    """``RUN/<name>`` -> ``.checkpoints/current/<name>`` for every name ``generation`` (default: the current
    one) has; links to names it lacks are removed. Idempotent."""
    current = generation if generation is not None else _current(run_dir)
    for name in LINKED:
        link = run_dir / name
        target = f"{CHECKPOINT_DIR}/{CURRENT}/{name}"
        if link.exists() and not link.is_symlink():
            continue  # a legacy file of older pimm: leave it alone
        if current is None or not (current / name).exists():
            if link.is_symlink() and os.readlink(link) == target:
                link.unlink()  # e.g. last_ema/ of a run resumed without --model-ema
            continue
        if link.is_symlink() and os.readlink(link) == target:
            continue
        tmp = run_dir / f".{name}.link.tmp"
        if tmp.is_symlink() or tmp.exists():
            tmp.unlink()
        os.symlink(target, tmp)
        os.replace(tmp, link)


def commit_generation(run_dir: str | Path, epoch: int, models: dict[str, Any], state: dict[str, Any],
                      metrics_row: dict[str, Any], summary: dict[str, Any],
                      label_names: list[str] | None = None) -> Path:
    """Write the checkpoint after ``epoch`` (1-based) as a new generation and make it the current one.

    ``models`` maps ``last``/``last_ema``/``best`` to a model to save, or to None to carry that
    entry over unchanged from the previous generation.
    """
    from .metrics import MetricsFile

    run = Path(run_dir)
    root = _root(run)
    root.mkdir(exist_ok=True)
    previous = _current(run)
    name = f"gen-{epoch:06d}"
    tmp = root / f"{name}.tmp"
    if tmp.exists():
        shutil.rmtree(tmp)
    _point("begin", tmp)
    tmp.mkdir()
    for sub, model in models.items():
        if model is not None:
            save_model_dir(model, tmp / sub, label_names)
        elif previous is not None and (previous / sub).is_dir():
            _link_tree(previous / sub, tmp / sub)
        _point(f"model:{sub}", tmp / sub)
    torch.save(state, tmp / STATE_FILE)
    _point("state", tmp / STATE_FILE)
    if previous is not None and (previous / "metrics.csv").is_file():
        shutil.copyfile(previous / "metrics.csv", tmp / "metrics.csv")
    MetricsFile(tmp / "metrics.csv").append(metrics_row)
    _point("metrics", tmp / "metrics.csv")
    (tmp / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    _point("summary", tmp / "summary.json")
    _finish_tree(tmp)
    _point("fsync", tmp)
    final = root / name
    if final.exists():  # a complete but uncommitted generation of an interrupted earlier attempt
        shutil.rmtree(final)
    os.replace(tmp, final)
    _fsync_dir(root)
    _point("rename", final)
    _ensure_links(run, final)  # links through `current`: they show the new files from the switch on
    _point("links", run)
    link_tmp = root / f"{CURRENT}.tmp"
    if link_tmp.is_symlink() or link_tmp.exists():
        link_tmp.unlink()
    os.symlink(name, link_tmp)
    _point("link", link_tmp)
    os.replace(link_tmp, root / CURRENT)  # the commit: one atomic rename
    _fsync_dir(root)
    _point("switch", root / CURRENT)
    for item in root.iterdir():
        if item.name in (CURRENT, name):
            continue
        if item.is_dir() and not item.is_symlink():
            shutil.rmtree(item)
        else:
            item.unlink()
    _point("prune", root)
    return final


def _link_tree(src: Path, dst: Path) -> None:
    """Hard-link (copy where links are not possible) the files of ``src`` into a new ``dst``."""
    dst.mkdir()
    for item in src.iterdir():
        if item.is_dir():
            _link_tree(item, dst / item.name)
            continue
        try:
            os.link(item, dst / item.name)
        except OSError:
            shutil.copy2(item, dst / item.name)


def rng_state() -> dict[str, Any]:
    """The states of Python's, NumPy's (if imported), torch's and CUDA's random generators."""
    import sys

    state: dict[str, Any] = {"python": random.getstate(), "torch": torch.get_rng_state()}
    np = sys.modules.get("numpy")
    if np is not None:
        kind, keys, pos, has_gauss, cached = np.random.get_state()
        state["numpy"] = (kind, torch.from_numpy(keys.astype("int64")), int(pos), int(has_gauss), float(cached))
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore what :func:`rng_state` returned (generators absent now or then are left alone)."""
    if "python" in state:
        version, internal, gauss = state["python"]
        random.setstate((version, tuple(internal), gauss))
    if "torch" in state:
        torch.set_rng_state(state["torch"])
    if "numpy" in state:
        import numpy as np

        kind, keys, pos, has_gauss, cached = state["numpy"]
        np.random.set_state((kind, keys.numpy().astype("uint32"), pos, has_gauss, cached))
    if "cuda" in state and torch.cuda.is_available():
        states = state["cuda"]
        if len(states) == torch.cuda.device_count():
            torch.cuda.set_rng_state_all(states)


def load_state(run_dir: str | Path) -> dict[str, Any]:
    """The resume state of a run directory (a one-line error naming the file when it is damaged)."""
    path = Path(run_dir) / STATE_FILE
    if not path.is_file():
        raise ConfigError(
            f"cannot resume from {str(run_dir)!r}: {path} is missing. Pass a run directory written by "
            "`pimm train` (it holds config.json, state.pt, last/ and best/)"
        )
    try:
        # weights_only is explicit: older torch defaulted to full unpickling, which can run code
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is the same user problem
        why = " ".join(str(exc).split())
        if "weights_only" in why or "Unsupported global" in why or "GLOBAL" in why:
            raise ConfigError(f"refusing to load {path}: it holds objects that would run code when loaded "
                              "(a pimm state.pt holds only tensors and numbers); start a new run") from None
        raise ConfigError(f"cannot read {path}: the file is damaged ({why[:200]}); start a new run") from None
    if not isinstance(state, dict) or "epoch" not in state or "optimizer" not in state:
        raise ConfigError(f"{path} is not a pimm resume state (no epoch/optimizer entries); start a new run")
    return state
