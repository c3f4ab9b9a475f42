"""The event guard against a real moto server: each case of the issue in both actions,
through the Python API, the Lambda handler's entry and ``initkeys guard simulate``."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from cli_kit import run, run_here, subprocess_env
from guard_kit import (
    ADMIN_KEY_EVENT,
    LOGIN_PROFILE_EVENT,
    NOW,
    SELF_KEY_EVENT,
    Inbox,
    T,
    event,
    key_status,
    make_inbox,
    setup_key,
)
from remediation_kit import invoke, journal_lines
from scenario import Scenario, at

from initkeys.aws import AwsContext
from initkeys.errors import AccessError
from initkeys.guard.config import GuardAction, GuardConfig
from initkeys.guard.decide import Verdict
from initkeys.guard.event import IrrelevantEvent, parse_event
from initkeys.guard.lambda_handler import GuardFailed, handle
from initkeys.guard.runner import Guard
from initkeys.model import Settings

S = timedelta(seconds=1)
ACTIONS = [GuardAction.NOTIFY, GuardAction.DEACTIVATE]


@pytest.fixture
def inbox(aws: Any) -> Inbox:
    return make_inbox(aws.session(), aws.endpoint_url)


def guard(aws: Any, action: GuardAction, topic: str | None, **settings: Any) -> Guard:
    config = GuardConfig(action=action, topic_arn=topic, settings=Settings(**settings))
    return Guard(AwsContext(aws.session(), endpoint_url=aws.endpoint_url), config)


def run_guard(
    aws: Any, inbox: Inbox, action: GuardAction, document: dict[str, Any], tmp_path: Path
) -> Any:
    g = guard(aws, action, inbox.topic_arn)
    decision = g.decide(parse_event(document), NOW)
    return g.act(decision, journal=str(tmp_path / "journal.jsonl"))


# -- the three cases of the issue, in both actions ------------------------------------------


@pytest.mark.parametrize("action", ACTIONS)
def test_admin_creates_a_user_with_a_password_and_a_key(
    aws: Any, inbox: Inbox, action: GuardAction, tmp_path: Path
) -> None:
    key = setup_key(aws)
    result = run_guard(
        aws, inbox, action, event(ADMIN_KEY_EVENT, key_id=key.access_key_id), tmp_path
    )

    assert result.decision.verdict is Verdict.SETUP_KEY
    expected = "Inactive" if action is GuardAction.DEACTIVATE else "Active"
    assert key_status(aws.client("iam"), "alice", key.access_key_id) == expected
    ((subject, message),) = inbox.messages()
    assert message == result.document
    assert message["decision"] == "setup-key"
    assert message["user"] == "alice" and message["access_key_id"] == key.access_key_id
    assert message["event"]["id"] == "6f2c1a9e-3b1d-4c55-9a3e-0d6f1e2a7b41"
    assert message["created_by"]["arn"] == "arn:aws:iam::123456789012:user/admin"
    assert message["action"] == action.value and message["applied"] is True
    (k,) = message["keys"]
    assert (k["status"], k["reason"], k["setup_gap_seconds"]) == ("FAIL", "setup-key-unused", 5)
    if action is GuardAction.DEACTIVATE:
        assert (k["deactivate"], k["outcome"]) == (True, "applied")
        assert subject == "initkeys guard: setup key of console user alice deactivated"
        lines = journal_lines(tmp_path / "journal.jsonl")
        assert [(line["phase"], line["access_key_id"]) for line in lines] == [
            ("planned", key.access_key_id),
            ("applied", key.access_key_id),
        ]
    else:
        assert (k["deactivate"], k["outcome"]) == (False, None)
        assert subject == "initkeys guard: setup key made for console user alice"
        assert not (tmp_path / "journal.jsonl").exists()
    assert key.secret not in json.dumps(message)


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("made_after", [timedelta(days=400), 30 * S])
def test_a_user_creates_their_own_key(
    aws: Any, inbox: Inbox, action: GuardAction, made_after: timedelta, tmp_path: Path
) -> None:
    """Later, or even inside the setup window: a key its user made is never acted on."""
    s = Scenario(aws)
    created = T - made_after
    s.user("bob", created)
    key = s.key("bob", T)
    s.settle(NOW)
    result = run_guard(
        aws, inbox, action, event(SELF_KEY_EVENT, key_id=key.access_key_id), tmp_path
    )
    assert result.decision.verdict is Verdict.SELF_CREATED
    assert result.document["keys"] == []
    assert key_status(aws.client("iam"), "bob", key.access_key_id) == "Active"
    assert inbox.messages() == []


@pytest.mark.parametrize("action", ACTIONS)
def test_a_password_added_to_a_programmatic_user(
    aws: Any, inbox: Inbox, action: GuardAction, tmp_path: Path
) -> None:
    s = Scenario(aws)
    made = at("2025-06-01T09:00:00")
    s.user("svc-report", made, password=False)
    key = s.key("svc-report", made + 5 * S)
    # When the key was made, svc-report had no password: not the control's business.
    s.settle(made + 2 * timedelta(minutes=1))
    at_creation = event(ADMIN_KEY_EVENT, user="svc-report", key_id=key.access_key_id)
    first = run_guard(aws, inbox, action, at_creation, tmp_path)
    assert first.decision.verdict is Verdict.NO_SETUP_KEY
    assert [f.reason.value for f in first.decision.findings] == ["no-console-password"]
    assert inbox.messages() == []
    # A console password now makes that unused key a setup key of a console user.
    s.password("svc-report", T)
    s.settle(NOW)
    result = run_guard(aws, inbox, action, event(LOGIN_PROFILE_EVENT), tmp_path)
    assert result.decision.verdict is Verdict.SETUP_KEY
    expected = "Inactive" if action is GuardAction.DEACTIVATE else "Active"
    assert key_status(aws.client("iam"), "svc-report", key.access_key_id) == expected
    ((_, message),) = inbox.messages()
    assert message["event"]["name"] == "CreateLoginProfile"
    assert message["access_key_id"] is None  # the event made a password, not a key
    assert [k["access_key_id"] for k in message["keys"]] == [key.access_key_id]
    assert message["created_by"]["arn"] == "arn:aws:sts::123456789012:assumed-role/Admin/ana"


# -- what the guard never does ----------------------------------------------------------------


def test_a_key_used_after_the_decision_is_not_deactivated(
    aws: Any, inbox: Inbox, tmp_path: Path
) -> None:
    """The key is read again right before UpdateAccessKey: a used key is never touched."""
    key = setup_key(aws)
    g = guard(aws, GuardAction.DEACTIVATE, inbox.topic_arn)
    decision = g.decide(parse_event(event(ADMIN_KEY_EVENT, key_id=key.access_key_id)), NOW)
    assert decision.alert
    Scenario(aws).use(key, NOW + S)
    result = g.act(decision, journal=str(tmp_path / "j.jsonl"))
    assert key_status(aws.client("iam"), "alice", key.access_key_id) == "Active"
    ((subject, message),) = inbox.messages()
    assert subject.endswith("alice NOT deactivated")
    (k,) = message["keys"]
    assert k["outcome"] == "skipped" and "has been used" in k["outcome_reason"]
    assert not result.failed


def test_a_key_used_before_the_guard_runs_is_not_a_setup_key(
    aws: Any, inbox: Inbox, tmp_path: Path
) -> None:
    key = setup_key(aws)
    Scenario(aws).use(key, T + 30 * S)
    document = event(ADMIN_KEY_EVENT, key_id=key.access_key_id)
    result = run_guard(aws, inbox, GuardAction.DEACTIVATE, document, tmp_path)
    assert result.decision.verdict is Verdict.NO_SETUP_KEY
    assert result.decision.findings[0].reason.value == "setup-key-used"
    assert key_status(aws.client("iam"), "alice", key.access_key_id) == "Active"
    assert inbox.messages() == []


def test_exempt_users_keep_their_keys(aws: Any, inbox: Inbox, tmp_path: Path) -> None:
    key = setup_key(aws)
    aws.client("iam").tag_user(
        UserName="alice", Tags=[{"Key": "initkeys:exempt", "Value": "break-glass"}]
    )
    vendor_key = setup_key(aws, "svc-vendor")
    g = guard(aws, GuardAction.DEACTIVATE, inbox.topic_arn, exemptions=(_rule("svc-*"),))
    for user, k in (("alice", key), ("svc-vendor", vendor_key)):
        document = event(ADMIN_KEY_EVENT, user=user, key_id=k.access_key_id)
        decision = g.decide(parse_event(document), NOW)
        assert decision.verdict is Verdict.EXEMPT, decision.message
        g.act(decision, journal=str(tmp_path / "j.jsonl"))
        assert key_status(aws.client("iam"), user, k.access_key_id) == "Active"
    assert inbox.messages() == []


def _rule(pattern: str) -> Any:
    from initkeys.model import ExemptionRule

    return ExemptionRule(pattern, "vendor integration", "config:initkeys.toml")


def test_gone_users_and_keys_and_other_accounts(aws: Any, inbox: Inbox) -> None:
    key = setup_key(aws)
    g = guard(aws, GuardAction.DEACTIVATE, inbox.topic_arn)
    Scenario(aws).delete_key(key)
    document = event(ADMIN_KEY_EVENT, key_id=key.access_key_id)
    assert g.decide(parse_event(document), NOW).verdict is Verdict.KEY_GONE
    gone = event(ADMIN_KEY_EVENT, user="nobody", key_id=key.access_key_id)
    assert g.decide(parse_event(gone), NOW).verdict is Verdict.USER_GONE
    document["account"] = "999988887777"
    with pytest.raises(IrrelevantEvent, match="account 999988887777"):
        g.decide(parse_event(document), NOW)


def test_acting_twice_deactivates_once(aws: Any, inbox: Inbox, tmp_path: Path) -> None:
    """EventBridge may deliver an event twice: the second run finds an inactive key,
    which is no longer a FAIL, and does nothing (no second notification)."""
    key = setup_key(aws)
    document = event(ADMIN_KEY_EVENT, key_id=key.access_key_id)
    run_guard(aws, inbox, GuardAction.DEACTIVATE, document, tmp_path)
    again = run_guard(aws, inbox, GuardAction.DEACTIVATE, document, tmp_path)
    assert again.decision.verdict is Verdict.NO_SETUP_KEY and again.outcomes == ()
    assert [f.reason.value for f in again.decision.findings] == ["setup-key-inactive"]
    assert [m["keys"][0]["outcome"] for _, m in inbox.messages()] == ["applied"]


# -- the Lambda handler's work (in process; the zip runs it in test_guard_deploy) -------------


def test_handler_logs_one_json_line_per_event(
    aws: Any, inbox: Inbox, capsys: pytest.CaptureFixture[str]
) -> None:
    key = setup_key(aws)
    g = guard(aws, GuardAction.DEACTIVATE, inbox.topic_arn)
    decided = handle(g, event(ADMIN_KEY_EVENT, key_id=key.access_key_id), NOW)
    assert decided["result"] == "decided" and decided["decision"] == "setup-key"
    assert decided["message_id"]
    ignored = handle(g, {"detail-type": "Scheduled Event", "source": "aws.events", "id": "x"}, NOW)
    assert ignored == {
        "result": "ignored",
        "reason": "the event's detail-type is 'Scheduled Event', not 'AWS API Call via CloudTrail'",
        "event_id": "x",
    }
    malformed = handle(g, ["not", "an", "event"], NOW)
    assert malformed["result"] == "ignored" and "JSON array" in malformed["reason"]
    lines = capsys.readouterr().out.splitlines()
    assert [json.loads(line)["result"] for line in lines] == ["decided", "ignored", "ignored"]


def test_handler_raises_when_it_cannot_notify(aws: Any, capsys: pytest.CaptureFixture[str]) -> None:
    """So that Lambda retries the event and counts an error; the log says why first."""
    key = setup_key(aws)
    missing = "arn:aws:sns:us-east-1:123456789012:no-such-topic"
    g = guard(aws, GuardAction.NOTIFY, missing)
    with pytest.raises(GuardFailed, match="sns:Publish"):
        handle(g, event(ADMIN_KEY_EVENT, key_id=key.access_key_id), NOW)
    (line,) = capsys.readouterr().out.splitlines()
    assert json.loads(line)["result"] == "error"
    assert issubclass(GuardFailed, Exception) and not issubclass(GuardFailed, AccessError)


# -- initkeys guard simulate ------------------------------------------------------------------


def write_event(tmp_path: Path, document: Any, name: str = "event.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(document))
    return str(path)


def simulate(aws: Any, *args: str) -> Any:
    return invoke(["guard", "simulate", "--endpoint-url", aws.endpoint_url, *args])


def test_simulate_is_a_dry_run_by_default(aws: Any, inbox: Inbox, tmp_path: Path) -> None:
    key = setup_key(aws)
    path = write_event(tmp_path, event(ADMIN_KEY_EVENT, key_id=key.access_key_id))
    ran = simulate(aws, path, "--action", "deactivate", "--topic-arn", inbox.topic_arn)
    assert ran.code == 1, ran.stderr
    assert "Decision: setup-key" in ran.stdout
    assert (
        f"Key {key.access_key_id}: FAIL setup-key-unused, active, 5s after the user" in ran.stdout
    )
    assert "-> deactivate: dry-run" in ran.stdout
    assert "Dry run: nothing was changed or sent" in ran.stdout
    assert key_status(aws.client("iam"), "alice", key.access_key_id) == "Active"
    assert inbox.messages() == []
    as_json = simulate(aws, path, "--format", "json")
    assert as_json.code == 1
    document = json.loads(as_json.stdout)
    assert document["decision"] == "setup-key" and document["applied"] is False
    assert document["message_id"] is None


def test_simulate_apply_deactivates_notifies_and_rollback_undoes_it(
    aws: Any, inbox: Inbox, tmp_path: Path
) -> None:
    key = setup_key(aws)
    path = write_event(tmp_path, event(ADMIN_KEY_EVENT, key_id=key.access_key_id))
    journal = str(tmp_path / "guard.jsonl")
    ran = simulate(
        aws, path, "--action", "deactivate", "--topic-arn", inbox.topic_arn,
        "--apply", "--yes", "--journal", journal,
    )  # fmt: skip
    assert ran.code == 1, ran.stderr
    assert "-> deactivate: applied" in ran.stdout
    assert f"Notified: {inbox.topic_arn} (message id " in ran.stdout
    assert key_status(aws.client("iam"), "alice", key.access_key_id) == "Inactive"
    ((_, message),) = inbox.messages()
    assert message["keys"][0]["outcome"] == "applied"
    back = invoke(
        ["rollback", "--endpoint-url", aws.endpoint_url, "--journal", journal, "--apply", "--yes"]
    )
    assert back.code == 0, back.stdout + back.stderr
    assert key_status(aws.client("iam"), "alice", key.access_key_id) == "Active"


def test_simulate_notify_sends_and_changes_nothing(aws: Any, inbox: Inbox, tmp_path: Path) -> None:
    key = setup_key(aws)
    path = write_event(tmp_path, event(ADMIN_KEY_EVENT, key_id=key.access_key_id))
    ran = simulate(aws, path, "--topic-arn", inbox.topic_arn, "--apply", "--yes")
    assert ran.code == 1, ran.stderr
    assert key_status(aws.client("iam"), "alice", key.access_key_id) == "Active"
    assert [m["action"] for _, m in inbox.messages()] == ["notify"]


def test_simulate_a_self_created_key_exits_0(aws: Any, tmp_path: Path) -> None:
    s = Scenario(aws)
    s.user("bob", at("2024-01-01T00:00:00"))
    key = s.key("bob", T)
    path = write_event(tmp_path, event(SELF_KEY_EVENT, key_id=key.access_key_id))
    ran = simulate(aws, path, "--setup-window", "1h")
    assert ran.code == 0, ran.stderr
    assert "Decision: self-created (setup window 3600s)" in ran.stdout
    assert "Action:   none" in ran.stdout


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--apply"], "--apply needs confirmation"),
        (["--apply", "--yes"], "needs --topic-arn"),
        (["--topic-arn", "my-topic"], "not an SNS topic ARN"),
        (["--journal", "j.jsonl"], "--journal goes with --action deactivate"),
    ],
)
def test_simulate_bad_usage_exits_2(aws: Any, tmp_path: Path, args: list[str], words: str) -> None:
    path = write_event(tmp_path, event(ADMIN_KEY_EVENT))
    ran = simulate(aws, path, *args)
    assert ran.code == 2 and words in ran.stderr


def test_simulate_events_it_does_not_act_on_exit_2_with_one_line(aws: Any, tmp_path: Path) -> None:
    """In a subprocess, as a user runs it: one line on stderr, never a traceback."""
    irrelevant = event(ADMIN_KEY_EVENT)
    irrelevant["detail"]["eventName"] = "DeleteAccessKey"
    (tmp_path / "broken.json").write_text("{")
    cases = {
        write_event(tmp_path, irrelevant, "irrelevant.json"): "DeleteAccessKey",
        str(Path(__file__).parent / "data/guard/malformed_no_identity.json"): "userIdentity",
        str(tmp_path / "broken.json"): "not an event: invalid JSON",
        str(tmp_path / "missing.json"): "no such event file",
    }
    for path, words in cases.items():
        proc = run(["guard", "simulate", path, "--endpoint-url", aws.endpoint_url])
        assert proc.returncode == 2, proc.stderr
        (line,) = proc.stderr.strip().splitlines()
        assert line.startswith("initkeys: error: ") and words in line, line
        assert proc.stdout == ""


def test_simulate_reads_an_event_from_stdin(aws: Any) -> None:
    key = setup_key(aws)
    proc = run(
        ["guard", "simulate", "-", "--endpoint-url", aws.endpoint_url, "--format", "json"],
        stdin=json.dumps(event(ADMIN_KEY_EVENT, key_id=key.access_key_id)),
    )
    assert proc.returncode == 1, proc.stderr
    assert json.loads(proc.stdout)["decision"] == "setup-key"


# -- the least-privilege policy -----------------------------------------------------------------


def as_user_with_policy(aws: Any, name: str, policy: str | None) -> Any:
    client = aws.client("iam")
    client.create_user(UserName=name)
    if policy is not None:
        client.put_user_policy(UserName=name, PolicyName="initkeys-guard", PolicyDocument=policy)
    meta = client.create_access_key(UserName=name)["AccessKey"]
    return boto3.Session(
        aws_access_key_id=meta["AccessKeyId"],
        aws_secret_access_key=meta["SecretAccessKey"],
        region_name="us-east-1",
    )


def test_policy_guard_prints_json() -> None:
    full = json.loads(run_here(["policy", "guard"]).stdout)
    actions = [a for statement in full["Statement"] for a in statement["Action"]]
    assert actions == [
        "iam:GetUser",
        "iam:ListAccessKeys",
        "iam:GetLoginProfile",
        "iam:GetAccessKeyLastUsed",
        "iam:ListUserTags",
        "iam:UpdateAccessKey",
        "sns:Publish",
    ]
    assert "iam:DeleteAccessKey" not in actions  # the guard never deletes
    notify = json.loads(run_here(["policy", "guard", "--action", "notify"]).stdout)
    assert [s["Sid"] for s in notify["Statement"]] == ["InitkeysGuardRead", "InitkeysGuardNotify"]


def test_least_privilege_policy_is_enough(aws: Any, inbox: Inbox, tmp_path: Path) -> None:
    """Decide, deactivate and notify as a user holding only the printed policy, with IAM
    enforcement on; with the notify-only policy the deactivation is denied, and says which
    policy to attach."""
    key = setup_key(aws)
    carol_key = setup_key(aws, "carol")
    full = as_user_with_policy(aws, "guard-full", run_here(["policy", "guard"]).stdout)
    notify_only = as_user_with_policy(
        aws, "guard-notify", run_here(["policy", "guard", "--action", "notify"]).stdout
    )
    config = GuardConfig(GuardAction.DEACTIVATE, inbox.topic_arn)
    with aws.enforcing_iam():
        g = Guard(AwsContext(full, endpoint_url=aws.endpoint_url), config)
        document = event(ADMIN_KEY_EVENT, key_id=key.access_key_id)
        result = g.act(g.decide(parse_event(document), NOW), journal=str(tmp_path / "a.jsonl"))
        assert [o.phase.value for o in result.outcomes] == ["applied"]
        assert result.message_id
        limited = Guard(AwsContext(notify_only, endpoint_url=aws.endpoint_url), config)
        document = event(ADMIN_KEY_EVENT, user="carol", key_id=carol_key.access_key_id)
        denied = limited.act(
            limited.decide(parse_event(document), NOW), journal=str(tmp_path / "b.jsonl")
        )
    assert key_status(aws.client("iam"), "alice", key.access_key_id) == "Inactive"
    assert key_status(aws.client("iam"), "carol", carol_key.access_key_id) == "Active"
    (outcome,) = denied.outcomes
    assert outcome.phase.value == "failed" and "initkeys policy guard" in outcome.reason
    assert denied.failed
    messages = [m for _, m in inbox.messages()]
    assert [m["keys"][0]["outcome"] for m in messages] == ["applied", "failed"]


def test_a_guard_without_permissions_says_which_policy(aws: Any, tmp_path: Path) -> None:
    key = setup_key(aws)
    nothing = as_user_with_policy(aws, "no-rights", None)
    path = write_event(tmp_path, event(ADMIN_KEY_EVENT, key_id=key.access_key_id))
    env_keys = nothing.get_credentials()
    with aws.enforcing_iam():
        proc = run(
            ["guard", "simulate", path, "--endpoint-url", aws.endpoint_url],
            env=subprocess_env(
                AWS_ACCESS_KEY_ID=env_keys.access_key, AWS_SECRET_ACCESS_KEY=env_keys.secret_key
            ),
        )
    assert proc.returncode == 3, proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert "access denied" in line and "initkeys policy guard" in line
