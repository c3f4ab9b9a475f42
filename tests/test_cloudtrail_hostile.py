"""Hostile CloudTrail input: the audit always completes, and says what it could not read.

The corpus is ``tests/data/hostile/cloudtrail/`` (its README lists each file and the
exact expectation); what git cannot hold (FIFOs, links, devices, bombs) is made here
in a temporary folder. The report has two console users with unused setup keys:
``sam``, whose genuine self-made event is in every file (PASS ``self-created`` when
the file is read), and ``ray``, with no genuine event, whose evidence note says
what could not be read.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import stat
import tracemalloc
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from cli_kit import run
from fuzz_kit import run_main
from lookup_endpoint import RAW, LookupEndpoint
from scenario import at
from test_cloudtrail_lookup import cloudtrail_client
from trail_records import ACCOUNT, admin_in_console, iam_user, log_files, record, upload

import initkeys.sources.cloudtrail as cloudtrail
from initkeys.model import TimeRange
from initkeys.sources.cloudtrail import DirectoryTrail, LookupTrail, RateLimiter, S3Trail, limits

CORPUS = Path(__file__).parent / "data" / "hostile" / "cloudtrail"
REPORT = CORPUS / "report.csv"
T = at("2024-03-04T10:00:00")
S = timedelta(seconds=1)
SPAN = [TimeRange(T - 10 * 60 * S, T + 10 * 60 * S)]
SELF_CREATED = ("PASS", "self-created")
FAIL = ("FAIL", "setup-key-unused")

# file -> (sam's status and reason, the end of ray's evidence note)
EXPECTED: dict[str, tuple[tuple[str, str], str]] = {
    "event_time_overflow.json": (
        SELF_CREATED,
        "; 2 CloudTrail records could not be read and were skipped (eventTime is not a time: 2).",
    ),
    "user_name_shapes.json": (
        SELF_CREATED,
        "; 5 CloudTrail records could not be read and were skipped (requestParameters.userName "
        "is not an IAM user name: 3; requestParameters.userName and the response's userName "
        "disagree: 1; the response names another user than the caller: 1).",
    ),
    "records_not_objects.json": (
        SELF_CREATED,
        "; 4 CloudTrail records could not be read and were skipped "
        "(a record is not a JSON object: 4).",
    ),
    "deep.json": (FAIL, "/deep.json: not JSON (JSON nested deeper than 200 levels)."),
    "huge_number.json": (FAIL, "/huge_number.json: not JSON (a number of 1000 digits)."),
    "nan.json": (FAIL, "/nan.json: not JSON (NaN is not a JSON number)."),
    "float_overflow.json": (
        FAIL,
        "/float_overflow.json: not JSON (a number out of range (1e999)).",
    ),
    "lone_surrogate.json": (
        FAIL,
        "/lone_surrogate.json: not JSON (a string holds a lone UTF-16 surrogate).",
    ),
    "not_utf8.json": (FAIL, "/not_utf8.json: not JSON (not UTF-8 text)."),
    "truncated.json.gz": (
        FAIL,
        "/truncated.json.gz: not a readable gzip file "
        "(Compressed file ended before the end-of-stream marker was reached).",
    ),
    "trailing_garbage.json.gz": (
        FAIL,
        "/trailing_garbage.json.gz: not a readable gzip file (Not a gzipped file (b'ga')).",
    ),
    "no_records.json": (FAIL, "/no_records.json: no CloudTrail 'Records' list."),
    "records_object.json": (FAIL, "/records_object.json: no CloudTrail 'Records' list."),
    "empty.json.gz": (
        FAIL,
        "/empty.json.gz: not JSON (invalid JSON at line 1 column 1: Expecting value).",
    ),
}


def findings(stdout: str) -> dict[str, dict[str, Any]]:
    (account,) = json.loads(stdout)["accounts"]
    return {f["user"]: f for f in account["findings"]}


def audit(folder: Path) -> tuple[int, dict[str, dict[str, Any]]]:
    """The audit of the corpus report with ``folder`` as the trail, in-process."""
    argv = ["audit", "--credential-report", str(REPORT), "--cloudtrail", str(folder)]
    code, out, err = run_main([*argv, "--format", "json"])
    assert "Traceback" not in err and err == "", err
    return code, findings(out)


def sam_record() -> dict[str, Any]:
    return record(
        "CreateAccessKey", iam_user("sam"), T + 120 * S, user=None, key_id="AKIASAMOWNKEY0000001"
    )


def log_file(path: Path, records: list[Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(json.dumps({"Records": records}).encode()))
    return path


def test_the_corpus_is_the_readme() -> None:
    files = {p.name for p in CORPUS.iterdir()} - {"README.md", "report.csv"}
    assert files == set(EXPECTED)
    readme = (CORPUS / "README.md").read_text()
    for name, (_sam, note) in EXPECTED.items():
        assert f"`{name}`" in readme
        assert note.lstrip(";/ ").removeprefix(name + ": ") in readme, name


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_hostile_file_is_a_note_and_the_audit_completes(tmp_path: Path, name: str) -> None:
    (sam_expected, ray_note) = EXPECTED[name]
    shutil.copy(CORPUS / name, tmp_path / name)
    code, found = audit(tmp_path)
    assert code == 1  # ray's FAIL: never 4, never 0
    sam, ray = found["sam"], found["ray"]
    assert (sam["status"], sam["reason"]) == sam_expected
    assert (ray["status"], ray["reason"]) == FAIL
    assert ray["created_by"] is None  # no forged record gives ray a creator
    assert ray["evidence_note"].endswith(ray_note), ray["evidence_note"]
    if sam_expected == FAIL:
        assert sam["evidence_note"] == ray["evidence_note"]


def test_a_fifo_is_not_opened_for_reading(tmp_path: Path) -> None:
    """On main, the audit waited for ever for a writer."""
    os.mkfifo(tmp_path / "fifo.json.gz")
    log_file(tmp_path / "logs" / "sam.json.gz", [sam_record()])
    proc = run(_argv(tmp_path), timeout=60)
    assert proc.returncode == 1 and proc.stderr == "", proc.stderr
    found = findings(proc.stdout)
    assert (found["sam"]["status"], found["sam"]["reason"]) == SELF_CREATED
    assert found["ray"]["evidence_note"].endswith(
        "/fifo.json.gz: not a regular file (a FIFO); not read."
    )


def test_a_link_to_dev_zero_is_not_followed(tmp_path: Path) -> None:
    """On main, read without end."""
    (tmp_path / "zero.json.gz").symlink_to("/dev/zero")
    proc = run(_argv(tmp_path), timeout=60)
    assert proc.returncode == 1 and proc.stderr == "", proc.stderr
    note = findings(proc.stdout)["ray"]["evidence_note"]
    assert note.endswith("/zero.json.gz: a link to a file outside the folder; not read.")


def test_links_are_followed_only_inside_the_folder(tmp_path: Path) -> None:
    outside = log_file(tmp_path / "elsewhere" / "sam.json.gz", [sam_record()])
    trail = tmp_path / "trail"
    trail.mkdir()
    (trail / "out.json.gz").symlink_to(outside)
    code, found = audit(trail)
    assert code == 1
    assert (found["sam"]["status"], found["sam"]["reason"]) == FAIL
    assert found["sam"]["evidence_note"].endswith(
        "/out.json.gz: a link to a file outside the folder; not read."
    )
    # A link to a file inside the folder is read (here the only way to the record).
    (trail / "out.json.gz").unlink()
    inside = log_file(trail / "store" / "sam.data", [sam_record()])
    (trail / "sam.json.gz").symlink_to(inside)
    code, found = audit(trail)
    assert (found["sam"]["status"], found["sam"]["reason"]) == SELF_CREATED


def test_a_device_is_not_read(tmp_path: Path) -> None:
    try:
        os.mknod(tmp_path / "dev.json", 0o600 | stat.S_IFCHR, os.makedev(1, 5))
    except (PermissionError, OSError):
        pytest.skip("mknod is not allowed here")
    code, found = audit(tmp_path)
    assert code == 1
    assert found["ray"]["evidence_note"].endswith(
        "/dev.json: not a regular file (a character device); not read."
    )


def test_a_gzip_bomb_stops_at_the_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The issue's bomb was decompressed whole (MemoryError, exit 4). 64 MiB of zeros
    against a cap lowered to 1 MiB: the note says so, and no more than the cap and a
    chunk or two is ever held."""
    assert cloudtrail.MAX_LOG_BYTES == 1 << 30  # the default, said in the README
    monkeypatch.setattr(limits, "MAX_LOG_BYTES", 1 << 20)
    bomb = tmp_path / "bomb.json.gz"
    with gzip.open(bomb, "wb", compresslevel=9) as out:
        block = b"\0" * (1 << 20)
        for _ in range(64):
            out.write(block)
    assert bomb.stat().st_size < 1 << 17
    tracemalloc.start()
    try:
        evidence = DirectoryTrail(str(tmp_path)).read(ACCOUNT, "aws", SPAN)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20
    (problem,) = evidence.problems
    assert problem.endswith(
        "/bomb.json.gz: more than 1 MiB uncompressed (initkeys' limit); not read"
    )


