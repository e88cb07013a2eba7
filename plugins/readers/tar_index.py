"""Reading tar member tables in place, safely (the JSON cache of them: :mod:`.index_cache`).

The scanner reads only the 512-byte headers (ustar, GNU and pax formats) and records, for every
regular file, its name, the absolute offset of its data and its size; reads later go straight to
that offset. Nothing is ever extracted. Members that could point outside the archive — absolute
names, '..' components, hard or symbolic links, devices, fifos, sparse files — are never
followed: they are left out and reported with the reason.
"""

from __future__ import annotations

import os
import zlib
from typing import Any

from pimm.core.registry import natural_key

from .labels import DatasetError

BLOCK = 512
INDEX_VERSION = 2  # 2: oversized wds text members are recorded (as a marker)
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
