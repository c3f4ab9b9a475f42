"""One big report file read by two processes (initkeys.split_report): every byte as one.

The split is forced on small files by INITKEYS_PARALLEL_BYTES (the cut is near the
middle of any file over it), and each run is compared with the one-process read of
the same file (INITKEYS_PARALLEL_BYTES=0): every format's bytes, the exit code, the
one-line error. Edge rows are put right at the cut, which ``_plan`` names.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fuzz_kit import run_main

import initkeys.cli
from initkeys import split_report
from initkeys.formats import FORMAT_NAMES, file_name
from initkeys.model import Settings
from initkeys.sources.credential_report import open_credential_report

ROOT = Path(__file__).resolve().parent.parent

sys.path.insert(0, str(ROOT / "benchmarks"))
from offline_report import HEADER, write_report  # noqa: E402
from test_offline_identity import _FixedClock  # noqa: E402 - the same fixed clock


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("split") / "report.csv"
    write_report(str(path), 3_000)
    return path


def _audit(
    monkeypatch: pytest.MonkeyPatch, out: Path, reports: list[Path], limit: int
) -> tuple[int, dict[str, bytes], str]:
    monkeypatch.setattr(initkeys.cli, "datetime", _FixedClock)
    monkeypatch.setenv("INITKEYS_PARALLEL_BYTES", str(limit))
    argv = ["audit"]
    for path in reports:
        argv += ["--credential-report", str(path)]
    code, _, err = run_main([*argv, "--format", ",".join(FORMAT_NAMES), "--output-dir", str(out)])
    files = {}
    if out.is_dir():
        files = {
            n: (out / file_name(n)).read_bytes()
            for n in FORMAT_NAMES
            if (out / file_name(n)).exists()
        }
    return code, files, err


def _same_as_serial(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reports: list[Path]
) -> tuple[int, str]:
    serial = _audit(monkeypatch, tmp_path / "serial", reports, 0)
    split = _audit(monkeypatch, tmp_path / "split", reports, 1000)
    assert split[0] == serial[0], (split[2], serial[2])
    assert split[2] == serial[2]
    for name in FORMAT_NAMES:
        assert split[1].get(name) == serial[1].get(name), name
    return serial[0], serial[2]


def _with_rows_at_cut(source: Path, target: Path, before: str, after: str) -> int:
    """``source`` with ``before`` just before the cut and ``after`` just after it; the cut."""
    data = source.read_bytes()
    plan = split_report._plan(str(source), "x")
    assert plan is not None
    cut = plan[0]
    extra = before.encode()
    target.write_bytes(data[:cut] + extra + after.encode() + data[cut:])
    new_plan = split_report._plan(str(target), "x")
    assert new_plan is not None
    return new_plan[0]


def test_split_is_taken_and_counts_every_line(
    report: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INITKEYS_PARALLEL_BYTES", "1000")
    split = split_report.judge_split(str(report), Settings())
    assert split is not None
    reader, findings = split
    with open_credential_report(report) as serial:
        from initkeys.evaluate.light import judge_records

        want = judge_records(serial.records(), Settings())
        assert reader.report().lines == serial.report().lines
        assert reader.account_id == serial.account_id
    assert findings == want


def test_every_format_is_byte_identical(
    report: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _ = _same_as_serial(tmp_path, monkeypatch, [report])
    assert code == 1


def test_two_report_files(report: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    other = tmp_path / "other.csv"
    write_report(str(other), 2_000, seed=5, account="210987654321")
    code, _ = _same_as_serial(tmp_path, monkeypatch, [report, other])
    assert code == 1


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("", 'bad,"open quoted field\n'),  # unreadable row first in the second part
        ('bad,"open quoted field\n', ""),  # last in the first part
        ('x,"a\n', 'b",c\n'),  # a quoted field with a line break across the cut
        ("short,row\n", "\n\n   \n"),  # wrong width, then blank lines at the cut
        ("zo\u00eb,\u2028x\n", "\u00fcn\u00efcode,\ud7ff\n"),  # not ASCII, at the cut
        (
            '"quoted","arn:aws:iam::123456789012:user/quoted",2019-01-07T10:30:00+00:00,'
            "true,N/A,N/A,N/A,false,true,2019-01-07T10:30:09+00:00,N/A,N/A,N/A,"
            "false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n",
            "lone\rcarriage return,x\r\n",
        ),
    ],
)
def test_edge_rows_at_the_cut(
    report: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, before: str, after: str
) -> None:
    edged = tmp_path / "edged.csv"
    _with_rows_at_cut(report, edged, before, after)
    monkeypatch.setenv("INITKEYS_PARALLEL_BYTES", "1000")
    assert split_report.judge_split(str(edged), Settings()) is not None
    code, _ = _same_as_serial(tmp_path, monkeypatch, [edged])
    assert code == 1


def test_crlf_file(report: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    crlf = tmp_path / "crlf.csv"
    crlf.write_bytes(b"\xef\xbb\xbf" + report.read_bytes().replace(b"\n", b"\r\n"))
    monkeypatch.setenv("INITKEYS_PARALLEL_BYTES", "1000")
    assert split_report.judge_split(str(crlf), Settings()) is not None
    _same_as_serial(tmp_path, monkeypatch, [crlf])


def test_over_long_blank_line_falls_back(
    report: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The reader does not count an over-long blank line: the numbers would not meet.
    edged = tmp_path / "blank.csv"
    _with_rows_at_cut(report, edged, " " * 200_000 + "\n" + "short,row\n", "")
    monkeypatch.setenv("INITKEYS_PARALLEL_BYTES", "1000")
    assert split_report.judge_split(str(edged), Settings()) is None
    _same_as_serial(tmp_path, monkeypatch, [edged])


@pytest.mark.parametrize("where", ["second", "both"])
def test_other_account_in_the_second_part(
    report: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    row = (
        "eve,arn:aws:iam::999999999999:user/eve,2019-01-07T10:30:00+00:00,"
        "false,N/A,N/A,N/A,false,false,N/A,N/A,N/A,N/A,"
        "false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n"
    )
    edged = tmp_path / "accounts.csv"
    if where == "second":
        _with_rows_at_cut(report, edged, "", row)
    else:
        # Rows of other accounts in both parts: the error names the first in file order.
        data = report.read_bytes()
        first_row = data.index(b"\n", len(HEADER) + 1) + 1
        other = row.replace("999999999999", "888888888888").encode()
        middle = tmp_path / "middle.csv"
        middle.write_bytes(data[:first_row] + other + data[first_row:])
        _with_rows_at_cut(middle, edged, "", row)
    code, err = _same_as_serial(tmp_path, monkeypatch, [edged])
    assert code == 2
    assert ("999999999999" in err) == (where == "second")


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("big") / "big.csv"
    write_report(str(path), 60_000)
    return path


def _signal(proc: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    """Ctrl-C as a terminal sends it (to the whole process group); SIGTERM to the CLI only."""
    if sig == signal.SIGINT:
        os.killpg(proc.pid, sig)
    else:
        proc.send_signal(sig)


def _as_a_terminal_starts_it() -> None:
    # A background job of a non-interactive shell (as a CI script may run the suite)
    # starts with SIGINT ignored, and a child inherits that: Ctrl-C from a terminal is
    # what these tests send, so the CLI starts as a terminal would start it.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _cli(report: Path, **kwargs: object) -> subprocess.Popen[bytes]:
    env = dict(os.environ, INITKEYS_PARALLEL_BYTES="1000", PYTHONPATH=str(ROOT / "src"))
    return subprocess.Popen(
        [sys.executable, "-m", "initkeys", "audit", "--credential-report", str(report)],
        env=env,
        stderr=subprocess.PIPE,
        start_new_session=True,
        preexec_fn=_as_a_terminal_starts_it,
        **kwargs,  # type: ignore[call-overload]
    )


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_no_child_survives_a_signal(big: Path, sig: signal.Signals) -> None:
    proc = _cli(big, stdout=subprocess.DEVNULL)
    children: list[int] = []
    deadline = time.monotonic() + 30
    while not children and proc.poll() is None and time.monotonic() < deadline:
        children = _children(proc.pid)
        time.sleep(0.01)
    assert children, "the CLI forked no child"
    _signal(proc, sig)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode in (130, -sig, 128 + sig), err
    assert b"Traceback" not in err
    deadline = time.monotonic() + 5
    while any(_alive(c) for c in children) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(c) for c in children)


def test_broken_pipe_on_stdout(big: Path) -> None:
    proc = _cli(big, stdout=subprocess.PIPE)
    assert proc.stdout is not None
    proc.stdout.read(100)
    proc.stdout.close()
    proc.wait(timeout=60)
    err = proc.stderr.read() if proc.stderr is not None else b""
    assert b"Traceback" not in err
    assert len(err.decode().strip().splitlines()) <= 1
    assert not _children(proc.pid)


def test_files_apart_are_taken(
    report: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from initkeys.spill import FindingSpill

    other = tmp_path / "other.csv"
    write_report(str(other), 500, seed=5, account="210987654321")
    monkeypatch.setenv("INITKEYS_PARALLEL_BYTES", "1000")
    with FindingSpill() as spill:
        audits = split_report.audit_files_apart((str(report), str(other)), Settings(), spill)
        assert audits is not None
        assert [a.account_id for a in audits] == ["123456789012", "210987654321"]
        assert [len(a.findings) for a in audits] == [len(list(a.findings)) for a in audits]


def test_first_bad_file_in_order(
    report: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("not,a,report\n" * 100)
    missing = tmp_path / "missing.csv"
    code, err = _same_as_serial(tmp_path, monkeypatch, [report, bad, report])
    assert code == 2 and "bad.csv" in err
    code, err = _same_as_serial(tmp_path, monkeypatch, [report, missing, bad])
    assert code == 2 and "missing.csv" in err


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_no_file_worker_survives_a_signal(big: Path, sig: signal.Signals) -> None:
    env = dict(os.environ, INITKEYS_PARALLEL_BYTES="1000", PYTHONPATH=str(ROOT / "src"))
    argv = [sys.executable, "-m", "initkeys", "audit"]
    for _ in range(3):
        argv += ["--credential-report", str(big)]
    proc = subprocess.Popen(
        argv,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
        preexec_fn=_as_a_terminal_starts_it,
    )
    children: list[int] = []
    deadline = time.monotonic() + 30
    while len(children) < 2 and proc.poll() is None and time.monotonic() < deadline:
        children = _children(proc.pid)
        time.sleep(0.01)
    assert children, "the CLI started no worker"
    time.sleep(0.3)  # the workers are reading
    _signal(proc, sig)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode in (130, -sig, 128 + sig), err
    assert b"Traceback" not in err, err
    deadline = time.monotonic() + 5
    while any(_alive(c) for c in children) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(c) for c in children)
