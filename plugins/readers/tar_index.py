"""Reading tar member tables in place, safely, and caching them as JSON next to the data.

The scanner reads only the 512-byte headers (ustar, GNU and pax formats) and records, for every
regular file, its name, the absolute offset of its data and its size; reads later go straight to
that offset. Nothing is ever extracted. Members that could point outside the archive — absolute
names, '..' components, hard or symbolic links, devices, fifos, sparse files — are never
followed: they are left out and reported with the reason.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import zlib
from collections.abc import Callable
from typing import Any

from pimm.core.registry import natural_key

from .labels import DatasetError

BLOCK = 512
INDEX_VERSION = 1
_REGULAR = {b"0", b"\0", b"7"}
_REPORTED_TYPES = {
    b"1": "hard link",
    b"2": "symbolic link",
    b"3": "character device",
    b"4": "block device",
    b"6": "fifo",
    b"S": "sparse file",
    b"V": "volume label",
    b"M": "multi-volume continuation",
}
_COMPRESSED = {b"\x1f\x8b": "gzip", b"BZh": "bzip2", b"\xfd7zXZ\x00": "xz", b"\x28\xb5\x2f\xfd": "zstd"}

Member = list  # [name, data offset (absolute in the file), size, parent tar member name or ""]


def _octal(field: bytes) -> int:
    if field and field[0] & 0x80:  # GNU base-256 for large values
        value = field[0] & 0x3F
        for byte in field[1:]:
            value = (value << 8) | byte
        return -value if field[0] & 0x40 else value
    text = field.split(b"\0", 1)[0].strip(b" \0")
    return int(text, 8) if text else 0


def _checksum_ok(header: bytes) -> bool:
    try:
        stored = _octal(header[148:156])
    except ValueError:
        return False
    # The checksum is the byte sum with the checksum field read as 8 spaces. adler32's low half is
    # (1 + byte sum) mod 65521, computed in C; a match is confirmed with the exact sum.
    low = (zlib.adler32(header) & 0xFFFF) - 1 - sum(header[148:156]) + 256
    if (stored - low) % 65521:
        return False
    if header.isascii():  # byte sum < 65521: the modular match is exact
        return True
    return stored == sum(header) - sum(header[148:156]) + 256


def _pax_records(data: bytes) -> dict[str, str]:
    records: dict[str, str] = {}
    pos = 0
    while pos < len(data):
        space = data.find(b" ", pos)
        if space < 0:
            break
        try:
            length = int(data[pos:space])
        except ValueError:
            break
        if length <= 0:
            break
        record = data[space + 1 : pos + length - 1]  # drop the trailing newline
        key, _, value = record.partition(b"=")
        records[key.decode("utf-8", "replace")] = value.decode("utf-8", "surrogateescape")
        pos += length
    return records


def unsafe_reason(name: str) -> str | None:
    """Why a member name could escape the archive, or None when it is a plain relative path."""
    if not name:
        return "empty name"
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        return "absolute path"
    if ".." in name.replace("\\", "/").split("/"):
        return "'..' in path"
    if "\0" in name:
        return "NUL in name"
    return None


def _pread(fd: int, size: int, offset: int) -> bytes:
    if hasattr(os, "pread"):
        return os.pread(fd, size, offset)
    os.lseek(fd, offset, os.SEEK_SET)  # pragma: no cover - Windows
    return os.read(fd, size)


def check_not_compressed(path: str, fd: int) -> None:
    """Raise a clear error for a compressed tar (those cannot be read in place)."""
    head = _pread(fd, 6, 0)
    for magic, kind in _COMPRESSED.items():
        if head.startswith(magic):
            raise DatasetError(
                f"{path!r} is a {kind}-compressed tar; members cannot be read in place. Decompress it "
                f"first (e.g. `{'gunzip' if kind == 'gzip' else kind + ' -d'}`), keeping the .tar"
            )


def scan_members(fd: int, start: int = 0, end: int | None = None, where: str = "") -> tuple[list[Member], list[list[str]]]:
    """Regular-file members of the tar stored in ``fd`` between ``start`` and ``end``.

    Returns ``(members, skipped)``: members as ``[name, data offset, size, ""]``; skipped as
    ``[name, reason]`` for every member left out for safety or damage.
    """
    if end is None:
        end = os.fstat(fd).st_size
    members: list[Member] = []
    skipped: list[list[str]] = []
    pos = start
    long_name: str | None = None
    pax: dict[str, str] = {}
    first = True
    while pos + BLOCK <= end:
        header = _pread(fd, BLOCK, pos)
        if len(header) < BLOCK:
            skipped.append([f"<offset {pos}>", "truncated header"])
            break
        if header.count(0) == BLOCK:  # end-of-archive marker
            break
        if not _checksum_ok(header):
            if first:
                raise DatasetError(f"{where or 'file'} is not a tar archive (bad header checksum at offset {pos})")
            skipped.append([f"<offset {pos}>", "corrupt header; the rest of the archive is ignored"])
            break
        first = False
        try:
            size = _octal(header[124:136])
        except ValueError:
            skipped.append([f"<offset {pos}>", "bad size field; the rest of the archive is ignored"])
            break
        typeflag = header[156:157]
        data_at = pos + BLOCK
        next_pos = data_at + (size + BLOCK - 1) // BLOCK * BLOCK
        if typeflag in (b"L", b"K", b"x", b"g"):
            if size < 0 or data_at + size > end:
                skipped.append([f"<offset {pos}>", "truncated extended header"])
                break
            data = _pread(fd, size, data_at)
            if typeflag == b"L":
                long_name = data.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
            elif typeflag == b"x" and (b"path=" in data or b"size=" in data or b"GNU.sparse" in data):
                pax = _pax_records(data)
            pos = next_pos
            continue
        name = header[0:100].split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
        if header[257:263] == b"ustar\x00":
            prefix = header[345:500].split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
            if prefix:
                name = prefix + "/" + name
        if long_name is not None:
            name = long_name
        if "path" in pax:
            name = pax["path"]
        if "size" in pax:
            try:
                size = int(pax["size"])
                next_pos = data_at + (size + BLOCK - 1) // BLOCK * BLOCK
            except ValueError:
                pass
        sparse = any(k.startswith("GNU.sparse") for k in pax)
        long_name, pax = None, {}
        while name.startswith("./"):
            name = name[2:]
        pos = next_pos
        if typeflag == b"5" or (typeflag in _REGULAR and name.endswith("/")):
            continue  # directories carry nothing to read
        reason = _REPORTED_TYPES.get(typeflag) or (None if typeflag in _REGULAR else f"unsupported member type {typeflag!r}")
        if sparse:
            reason = "sparse file"
        reason = reason or unsafe_reason(name)
        if reason is None and (size < 0 or data_at + size > end):
            reason = "truncated data"
        if reason is not None:
            skipped.append([name, reason])
            if reason == "truncated data":
                break
            continue
        members.append([name, data_at, size, ""])
    return members, skipped


def scan_tar(path: str, fd: int) -> dict[str, Any]:
    """Index of a tar file: its members, with ``.tar`` members expanded one level."""
    check_not_compressed(path, fd)
    top, skipped = scan_members(fd, where=repr(path))
    members: list[Member] = []
    for name, offset, size, _ in top:
        if not name.lower().endswith(".tar"):
            members.append([name, offset, size, ""])
            continue
        try:
            inner, inner_skipped = scan_members(fd, offset, offset + size, where=f"{path}:{name}")
        except DatasetError as exc:
            skipped.append([name, f"unreadable nested tar ({exc})"])
            continue
        for inner_name, inner_offset, inner_size, _ in inner:
            if inner_name.lower().endswith(".tar"):
                skipped.append([f"{name}/{inner_name}", "tar nested more than one level"])
            else:
                members.append([inner_name, inner_offset, inner_size, name])
        skipped.extend([f"{name}/{n}", r] for n, r in inner_skipped)
    members.sort(key=lambda m: natural_key(m[0]))  # stored in reading order: re-opens skip the sort
    return {
        "names": [m[0] for m in members],
        "offsets": [m[1] for m in members],
        "sizes": [m[2] for m in members],
        "parents": [m[3] for m in members],
        "labels": [member_label(m[3], m[0]) for m in members],
        "skipped": skipped,
    }


def member_label(parent: str, name: str) -> str:
    """The class a member belongs to inside its tar: its directory's name, else the nested tar's
    name (without .tar), else '' (then the tar's own name applies for directories of tars)."""
    directory = name[: name.rfind("/")] if "/" in name else ""
    leaf = directory[directory.rfind("/") + 1 :]
    if leaf:
        return leaf
    if parent:
        return os.path.splitext(os.path.basename(parent))[0]
    return ""


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


#: A cached index larger than this many bytes per archive byte (plus a floor) is not read at all.
_INDEX_BYTES_PER_ARCHIVE_BYTE = 8
_INDEX_BYTES_FLOOR = 1 << 20
#: Headers re-read from the archive to confirm a cached index describes it (first, last, spread).
SPOT_CHECKS = 32

Validator = Callable[[dict[str, Any], int, int], None]


class BadIndex(ValueError):
    """A cached index is not a faithful description of its archive (it is rebuilt)."""


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_extent(offset: Any, size: Any, archive_size: int, what: str) -> None:
    """Raise :class:`BadIndex` unless ``[offset, offset+size)`` is a member's data inside the archive."""
    if not (_is_int(offset) and _is_int(size)):
        raise BadIndex(f"{what}: offset and size must be integers")
    if offset < BLOCK or offset % BLOCK or size < 0 or offset + size > archive_size:
        raise BadIndex(f"{what}: data [{offset}, {offset}+{size}) is not inside the {archive_size}-byte archive")


def check_name(name: Any, what: str) -> None:
    """Raise :class:`BadIndex` unless ``name`` is a member name that stays inside the archive."""
    if not isinstance(name, str):
        raise BadIndex(f"{what}: a name must be a string")
    reason = unsafe_reason(name)
    if reason:
        raise BadIndex(f"{what}: name {name!r} ({reason})")


def check_skipped(skipped: Any, archive_size: int) -> None:
    """The ``skipped`` list: ``[name, reason]`` string pairs, at most one per header block."""
    if not isinstance(skipped, list) or len(skipped) > archive_size // BLOCK + 1:
        raise BadIndex("'skipped' must be a list no longer than the archive has headers")
    for row in skipped:
        if not (isinstance(row, list) and len(row) == 2 and all(isinstance(v, str) for v in row)):
            raise BadIndex("'skipped' rows must be [name, reason] strings")


def spot_check_headers(fd: int, offsets: list[int]) -> None:
    """Re-read the tar headers in front of a spread of member offsets: each must be a valid header
    of a regular file (catches an index of another archive with the same size and time)."""
    if not offsets:
        return
    count = len(offsets)
    picks = sorted({0, count - 1, *(i * count // SPOT_CHECKS for i in range(SPOT_CHECKS))})
    for i in picks:
        header = _pread(fd, BLOCK, offsets[i] - BLOCK)
        if len(header) < BLOCK or not _checksum_ok(header) or header[156:157] not in _REGULAR:
            raise BadIndex(f"no regular-file tar header in front of member {i} (offset {offsets[i]})")


def check_no_hidden_members(fd: int, offsets: list[int], sizes: list[int], archive_size: int) -> None:
    """Raise :class:`BadIndex` when the archive holds a regular member the index does not list.

    Only the stretches between listed members are scanned (directory entries, long-name and pax
    headers, left-out members live there), so a cached index that silently drops samples is
    caught at a fraction of a full scan's cost; listed members must not overlap.
    """
    cursor = 0
    for offset, size in sorted(zip(offsets, sizes)):
        header_at = offset - BLOCK
        if header_at < cursor:
            raise BadIndex(f"members overlap at offset {offset}")
        if header_at > cursor:
            try:
                hidden, _ = scan_members(fd, cursor, header_at)
            except DatasetError as exc:
                raise BadIndex(f"no tar header at offset {cursor}: {exc}") from None
            if hidden:
                raise BadIndex(f"member {hidden[0][0]!r} is in the archive but not in the index")
        cursor = offset + (size + BLOCK - 1) // BLOCK * BLOCK
    if cursor < archive_size:
        try:
            hidden, _ = scan_members(fd, cursor, archive_size)
        except DatasetError as exc:
            raise BadIndex(f"no tar header at offset {cursor}: {exc}") from None
        if hidden:
            raise BadIndex(f"member {hidden[0][0]!r} is in the archive but not in the index")


def validate_tar_index(data: dict[str, Any], archive_size: int, fd: int) -> None:
    """Raise :class:`BadIndex` unless ``data`` is a well-formed member table of this archive."""
    columns = ("names", "offsets", "sizes", "parents", "labels")
    if any(not isinstance(data.get(c), list) for c in columns):
        raise BadIndex(f"an index needs the lists {', '.join(columns)}")
    count = len(data["names"])
    if any(len(data[c]) != count for c in columns):
        raise BadIndex("the index columns have different lengths")
    if count > archive_size // BLOCK:  # every member takes a header block at least
        raise BadIndex(f"{count} members cannot fit in {archive_size} bytes")
    for i, (name, offset, size, parent, label) in enumerate(zip(*(data[c] for c in columns))):
        what = f"member {i}"
        check_name(name, what)
        check_extent(offset, size, archive_size, what)
        if parent != "":
            check_name(parent, f"{what} parent")
        if not isinstance(label, str) or label != member_label(parent, name):
            raise BadIndex(f"{what}: its label does not follow from its name")
    check_skipped(data.get("skipped"), archive_size)
    spot_check_headers(fd, data["offsets"])
    if not any(data["parents"]):  # members of nested tars live inside their tar's data: no gaps to read
        check_no_hidden_members(fd, data["offsets"], data["sizes"], archive_size)


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
