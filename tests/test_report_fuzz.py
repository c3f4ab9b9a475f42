"""Fuzzing the credential report reader through the CLI, in-process (hypothesis).

Inputs are mutations of a valid report (quotes put anywhere, commas deleted or
doubled, random characters and bytes, lines split and joined, header columns
renamed, repeated or re-cased) and of the AWS CLI's JSON form (hostile values,
bad GeneratedTime, text edits). The property, for every input: exit 0/1 with every
non-blank data line accounted for (``report_lines.read`` is the number of such
lines, ``read == judged + unreadable``, one ERROR ``invalid-row`` per unreadable
line and findings for every judged row), or exit 2 with one line on stderr; never
exit 3/4, never a traceback.
"""

from __future__ import annotations

import base64
import json
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fuzz_kit import assert_clean_end, run_main, tried
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

# The reference report (tests/data/README.md): AWS's 22 columns, root, one user per verdict.
VALID = (Path(__file__).parent / "data" / "report_normal.csv").read_text()

# Values a field may be replaced with: the edges the reader must survive.
HOSTILE_VALUES = [
    '"',
    '""',
    "",
    " ",
    "N/A",
    "TRUE",
    "0001-01-01T00:00:00+05:00",
    "9999-12-31T23:59:59-05:00",
    "2026-02-30T00:00:00+00:00",
    "<root_account>",
    "arn:aws:iam::123456789012:root",
    "arn:aws:iam::XXXXXXXXXXXX:user/x",
    "arn:aws:iam::999988887777:user/x",
    "arn:aws:iam::123456789012:role/x",
    "\x00",
    "\x1b[31m",
    "\u202e",
    "x" * 300,
]

_LINE_SPLIT = re.compile(r"\r\n|\r|\n")


@pytest.fixture(scope="module")
def workdir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="initkeys-fuzz-report-") as name:
        yield Path(name)


@st.composite
def mutated_csv(draw: st.DrawFn) -> bytes:
    """A valid report with one to five edits."""
    text = VALID
    for _ in range(draw(st.integers(1, 5))):
        kind = draw(
            st.sampled_from(
                [
                    "insert",
                    "delete",
                    "comma",
                    "value",
                    "split",
                    "join",
                    "duplicate",
                    "header",
                    "line-end",
                ]
            )
        )
        # Most edits land after the header: a broken header only tests exit 2.
        # (hypothesis favours small numbers: the rare case is the large one)
        body = 0 if draw(st.integers(0, 6)) == 6 else text.find("\n") + 1
        at = draw(st.integers(body, len(text)))
        if kind == "insert":
            piece = draw(
                st.one_of(
                    st.sampled_from(['"', '"', ",", "\n", "\r", "\x00", "\ufeff", " "]),
                    st.text(max_size=4),
                )
            )
            text = text[:at] + piece + text[at:]
        elif kind == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 30)) :]
        elif kind == "comma":
            commas = [i for i, c in enumerate(text) if c == ","]
            i = draw(st.sampled_from(commas)) if commas else 0
            text = text[:i] + draw(st.sampled_from(["", ",,", '",', ',"'])) + text[i + 1 :]
        elif kind == "value":
            lines = text.split("\n")
            n = draw(st.integers(min(1, len(lines) - 1), len(lines) - 1))
            fields = lines[n].split(",")
            k = draw(st.integers(0, len(fields) - 1))
            fields[k] = draw(st.sampled_from(HOSTILE_VALUES))
            lines[n] = ",".join(fields)
            text = "\n".join(lines)
        elif kind == "split":
            text = text[:at] + draw(st.sampled_from(["\n", "\r", "\r\n", "\n\n"])) + text[at:]
        elif kind == "join":
            i = text.find("\n", at)
            if i >= 0:
                text = text[:i] + text[i + 1 :]
        elif kind == "duplicate":
            lines = text.split("\n")
            n = draw(st.integers(0, len(lines) - 1))
            lines.insert(n, lines[n])
            text = "\n".join(lines)
        elif kind == "header" and draw(st.booleans()):
            header, _, rest = text.partition("\n")
            columns = header.split(",")
            k = draw(st.integers(0, len(columns) - 1))
            change = draw(st.sampled_from(["upper", "repeat", "drop", "rename", "space"]))
            if change == "upper":
                columns[k] = columns[k].upper()
            elif change == "repeat":
                columns.append(columns[k].upper())
            elif change == "drop":
                del columns[k]
            elif change == "rename":
                columns[k] = draw(st.sampled_from(["x", "", "user", '"user', "arn "]))
            else:
                columns[k] = f" {columns[k]} "
            text = ",".join(columns) + "\n" + rest
        else:
            text = text.replace("\n", draw(st.sampled_from(["\r", "\r\n", "\n\r"])))
    data = text.encode("utf-8", "surrogatepass")
    if draw(st.integers(0, 7)) == 7:  # now and then, bytes that may not be UTF-8
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.binary(min_size=1, max_size=3)) + data[at:]
    return data


