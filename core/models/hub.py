"""Where weight files live: the Hugging Face hub cache, the torch hub cache, and downloads.

Hub files go through ``huggingface_hub`` (a runtime dependency): its cache layout, its cache API
(:func:`huggingface_hub.try_to_load_from_cache`, no network), its downloader
(:func:`huggingface_hub.hf_hub_download`: etag/commit checks, ``.incomplete`` files resumed with
HTTP ranges, retries on dropped connections) and its authentication. pimm adds two rules:

- the environment is read when a file is needed, not when ``huggingface_hub`` was imported:
  ``HF_ENDPOINT``, ``HF_HUB_CACHE`` / ``HF_HOME`` and the offline switches;
- offline (``PIMM_OFFLINE=1`` or ``HF_HUB_OFFLINE=1``) means zero network calls: only the cache
  API is used, never the downloader.

URL weights (timm's ``url=`` configs) go to ``torch.hub.get_dir()/checkpoints/<file name>`` (or
``cache_dir``), where torchvision and timm look too, checked for length and resumed after a drop.
Nothing here touches the network unless :func:`download_hub_file`, :func:`fetch_hub_file` or
:func:`download_url` is called.
"""

from __future__ import annotations

import http.client
import os
import time
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
    "fetch_hub_file",
    "host_resolves",
    "hub_endpoint",
    "torch_hub_checkpoint_dir",
    "url_filename",
    "download_url",
]

_TRUE = {"1", "true", "yes", "on"}
URL_ATTEMPTS = 3  # a dropped URL download is retried from scratch this many times in all


def hub_available() -> bool:
    """True when ``huggingface_hub`` can be imported (it is a dependency; False only in a broken install)."""
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
    """The hub cache directory in use: ``cache_dir``, else huggingface_hub's environment rule, read now."""
    if cache_dir is not None:
        return Path(cache_dir)
    for var in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"):
        if os.environ.get(var):
            return Path(os.environ[var]).expanduser()
    home = os.environ.get("HF_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.join(os.path.expanduser("~"), ".cache")), "huggingface"
    )
    return Path(home).expanduser() / "hub"


def hub_endpoint() -> str:
    """The hub's base URL (``HF_ENDPOINT`` or huggingface.co), read now."""
    return os.environ.get("HF_ENDPOINT", "https://huggingface.co").rstrip("/")


def find_in_hf_cache(
    repo_id: str, filename: str, revision: str | None = None, cache_dir: str | os.PathLike[str] | None = None
) -> Path | None:
    """The cached copy of ``filename`` from hub repo ``repo_id``, or None; never uses the network."""
    from huggingface_hub import try_to_load_from_cache

    found = try_to_load_from_cache(repo_id, filename, cache_dir=str(hf_cache_dir(cache_dir)), revision=revision)
    return Path(found) if isinstance(found, str) else None


#: Kept for callers of the former name: the cache lookup is huggingface_hub's in every case now.
cached_with_hub_package = find_in_hf_cache


def hf_cache_target(repo_id: str, filename: str, cache_dir: str | os.PathLike[str] | None = None) -> str:
    """Where a hub file is expected in the cache layout (for error messages)."""
    root = hf_cache_dir(cache_dir) / ("models--" + repo_id.replace("/", "--"))
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


def download_hub_file(
    repo_id: str, filename: str, revision: str | None = None, cache_dir: str | os.PathLike[str] | None = None
) -> Path:
    """Fetch ``filename`` from the hub with ``hf_hub_download`` into the hub cache; returns the cached path.

    A partial ``.incomplete`` file left by an interrupted download is resumed (HTTP range request),
    and a connection dropped mid-file is retried by huggingface_hub.
    """
    from huggingface_hub import hf_hub_download

    return Path(hf_hub_download(repo_id, filename, revision=revision, cache_dir=str(hf_cache_dir(cache_dir)),
                                endpoint=hub_endpoint()))


def fetch_hub_file(
    repo_id: str, filename: str, revision: str | None = None, cache_dir: str | os.PathLike[str] | None = None
) -> Path | None:
    """The cached copy of a hub file, else a download of it (unless offline); None when offline and uncached."""
    found = find_in_hf_cache(repo_id, filename, revision, cache_dir)
    if found is not None or hub_offline():
        return found
    return download_hub_file(repo_id, filename, revision, cache_dir)


def torch_hub_checkpoint_dir(cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """Directory where URL checkpoints are cached (``torch.hub.get_dir()/checkpoints`` by default)."""
    if cache_dir is not None:
        return Path(cache_dir)
    import torch.hub

    return Path(torch.hub.get_dir()) / "checkpoints"


def url_filename(url: str) -> str:
    """The file name a URL's checkpoint is cached under (last path component)."""
    return os.path.basename(urlparse(url).path)


def download_url(url: str, dest: Path, attempts: int = URL_ATTEMPTS) -> Path:
    """Download ``url`` to ``dest``: through ``dest.part``, resumed with a range request after a drop.

    The body must have the length the server announced; only a complete file is moved onto
    ``dest``, so an interrupted download never leaves a truncated weight file in the cache. A
    dropped transfer is resumed (or restarted when the server ignores ranges) up to ``attempts``
    times in all; an HTTP error such as 404 is not retried.
    """
    import urllib.error

    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    last: Exception | None = None
    for attempt in range(max(1, attempts)):
        try:
            _fetch_to(url, part)
            os.replace(part, dest)
            return dest
        except urllib.error.HTTPError as exc:
            part.unlink(missing_ok=True)
            raise OSError(f"HTTP {exc.code} {exc.reason} for {url}") from None
        except (OSError, http.client.HTTPException) as exc:  # dropped connection, short body, timeout
            last = exc
            if attempt + 1 < attempts:
                time.sleep(0.2 * (attempt + 1))
    part.unlink(missing_ok=True)
    raise OSError(f"download of {url} failed {attempts} times; last error: {type(last).__name__}: {last}")


def _fetch_to(url: str, part: Path) -> None:
    """Append the rest of ``url`` to ``part`` (range request when it has bytes already)."""
    import urllib.request

    have = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"User-Agent": "pimm", **({"Range": f"bytes={have}-"} if have else {})})
    with urllib.request.urlopen(request, timeout=60) as response:
        if have and response.status != 206:
            have = 0  # the server ignored the range: start over
        length = response.headers.get("Content-Length")
        expected = have + int(length) if length is not None else None
        with open(part, "ab" if have else "wb") as handle:
            while True:
                block = response.read(1 << 20)
                if not block:
                    break
                handle.write(block)
    size = part.stat().st_size
    if expected is not None and size != expected:
        raise OSError(f"short download: got {size} of {expected} bytes")
