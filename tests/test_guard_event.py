"""The guard's pure parts: reading events, deciding, the message, the configuration."""

from __future__ import annotations

import copy
import json
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from initkeys.errors import InputError
from initkeys.guard.config import GuardAction, config_from_env
from initkeys.guard.decide import Verdict, decide
from initkeys.guard.event import GuardEvent, IrrelevantEvent, MalformedEvent, parse_event
from initkeys.guard.message import guard_document, subject
from initkeys.model import AccessKey, ExemptionRule, IamUser, Settings
from initkeys.sources.cloudtrail import creation_event

GUARD_DATA = Path(__file__).parent / "data" / "guard"
EXAMPLE_KEY = "AKIAIOSFODNN7EXAMPLE"
T = datetime(2026, 11, 27, 12, 0, 0, tzinfo=timezone.utc)
S = timedelta(seconds=1)


def load(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((GUARD_DATA / name).read_text())
    return document


# -- parsing ------------------------------------------------------------------------------


def test_admin_creates_a_key_for_a_user() -> None:
    event = parse_event(load("create_access_key_admin.json"))
    assert event.event_name == "CreateAccessKey"
    assert event.user_name == "alice"
    assert event.access_key_id == EXAMPLE_KEY
    assert event.account_id == "123456789012"
    assert event.region == "us-east-1"
    assert event.event_id == "6f2c1a9e-3b1d-4c55-9a3e-0d6f1e2a7b41"  # EventBridge's id
    assert event.event_time == datetime(2026, 11, 27, 12, 0, 5, tzinfo=timezone.utc)
    assert event.actor.type == "IAMUser"
    assert event.actor.arn == "arn:aws:iam::123456789012:user/admin"
    assert not event.self_created


def test_a_user_creating_its_own_key_is_self_created() -> None:
    """No userName in the request (the AWS CLI's default): the response names the user."""
    event = parse_event(load("create_access_key_self.json"))
    assert event.user_name == "bob"
    assert event.self_created


def test_self_created_ignores_case_but_not_accounts_or_roles() -> None:
    document = load("create_access_key_self.json")
    document["detail"]["userIdentity"]["userName"] = "BOB"
    assert parse_event(document).self_created
    other_account = copy.deepcopy(document)
    other_account["detail"]["userIdentity"]["accountId"] = "999988887777"
    assert not parse_event(other_account).self_created
    role = load("create_login_profile.json")
    role["detail"]["eventName"] = "CreateAccessKey"
    # A key for the user "ana", made by a role session also named "ana".
    role["detail"]["requestParameters"] = {"userName": "ana"}
    role["detail"]["responseElements"] = {
        "accessKey": {"userName": "ana", "accessKeyId": EXAMPLE_KEY}
    }
    event = parse_event(role)
    assert event.actor.name == "ana"  # the session's name, which is not an IAM user
    assert not event.self_created


def test_login_profile_event_names_the_user_and_the_role_session() -> None:
    event = parse_event(load("create_login_profile.json"))
    assert event.event_name == "CreateLoginProfile"
    assert event.user_name == "svc-report"
    assert event.access_key_id is None
    assert event.actor.type == "AssumedRole"
    assert event.actor.arn == "arn:aws:sts::123456789012:assumed-role/Admin/ana"
    assert not event.self_created


def test_a_bare_cloudtrail_record_is_read_too() -> None:
    record = load("create_access_key_admin.json")["detail"]
    event = parse_event(record)
    assert event.event_id == record["eventID"]
    assert event.account_id == "123456789012"
    assert event.user_name == "alice"


def test_the_guard_reads_an_event_as_the_audit_does() -> None:
    """One reading of a CloudTrail record: the guard's fields are creation_event's."""
    federated = load("create_access_key_admin.json")
    federated["detail"]["userIdentity"] = {
        "type": "FederatedUser",
        "arn": "arn:aws:sts::123456789012:federated-user/dana",
        "accountId": "123456789012",
    }
    other_account = load("create_access_key_self.json")
    other_account["detail"]["userIdentity"]["arn"] = "arn:aws:iam::999988887777:user/bob"
    other_account["detail"]["userIdentity"]["accountId"] = "999988887777"
    for document in (
        federated,
        other_account,
        load("create_access_key_admin.json"),
        load("create_access_key_self.json"),
        load("create_login_profile.json"),
    ):
        guard = parse_event(document)
        audit = creation_event(document["detail"])
        assert audit is not None
        assert (guard.event_name, guard.event_time, guard.user_name) == (
            audit.name,
            audit.time,
            audit.target_user,
        )
        assert (guard.actor.type, guard.actor.arn, guard.actor.name) == (
            audit.principal_type,
            audit.principal_arn,
            audit.principal_name,
        )
        assert guard.access_key_id == audit.access_key_id
        assert guard.self_created == audit.is_self
    assert parse_event(federated).actor.name == "dana"
    assert not parse_event(other_account).self_created
    date_only = load("create_access_key_admin.json")
    date_only["detail"]["eventTime"] = "2026-11-27"
    assert creation_event(date_only["detail"]) is None
    with pytest.raises(MalformedEvent, match="not a time"):
        parse_event(date_only)


def _broken(change: Any) -> dict[str, Any]:
    document = load("create_access_key_admin.json")
    change(document)
    return document


@pytest.mark.parametrize(
    ("document", "words"),
    [
        ([], "JSON array"),
        ("text", "JSON string"),
        ({"hello": "world"}, "not an EventBridge event"),
        (load("malformed_no_identity.json"), "userIdentity is missing"),
        (_broken(lambda d: d.pop("detail")), "no 'detail' object"),
        (_broken(lambda d: d.update(detail=[1])), "no 'detail' object"),
        (_broken(lambda d: d.pop("account")), "no 'account'"),
        (_broken(lambda d: d["detail"].update(eventTime="yesterday")), "not a time"),
        (_broken(lambda d: d["detail"].update(responseElements=None)), "accessKeyId"),
        (_broken(lambda d: d["detail"].update(responseElements="x")), "not an object"),
        (_broken(lambda d: d["detail"]["userIdentity"].pop("type")), "no 'type'"),
    ],
)
def test_malformed_events_are_one_sentence(document: Any, words: str) -> None:
    with pytest.raises(MalformedEvent) as caught:
        parse_event(document)
    assert words in str(caught.value)
    assert "\n" not in str(caught.value)
    assert isinstance(caught.value, InputError)  # exit 2 on the command line


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda d: d.update({"detail-type": "AWS Console Sign In via CloudTrail"}), "detail-type"),
        (lambda d: d.update(source="aws.s3"), "source"),
        (lambda d: d["detail"].update(eventName="DeleteAccessKey"), "DeleteAccessKey"),
        (lambda d: d["detail"].update(eventSource="s3.amazonaws.com"), "s3.amazonaws.com"),
        (lambda d: d["detail"].update(errorCode="AccessDenied"), "failed (AccessDenied)"),
    ],
)
def test_irrelevant_events_say_why(change: Any, words: str) -> None:
    with pytest.raises(IrrelevantEvent) as caught:
        parse_event(_broken(change))
    assert words in str(caught.value)


