"""Hostile image folders and bad samples over a whole run: nothing hangs, nothing is counted twice.

FIFOs, sockets and devices named like images are never opened; symlink loops do not multiply the
samples; a bad image is warned about and decoded once per run, across epochs and DataLoader workers.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import socket
import warnings

import pytest
import torch
from reader_helpers import make_folder, png_bytes, write
from torch.utils.data import DataLoader

from pimm.core.data import ImageDataset, Reader
from pimm.core.data.image_load import BadSampleWarning
from pimm.core.data.reader import open_regular_file
from pimm.plugins.readers.filename_label import ReaderFilenameLabel
from pimm.plugins.readers.folder import ReaderImageFolder

posix_only = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs and symlinks (POSIX)")


@contextlib.contextmanager
def _deadline(seconds: int = 10):
    """Turn a hang (a blocking open of a FIFO) into a test failure instead of a stuck CI job."""
    def _alarm(signum, frame):
        raise TimeoutError(f"still running after {seconds} s: something blocked")

    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _special_files(folder: str) -> list[socket.socket]:
    os.mkfifo(os.path.join(folder, "fifo.png"))
    os.symlink(os.devnull, os.path.join(folder, "device.jpg"))
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(os.path.join(folder, "socket.png"))
    return [sock]


@posix_only
def test_fifo_socket_and_device_named_like_images_are_skipped(tmp_path):
    root = make_folder(str(tmp_path / "data"), {"cat": 2, "dog": 1})
    keep = _special_files(os.path.join(root, "cat"))
    try:
        with _deadline():
            reader = ReaderImageFolder(root)
            names = [path for path, _ in reader.samples]
            dataset = ImageDataset(root)
            images = [dataset[i] for i in range(len(dataset))]
    finally:
        for sock in keep:
            sock.close()
    assert names == [os.path.join("cat", "cat_0.png"), os.path.join("cat", "cat_1.png"), os.path.join("dog", "dog_0.png")]
    assert len(images) == 3 and dataset.skipped == 0


@posix_only
def test_opening_a_fifo_fails_at_once(tmp_path):
    fifo = str(tmp_path / "late.png")
    os.mkfifo(fifo)
    with _deadline(), pytest.raises(OSError, match="FIFO"):
        open_regular_file(fifo)

    class PathReader(Reader):  # a reader that hands over a path that became a FIFO after its scan
        def __len__(self):
            return 2

        def __getitem__(self, index):
            return (fifo if index == 0 else write(str(tmp_path / "ok.png"), png_bytes())), 0

        def _filename(self, index, basename=False, absolute=False):
            return f"item{index}"

    dataset = ImageDataset(None, reader=PathReader())
    with _deadline(), pytest.warns(BadSampleWarning, match="FIFO"):
        img, _ = dataset[0]
    assert img.size == (8, 8) and dataset.bad_samples() == {"item0": dataset.bad_samples()["item0"]}


def _looped_folder(tmp_path) -> str:
    """7 images in two classes, plus a loop back to the root, a loop to a sibling and an alias."""
    root = make_folder(str(tmp_path / "data"), {"cat": 3, "dog": 4})
    os.symlink("..", os.path.join(root, "cat", "loop"))
    os.symlink(os.path.join("..", "cat"), os.path.join(root, "dog", "to_cat"))
    os.symlink("cat", os.path.join(root, "alias"))  # sorts before 'cat': must not take its name
    return root


@posix_only
def test_symlink_loops_visit_each_real_directory_once(tmp_path):
    root = _looped_folder(tmp_path)
    with _deadline():
        reader = ReaderImageFolder(root)
    assert len(reader) == 7
    assert reader.class_to_idx == {"cat": 0, "dog": 1}
    assert sorted({os.path.dirname(p) for p, _ in reader.samples}) == ["cat", "dog"]


@posix_only
def test_linked_directories_outside_the_tree_are_still_read(tmp_path):
    elsewhere = make_folder(str(tmp_path / "elsewhere"), {"bird": 2})
    root = make_folder(str(tmp_path / "data"), {"cat": 1})
    os.symlink(os.path.join(elsewhere, "bird"), os.path.join(root, "bird"))
    os.symlink(os.path.join(elsewhere, "bird"), os.path.join(root, "bird_again"))
    reader = ReaderImageFolder(root)
    assert [p for p, _ in reader.samples] == [os.path.join("bird", "bird_0.png"), os.path.join("bird", "bird_1.png"),
                                              os.path.join("cat", "cat_0.png")]


@posix_only
def test_filename_label_reader_survives_loops_and_fifos(tmp_path):
    root = str(tmp_path / "pets")
    for i in range(1, 4):
        write(os.path.join(root, f"Abyssinian_{i}.png"), png_bytes())
    write(os.path.join(root, "sub", "beagle_1.png"), png_bytes())
    os.symlink("..", os.path.join(root, "sub", "loop"))
    os.mkfifo(os.path.join(root, "fifo_1.png"))
    with _deadline():
        reader = ReaderFilenameLabel(root, recursive=True)
    assert len(reader) == 4 and reader.class_to_idx == {"Abyssinian": 0, "beagle": 1}


class CountingReader(Reader):
    """Six samples, two of them not images; every access is appended to a log file (workers too)."""

    def __init__(self, log: str) -> None:
        super().__init__()
        self.log = log
        self.class_to_idx = {"a": 0}

    def __len__(self) -> int:
        return 6

    def __getitem__(self, index: int):
        with open(self.log, "a") as f:
            f.write(f"{index}\n")
        return (b"not an image" if index in (1, 4) else png_bytes((index, 0, 0))), 0

    def _filename(self, index: int, basename: bool = False, absolute: bool = False) -> str:
        return f"sample{index}.png"


def _accesses(log: str) -> list[int]:
    with open(log) as f:
        return [int(line) for line in f]


def test_bad_sample_warned_and_decoded_once_across_worker_copies(tmp_path):
    """Each epoch's workers are fresh copies of the main dataset: what one found bad, the next skips."""
    log = str(tmp_path / "access.log")
    dataset = ImageDataset(None, reader=CountingReader(log))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _epoch in range(3):
            worker = pickle.loads(pickle.dumps(dataset))  # what a DataLoader worker starts from
            [worker[i] for i in range(len(worker))]
    bad = [str(w.message) for w in caught if issubclass(w.category, BadSampleWarning)]
    assert len(bad) == 2 and "sample1.png" in bad[0] and "sample4.png" in bad[1]
    assert _accesses(log).count(1) == 1 and _accesses(log).count(4) == 1  # never read (decoded) again
    assert _accesses(log).count(0) == 3
    assert set(dataset.bad_samples()) == {"sample1.png", "sample4.png"}


