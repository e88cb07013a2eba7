"""WebDataset-style tar shards, streamed and split across distributed ranks and DataLoader workers.

A shard is a tar whose consecutive members sharing a key form one sample (``0001.jpg``,
``0001.cls``). Each shard's sample table (offsets, small label members) is indexed once and
cached as JSON like the tar reader's, so the reader knows every sample's position up front.

Splitting (documented in docs/data.md): the samples of all shards form one sequence — for
training, in a per-epoch shard order (seeded, identical on every rank), repeated ``1 + repeats``
times. Rank ``r`` of ``W`` takes a contiguous slice of ``ceil(N / W)`` positions: training wraps
around to fill it with real samples; evaluation takes its ``floor``/``ceil`` share of the N
samples (so each sample goes to exactly one rank) and, when short by one, adds one padding
sample whose target is -1. Every rank therefore yields the same number of samples and batches.
Within a rank, whole batches go round-robin to the DataLoader workers, so the loader's batches
come out in the rank's order. Training also shuffles within each worker through a buffer.
"""

from __future__ import annotations

import io
import json
import math
import os
import random
import re
from collections.abc import Iterator
from typing import Any

from pimm.core.data.reader import IterableReader
from pimm.core.registry import natural_key

from .labels import DatasetError, index_labels
from .index_cache import cached_index
from .index_checks import (
    BadIndex,
    check_extent,
    check_name,
    check_no_hidden_members,
    check_skipped,
    spot_check_headers,
)
from .tar_index import BLOCK, _pread, check_not_compressed, scan_members

INDEX_SUFFIX = "pimm-wds-index"
_TEXT_EXTS = {"cls", "cls.txt", "label", "target", "txt", "cls2", "json"}
#: Text members (labels, small metadata) longer than this are not read into the index.
MAX_TEXT_BYTES = 4096
#: What the index holds for a text member over MAX_TEXT_BYTES.
OVERSIZED_TEXT = "\x00oversized"
_BRACE = re.compile(r"\{([^{}]*)\}")


def expand_braces(pattern: str) -> list[str]:
    """Expand ``{000..009}`` numeric ranges (zero padding kept) and ``{a,b}`` lists in a path."""
    match = _BRACE.search(pattern)
    if match is None:
        return [pattern]
    body = match.group(1)
    numeric = re.fullmatch(r"(\d+)\.\.(\d+)", body)
    if numeric:
        lo, hi = numeric.groups()
        width = len(lo) if lo.startswith("0") or len(lo) == len(hi) else 0
        options = [str(i).zfill(width) for i in range(int(lo), int(hi) + 1)]
    else:
        options = body.split(",")
    head, tail = pattern[: match.start()], pattern[match.end() :]
    return [p for opt in options for p in expand_braces(head + opt + tail)]


def find_shards(root: str, split: str) -> list[str]:
    """Shard files for ``root`` (brace patterns, files, directories; '::'-separated)."""
    shards: list[str] = []
    for part in root.split("::"):
        if "{" in part:
            shards.extend(expand_braces(part))
        elif os.path.isdir(part):
            sub = os.path.join(part, split)
            folder = sub if split and os.path.isdir(sub) else part
            names = sorted((n for n in os.listdir(folder) if n.lower().endswith(".tar")), key=natural_key)
            if folder == part and split and any(n.startswith(split) for n in names):
                names = [n for n in names if n.startswith(split)]
            shards.extend(os.path.join(folder, n) for n in names)
        else:
            shards.append(part)
    missing = [s for s in shards if not os.path.isfile(s)]
    if missing:
        raise DatasetError(f"{len(missing)} of {len(shards)} shards of {root!r} do not exist (first: {missing[0]!r})")
    if not shards:
        raise DatasetError(f"no .tar shards found for {root!r}")
    return shards


def _split_key(name: str) -> tuple[str, str]:
    slash = name.rfind("/")
    dot = name.find(".", slash + 1)
    if dot < 0:
        return name, ""
    return name[:dot], name[dot + 1 :].lower()


