"""Fuzzing the CloudTrail readers: a record is a CreationEvent, nothing, or a counted
BadRecord; a folder of damaged log files is read to the end, every file and every
record accounted for. Bounded (see ``settings``), derandomized, in-process."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from typing import Any

from fuzz_kit import tried
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from trail_mutations import RECORDS, S, T, log_file_bytes, mutated

from initkeys.model import CreationEvent, TimeRange
from initkeys.sources.cloudtrail import (
    BadRecord,
    DirectoryTrail,
    creation_event,
    read_log_file,
    read_record,
)
from initkeys.timeutil import EARLIEST, LATEST

FUZZ = settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
ACCOUNT = "123456789012"
SPAN = [TimeRange(T - 600 * S, T + 600 * S)]


@FUZZ
@given(st.sampled_from(RECORDS).flatmap(mutated))
def test_a_record_is_an_event_nothing_or_a_bad_record(item: Any) -> None:
    tried("cloudtrail-record")
    try:
        event = read_record(item)
    except BadRecord as e:
        assert str(e) and "\n" not in str(e)
        assert creation_event(item) is None
        return
    assert creation_event(item) == event
    if event is None:
        return
    assert isinstance(event, CreationEvent)
    assert EARLIEST <= event.time < LATEST
    assert 1 <= len(event.target_user) <= 64 and event.target_user.isprintable()
    if event.is_self:  # "the user made its own key" only ever on an IAM user's own word
        assert event.principal_type == "IAMUser" and event.principal_name is not None
        assert event.principal_name.casefold() == event.target_user.casefold()


def _expected_skips(data: bytes) -> int | None:
    """The records of ``data`` the reader must count as skipped; None: the file is unreadable."""
    try:
        records = read_log_file(data, "x")
    except ValueError:
        return None
    skipped = 0
    for item in records:
        if not isinstance(item, Mapping):
            skipped += 1
            continue
        try:
            read_record(item)
        except BadRecord:
            skipped += 1
    return skipped


@settings(FUZZ, max_examples=100)
@given(st.lists(log_file_bytes(), min_size=1, max_size=3))
def test_a_folder_of_damaged_log_files_is_read_to_the_end(files: list[bytes]) -> None:
    tried("cloudtrail-file")
    with tempfile.TemporaryDirectory() as folder:
        names = []
        for n, data in enumerate(files):
            name = f"f{n}.json.gz" if data[:2] == b"\x1f\x8b" else f"f{n}.json"
            with open(os.path.join(folder, name), "wb") as out:
                out.write(data)
            names.append(name)
        evidence = DirectoryTrail(folder).read(ACCOUNT, "aws", SPAN)
    unreadable = [n for n, data in zip(names, files, strict=True) if _expected_skips(data) is None]
    skipped = sum(s for data in files if (s := _expected_skips(data)) is not None)
    file_problems = [p for p in evidence.problems if "CloudTrail record" not in p]
    assert len(file_problems) == len(unreadable)
    for name, problem in zip(unreadable, file_problems, strict=True):
        assert problem.startswith(os.path.join(folder, name) + ": ")
    record_notes = [p for p in evidence.problems if "CloudTrail record" in p]
    if skipped:
        (note,) = record_notes
        assert note.startswith(f"{skipped:,} CloudTrail record")
    else:
        assert record_notes == []
    assert all(p.isprintable() for p in evidence.problems)
