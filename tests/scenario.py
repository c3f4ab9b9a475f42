"""Build IAM scenarios in the emulator at chosen moments, through boto3 only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any


def at(text: str) -> datetime:
    """'2022-03-01T10:00:00' → aware UTC datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


@dataclass(frozen=True)
class Key:
    user: str
    access_key_id: str
    secret: str  # kept only inside the test process, to make a signed call with it


class Scenario:
    """A small DSL over the emulator: users, passwords, keys and key use, in time."""

    def __init__(self, aws: Any) -> None:
        self.aws = aws
        self.iam = aws.client("iam")

    def user(
        self,
        name: str,
        created: datetime,
        *,
        password: bool = True,
        path: str = "/",
    ) -> str:
        self.aws.set_time(created)
        self.iam.create_user(UserName=name, Path=path)
        if password:
            self.iam.create_login_profile(UserName=name, Password="Correct-Horse-9!")
        return name

    def password(self, name: str, when: datetime) -> None:
        self.aws.set_time(when)
        self.iam.create_login_profile(UserName=name, Password="Correct-Horse-9!")

    def key(self, name: str, created: datetime, *, active: bool = True) -> Key:
        self.aws.set_time(created)
        meta = self.iam.create_access_key(UserName=name)["AccessKey"]
        key = Key(name, meta["AccessKeyId"], meta["SecretAccessKey"])
        if not active:
            self.iam.update_access_key(
                UserName=name, AccessKeyId=key.access_key_id, Status="Inactive"
            )
        return key

    def use(self, key: Key, when: datetime) -> None:
        """Any call signed with the key marks it used, as in AWS."""
        self.aws.set_time(when)
        sts = self.aws.session().client(
            "sts",
            endpoint_url=self.aws.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id=key.access_key_id,
            aws_secret_access_key=key.secret,
        )
        sts.get_caller_identity()

    def delete_key(self, key: Key) -> None:
        self.iam.delete_access_key(UserName=key.user, AccessKeyId=key.access_key_id)

    def settle(self, now: datetime) -> None:
        """Leave the clock at the audit's 'now'."""
        self.aws.set_time(now)


NOW = at("2026-11-27T12:00:00")
MINUTE = timedelta(minutes=1)
