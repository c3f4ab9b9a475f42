"""Shared by the guard's tests: the example events, with a real key id, and an SNS
topic whose messages land in an SQS queue the test reads back."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from scenario import Key, Scenario, at

GUARD_DATA = Path(__file__).parent / "data" / "guard"
EXAMPLE_KEY = "AKIAIOSFODNN7EXAMPLE"

ADMIN_KEY_EVENT = "create_access_key_admin.json"
SELF_KEY_EVENT = "create_access_key_self.json"
LOGIN_PROFILE_EVENT = "create_login_profile.json"

# Users are made at T (the example events' time); the guard decides two minutes later.
T = at("2026-11-27T12:00:00")
NOW = T + timedelta(minutes=2)


def setup_key(aws: Any, user: str = "alice") -> Key:
    """A console user made at T with a key 5 s later, never used: what the guard catches."""
    s = Scenario(aws)
    s.user(user, T)
    key = s.key(user, T + timedelta(seconds=5))
    s.settle(NOW)
    return key


def event(name: str, *, user: str | None = None, key_id: str | None = None) -> dict[str, Any]:
    """An example event, about ``user`` and the key ``key_id`` (the emulator's ids)."""
    document: dict[str, Any] = json.loads((GUARD_DATA / name).read_text())
    document = copy.deepcopy(document)
    detail = document["detail"]
    if user is not None:
        if detail.get("requestParameters"):
            detail["requestParameters"]["userName"] = user
        for element in (detail.get("responseElements") or {}).values():
            element["userName"] = user
        if name == SELF_KEY_EVENT:
            detail["userIdentity"]["userName"] = user
            detail["userIdentity"]["arn"] = f"arn:aws:iam::123456789012:user/{user}"
    if key_id is not None:
        detail["responseElements"]["accessKey"]["accessKeyId"] = key_id
    return document


@dataclass(frozen=True)
class Inbox:
    """An SNS topic, subscribed by an SQS queue: what was published can be read back."""

    topic_arn: str
    queue_url: str
    sqs: Any

    def messages(self) -> list[tuple[str, dict[str, Any]]]:
        """(subject, decoded JSON message) of everything published since the last read."""
        received: list[tuple[str, dict[str, Any]]] = []
        while True:
            answer = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10)
            batch = answer.get("Messages", [])
            if not batch:
                return received
            for m in batch:
                envelope = json.loads(m["Body"])
                received.append((envelope.get("Subject", ""), json.loads(envelope["Message"])))
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=m["ReceiptHandle"])


def make_inbox(session: Any, endpoint_url: str, name: str = "initkeys-guard") -> Inbox:
    sns = session.client("sns", endpoint_url=endpoint_url, region_name="us-east-1")
    sqs = session.client("sqs", endpoint_url=endpoint_url, region_name="us-east-1")
    topic = sns.create_topic(Name=name)["TopicArn"]
    queue = sqs.create_queue(QueueName=name + "-inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    return Inbox(topic, queue, sqs)


def key_status(iam: Any, user: str, key_id: str) -> str | None:
    """The key's status as IAM shows it now (None: gone)."""
    for m in iam.list_access_keys(UserName=user)["AccessKeyMetadata"]:
        if m["AccessKeyId"] == key_id:
            return str(m["Status"])
    return None
