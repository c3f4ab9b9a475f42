"""Exemptions: --exempt-user, initkeys.toml, and the initkeys:exempt IAM user tag."""

from __future__ import annotations

import json
import subprocess
from datetime import date, datetime, timedelta, timezone
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import pytest
from cli_kit import run_here
from fuzz_kit import tried
from hypothesis import given, settings
from hypothesis import strategies as st
from scenario import NOW, Scenario, at

import initkeys
from initkeys.aws import AwsContext
from initkeys.config import exemption_rules, read_config
from initkeys.errors import InputError
from initkeys.evaluate import judge_user
from initkeys.evaluate.names import name_glob
from initkeys.model import AccessKey, ExemptionRule, IamUser, Settings, Status

T = datetime(2023, 1, 1, tzinfo=timezone.utc)


def console_user(name: str, path: str = "/", tag: str | None = None) -> IamUser:
    return IamUser(
        name=name,
        arn=f"arn:aws:iam::123456789012:user{path}{name}",
        created=T,
        console_password=True,
        keys=(AccessKey(1, T + timedelta(seconds=20), True, None),),
        exempt_tag=tag,
    )


def rule(pattern: str, expires: date | None = None) -> ExemptionRule:
    return ExemptionRule(pattern=pattern, reason="kept on purpose", source="cli", expires=expires)


@pytest.mark.parametrize(
    ("pattern", "name", "path", "applies"),
    [
        ("svc-legacy", "svc-legacy", "/", True),
        ("svc-*", "svc-legacy", "/", True),
        ("svc-*", "alice", "/", False),
        # IAM user names are unique case-insensitively: SVC-x and svc-x are one user.
        ("SVC-*", "svc-legacy", "/", True),
        ("svc-*", "SVC-Legacy", "/", True),
        ("Svc-Legacy", "svc-LEGACY", "/", True),
        ("svc-[a-l]egacy", "SVC-LEGACY", "/", True),
        ("svc-[!l]egacy", "SVC-LEGACY", "/", False),
        ("/contractors/*", "bob", "/contractors/", True),
        ("/contractors/BOB", "bob", "/contractors/", True),
        # Paths are compared as IAM keeps them, as written.
        ("/Contractors/*", "bob", "/contractors/", False),
        ("/contr*", "Bob", "/contractors/", True),
        ("/contractors/*", "bob", "/staff/", False),
        ("bob", "bob", "/contractors/", True),
    ],
)
def test_patterns(pattern: str, name: str, path: str, applies: bool) -> None:
    (finding,) = judge_user(console_user(name, path), Settings(exemptions=(rule(pattern),)))
    assert finding.status is Status.FAIL  # an exemption never changes the verdict
    assert (finding.exemption is not None) is applies
    if applies:
        assert finding.exemption is not None
        assert finding.exemption.pattern == pattern


# Patterns and names from a small alphabet, so that wildcards, classes and case meet often.
_GLOB = st.text(alphabet="ab-/*?[]!", max_size=8)
_NAME = st.text(alphabet="aAbB-/", max_size=8)


@settings(max_examples=400, deadline=None, derandomize=True)
@given(_GLOB, _NAME)
def test_glob_is_fnmatch_where_case_counts(pattern: str, text: str) -> None:
    """With no name part to fold, the matcher is fnmatch's, character for character."""
    tried("exemption-glob")
    assert name_glob(pattern, text, len(text)) == fnmatchcase(text, pattern)


@settings(max_examples=400, deadline=None, derandomize=True)
@given(_GLOB, _NAME)
def test_glob_on_a_name_ignores_case(pattern: str, text: str) -> None:
    tried("exemption-glob-folded")
    assert name_glob(pattern, text, 0) == fnmatchcase(text.lower(), pattern)
    assert name_glob(pattern, text, 0) == name_glob(pattern, text.swapcase(), 0)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.text(alphabet="aA/*?", max_size=6), st.text(alphabet="aA", max_size=4), _NAME)
def test_glob_on_path_and_name_folds_the_name_only(pattern: str, path: str, name: str) -> None:
    tried("exemption-glob-path")
    name = name.replace("/", "")
    text = f"/{path}/{name}" if path else f"/{name}"
    folded = name_glob(pattern, text, text.rfind("/") + 1)
    # The name part may be in any case; the path part must be exactly as written.
    variants = {text[: text.rfind("/") + 1] + n for n in _case_variants(name)}
    assert folded == any(fnmatchcase(v, pattern) for v in variants)


def _case_variants(name: str) -> set[str]:
    variants = {""}
    for c in name:
        variants = {v + x for v in variants for x in {c.lower(), c.upper()}}
    return variants


