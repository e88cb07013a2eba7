"""One resolver for pretrained weights from every source, and safe checkpoint reading.

Resolution order for a :class:`~pimm.core.specs.PretrainedCfg` (first hit wins):

1. ``cfg.file``: a local file, or a directory searched with :func:`find_weights_in_directory`
   (this is what ``local-dir:DIR`` and ``pretrained_cfg_overlay=dict(file=...)`` set).
2. Already cached copies, no network: the hub cache for ``cfg.hf_hub_id`` (``model.safetensors``
   tried before ``pytorch_model.bin``), then the torch hub cache for ``cfg.url``.
3. Downloads, unless offline (``HF_HUB_OFFLINE=1`` or ``PIMM_OFFLINE=1``, then no network call at
   all): the hub through ``huggingface_hub``, then the URL (see :mod:`pimm.core.models.hub`).
4. Otherwise one :class:`WeightsNotFoundError` naming the file needed and where to put it.

``cfg.source == 'hf-hub'`` restricts the search to the hub. Files are read with safetensors, or
with ``torch.load(weights_only=True)``; a pickle that would import or run anything else is refused
(:class:`UnsafeCheckpointError`). When ``cfg.sha256`` is set the file's digest must match.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import pickle
from pathlib import Path
from typing import Any

from ..errors import PimmError
from ..specs import PretrainedCfg
from . import hub

__all__ = [
    "WeightsNotFoundError",
    "UnsafeCheckpointError",
    "ChecksumError",
    "CheckpointReadError",
    "hub_filenames",
    "find_weights_in_directory",
    "resolve_weights",
    "read_checkpoint",
    "verify_sha256",
]

# Preferred file names inside a weights directory, then extensions by priority.
DIRECTORY_FILES: tuple[str, ...] = (
    "model.safetensors",
    "pytorch_model.bin",
    "pytorch_model.pth",
    "model.pth",
    "open_clip_model.safetensors",
    "open_clip_pytorch_model.safetensors",
    "open_clip_pytorch_model.bin",
    "open_clip_model.pth",
)
DIRECTORY_EXTENSIONS: tuple[str, ...] = (".safetensors", ".pth", ".pth.tar", ".bin")


class WeightsNotFoundError(PimmError, FileNotFoundError):
    """Pretrained weights are neither available locally nor downloadable right now."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class UnsafeCheckpointError(PimmError):
    """A pickle checkpoint would import or run code beyond plain tensors; it was not loaded."""


class ChecksumError(PimmError):
    """A weight file's sha256 differs from the one its pretrained config records."""


class CheckpointReadError(PimmError):
    """A checkpoint file exists but could not be read (truncated, wrong format ...)."""


def hub_filenames(cfg: PretrainedCfg) -> list[str]:
    """Files to look for in the hub repo, safetensors first."""
    name = cfg.hf_hub_filename
    if not name:
        return ["model.safetensors", "pytorch_model.bin"]
    if name.endswith(".bin") or name.endswith(".pth"):
        return [name.rsplit(".", 1)[0] + ".safetensors", name]
    return [name]


def find_weights_in_directory(directory: str | os.PathLike[str]) -> Path:
    """The weight file of a directory: a preferred name, else the first file by extension priority."""
    root = Path(directory).expanduser()
    if not root.is_dir():
        raise WeightsNotFoundError(f"weights directory {str(root)!r} does not exist")
    for name in DIRECTORY_FILES:
        if (root / name).is_file():
            return root / name
    for ext in DIRECTORY_EXTENSIONS:
        found = sorted(p for p in root.iterdir() if p.is_file() and p.name.endswith(ext))
        if found:
            if len(found) > 1:
                import warnings

                warnings.warn(
                    f"{root} holds several {ext} files; using {found[0].name}. Name the one you mean "
                    "model.safetensors, or pass its path as pretrained_cfg_overlay=dict(file=...).",
                    stacklevel=3,
                )
            return found[0]
    raise WeightsNotFoundError(
        f"no weight file in {str(root)!r}: expected one of {', '.join(DIRECTORY_FILES[:4])} or a file "
        f"ending in {', '.join(DIRECTORY_EXTENSIONS)}"
    )


def _cached_hub(cfg: PretrainedCfg, cache_dir: Any) -> Path | None:
    repo, rev = hub.split_revision(cfg.hf_hub_id or "")
    for name in hub_filenames(cfg):
        found = hub.find_in_hf_cache(repo, name, rev, cache_dir)  # huggingface_hub's cache API, no network
        if found is not None:
            return found
    return None


