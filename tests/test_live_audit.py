"""Live audits against a real moto server process, through the real botocore stack."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from scenario import MINUTE, NOW, Scenario, at

import initkeys
from initkeys.audit import refresh_live
from initkeys.aws import ApiCallCounter, AwsContext
from initkeys.model import Mode, Reason, Settings, Status
from initkeys.sources.aws import LiveAccount

S = timedelta(seconds=1)


def audit(aws: Any, **settings: Any) -> initkeys.AccountAudit:
    return initkeys.audit_account(
        AwsContext(aws.session(), endpoint_url=aws.endpoint_url), settings=Settings(**settings)
    )


def by_key(result: initkeys.AccountAudit) -> dict[tuple[str, int | None], initkeys.Finding]:
    return {(f.user, f.key_slot): f for f in result.findings}


@pytest.fixture
def company(aws: Any) -> dict[str, Any]:
    """One account with a user for every row of the verdict table a live account can show."""
    s = Scenario(aws)
    keys: dict[str, Any] = {}

    t = at("2022-01-10T09:00:00")
    s.user("setup-used", t)
    keys["setup-used"] = s.key("setup-used", t + 30 * S)
    s.use(keys["setup-used"], at("2022-02-01T08:00:00"))

    t = at("2021-05-01T10:00:00")
    s.user("later-used", t)
    keys["later-used"] = s.key("later-used", at("2022-06-01T10:00:00"))
    s.use(keys["later-used"], at("2023-01-15T10:00:00"))

    t = at("2013-03-01T10:00:00")
    s.user("old-active", t)
    s.key("old-active", t + 20 * S)
    s.user("old-inactive", t)
    s.key("old-inactive", t + 20 * S, active=False)

    t = at("2023-04-01T14:00:00")
    s.user("setup-unused", t, path="/engineering/")
    keys["setup-unused"] = s.key("setup-unused", t + 45 * S)
    s.user("setup-inactive", t)
    s.key("setup-inactive", t + 45 * S, active=False)

    t = at("2022-08-01T09:00:00")
    s.user("later-active", t)
    s.key("later-active", at("2024-02-01T09:00:00"))
    s.user("later-inactive", t)
    s.key("later-inactive", at("2024-02-01T09:00:00"), active=False)

    s.user("no-keys", at("2020-01-01T00:00:00"))
    s.user("svc-deploy", at("2020-01-01T00:00:00"), password=False)
    s.key("svc-deploy", at("2020-01-01T00:00:10"))

    t = at("2024-05-05T05:05:05")
    s.user("same-second", t)
    keys["same-1"] = s.key("same-second", t + 5 * S)
    keys["same-2"] = s.key("same-second", t + 5 * S)

    t = at("2019-09-09T09:00:00")
    s.user("slot-two", t)
    first = s.key("slot-two", t + 10 * S)
    s.key("slot-two", t + 20 * S)
    s.delete_key(first)

    t = at("2019-02-01T12:00:00")
    s.user("got-password-later", t, password=False)
    s.key("got-password-later", t + 10 * S)
    s.password("got-password-later", at("2024-03-01T12:00:00"))

    t = at("2025-06-01T08:00:00")
    s.user("edge-600s", t)
    s.key("edge-600s", t + 600 * S)
    s.user("edge-601s", t)
    s.key("edge-601s", t + 601 * S)

    s.settle(NOW)
    return keys


EXPECTED = {
    # (user, slot): (setup status, cis status, reason)
    ("setup-used", 1): (Status.PASS, Status.PASS, Reason.SETUP_KEY_USED),
    ("later-used", 1): (Status.PASS, Status.PASS, Reason.KEY_USED),
    ("old-active", 1): (Status.WARNING, Status.FAIL, Reason.USAGE_UNKNOWN),
    ("old-inactive", 1): (Status.WARNING, Status.PASS, Reason.USAGE_UNKNOWN),
    ("setup-unused", 1): (Status.FAIL, Status.FAIL, Reason.SETUP_KEY_UNUSED),
    ("setup-inactive", 1): (Status.WARNING, Status.PASS, Reason.SETUP_KEY_INACTIVE),
    ("later-active", 1): (Status.WARNING, Status.FAIL, Reason.UNUSED_KEY),
    ("later-inactive", 1): (Status.PASS, Status.PASS, Reason.INACTIVE_UNUSED_KEY),
    ("no-keys", None): (Status.PASS, Status.PASS, Reason.NO_ACCESS_KEYS),
    ("svc-deploy", None): (
        Status.NOT_APPLICABLE,
        Status.NOT_APPLICABLE,
        Reason.NO_CONSOLE_PASSWORD,
    ),
    ("same-second", 1): (Status.FAIL, Status.FAIL, Reason.SETUP_KEY_UNUSED),
    ("same-second", 2): (Status.FAIL, Status.FAIL, Reason.SETUP_KEY_UNUSED),
    ("slot-two", 1): (Status.FAIL, Status.FAIL, Reason.SETUP_KEY_UNUSED),
    ("got-password-later", 1): (Status.FAIL, Status.FAIL, Reason.SETUP_KEY_UNUSED),
    ("edge-600s", 1): (Status.FAIL, Status.FAIL, Reason.SETUP_KEY_UNUSED),
    ("edge-601s", 1): (Status.WARNING, Status.FAIL, Reason.UNUSED_KEY),
}


@pytest.mark.parametrize("mode", [Mode.SETUP, Mode.CIS])
def test_every_verdict_row_live(aws: Any, company: dict[str, Any], mode: Mode) -> None:
    result = audit(aws, mode=mode)
    found = by_key(result)
    assert set(found) == set(EXPECTED)
    for where, (setup_status, cis_status, reason) in EXPECTED.items():
        finding = found[where]
        want = setup_status if mode is Mode.SETUP else cis_status
        assert (finding.status, finding.reason) == (want, reason), where
    assert result.account_id == "123456789012"
    assert result.partition == "aws"
    assert result.source == "aws"


def test_non_pass_keys_carry_their_ids(aws: Any, company: dict[str, Any]) -> None:
    result = audit(aws)
    for f in result.findings:
        if f.key_slot is not None and f.status is not Status.PASS:
            assert f.access_key_id and f.access_key_id.startswith("AKIA"), f
    same = [f for f in result.findings if f.user == "same-second"]
    assert {f.access_key_id for f in same} == {
        company["same-1"].access_key_id,
        company["same-2"].access_key_id,
    }


def test_findings_carry_evidence(aws: Any, company: dict[str, Any]) -> None:
    f = by_key(audit(aws))[("setup-unused", 1)]
    assert f.user_created == at("2023-04-01T14:00:00")
    assert f.key_created == at("2023-04-01T14:00:45")
    assert f.setup_gap == timedelta(seconds=45)
    assert f.last_used is None
    assert f.active is True
    assert f.arn.endswith(":user/engineering/setup-unused")
    used = by_key(audit(aws))[("setup-used", 1)]
    assert used.last_used == at("2022-02-01T08:00:00")


def test_window_option_changes_setup_keys(aws: Any, company: dict[str, Any]) -> None:
    found = by_key(audit(aws, setup_window=timedelta(seconds=30)))
    assert found[("setup-unused", 1)].reason is Reason.UNUSED_KEY  # 45 s > 30 s
    assert found[("same-second", 1)].reason is Reason.SETUP_KEY_UNUSED  # 5 s


def test_stale_report_is_corrected_live(aws: Any, company: dict[str, Any]) -> None:
    """The report can be hours old: keys used, deleted or created since are read live."""
    account = LiveAccount(AwsContext(aws.session(), endpoint_url=aws.endpoint_url))
    account.whoami()
    stale = account.credential_report()
    s = Scenario(aws)
    s.use(company["setup-unused"], NOW)  # used after the report was made
    s.delete_key(company["same-1"])  # deleted after the report
    s.user("newcomer", NOW)  # created after the report
    s.key("newcomer", NOW + 10 * S)
    s.settle(NOW + MINUTE)
    aws.client("iam").delete_login_profile(UserName="later-active")
    aws.client("iam").delete_access_key(
        UserName="later-active",
        AccessKeyId=aws.client("iam").list_access_keys(UserName="later-active")[
            "AccessKeyMetadata"
        ][0]["AccessKeyId"],
    )
    aws.client("iam").delete_user(UserName="later-active")

    result = refresh_live(account, stale, account.list_users(), Settings(), 4, lambda _: None)
    found = by_key(result)
    assert found[("setup-unused", 1)].status is Status.PASS
    assert found[("setup-unused", 1)].reason is Reason.SETUP_KEY_USED
    same = [f for f in result.findings if f.user == "same-second"]
    assert [f.access_key_id for f in same] == [company["same-2"].access_key_id]
    assert found[("newcomer", 1)].status is Status.FAIL
    assert found[("later-active", None)].reason is Reason.USER_DELETED


def test_api_calls_stay_near_the_minimum(aws: Any, company: dict[str, Any]) -> None:
    counter = ApiCallCounter()
    initkeys.audit_account(
        AwsContext(aws.session(), endpoint_url=aws.endpoint_url, counter=counter)
    )
    calls = counter.calls
    assert calls["sts:GetCallerIdentity"] == 1
    assert calls["iam:GetCredentialReport"] == 1
    assert calls["iam:ListUsers"] == 1
    # Only users with keys that did not PASS are re-read: one ListAccessKeys each.
    not_pass_users = {
        u
        for (u, _), (setup, _, _) in EXPECTED.items()
        if setup not in {Status.PASS, Status.NOT_APPLICABLE}
    }
    assert calls["iam:ListAccessKeys"] == len(not_pass_users)
    assert "iam:GetUser" not in calls


def test_least_privilege_policy_is_enough(aws: Any, company: dict[str, Any]) -> None:
    """Audit as a user holding only the printed policy, with IAM enforcement on."""
    iam = aws.client("iam")
    expected = [(f.user, f.key_slot, f.status, f.reason) for f in audit(aws).findings]
    iam.create_user(UserName="initkeys-auditor")
    iam.put_user_policy(
        UserName="initkeys-auditor",
        PolicyName="initkeys-audit",
        PolicyDocument=json.dumps(initkeys.policy_document("audit")),
    )
    meta = iam.create_access_key(UserName="initkeys-auditor")["AccessKey"]
    expected.append(("initkeys-auditor", None, Status.NOT_APPLICABLE, Reason.NO_CONSOLE_PASSWORD))
    with aws.enforcing_iam():
        import boto3

        session = boto3.Session(
            aws_access_key_id=meta["AccessKeyId"],
            aws_secret_access_key=meta["SecretAccessKey"],
            region_name="us-east-1",
        )
        result = initkeys.audit_account(AwsContext(session, endpoint_url=aws.endpoint_url))
    got = [(f.user, f.key_slot, f.status, f.reason) for f in result.findings]
    errors = [f.message for f in result.findings if f.status is Status.ERROR]
    assert not errors, errors
    assert sorted(got, key=str) == sorted(expected, key=str)


def test_denied_audit_is_an_access_error(aws: Any, company: dict[str, Any]) -> None:
    iam = aws.client("iam")
    iam.create_user(UserName="nobody")
    meta = iam.create_access_key(UserName="nobody")["AccessKey"]
    with aws.enforcing_iam():
        import boto3

        session = boto3.Session(
            aws_access_key_id=meta["AccessKeyId"],
            aws_secret_access_key=meta["SecretAccessKey"],
            region_name="us-east-1",
        )
        with pytest.raises(initkeys.AccessError, match="access denied for iam:"):
            initkeys.audit_account(AwsContext(session, endpoint_url=aws.endpoint_url))


def test_an_account_without_users_is_audited(aws: Any) -> None:
    # AWS always adds the root row; an emulator's report of an empty account is a
    # bare header, which is an account without users, not an unreadable report.
    result = initkeys.audit_account(AwsContext(aws.session(), endpoint_url=aws.endpoint_url))
    assert result.error is None
    assert result.findings == ()
    assert result.status is Status.NOT_APPLICABLE


def test_an_unreadable_live_row_naming_no_listed_user_stays_error() -> None:
    """Fail closed: a report row that could not be read, whose name ListUsers does not
    know, is not taken for a deleted user (NOT_APPLICABLE); and a row with the root's ARN
    does not stand for an IAM user of the same name."""
    from datetime import datetime, timezone

    from initkeys.model import CredentialReport, IamUser

    created = datetime(2024, 1, 1, tzinfo=timezone.utc)
    report = CredentialReport(
        account_id="123456789012",
        partition="aws",
        source="aws",
        generated_at=None,
        users=(
            IamUser(
                name="line 3",
                arn="",
                created=None,
                console_password=False,
                problem="line 3 has 4 fields, the header has 22",
            ),
            IamUser(
                name="alice",
                arn="arn:aws:iam::123456789012:root",
                created=created,
                console_password=False,
                is_root=True,
            ),
        ),
    )
    # Nothing is listed, so nothing is read live: the account is never called.
    result = refresh_live(None, report, {}, Settings(), 1, lambda _p: None)  # type: ignore[arg-type]
    statuses = [(f.user, f.status, f.reason) for f in result.findings]
    assert statuses == [
        ("line 3", Status.ERROR, Reason.INVALID_ROW),
        ("alice", Status.NOT_APPLICABLE, Reason.ROOT_ACCOUNT),
    ]