def test_the_event_text_in_an_error_is_clipped_to_one_line() -> None:
    document = _broken(lambda d: d["detail"].update(eventTime="x\n" * 200))
    with pytest.raises(MalformedEvent) as caught:
        parse_event(document)
    assert "\n" not in str(caught.value) and len(str(caught.value)) < 160


# -- the decision (pure) ------------------------------------------------------------------


def key(
    key_id: str, created: datetime, *, used: datetime | None = None, active: bool = True
) -> AccessKey:
    return AccessKey(slot=1, created=created, active=active, last_used=used, access_key_id=key_id)


def user(
    name: str = "alice",
    *keys: AccessKey,
    console: bool = True,
    created: datetime = T,
    tag: str | None = None,
) -> IamUser:
    numbered = tuple(
        AccessKey(i, k.created, k.active, k.last_used, k.access_key_id)
        for i, k in enumerate(keys, start=1)
    )
    return IamUser(
        name=name,
        arn=f"arn:aws:iam::123456789012:user/{name}",
        created=created,
        console_password=console,
        password_created=created if console else None,
        keys=numbered,
        exempt_tag=tag,
    )


ADMIN_KEY = parse_event(load("create_access_key_admin.json"))
SELF_KEY = parse_event(load("create_access_key_self.json"))
LOGIN = parse_event(load("create_login_profile.json"))
NOW = T + 2 * timedelta(minutes=1)


def test_a_key_made_with_a_console_user_is_a_setup_key() -> None:
    decision = decide(ADMIN_KEY, user("alice", key(EXAMPLE_KEY, T + 5 * S)), Settings(), NOW)
    assert decision.verdict is Verdict.SETUP_KEY and decision.alert
    assert [p.access_key_id for p in decision.actions] == [EXAMPLE_KEY]
    assert [(f.status.value, f.reason.value) for f in decision.findings] == [
        ("FAIL", "setup-key-unused")
    ]
    assert "arn:aws:iam::123456789012:user/admin made a key for alice" in decision.message