def scan_shard(path: str, fd: int) -> dict[str, Any]:
    """Sample table of one shard: ``[key, {ext: [offset, size]}, {ext: small text member}]``."""
    check_not_compressed(path, fd)
    members, skipped = scan_members(fd, where=repr(path))
    samples: list[list[Any]] = []
    for name, offset, size, _ in members:
        key, ext = _split_key(name)
        if not samples or samples[-1][0] != key:
            samples.append([key, {}, {}])
        samples[-1][1][ext] = [offset, size]
        if ext in _TEXT_EXTS:  # a label this long is no label: kept as a marker, so it is an error, not "no label"
            samples[-1][2][ext] = (_pread(fd, size, offset).decode("utf-8", "replace").strip()
                                   if size <= MAX_TEXT_BYTES else OVERSIZED_TEXT)
    return {"samples": samples, "skipped": skipped}


def validate_shard_index(data: dict[str, Any], archive_size: int, fd: int) -> None:
    """Raise :class:`BadIndex` unless ``data`` is a well-formed sample table of this shard."""
    samples = data.get("samples")
    if not isinstance(samples, list) or len(samples) > archive_size // BLOCK:
        raise BadIndex("'samples' must be a list no longer than the shard has headers")
    offsets: list[int] = []
    for i, row in enumerate(samples):
        if not (isinstance(row, list) and len(row) == 3 and isinstance(row[1], dict) and isinstance(row[2], dict)):
            raise BadIndex(f"sample {i}: rows are [key, {{ext: [offset, size]}}, {{ext: text}}]")
        key, members, texts = row
        check_name(key, f"sample {i}")
        for ext, extent in members.items():
            if not (isinstance(ext, str) and isinstance(extent, list) and len(extent) == 2):
                raise BadIndex(f"sample {i}: member {ext!r} must be [offset, size]")
            check_extent(extent[0], extent[1], archive_size, f"sample {i} member {ext!r}")
            offsets.append(extent[0])
        if not all(isinstance(k, str) and k in members and isinstance(v, str) and len(v) <= MAX_TEXT_BYTES
                   for k, v in texts.items()):
            raise BadIndex(f"sample {i}: text members must be short strings of its own members")
    check_skipped(data.get("skipped"), archive_size)
    spot_check_headers(fd, offsets)
    check_no_hidden_members(fd, offsets, [size for row in samples for _, size in row[1].values()], archive_size)


def _int64_label(text: str, root: str) -> int:
    """A numeric label as a class index, or a clear error when it cannot be one (does not fit int64)."""
    digits = text.lstrip("-")
    value = int(text) if len(digits.lstrip("0")) <= 19 else None  # never parse thousands of digits
    if value is None or not -(2**63) <= value < 2**63:
        shown = text if len(text) <= 40 else f"{text[:20]}... ({len(digits)} digits)"
        raise DatasetError(
            f"wds dataset {root!r}: label {shown} does not fit a 64-bit integer class index; fix the "
            "shard's label files, or give class_map= to map label names to indices"
        )
    return value


def _raw_label(texts: dict[str, str], target_key: tuple[str, ...]) -> str | None:
    for key in target_key:
        if key in texts:
            return texts[key]
    if "json" in texts:
        try:
            value = json.loads(texts["json"]).get("label")
        except (ValueError, AttributeError):
            return None
        return None if value is None else str(value)
    return None


def _dist_info(rank: int | None, world_size: int | None) -> tuple[int, int]:
    if rank is not None and world_size is not None:
        return rank, world_size
    try:
        import torch.distributed as dist

        if dist.is_available() and dist.is_initialized():
            return (dist.get_rank() if rank is None else rank), (dist.get_world_size() if world_size is None else world_size)
    except ImportError:  # pragma: no cover
        pass
    return (int(os.environ.get("RANK", 0)) if rank is None else rank), (
        int(os.environ.get("WORLD_SIZE", 1)) if world_size is None else world_size)