def test_reading_stops_at_the_record_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_RECORDS", 3)
    log_file(tmp_path / "a.json.gz", [sam_record()] * 3)
    log_file(tmp_path / "b.json.gz", [sam_record()] * 3)
    evidence = DirectoryTrail(str(tmp_path)).read(ACCOUNT, "aws", SPAN)
    assert len(evidence.events) == 1
    assert evidence.problems == (
        "reading stopped after 3 records (initkeys' limit); 1 more log file was not read",
    )


def test_names_on_disk_are_escaped_in_every_output(tmp_path: Path) -> None:
    """A file name may hold any bytes: not UTF-8, ESC sequences, bidi overrides."""
    name = b"\xff\x1b[31mred\xe2\x80\xae.json"
    (tmp_path / os.fsdecode(name)).write_bytes(b"junk")
    shown = "\\xff\\x1b[31mred\\u202e.json"
    for output in ("json", "text"):
        proc = run([*_argv(tmp_path)[:-2], "--format", output], timeout=60)
        assert proc.returncode == 1 and proc.stderr == "", proc.stderr
        assert "\x1b" not in proc.stdout and "\u202e" not in proc.stdout
        if output == "json":
            note = findings(proc.stdout)["ray"]["evidence_note"]
            assert note.endswith(
                f"/{shown}: not JSON (invalid JSON at line 1 column 1: Expecting value)."
            )