def test_only_the_events_key_is_in_question() -> None:
    """alice's older unused setup key is the audit's business; the event is about the new key."""
    older = key("AKIAOLDER00000000001", T + 2 * S)
    later = key(EXAMPLE_KEY, T + timedelta(days=30))
    decision = decide(ADMIN_KEY, user("alice", older, later), Settings(), NOW)
    assert decision.verdict is Verdict.NO_SETUP_KEY and not decision.actions
    assert [f.access_key_id for f in decision.findings] == [EXAMPLE_KEY]
    assert decision.findings[0].reason.value == "unused-key"


def test_a_self_created_key_is_never_acted_on_even_inside_the_window() -> None:
    decision = decide(SELF_KEY, None, Settings(), NOW)
    assert decision.verdict is Verdict.SELF_CREATED
    assert not decision.alert and not decision.actions and not decision.findings


def test_a_used_key_is_never_acted_on() -> None:
    used = key(EXAMPLE_KEY, T + 5 * S, used=T + 60 * S)
    decision = decide(ADMIN_KEY, user("alice", used), Settings(), NOW)
    assert decision.verdict is Verdict.NO_SETUP_KEY and not decision.actions
    assert decision.findings[0].reason.value == "setup-key-used"


def test_a_key_of_a_programmatic_user_is_not_a_setup_key_until_a_password_comes() -> None:
    svc = user("svc-report", key(EXAMPLE_KEY, T + 5 * S), console=False)
    decision = decide(ADMIN_KEY, svc, Settings(), NOW)
    assert decision.verdict is Verdict.NO_SETUP_KEY
    assert decision.findings[0].reason.value == "no-console-password"
    with_password = user("svc-report", key(EXAMPLE_KEY, T + 5 * S))
    later = decide(LOGIN, with_password, Settings(), NOW + timedelta(days=200))
    assert later.verdict is Verdict.SETUP_KEY
    assert [p.access_key_id for p in later.actions] == [EXAMPLE_KEY]
    assert "gave a password to svc-report" in later.message


def test_a_password_for_a_user_with_a_later_or_inactive_key_acts_on_nothing() -> None:
    keys = (
        key("AKIALATER00000000001", T + timedelta(days=3)),
        key(EXAMPLE_KEY, T + 5 * S, active=False),
    )
    decision = decide(LOGIN, user("svc-report", *keys), Settings(), NOW)
    assert decision.verdict is Verdict.NO_SETUP_KEY and not decision.actions
    assert {f.reason.value for f in decision.findings} == {"unused-key", "setup-key-inactive"}


def test_the_setup_window_is_the_settings() -> None:
    late = user("alice", key(EXAMPLE_KEY, T + 20 * timedelta(minutes=1)))
    assert decide(ADMIN_KEY, late, Settings(), NOW).verdict is Verdict.NO_SETUP_KEY
    wide = Settings(setup_window=timedelta(hours=1))
    decision = decide(ADMIN_KEY, late, wide, NOW)
    assert decision.verdict is Verdict.SETUP_KEY
    assert decision.setup_window_seconds == 3600


def test_exemptions_keep_the_key() -> None:
    tagged = user("alice", key(EXAMPLE_KEY, T + 5 * S), tag="break-glass")
    decision = decide(ADMIN_KEY, tagged, Settings(), NOW)
    assert decision.verdict is Verdict.EXEMPT and not decision.alert and not decision.actions
    assert "break-glass" in decision.message
    rule = ExemptionRule("al*", "vendor", "config:initkeys.toml", expires=date(2026, 12, 31))
    plain = user("alice", key(EXAMPLE_KEY, T + 5 * S))
    assert decide(ADMIN_KEY, plain, Settings(exemptions=(rule,)), NOW).verdict is Verdict.EXEMPT
    # ``now`` dates the expiry: the same rule a year later no longer applies.
    next_year = NOW + timedelta(days=365)
    assert decide(ADMIN_KEY, plain, Settings(exemptions=(rule,)), next_year).alert


def test_gone_users_and_keys() -> None:
    assert decide(ADMIN_KEY, None, Settings(), NOW).verdict is Verdict.USER_GONE
    other = user("alice", key("AKIAOTHER00000000001", T + 5 * S))
    assert decide(ADMIN_KEY, other, Settings(), NOW).verdict is Verdict.KEY_GONE