class ReaderWds(IterableReader):
    """Iterable reader over WebDataset-style shards; yields ``(file-like, target, name)``."""

    def __init__(
        self,
        root: str,
        split: str = "train",
        is_training: bool = False,
        batch_size: int = 1,
        seed: int = 42,
        repeats: int = 0,
        image_key: tuple[str, ...] = ("jpg", "jpeg", "png", "webp", "bmp", "tif", "tiff", "ppm"),
        target_key: tuple[str, ...] = ("cls", "cls.txt", "label", "target"),
        class_map: Any = None,
        shuffle_buffer: int = 256,
        rank: int | None = None,
        world_size: int | None = None,
        cache_index: bool = True,
        cache_dir: str | None = None,
    ) -> None:
        super().__init__()
        self.root, self.is_training, self.batch_size = root, is_training, batch_size
        self.seed, self.repeats, self.shuffle_buffer = seed, repeats, shuffle_buffer
        self.rank, self.world_size = _dist_info(rank, world_size)
        if not 0 <= self.rank < self.world_size:
            raise DatasetError(f"rank {self.rank} is not in range for world_size {self.world_size}")
        self.shards = find_shards(root, split)
        self.skipped_members: list[tuple[str, str, str]] = []
        shard_samples: list[list[tuple[int, int, str, str | None]]] = []
        for shard in self.shards:
            index = cached_index(shard, INDEX_SUFFIX, scan_shard, cache_index, cache_dir, validate_shard_index)
            self.skipped_members.extend((shard, n, r) for n, r in index["skipped"])
            rows = []
            for key, members, texts in index["samples"]:
                image = next((members[k] for k in image_key if k in members), None)
                if image is None:
                    self.skipped_members.append((shard, key, "no image member"))
                    continue
                rows.append((image[0], image[1], key, _raw_label(texts, tuple(target_key))))
            shard_samples.append(rows)
        if self.skipped_members:
            import warnings

            from .tar import UnsafeMemberWarning

            first = self.skipped_members[0]
            warnings.warn(
                f"wds dataset {root!r}: {len(self.skipped_members)} members or samples left out (first: "
                f"{os.path.basename(first[0])}:{first[1]} ({first[2]})); see reader.skipped_members",
                UnsafeMemberWarning,
                stacklevel=2,
            )
        oversized = next((f"{os.path.basename(self.shards[s])}:{r[2]}" for s, rows in enumerate(shard_samples)
                          for r in rows if r[3] == OVERSIZED_TEXT), None)
        if oversized is not None:
            raise DatasetError(
                f"wds dataset {root!r}: the label of sample {oversized} is over {MAX_TEXT_BYTES} bytes, so it "
                "cannot be a class index or name (and certainly does not fit a 64-bit integer); fix the shard"
            )
        labels = [r[3] for rows in shard_samples for r in rows if r[3] is not None]
        numeric = all(re.fullmatch(r"-?\d+", lbl) for lbl in labels)
        if numeric and class_map is None:
            to_target = {lbl: _int64_label(lbl, root) for lbl in set(labels)}
        else:
            where = f"wds dataset {root!r}"
            found = index_labels(labels, class_map, os.path.dirname(self.shards[0]), False, where)
            self.class_to_idx = found.class_to_idx
            to_target = {lbl: self.class_to_idx[lbl] for lbl in set(labels) if lbl in self.class_to_idx}
        self._shard_rows = [
            [(off, size, key, to_target.get(lbl) if lbl is not None else None) for off, size, key, lbl in rows]
            for rows in shard_samples
        ]
        self.num_samples = sum(len(rows) for rows in self._shard_rows)
        if not self.num_samples:
            raise DatasetError(f"no samples with an image ({', '.join(image_key)}) in the shards of {root!r}")
        self.epoch = 0
        self.num_workers = 1
        self._fds: dict[int, int] = {}
        self._pid = os.getpid()

    # -- splitting ------------------------------------------------------------------------------

    def _global_order(self) -> list[tuple[int, int]]:
        shard_order = list(range(len(self.shards)))
        if self.is_training:
            random.Random(self.seed + self.epoch).shuffle(shard_order)
        order = [(s, i) for s in shard_order for i in range(len(self._shard_rows[s]))]
        return order * (1 + self.repeats) if self.is_training else order

    def rank_positions(self) -> list[tuple[int, int] | None]:
        """This rank's sample positions for the current epoch (``None`` marks a padding sample)."""
        order = self._global_order()
        total, world = len(order), self.world_size
        per_rank = math.ceil(total / world)
        if self.is_training:
            start = self.rank * per_rank
            return [order[(start + k) % total] for k in range(per_rank)]
        share, extra = divmod(total, world)  # the first `extra` ranks take one more sample
        lo = self.rank * share + min(self.rank, extra)
        hi = lo + share + (1 if self.rank < extra else 0)
        mine: list[tuple[int, int] | None] = list(order[lo:hi])
        return mine + [None] * (per_rank - len(mine))

    def worker_positions(self, worker_id: int, num_workers: int) -> list[tuple[int, int] | None]:
        """The positions one DataLoader worker yields: whole batches, round-robin over workers."""
        positions = self.rank_positions()
        bs = self.batch_size
        return [p for b in range(worker_id, math.ceil(len(positions) / bs), num_workers) for p in positions[b * bs : (b + 1) * bs]]

    def __len__(self) -> int:
        total = self.num_samples * ((1 + self.repeats) if self.is_training else 1)
        return math.ceil(total / self.world_size)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def set_loader_cfg(self, num_workers: int | None = None) -> None:
        if num_workers is not None:
            self.num_workers = max(1, num_workers)

    # -- reading --------------------------------------------------------------------------------

    def _fd(self, shard: int) -> int:
        if self._pid != os.getpid():
            self._fds, self._pid = {}, os.getpid()
        fd = self._fds.get(shard)
        if fd is None:
            fd = self._fds[shard] = os.open(self.shards[shard], os.O_RDONLY | getattr(os, "O_BINARY", 0))
        return fd

    def _read(self, pos: tuple[int, int]) -> tuple[io.BytesIO, int | None, str]:
        shard, i = pos
        offset, size, key, target = self._shard_rows[shard][i]
        return io.BytesIO(_pread(self._fd(shard), size, offset)), target, f"{os.path.basename(self.shards[shard])}:{key}"

    def __iter__(self) -> Iterator[tuple[io.BytesIO, int | None, str]]:
        from torch.utils.data import get_worker_info

        info = get_worker_info()
        wid, nw = (info.id, info.num_workers) if info is not None else (0, 1)
        positions = self.worker_positions(wid, nw)
        last: tuple[int, int] | None = None
        if not self.is_training:
            for pos in positions:
                if pos is None:  # padding: repeat a real sample with target -1
                    pos = last or (0, 0)
                    data, _, name = self._read(pos)
                    yield data, -1, name + "#padding"
                    continue
                last = pos
                yield self._read(pos)
            return
        rng = random.Random((self.seed + self.epoch) * 1_000_003 + self.rank * 1_009 + wid)
        buffer: list[tuple[int, int]] = []
        for pos in positions:
            buffer.append(pos)  # type: ignore[arg-type]
            if len(buffer) >= self.shuffle_buffer:
                yield self._read(buffer.pop(rng.randrange(len(buffer))))
        rng.shuffle(buffer)
        for pos in buffer:
            yield self._read(pos)

    def _filename(self, index: int, basename: bool = False, absolute: bool = False) -> str:
        raise TypeError("a streaming reader has no per-index file names; names come with each sample")

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_fds": {}}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._pid = os.getpid()

    def __del__(self) -> None:
        try:
            if getattr(self, "_pid", None) == os.getpid():
                for fd in getattr(self, "_fds", {}).values():
                    os.close(fd)
        except Exception:  # already closed, or interpreter shutdown
            pass


def make_sample_dataset(tmpdir: str) -> dict[str, Any]:
    """Conformance-kit sample data: two shards of three PNG samples with integer labels."""
    import tarfile

    from PIL import Image

    for s in range(2):
        with tarfile.open(os.path.join(tmpdir, f"shard-{s:06d}.tar"), "w") as tf:
            for i in range(3):
                key = f"{s:02d}{i:04d}"
                buf = io.BytesIO()
                Image.new("RGB", (8, 8), (50 * i, 9, 9)).save(buf, format="PNG")
                for ext, data in (("png", buf.getvalue()), ("cls", str(i % 2).encode())):
                    ti = tarfile.TarInfo(f"{key}.{ext}")
                    ti.size = len(data)
                    tf.addfile(ti, io.BytesIO(data))
    return {"root": os.path.join(tmpdir, "shard-{000000..000001}.tar"), "cache_dir": os.path.join(tmpdir, "idx")}