def test_expiry_is_inclusive_and_expired_ones_are_reported() -> None:
    user = console_user("svc-legacy")
    ends = date(2026, 11, 27)
    on_the_day = judge_user(user, Settings(exemptions=(rule("svc-*", ends),), today=ends))[0]
    assert on_the_day.exemption is not None and on_the_day.expired_exemption is None
    after = judge_user(
        user, Settings(exemptions=(rule("svc-*", ends),), today=ends + timedelta(days=1))
    )[0]
    assert after.exemption is None
    assert after.expired_exemption is not None and after.expired_exemption.expires == ends
    unknown_day = judge_user(user, Settings(exemptions=(rule("svc-*", ends),)))[0]
    assert unknown_day.exemption is None  # no 'today': an end date cannot be shown in force


def test_an_exemption_in_force_wins_over_an_expired_one() -> None:
    user = console_user("svc-legacy")
    rules = (rule("svc-*", date(2020, 1, 1)), rule("svc-legacy"))
    (finding,) = judge_user(user, Settings(exemptions=rules, today=date(2026, 11, 28)))
    assert finding.exemption is not None and finding.exemption.expires is None
    assert finding.expired_exemption is None


def test_tag_exemption() -> None:
    (finding,) = judge_user(console_user("ops", tag="break-glass, SEC-99"), Settings())
    assert finding.exemption is not None
    assert (finding.exemption.source, finding.exemption.reason) == ("tag", "break-glass, SEC-99")


def test_exempt_findings_do_not_count_for_the_exit_code() -> None:
    user = console_user("svc-legacy")
    settings = Settings(exemptions=(rule("svc-*"),))
    account = initkeys.evaluate_report(
        initkeys.CredentialReport("123456789012", "aws", "x", None, (user,)), settings
    )
    assert account.status is Status.FAIL
    assert not initkeys.AuditRun(settings, NOW, (account,)).fails()


def write_config(tmp_path: Path, text: str) -> str:
    path = tmp_path / "initkeys.toml"
    path.write_text(text)
    return str(path)


