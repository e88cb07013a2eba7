"""Tar and shard indexes cached as JSON next to the data (or in the user cache), read back as untrusted input."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from typing import Any

from .index_checks import BadIndex, Validator
from .tar_index import INDEX_VERSION

#: A cached index larger than this many bytes per archive byte (plus a floor) is not read at all.
_INDEX_BYTES_PER_ARCHIVE_BYTE = 8
_INDEX_BYTES_FLOOR = 1 << 20
def default_cache_dir() -> str:
    """Fallback directory of index files (``$PIMM_CACHE_DIR/tar-index`` or ``~/.cache/pimm/tar-index``)."""
    base = os.environ.get("PIMM_CACHE_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "pimm")
    return os.path.join(base, "tar-index")


def _cache_path(path: str, suffix: str, cache_dir: str | None) -> list[str]:
    """Candidate index file locations, in order of preference."""
    absolute = os.path.abspath(path)
    tag = hashlib.sha1(absolute.encode("utf-8", "surrogateescape")).hexdigest()[:16]
    keyed = f"{tag}-{os.path.basename(path)}.{suffix}.json"
    if cache_dir:
        return [os.path.join(cache_dir, keyed)]
    return [f"{absolute}.{suffix}.json", os.path.join(default_cache_dir(), keyed)]


def _read_cache(file: str, stamp: dict[str, Any], archive_size: int, fd: int,
                validate: Validator | None) -> dict[str, Any] | None:
    """The cached index in ``file`` when it is for this archive and passes ``validate``, else None.

    The file is untrusted input (anything may have written it): its size is bounded before it is
    parsed, and a wrong type, length, name, offset or size anywhere makes it rejected (rebuilt).
    """
    try:
        if os.path.getsize(file) > _INDEX_BYTES_FLOOR + _INDEX_BYTES_PER_ARCHIVE_BYTE * archive_size:
            return None
        with open(file, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or any(data.get(k) != v for k, v in stamp.items()):
        return None
    if validate is not None:
        try:
            validate(data, archive_size, fd)
        except (BadIndex, TypeError, ValueError, KeyError, IndexError, AttributeError):
            return None
    return data


def _write_cache(file: str, data: dict[str, Any]) -> bool:
    directory = os.path.dirname(file)
    try:
        os.makedirs(directory, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".pimm-index-", dir=directory)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, separators=(",", ":"))
        os.replace(tmp, file)
        return True
    except OSError:
        try:
            os.unlink(tmp)  # type: ignore[possibly-undefined]
        except (OSError, UnboundLocalError):
            pass
        return False


def cached_index(
    path: str,
    suffix: str,
    build: Callable[[str, int], dict[str, Any]],
    cache_index: bool = True,
    cache_dir: str | None = None,
    validate: Validator | None = None,
) -> dict[str, Any]:
    """``build(path, fd)`` for the file at ``path``, memoised in a JSON file.

    The cache is keyed by the file's size and modification time (and the index format), so a
    changed file is scanned again. A cached index is untrusted: ``validate(data, archive_size,
    fd)`` raises :class:`BadIndex` for one that does not describe this archive, and it is then
    rebuilt (and rewritten). Unwritable locations fall back to the user cache directory; when
    nothing is writable the index is simply not cached.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    try:
        st = os.fstat(fd)
        stamp = {"format": suffix, "version": INDEX_VERSION, "size": st.st_size, "mtime_ns": st.st_mtime_ns}
        candidates = _cache_path(path, suffix, cache_dir) if cache_index else []
        for file in candidates:
            data = _read_cache(file, stamp, st.st_size, fd, validate)
            if data is not None:
                return data
        data = {**stamp, **build(path, fd)}
    finally:
        os.close(fd)
    for file in candidates:
        if _write_cache(file, data):
            break
    return data
