"""Where weight files live: the Hugging Face hub cache, the torch hub cache, and downloads.

``huggingface_hub`` is optional. When it is installed it is used (its cache, its offline switch
``HF_HUB_OFFLINE``, its authentication); when it is not, files already in the standard hub cache
layout are still found by reading that layout directly::

    <cache>/models--<org>--<name>/refs/<revision>          (text file holding a commit hash)
    <cache>/models--<org>--<name>/snapshots/<commit>/<filename>

where ``<cache>`` is ``$HF_HUB_CACHE``, else ``$HF_HOME/hub``, else ``~/.cache/huggingface/hub``.
URL downloads go to ``torch.hub.get_dir()/checkpoints/<file name from the URL>`` (or ``cache_dir``).
Nothing here touches the network unless :func:`download_hub_file` or :func:`download_url` is called.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

__all__ = [
    "hub_available",
    "hub_offline",
    "split_revision",
    "hf_cache_dir",
    "find_in_hf_cache",
    "hf_cache_target",
    "download_hub_file",
    "host_resolves",
    "hub_endpoint",
    "torch_hub_checkpoint_dir",
    "url_filename",
    "download_url",
]

_TRUE = {"1", "true", "yes", "on"}
_COMMIT_RE = re.compile(r"^[0-9a-f]{40}$")


def hub_available() -> bool:
    """True when the optional ``huggingface_hub`` package can be imported."""
    try:
        import huggingface_hub  # noqa: F401
    except ImportError:
        return False
    return True


def hub_offline() -> bool:
    """True when network access is switched off (``HF_HUB_OFFLINE`` or ``PIMM_OFFLINE``)."""
    return any(os.environ.get(v, "").strip().lower() in _TRUE for v in ("HF_HUB_OFFLINE", "PIMM_OFFLINE"))


def split_revision(hub_id: str) -> tuple[str, str | None]:
    """Split ``'org/name@rev'`` into ``('org/name', 'rev')`` (revision None when absent)."""
    repo, sep, rev = hub_id.partition("@")
    return repo, (rev or None) if sep else None


def hf_cache_dir(cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """The hub cache directory in use (explicit ``cache_dir`` wins over the environment)."""
    if cache_dir is not None:
        return Path(cache_dir)
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"])
    if os.environ.get("HUGGINGFACE_HUB_CACHE"):
        return Path(os.environ["HUGGINGFACE_HUB_CACHE"])
    home = os.environ.get("HF_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.join(os.path.expanduser("~"), ".cache")), "huggingface"
    )
    return Path(home) / "hub"


def _repo_folder(repo_id: str) -> str:
    return "models--" + repo_id.replace("/", "--")


def find_in_hf_cache(
    repo_id: str, filename: str, revision: str | None = None, cache_dir: str | os.PathLike[str] | None = None
) -> Path | None:
    """The cached copy of ``filename`` from hub repo ``repo_id``, or None; never uses the network."""
    root = hf_cache_dir(cache_dir) / _repo_folder(repo_id)
    if not root.is_dir():
        return None
    rev = revision or "main"
    commit = rev if _COMMIT_RE.match(rev) else None
    ref_file = root / "refs" / rev
    if commit is None and ref_file.is_file():
        commit = ref_file.read_text().strip()
    if commit is None:
        return None
    path = root / "snapshots" / commit / filename
    return path if path.is_file() else None


def hf_cache_target(repo_id: str, filename: str, cache_dir: str | os.PathLike[str] | None = None) -> str:
    """Where a hub file is expected in the cache layout (for error messages)."""
    root = hf_cache_dir(cache_dir) / _repo_folder(repo_id)
    return str(root / "snapshots" / "<commit>" / filename) + f" (with {root / 'refs' / 'main'} holding <commit>)"


def host_resolves(url: str) -> bool:
    """True when the host of ``url`` resolves in DNS (a cheap check before a download that would retry)."""
    import socket

    host = urlparse(url).hostname
    if not host:
        return False
    try:
        socket.getaddrinfo(host, 443)
    except OSError:
        return False
    return True


def hub_endpoint() -> str:
    """The hub's base URL (``HF_ENDPOINT`` or huggingface.co)."""
    return os.environ.get("HF_ENDPOINT", "https://huggingface.co")


def download_hub_file(
    repo_id: str, filename: str, revision: str | None = None, cache_dir: str | os.PathLike[str] | None = None
) -> Path:
    """Fetch ``filename`` from the hub through ``huggingface_hub`` (its cache and settings apply)."""
    from huggingface_hub import hf_hub_download

    kwargs: dict[str, Any] = {"revision": revision}
    if cache_dir is not None:
        kwargs["cache_dir"] = str(cache_dir)
    return Path(hf_hub_download(repo_id, filename, **kwargs))


def cached_with_hub_package(
    repo_id: str, filename: str, revision: str | None = None, cache_dir: str | os.PathLike[str] | None = None
) -> Path | None:
    """Ask ``huggingface_hub`` for an already cached file (no network); None when not cached."""
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return None
    found = try_to_load_from_cache(
        repo_id, filename, cache_dir=str(cache_dir) if cache_dir is not None else None, revision=revision
    )
    return Path(found) if isinstance(found, str) else None


def torch_hub_checkpoint_dir(cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """Directory where URL checkpoints are cached (``torch.hub.get_dir()/checkpoints`` by default)."""
    if cache_dir is not None:
        return Path(cache_dir)
    import torch.hub

    return Path(torch.hub.get_dir()) / "checkpoints"


def url_filename(url: str) -> str:
    """The file name a URL's checkpoint is cached under (last path component)."""
    return os.path.basename(urlparse(url).path)


def download_url(url: str, dest: Path) -> Path:
    """Download ``url`` to ``dest`` (through a temporary file; torch's downloader)."""
    from torch.hub import download_url_to_file

    dest.parent.mkdir(parents=True, exist_ok=True)
    download_url_to_file(url, str(dest), progress=False)
    return dest