def data_lines(data: bytes) -> int | None:
    """The non-blank lines after the header, counted the way a reader of the file would;
    None when the file is not UTF-8 text (then it must be refused, exit 2)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    lines = [line for line in _LINE_SPLIT.split(text) if line.strip()]
    return max(len(lines) - 1, 0)


def rows_in(findings: list[dict[str, Any]]) -> int:
    """How many report rows the findings cover: a user-level finding is one row; a row's
    key findings come together, slot 1 before slot 2."""
    rows = 0
    last: dict[str, Any] | None = None
    for f in findings:
        same_row = (
            last is not None
            and f["key_slot"] is not None
            and last["key_slot"] is not None
            and (last["user"], last["arn"]) == (f["user"], f["arn"])
            and last["key_slot"] < f["key_slot"]
        )
        rows += 0 if same_row else 1
        last = f
    return rows


def check(path: Path, expected_lines: int | None) -> None:
    code, out, err = run_main(["audit", "--credential-report", str(path), "--format", "json"])
    assert_clean_end(code, err)
    if code == 2:
        assert out == ""
        return
    assert expected_lines is not None, "a file that is not UTF-8 text was judged"
    (account,) = json.loads(out)["accounts"]
    lines = account["report_lines"]
    assert lines["read"] == expected_lines
    assert lines["read"] == lines["judged"] + lines["unreadable"]
    findings = account["findings"]
    assert sum(f["reason"] == "invalid-row" for f in findings) == lines["unreadable"]
    assert rows_in(findings) == lines["read"]
    # Fail closed: an ERROR row never lets the run pass.
    if lines["unreadable"]:
        assert code == 1


def fuzzing(examples: int) -> Any:
    """Bounded, reproducible runs; the fixture is a directory shared by every input."""
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )


@fuzzing(600)
@given(data=mutated_csv())
def test_fuzz_credential_report_csv(workdir: Path, data: bytes) -> None:
    tried("credential-report-csv")
    path = workdir / "report.csv"
    path.write_bytes(data)
    check(path, data_lines(data))


# --------------------------------------------------------------------------- the CLI's JSON

_deep = st.integers(1, 400).map(lambda n: "[" * n + "]" * n)
# JSON texts of a member's value: ordinary, absurd, non-finite, deep, a lone surrogate.
JSON_VALUES = st.one_of(
    st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=20)).map(json.dumps),
    st.sampled_from(
        [
            "1e300",
            "-1e999",
            "NaN",
            "Infinity",
            '"\\ud800"',
            '"\\udfff x"',
            "9" * 50,
            '"0001-01-01T00:00:00+05:00"',
            '"9999-12-31T23:59:59-05:00"',
            '"2026-11-27T10:00:00Z"',
            '"2026-11-27T10:00:00Z"',
            '"yesterday"',
            "{}",
            "[]",
        ]
    ),
    _deep,
)


@st.composite
def cli_json(draw: st.DrawFn) -> tuple[bytes, int | None]:
    """The AWS CLI's JSON form with hostile members and edits, and the data lines its
    Content holds (None when the reader may refuse it for any reason)."""
    csv_bytes = draw(st.one_of(st.just(VALID.encode()), mutated_csv()))
    members = [f'"Content": "{base64.b64encode(csv_bytes).decode()}"']
    if draw(st.booleans()):
        members.append(f'"GeneratedTime": {draw(JSON_VALUES)}')
    if draw(st.booleans()):
        members.append(
            '"ReportFormat": ' + draw(st.sampled_from(['"text/csv"', '"text/xml"', "1", "null"]))
        )
    for _ in range(draw(st.integers(0, 2))):
        members.append(f'"{draw(st.sampled_from(["Extra", "Size", "x"]))}": ' + draw(JSON_VALUES))
    text = "{" + ", ".join(draw(st.permutations(members))) + "}"
    if draw(st.integers(0, 4)) == 4:  # a text edit: the document may no longer parse
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.sampled_from(['"', "}", "{", ",", "\\", "\x00", ""])) + text[at:]
    return text.encode("utf-8", "surrogatepass"), data_lines(csv_bytes)


@fuzzing(300)
@given(document=cli_json())
def test_fuzz_credential_report_json(workdir: Path, document: tuple[bytes, int | None]) -> None:
    tried("credential-report-json")
    data, expected_lines = document
    path = workdir / "report.json"
    path.write_bytes(data)
    check(path, expected_lines)