def _download_hub(cfg: PretrainedCfg, cache_dir: Any, problems: list[str]) -> Path | None:
    repo, rev = hub.split_revision(cfg.hf_hub_id or "")
    if not hub.hub_available():
        problems.append("huggingface_hub is not installed (pip install huggingface_hub)")
        return None
    if not hub.host_resolves(hub.hub_endpoint()):
        problems.append(f"no network: cannot resolve {hub.hub_endpoint()}")
        return None
    for name in hub_filenames(cfg):
        try:
            return hub.download_hub_file(repo, name, rev, cache_dir)
        except Exception as exc:  # missing entry → next name; anything else is reported
            if type(exc).__name__ in ("EntryNotFoundError", "RemoteEntryNotFoundError"):
                continue
            problems.append(f"hub download of {repo}/{name} failed: {type(exc).__name__}: {exc}")
            return None
    problems.append(f"hub repo {repo} has none of {hub_filenames(cfg)}")
    return None


def _missing_message(cfg: PretrainedCfg, label: str, cache_dir: Any, problems: list[str]) -> str:
    lines = [f"pretrained weights for {label} are not available locally and could not be downloaded."]
    if problems:
        lines.append("Why: " + "; ".join(problems) + ".")
    lines.append("Provide the file in one of these ways:")
    if cfg.url:
        dest = hub.torch_hub_checkpoint_dir(cache_dir) / hub.url_filename(cfg.url)
        lines.append(f"  - download {cfg.url} and save it as {dest}")
    if cfg.hf_hub_id:
        repo, _ = hub.split_revision(cfg.hf_hub_id)
        name = hub_filenames(cfg)[0]
        lines.append(
            f"  - fetch {name} from the hub repo {repo} where there is network (`huggingface-cli download "
            f"{repo} {name}`) and copy the cache over; it is looked for at {hub.hf_cache_target(repo, name, cache_dir)}"
        )
    lines.append("  - or pass the path of any copy: create_model(..., pretrained_cfg_overlay=dict(file='/path/to/weights'))")
    if cfg.sha256:
        lines.append(f"The file must have sha256 {cfg.sha256}.")
    elif cfg.hash_prefix and cfg.url:
        lines.append(f"Its sha256 must start with {cfg.hash_prefix}.")
    return "\n".join(lines)


def resolve_weights(cfg: PretrainedCfg, cache_dir: str | os.PathLike[str] | None = None, label: str = "") -> Path:
    """The local path of the weights ``cfg`` points at, downloading only when no local copy exists."""
    label = label or (f"{cfg.architecture}.{cfg.tag}" if cfg.tag else str(cfg.architecture))
    if cfg.file:
        path = Path(cfg.file).expanduser()
        if path.is_dir():
            return _checked(find_weights_in_directory(path), cfg)
        if path.is_file():
            return _checked(path, cfg)
        raise WeightsNotFoundError(
            f"pretrained file {str(path)!r} for {label} does not exist; fix the path given as "
            "pretrained_cfg_overlay=dict(file=...) or the local-dir: name"
        )
    if not (cfg.hf_hub_id or cfg.url):
        raise WeightsNotFoundError(
            f"{label} has no pretrained weights (its config has no file, url or hf_hub_id); use "
            "pretrained=False, pick a tag that has weights (`pimm info model NAME`), or pass "
            "pretrained_cfg_overlay=dict(file=...)"
        )
    hub_only = cfg.source == "hf-hub"
    if cfg.hf_hub_id:
        found = _cached_hub(cfg, cache_dir)
        if found is not None:
            return _checked(found, cfg)
    url_dest = None
    if cfg.url and not hub_only:
        url_dest = hub.torch_hub_checkpoint_dir(cache_dir) / hub.url_filename(cfg.url)
        if url_dest.is_file():
            return _checked(url_dest, cfg, from_url=True)
    problems: list[str] = []
    if hub.hub_offline():
        problems.append("offline mode is on (HF_HUB_OFFLINE / PIMM_OFFLINE)")
    else:
        if cfg.hf_hub_id:
            found = _download_hub(cfg, cache_dir, problems)
            if found is not None:
                return _checked(found, cfg)
        if url_dest is not None and cfg.url and not hub.host_resolves(cfg.url):
            problems.append(f"no network: cannot resolve the host of {cfg.url}")
        elif url_dest is not None and cfg.url:
            try:
                return _checked(hub.download_url(cfg.url, url_dest), cfg, from_url=True)
            except ChecksumError:
                raise
            except Exception as exc:
                problems.append(f"download of {cfg.url} failed: {type(exc).__name__}: {exc}")
    raise WeightsNotFoundError(_missing_message(cfg, label, cache_dir, problems))