def test_config_file(tmp_path: Path) -> None:
    path = write_config(
        tmp_path,
        '[[exempt]]\nuser = "svc-*"\nreason = "Vendor integration, SEC-1234"\n'
        "expires = 2027-03-31\n\n"
        '[[exempt]]\nuser = "/contractors/*"\nreason = "contract ends in March"\n'
        'expires = "2027-03-01"\n',
    )
    rules = read_config(path)
    assert [(r.pattern, r.expires, r.source) for r in rules] == [
        ("svc-*", date(2027, 3, 31), "config:initkeys.toml"),
        ("/contractors/*", date(2027, 3, 1), "config:initkeys.toml"),
    ]
    # Found in the working directory without --config; --exempt-user adds to it.
    found = exemption_rules(None, ("ops-*",), search_dir=str(tmp_path))
    assert [r.pattern for r in found] == ["svc-*", "/contractors/*", "ops-*"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[exempt]]\nuser = "svc-*"\n', "'reason' is required"),
        ('[[exempt]]\nreason = "x"\n', "'user' must be"),
        ('[[exempt]]\nuser = "a"\nreason = "x"\nexpire = 2027-01-01\n', "unknown key(s) expire"),
        ('[[exempt]]\nuser = "a"\nreason = "x"\nexpires = "soon"\n', "'expires' must be a date"),
        ('[exempt]\nuser = "a"\n', "array of tables"),
        ("exempt = [", "not valid TOML"),
        ('[[exemptions]]\nuser = "a"\n', "unknown setting(s) exemptions"),
    ],
)
def test_bad_config_is_one_clear_error(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(InputError) as caught:
        read_config(write_config(tmp_path, text))
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


REPORT = (
    "user,arn,user_creation_time,password_enabled,password_last_changed,"
    "access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,"
    "access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date\n"
    "svc-legacy,arn:aws:iam::111122223333:user/svc-legacy,2022-01-01T00:00:00+00:00,true,N/A,"
    "true,2022-01-01T00:00:10+00:00,N/A,false,N/A,N/A\n"
)


def cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """``initkeys ARGS`` run in ``cwd`` (where initkeys.toml is found), in-process: these
    tests are about exemption rules and config, not the process."""
    return run_here(args, cwd=cwd)


# The report's user as created, and in another case: --exempt-user and initkeys.toml
# name a user as IAM does, in any case.
@pytest.mark.parametrize("user", ["svc-legacy", "SVC-Legacy"])
def test_cli_exemptions(tmp_path: Path, user: str) -> None:
    (tmp_path / "r.csv").write_text(REPORT.replace("svc-legacy", user))
    assert cli(["audit", "--credential-report", "r.csv"], tmp_path).returncode == 1

    exempt = cli(["audit", "--credential-report", "r.csv", "--exempt-user", "svc-*"], tmp_path)
    assert exempt.returncode == 0, exempt.stderr
    assert "exempt" in exempt.stdout

    write_config(tmp_path, '[[exempt]]\nuser = "svc-legacy"\nreason = "SEC-1234"\n')
    found = cli(["audit", "--credential-report", "r.csv", "--format", "json"], tmp_path)
    assert found.returncode == 0, found.stderr
    (finding,) = json.loads(found.stdout)["accounts"][0]["findings"]
    assert (finding["user"], finding["status"]) == (user, "FAIL")
    assert finding["exemption"] == {
        "reason": "SEC-1234",
        "source": "config:initkeys.toml",
        "expires": None,
        "pattern": "svc-legacy",
    }

    write_config(
        tmp_path, '[[exempt]]\nuser = "svc-legacy"\nreason = "SEC-1234"\nexpires = 2020-01-01\n'
    )
    expired = cli(["audit", "--credential-report", "r.csv", "--format", "json"], tmp_path)
    assert expired.returncode == 1
    (finding,) = json.loads(expired.stdout)["accounts"][0]["findings"]
    assert finding["exemption"] is None
    assert finding["exemption_expired"]["expires"] == "2020-01-01"
    text = cli(["audit", "--credential-report", "r.csv"], tmp_path)
    assert "exemption expired" in text.stdout

    bad = cli(["audit", "--credential-report", "r.csv", "--config", "missing.toml"], tmp_path)
    assert bad.returncode == 2
    assert bad.stderr.startswith("initkeys: error: missing.toml: no such config file")


def test_live_tag_exemption(aws: Any) -> None:
    s = Scenario(aws)
    t = at("2023-05-01T10:00:00")
    s.user("break-glass", t)
    s.key("break-glass", t + timedelta(seconds=15))
    s.user("plain", t)
    s.key("plain", t + timedelta(seconds=15))
    aws.client("iam").tag_user(
        UserName="break-glass",
        Tags=[{"Key": "initkeys:exempt", "Value": "emergency access, reviewed quarterly"}],
    )
    s.settle(NOW)
    result = initkeys.audit_account(AwsContext(aws.session(), endpoint_url=aws.endpoint_url))
    by_user = {f.user: f for f in result.findings}
    assert by_user["break-glass"].status is Status.FAIL
    exemption = by_user["break-glass"].exemption
    assert exemption is not None
    assert (exemption.source, exemption.reason) == ("tag", "emergency access, reviewed quarterly")
    assert by_user["plain"].exemption is None


def test_cli_exemption_paths_are_compared_as_written(tmp_path: Path) -> None:
    """/Vendors/ is not the user's /vendors/ path; the name still matches in any case."""
    (tmp_path / "r.csv").write_text(
        REPORT.replace("user/svc-legacy", "user/vendors/SVC-Legacy").replace(
            "svc-legacy,", "SVC-Legacy,"
        )
    )
    write_config(tmp_path, '[[exempt]]\nuser = "/Vendors/*"\nreason = "SEC-1234"\n')
    assert cli(["audit", "--credential-report", "r.csv"], tmp_path).returncode == 1
    write_config(tmp_path, '[[exempt]]\nuser = "/vendors/svc-*"\nreason = "SEC-1234"\n')
    assert cli(["audit", "--credential-report", "r.csv"], tmp_path).returncode == 0


def test_live_tag_key_in_any_case_exempts(aws: Any) -> None:
    """IAM user tag keys are case-insensitive: Initkeys:Exempt is the initkeys:exempt tag,
    and a rule's pattern matches the user whatever case it was created in."""
    s = Scenario(aws)
    t = at("2023-05-01T10:00:00")
    for name in ("Break-Glass", "SVC-Deploy", "plain"):
        s.user(name, t)
        s.key(name, t + timedelta(seconds=15))
    aws.client("iam").tag_user(
        UserName="Break-Glass",
        Tags=[{"Key": "INITKEYS:Exempt", "Value": "emergency access"}],
    )
    s.settle(NOW)
    settings = Settings(exemptions=(rule("svc-*"),))
    result = initkeys.audit_account(
        AwsContext(aws.session(), endpoint_url=aws.endpoint_url), settings=settings
    )
    by_user = {f.user: f for f in result.findings}
    assert {f.status for f in by_user.values()} == {Status.FAIL}
    tag = by_user["Break-Glass"].exemption
    assert tag is not None and (tag.source, tag.reason) == ("tag", "emergency access")
    pattern = by_user["SVC-Deploy"].exemption
    assert pattern is not None and pattern.pattern == "svc-*"
    assert by_user["plain"].exemption is None