def test_the_guard_judges_in_setup_mode_whatever_the_settings() -> None:
    """In cis mode every key of a console user is unused the moment it is made."""
    from initkeys.model import Mode

    late = user("alice", key(EXAMPLE_KEY, T + timedelta(days=100)))
    assert decide(ADMIN_KEY, late, Settings(mode=Mode.CIS), NOW).verdict is Verdict.NO_SETUP_KEY


# -- the message ----------------------------------------------------------------------------


def test_the_message_carries_the_decision_and_no_secret() -> None:
    document = load("create_access_key_admin.json")
    document["detail"]["responseElements"]["accessKey"]["secretAccessKey"] = "wJalrXUtnFEMI/K7MDENG"
    event = parse_event(document)
    decision = decide(event, user("alice", key(EXAMPLE_KEY, T + 5 * S)), Settings(), NOW)
    message = guard_document(
        decision, action=GuardAction.DEACTIVATE, applied=False, tool_version="9.9.9"
    )
    text = json.dumps(message)
    assert "wJalrXUtnFEMI" not in text
    assert message["decision"] == "setup-key"
    assert message["access_key_id"] == EXAMPLE_KEY
    assert message["event"] == {
        "id": "6f2c1a9e-3b1d-4c55-9a3e-0d6f1e2a7b41",
        "name": "CreateAccessKey",
        "time": "2026-11-27T12:00:05Z",
    }
    assert message["created_by"]["arn"] == "arn:aws:iam::123456789012:user/admin"
    (k,) = message["keys"]
    assert (k["status"], k["reason"], k["setup_gap_seconds"]) == ("FAIL", "setup-key-unused", 5)
    assert (k["deactivate"], k["outcome"]) == (True, "dry-run")
    notify_only = guard_document(
        decision, action=GuardAction.NOTIFY, applied=True, tool_version="1"
    )
    assert notify_only["keys"][0]["deactivate"] is False
    assert subject(notify_only) == "initkeys guard: setup key made for console user alice"


def test_the_subject_is_printable_ascii_of_at_most_100_characters() -> None:
    crafted = GuardEvent(
        "id", "CreateLoginProfile", T, "123456789012", "us-east-1", "é\x1b" * 80, ADMIN_KEY.actor
    )
    decision = decide(crafted, None, Settings(), NOW)
    document = guard_document(decision, action=GuardAction.NOTIFY, applied=True, tool_version="1")
    text = subject(document)
    assert len(text) <= 100 and all(32 <= ord(c) < 127 for c in text)


# -- configuration ----------------------------------------------------------------------------

TOPIC = "arn:aws:sns:us-east-1:123456789012:initkeys-guard"


def test_lambda_configuration_from_the_environment(tmp_path: Path) -> None:
    (tmp_path / "initkeys.toml").write_text('[[exempt]]\nuser = "svc-*"\nreason = "vendor"\n')
    config = config_from_env(
        {
            "INITKEYS_GUARD_ACTION": "Deactivate",
            "INITKEYS_GUARD_TOPIC_ARN": TOPIC,
            "INITKEYS_SETUP_WINDOW": "90s",
            "INITKEYS_EXEMPT_USERS": "break-glass, ,ops-*",
        },
        search_dir=str(tmp_path),
    )
    assert config.action is GuardAction.DEACTIVATE
    assert config.topic_arn == TOPIC
    assert config.settings.setup_window == timedelta(seconds=90)
    assert [(r.pattern, r.source) for r in config.settings.exemptions] == [
        ("svc-*", "config:initkeys.toml"),
        ("break-glass", "env"),
        ("ops-*", "env"),
    ]
    default = config_from_env({"INITKEYS_GUARD_TOPIC_ARN": TOPIC}, search_dir=str(tmp_path / "x"))
    assert default.action is GuardAction.NOTIFY
    assert default.settings.setup_window == timedelta(minutes=10)


@pytest.mark.parametrize(
    ("environ", "words"),
    [
        ({}, "INITKEYS_GUARD_TOPIC_ARN is not set"),
        ({"INITKEYS_GUARD_TOPIC_ARN": "my-topic"}, "not an SNS topic ARN"),
        (
            {"INITKEYS_GUARD_TOPIC_ARN": TOPIC, "INITKEYS_GUARD_ACTION": "delete"},
            "notify or deactivate",
        ),
        (
            {"INITKEYS_GUARD_TOPIC_ARN": TOPIC, "INITKEYS_SETUP_WINDOW": "soon"},
            "INITKEYS_SETUP_WINDOW",
        ),
    ],
)
def test_bad_lambda_configuration_is_one_sentence(environ: dict[str, str], words: str) -> None:
    with pytest.raises(InputError, match=words):
        config_from_env(environ, search_dir="/nonexistent")