def verify_sha256(path: str | os.PathLike[str], expected: str, prefix: bool = False) -> None:
    """Raise :class:`ChecksumError` unless the file's sha256 equals ``expected`` (hex, any case).

    With ``prefix=True`` the digest only has to start with ``expected`` (torch hub's file-name hashes).
    """
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    got = digest.hexdigest()
    want = expected.strip().lower()
    if (not got.startswith(want)) if prefix else got != want:
        raise ChecksumError(
            f"sha256 of {str(path)!r} is {got}, expected {expected}{'...' if prefix else ''}: the file is corrupt or not the "
            "expected weights; delete it and fetch it again"
        )


def _checked(path: Path, cfg: PretrainedCfg, from_url: bool = False) -> Path:
    if cfg.sha256:
        verify_sha256(path, cfg.sha256)
    elif from_url and cfg.hash_prefix:
        verify_sha256(path, cfg.hash_prefix, prefix=True)
    return path


#: What torch's weights-only unpickler says when a pickle names a class or function to import
#: (the part that could run code), across torch versions ("Unsupported class" before 2.4).
_CODE_MARKERS = ("Unsupported global", "Unsupported class", "GLOBAL ", "not an allowed global")


def _needs_code(message: str) -> bool:
    """True when a weights-only load failed because the pickle imports something (not because it is damaged)."""
    return any(marker in message for marker in _CODE_MARKERS)


def _pickle_imports(path: Path, max_ops: int = 100_000) -> bool:
    """True when the file parses as a pickle that imports a name (could run code when loaded).

    Only the opcodes are read (``pickletools.genops``), nothing is executed; a file that is not a
    pickle at all stops the parse at once and counts as damaged rather than dangerous.
    """
    import itertools
    import pickletools

    try:
        with open(path, "rb") as handle:
            for op, _, _ in itertools.islice(pickletools.genops(handle), max_ops):
                if op.name in ("GLOBAL", "STACK_GLOBAL", "INST", "OBJ"):
                    return True
    except Exception:  # not a pickle stream (or a broken one)
        return False
    return False


def _first_reason(message: str) -> str:
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    reason = next((line for line in lines if "Unsupported" in line or "load key" in line), lines[-1] if lines else "")
    return reason.replace("WeightsUnpickler error: ", "").split(" was not an allowed global")[0][:120]


def read_checkpoint(path: str | os.PathLike[str]) -> Any:
    """Read a checkpoint file onto the CPU: safetensors, or a pickle restricted to tensors and containers."""
    path = Path(path)
    if not path.is_file():
        raise WeightsNotFoundError(f"checkpoint {str(path)!r} does not exist")
    if path.name.endswith(".safetensors"):
        from safetensors.torch import load_file

        try:
            return load_file(str(path), device="cpu")
        except Exception as exc:
            raise CheckpointReadError(f"cannot read safetensors file {str(path)!r}: {exc}") from exc
    import torch

    try:
        with torch.serialization.safe_globals([argparse.Namespace]):
            return torch.load(str(path), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        if not (_needs_code(str(exc)) or _pickle_imports(path)):  # garbage or truncation: damage, not danger
            raise CheckpointReadError(
                f"cannot read checkpoint {str(path)!r}: it is damaged, truncated or not a PyTorch checkpoint "
                f"(torch.load found no valid pickle stream: {_first_reason(str(exc))}). Fetch or save it again."
            ) from None
        raise UnsafeCheckpointError(
            f"refused to load {str(path)!r}: it is a pickle that needs more than tensors to load "
            f"({_first_reason(str(exc))}), and loading it could run arbitrary code. pimm only "
            "reads pickles with torch.load(weights_only=True). If you trust the file, convert it to "
            "safetensors yourself (safetensors.torch.save_file) and load that."
        ) from None
    except Exception as exc:
        raise CheckpointReadError(
            f"cannot read checkpoint {str(path)!r}: it is damaged, truncated or not a PyTorch checkpoint "
            f"({type(exc).__name__}: {_first_reason(str(exc)) or 'no detail'}). Fetch or save it again."
        ) from exc