def test_s3_objects_are_capped_as_stored_and_decompressed(
    aws: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(limits, "MAX_DOWNLOAD_BYTES", 1 << 20)
    monkeypatch.setattr(limits, "MAX_LOG_BYTES", 1 << 20)
    genuine, big, bomb = (log_files([sam_record()], delay=timedelta(minutes=m)) for m in (3, 4, 5))
    (big_file,) = big
    (bomb_file,) = bomb
    big = [type(big_file)(big_file.key, os.urandom(2 << 20))]
    bomb = [type(bomb_file)(bomb_file.key, gzip.compress(b" " * (8 << 20)))]
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="hostile-trail")
    upload(s3, "hostile-trail", "", [*genuine, *big, *bomb])
    evidence = S3Trail(s3, "hostile-trail").read(ACCOUNT, "aws", SPAN)
    assert [e.target_user for e in evidence.events] == ["sam"]
    assert sorted(evidence.problems) == sorted(
        [
            f"s3://hostile-trail/{big_file.key}: 2 MiB stored, more than 1 MiB "
            "(initkeys' limit); not read",
            f"s3://hostile-trail/{bomb_file.key}: more than 1 MiB uncompressed "
            "(initkeys' limit); not read",
        ]
    )


def test_lookup_events_strings_are_read_through_load_json(
    aws: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(limits, "MAX_EVENT_CHARS", 8 << 10)
    genuine = sam_record()

    def hostile(n: int, text: Any) -> dict[str, Any]:
        item = record("CreateAccessKey", iam_user("ray"), T + 60 * S, user=None, key_id="K")
        item["eventID"] = f"hostile-{n}"
        item[RAW] = text
        return item

    records = [
        genuine,
        hostile(1, "[" * 4000 + "]" * 4000),
        hostile(2, json.dumps(genuine).replace('"readOnly": false', '"readOnly": NaN')),
        hostile(3, json.dumps({**genuine, "padding": "x" * (9 << 10)})),
        hostile(4, None),
    ]
    with LookupEndpoint(records, rate=None) as endpoint:
        reader = LookupTrail(
            cloudtrail_client(aws, endpoint),
            limiter=RateLimiter(1000.0),
            now=lambda: at("2024-04-01T00:00:00"),
        )
        evidence = reader.read(ACCOUNT, "aws", SPAN)
    assert [e.target_user for e in evidence.events] == ["sam"]
    assert evidence.problems == (
        "4 CloudTrail records could not be read and were skipped (CloudTrailEvent is not "
        "JSON initkeys reads: 2; CloudTrailEvent is longer than 8 KiB: 1; CloudTrailEvent "
        "is not a JSON string: 1)",
    )


def _argv(folder: Path) -> list[str]:
    return [
        "audit",
        "--credential-report",
        str(REPORT),
        "--cloudtrail",
        str(folder),
        "--format",
        "json",
    ]


def _key_record(
    caller: Any, request: Any = ..., response: Any = ..., *, name: str = "CreateAccessKey"
) -> dict[str, Any]:
    item = record(name, caller, T, user="x", key_id="K")
    item["requestParameters"] = None if request is ... else {"userName": request}
    element = {"CreateAccessKey": "accessKey", "CreateUser": "user"}[name]
    item["responseElements"] = {element: {"accessKeyId": "K"}}
    if response is not ...:
        item["responseElements"][element]["userName"] = response
    return item


@pytest.mark.parametrize(
    ("item", "target"),
    [
        (_key_record(iam_user("bob"), "alice", "alice"), "alice"),
        (_key_record(iam_user("bob"), "Alice", "alice"), "Alice"),  # one user, two spellings
        (_key_record(iam_user("bob"), ..., "bob"), "bob"),
        (_key_record(iam_user("BOB"), ..., "bob"), "bob"),  # IAM's spelling, the caller's case
        (_key_record(iam_user("bob")), "bob"),  # neither: the call acted on its caller
        (_key_record(iam_user("bob"), None, None), "bob"),  # null is what CloudTrail writes
        (_key_record(admin_in_console(), ..., "alice"), "alice"),
        (_key_record(admin_in_console()), None),  # a role's own key: there is none
        (_key_record(iam_user("bob"), "alice", name="CreateUser"), "alice"),
    ],
)
def test_the_user_a_record_acted_on(item: dict[str, Any], target: str | None) -> None:
    event = cloudtrail.read_record(item)
    assert (event.target_user if event else None) == target


@pytest.mark.parametrize(
    ("item", "why"),
    [
        (_key_record(iam_user("bob"), ["alice"], "alice"), "requestParameters.userName is not"),
        (_key_record(iam_user("bob"), "", "alice"), "requestParameters.userName is not"),
        (_key_record(iam_user("bob"), 7), "requestParameters.userName is not"),
        (_key_record(iam_user("bob"), "a" * 65), "requestParameters.userName is not"),
        (_key_record(iam_user("bob"), "alice", "carol"), "disagree"),
        (_key_record(iam_user("bob"), ..., "alice"), "another user than the caller"),
        (_key_record(iam_user("bob"), ..., {"n": 1}), "accessKey.userName is not"),
        ({**_key_record(iam_user("bob")), "requestParameters": ["x"]}, "not an object"),
        ({**_key_record(iam_user("bob")), "eventTime": "0001-01-01T00:00:00+05:00"}, "time"),
    ],
)
def test_records_that_cannot_be_read(item: dict[str, Any], why: str) -> None:
    with pytest.raises(cloudtrail.BadRecord, match=why):
        cloudtrail.read_record(item)
    assert cloudtrail.creation_event(item) is None  # the reading shared with older callers


def test_evidence_matches_a_users_name_without_case(tmp_path: Path) -> None:
    """The report spells the user SAM; the record, sam: one IAM user."""
    report = tmp_path / "report.csv"
    report.write_text(REPORT.read_text().replace("sam,", "SAM,").replace("user/sam", "user/SAM"))
    trail = tmp_path / "trail"
    log_file(trail / "sam.json.gz", [sam_record()])
    argv = ["audit", "--credential-report", str(report), "--cloudtrail", str(trail)]
    code, out, err = run_main([*argv, "--format", "json"])
    assert code == 1 and err == "", err
    sam = findings(out)["SAM"]
    assert (sam["status"], sam["reason"]) == SELF_CREATED


def test_an_s3_download_that_breaks_off_is_a_note(aws: Any) -> None:
    """botocore raises IncompleteReadError when an object's body ends before its stated
    length: one file the audit could not read, not the end of the audit."""
    from botocore.exceptions import IncompleteReadError

    (genuine,) = log_files([sam_record()], delay=timedelta(minutes=3))
    # Two records: a body of another length, by which the hook below knows it.
    (broken,) = log_files([sam_record(), sam_record()], delay=timedelta(minutes=4))
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="broken-trail")
    upload(s3, "broken-trail", "", [genuine, broken])

    class BrokenBody:
        def read(self, _size: int = -1) -> bytes:
            raise IncompleteReadError(actual_bytes=10, expected_bytes=100)

        def close(self) -> None:
            pass

    def break_it(parsed: dict[str, Any], **_: Any) -> None:
        if parsed.get("ContentLength") == len(broken.body):
            parsed["Body"] = BrokenBody()

    s3.meta.events.register("after-call.s3.GetObject", break_it)
    evidence = S3Trail(s3, "broken-trail").read(ACCOUNT, "aws", SPAN)
    assert [e.target_user for e in evidence.events] == ["sam"]
    assert evidence.problems == (
        f"s3://broken-trail/{broken.key}: the download broke off (IncompleteReadError)",
    )