def test_bad_samples_once_per_run_with_dataloader_workers(tmp_path):
    log = str(tmp_path / "access.log")
    dataset = ImageDataset(None, reader=CountingReader(log), transform=lambda im: torch.tensor(im.getpixel((0, 0))))
    loader = DataLoader(dataset, batch_size=2, num_workers=2, persistent_workers=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BadSampleWarning)
        for _epoch in range(3):
            assert sum(len(t) for _, t in loader) == 6
    assert _accesses(log).count(1) == 1 and _accesses(log).count(4) == 1
    with open(dataset._bad.log_path) as f:
        assert len(f.readlines()) == 2  # one record (one warning) per bad sample for the whole run


def test_bad_samples_report_line_and_list(tmp_path):
    log = str(tmp_path / "access.log")
    dataset = ImageDataset(None, reader=CountingReader(log))
    assert dataset.bad_samples_report() is None  # nothing skipped yet: nothing to say
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BadSampleWarning)
        [dataset[i] for i in range(len(dataset))]
    listing = tmp_path / "run" / "bad_samples.txt"
    listing.parent.mkdir()
    line = dataset.bad_samples_report(listing, label="train")
    assert line is not None and "\n" not in line
    assert line.startswith("2 bad train samples skipped") and str(listing) in line
    rows = listing.read_text().splitlines()
    assert [row.split("\t")[0] for row in rows] == ["sample1.png", "sample4.png"]
    assert all("not an image" in row.split("\t")[1] for row in rows)
    assert str(dataset._bad.log_path) in dataset.bad_samples_report()


def _report_together(bad, barrier, results):
    import time

    look = bad.refresh

    def slow_look():  # widen the window between reading the log and appending to it
        look()
        time.sleep(0.2)

    bad.refresh = slow_look
    barrier.wait()
    results.put(bad.record(3, "sample3.png", "not an image"))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_workers_meeting_one_bad_file_at_once_make_one_record():
    """The 'first report' decision is taken under a lock: N processes at once, one warning."""
    import multiprocessing

    from pimm.core.data.image_load import BadSamples

    bad = BadSamples()
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(6), context.Queue()
    workers = [context.Process(target=_report_together, args=(pickle.loads(pickle.dumps(bad)), barrier, results))
               for _ in range(6)]
    for w in workers:
        w.start()
    firsts = [results.get(timeout=30) for _ in workers]
    for w in workers:
        w.join(timeout=30)
    assert firsts.count(True) == 1
    with open(bad.log_path) as f:
        assert len(f.readlines()) == 1
