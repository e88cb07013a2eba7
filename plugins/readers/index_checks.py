"""Checks that a cached tar or shard index describes its archive: the index is untrusted input.

A cached index may be stale, truncated, hand-edited or written for another archive. Before it is
believed, every name must stay inside the archive, every offset and size must be integers that
point at member data inside it, the columns must agree, a spread of member headers is re-read,
and the stretches between listed members are scanned so no member is silently missing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .labels import DatasetError
from .tar_index import BLOCK, _REGULAR, _checksum_ok, _pread, member_label, scan_members, unsafe_reason

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
