"""``pimm push``: upload a run's best model (weights + config) to a Hugging Face hub repository.

What is uploaded: the files of the run's ``best/`` directory (``last/`` when the run kept no best),
which is a pimm model directory (``config.json`` with the architecture, options, label names and
data config, plus ``model.safetensors``), and the run's own ``config.json`` as
``pimm_run_config.json``, so the training settings travel with the weights. A plain model
directory (``save_pretrained`` output) can be pushed too. ``create_model('hf-hub:ID')`` loads the
result. Uploads go through ``huggingface_hub`` (its token, ``HF_ENDPOINT``).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from ..errors import ConfigError

__all__ = ["push_run", "files_to_push"]

RUN_CONFIG_NAME = "pimm_run_config.json"


def files_to_push(source: str | Path) -> dict[str, Path]:
    """``{name in the repo: local file}`` for a run directory or a model directory."""
    root = Path(source).expanduser()
    if not root.is_dir():
        raise ConfigError(f"{str(root)!r} is not a directory: pass a run directory of pimm train or a model directory")
    model_dir = root
    files: dict[str, Path] = {}
    if (root / "last").is_dir() and (root / "config.json").is_file():  # a run directory
        model_dir = root / "best" if (root / "best").is_dir() else root / "last"
        files[RUN_CONFIG_NAME] = root / "config.json"
    weights = sorted(p for p in model_dir.glob("*.safetensors") if p.is_file())
    if not (model_dir / "config.json").is_file() or not weights:
        raise ConfigError(f"{str(model_dir)!r} holds no model (config.json + model.safetensors); pass a run "
                          "directory of pimm train or a directory written by save_pretrained")
    for path in sorted(model_dir.iterdir()):
        if path.is_file():
            files[path.name] = path
    return files


def push_run(source: str | Path, repo_id: str, private: bool = False, token: str | None = None,
             message: str | None = None) -> Any:
    """Create ``repo_id`` if needed and upload the model of ``source`` in one commit; returns the commit info."""
    from huggingface_hub import HfApi

    from ..models import hub

    if "/" not in repo_id or repo_id.count("/") != 1 or not all(repo_id.split("/")):
        raise ConfigError(f"--repo {repo_id!r} must look like OWNER/NAME")
    if hub.hub_offline():
        raise ConfigError("offline mode is on (PIMM_OFFLINE / HF_HUB_OFFLINE): pimm push needs the network")
    files = files_to_push(source)
    api = HfApi(endpoint=hub.hub_endpoint(), token=token)
    api.create_repo(repo_id, private=private, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="pimm-push-") as tmp:
        staging = Path(tmp)
        for name, path in files.items():
            shutil.copy2(path, staging / name)
        return api.upload_folder(folder_path=str(staging), repo_id=repo_id,
                                 commit_message=message or f"pimm push of {Path(source).name}")
