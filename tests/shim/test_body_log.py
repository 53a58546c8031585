"""The body log on disk: what is appended is read back as it was, across segments and restarts;
bytes a crash left after the last append are stepped over; unreferenced old segments removed,
never the newest; a body cut short or removed is an error naming the file, not other bytes."""

from __future__ import annotations

import errno
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drone_kit.shim.body_log import BodyLog, BodyLogError, BodyRef, body_log_directory


def test_bodies_are_read_back_as_appended_across_segments(tmp_path):
    log = BodyLog(tmp_path, segment_bytes=100)
    first = log.append([b"a" * 60, b"", b"b" * 50])
    second = log.append([b"c" * 10])  # the first segment is over 100 bytes: a new one
    assert [ref.segment for ref in first + second] == [1, 1, 1, 2]
    assert [log.read(ref) for ref in first + second] == [b"a" * 60, b"", b"b" * 50, b"c" * 10]


@settings(max_examples=50, deadline=None)
@given(batches=st.lists(st.lists(st.binary(max_size=300), max_size=8), max_size=12))
def test_any_batches_read_back_as_appended(tmp_path_factory, batches):
    log = BodyLog(tmp_path_factory.mktemp("bodies"), segment_bytes=500)
    refs = [log.append(batch) for batch in batches]
    assert [[log.read(ref) for ref in batch_refs] for batch_refs in refs] == batches


def test_a_restart_appends_after_what_is_there_including_bytes_a_crash_left(tmp_path):
    log = BodyLog(tmp_path)
    [kept] = log.append([b"committed body"])
    log.close()
    with open(log.path(1), "ab") as segment:  # appended, then killed before its rows committed
        segment.write(b"torn")
    again = BodyLog(tmp_path)
    [after] = again.append([b"next body"])
    assert (after.segment, after.offset) == (1, len(b"committed body") + 4)
    assert again.read(kept) == b"committed body" and again.read(after) == b"next body"


def test_old_segments_no_row_points_at_are_removed_never_the_newest(tmp_path):
    log = BodyLog(tmp_path, segment_bytes=1)
    for n in range(4):
        log.append([b"body %d" % n])
    assert log.remove_unreferenced({2}, below=4) == 2
    assert log.segments() == [2, 4]
    assert log.remove_unreferenced(set(), below=4) == 1
    assert log.segments() == [4]


def test_a_body_cut_short_or_removed_is_an_error_naming_its_file(tmp_path):
    log = BodyLog(tmp_path)
    [ref] = log.append([b"a whole body"])
    with pytest.raises(BodyLogError, match="00000001.bodies: cut short"):
        log.read(BodyRef(ref.segment, ref.offset, ref.length + 1))
    with pytest.raises(BodyLogError, match="00000002.bodies: missing"):
        log.read(BodyRef(2, 0, 1))


def test_the_log_lives_beside_its_outbox(tmp_path):
    assert body_log_directory(tmp_path / "outbox.sqlite") == tmp_path / "outbox.sqlite.bodies"


def test_after_a_failed_sync_bodies_go_to_a_new_segment(tmp_path, monkeypatch):
    log = BodyLog(tmp_path)
    [before] = log.append([b"first"])
    real_sync = os.fdatasync

    def fails(fd: int) -> None:  # an EIO from the disk, once
        monkeypatch.setattr(os, "fdatasync", real_sync)
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "fdatasync", fails)
    with pytest.raises(OSError, match="Input/output error"):
        log.append([b"lost"])
    [after] = log.append([b"second"])
    assert (before.segment, after.segment) == (1, 2)  # not after bytes whose fate is unknown
    assert log.read(before) == b"first" and log.read(after) == b"second"


def test_new_segments_are_numbered_after_those_rows_point_at_even_if_their_files_are_gone(tmp_path):
    log = BodyLog(tmp_path, newer_than=7)  # the outbox's rows point into segment 7; the files were removed
    [ref] = log.append([b"body"])
    assert ref.segment == 8 and log.segments() == [8]
    assert BodyLog(tmp_path, newer_than=8).append([b"more"])[0].segment == 8  # the newest, where rows point


def test_appending_nothing_writes_nothing(tmp_path):
    assert BodyLog(tmp_path).append([]) == [] and list(tmp_path.iterdir()) == []
