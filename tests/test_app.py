"""The application layer used without a command line, against the emulator."""

from __future__ import annotations

import os
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from scenario import NOW, Scenario, at
from test_org import MANAGEMENT, ROLE, org  # noqa: F401  (the fixture)

import initkeys
from initkeys.app.audit import (
    LiveOptions,
    audit_live,
    audit_many,
    audit_selected,
    make_settings,
    select_targets,
)
from initkeys.app.remediate import (
    execute_actions,
    nothing_done,
    plan_accounts,
    read_rollback,
    rollback_remediator,
)
from initkeys.aws import AwsContext
from initkeys.errors import InputError
from initkeys.model import Reason, Settings, Status
from initkeys.remediate.plan import Action
from initkeys.sources.accounts import AccountSelection

S = timedelta(seconds=1)


@pytest.fixture
def company(aws: Any) -> Any:
    s = Scenario(aws)
    s.user("setup", at("2023-01-01T10:00:00"))
    s.key("setup", at("2023-01-01T10:00:30"))
    s.user("fine", at("2023-01-01T10:00:00"))
    s.settle(NOW)
    return aws


def context(aws: Any) -> AwsContext:
    return AwsContext(aws.session(), endpoint_url=aws.endpoint_url)


def test_one_audit(company: Any) -> None:
    result = audit_live(context(company), Settings(), LiveOptions(user_workers=2))
    assert result.account_id == MANAGEMENT and result.source == "aws"
    setup = [f for f in result.findings if f.user == "setup"]
    assert [(f.status, f.reason) for f in setup] == [(Status.FAIL, Reason.SETUP_KEY_UNUSED)]


def test_public_api_takes_a_context(company: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # A plain boto3 Session still works (the README's first example); the endpoint then
    # comes from the standard AWS_ENDPOINT_URL.
    monkeypatch.setenv("AWS_ENDPOINT_URL", company.endpoint_url)
    assert initkeys.audit_account(context(company)) == initkeys.audit_account(
        company.fresh_session()
    )


def test_several_accounts_by_selection(aws: Any, org: dict[str, str]) -> None:  # noqa: F811
    selection = AccountSelection(
        account_list=f"{MANAGEMENT},{org['prod']},{org['dev']}",
        exclude_list=org["dev"],
        role_name=ROLE,
    )
    assert [t.account_id for t in select_targets(context(aws), selection)] == [
        MANAGEMENT,
        org["prod"],
    ]
    seen: list[str] = []
    with ExitStack() as cleanup:
        results = audit_selected(
            cleanup,
            Settings(),
            selection=selection,
            live=LiveOptions(workers=2, user_workers=2),
            aws=context(aws),
            bar=_bar(seen),
        )
        fails = {r.account_id: sum(f.status is Status.FAIL for f in r.findings) for r in results}
    assert fails == {MANAGEMENT: 1, org["prod"]: 2}
    assert seen == [MANAGEMENT, org["prod"]]


def _bar(seen: list[str]) -> Any:
    from contextlib import contextmanager

    @contextmanager
    def bar(total: int, counter: Any) -> Any:
        assert total == 2
        yield lambda result: seen.append(result.account_id)

    return bar


def test_an_account_that_cannot_be_reached_is_an_error_result(aws: Any) -> None:
    selection = AccountSelection(account_list=f"{MANAGEMENT},111122223333")  # no role
    results = audit_many(context(aws), selection, Settings(), LiveOptions())
    assert results[0].error is None
    assert results[1].error == "--role-name is needed to reach another account"


def test_nothing_left_to_select_is_an_input_error(aws: Any) -> None:
    selection = AccountSelection(account_list=MANAGEMENT, exclude_list=MANAGEMENT)
    with pytest.raises(InputError, match="no accounts left"):
        select_targets(context(aws), selection)


def test_report_files_need_no_aws() -> None:
    data = Path(__file__).parent / "data"
    paths = (str(data / "report_normal.csv"), str(data / "report_aws_cn.csv"))
    settings = make_settings("cis", timedelta(hours=1), "FAIL", (), None, NOW)
    with ExitStack() as cleanup:
        results = audit_selected(cleanup, settings, report_paths=paths)
        assert [r.partition for r in results] == ["aws", "aws-cn"]
        assert all(r.findings for r in results)  # kept on disk until the report is written


def test_a_remediation_plan_then_its_execution_and_rollback(
    company: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    aws = context(company)
    (account,) = plan_accounts(
        aws, AccountSelection(account_list=MANAGEMENT), None, Settings(), delete=False
    )
    assert account.remediator is not None and account.plan.error is None
    acting = [p for p in account.plan.planned if p.acts]
    assert [(p.user, p.action) for p in acting] == [("setup", Action.DEACTIVATE)]
    iam = company.client("iam")
    (key,) = iam.list_access_keys(UserName="setup")["AccessKeyMetadata"]
    assert key["Status"] == "Active"  # planning changes nothing

    journal = str(tmp_path / "journal.jsonl")
    result = execute_actions(account.remediator, account.work, journal)
    assert result.exit_code == 0 and nothing_done(result) is None
    (key,) = iam.list_access_keys(UserName="setup")["AccessKeyMetadata"]
    assert key["Status"] == "Inactive"

    entries, plan = read_rollback(journal)
    remediator, identity = rollback_remediator(aws, journal, plan, AccountSelection())
    assert identity.account_id == MANAGEMENT
    assert [p.access_key_id for p in plan.reactivate] == [key["AccessKeyId"]]
    undone = execute_actions(remediator, plan.reactivate, journal, read=entries)
    assert undone.exit_code == 0
    (key,) = iam.list_access_keys(UserName="setup")["AccessKeyMetadata"]
    assert key["Status"] == "Active"
    assert os.path.exists(journal)
