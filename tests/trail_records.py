"""CloudTrail records as AWS writes them, and log files laid out as a trail delivers them.

A test seeds IAM in the emulator (``scenario.Scenario``), then describes who did
it with these builders; :func:`write_log_files` groups the records into gzipped
log files (``{"Records": [...]}``) under ``AWSLogs/…/CloudTrail/us-east-1/YYYY/MM/DD/``,
named and dated by their delivery time, a few minutes after their events.
"""

from __future__ import annotations

import gzip
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

ACCOUNT = "123456789012"
ORG = "o-a1b2c3d4e5"

CLI_AGENT = (
    "aws-cli/2.15.30 md/awscrt#0.19.19 ua/2.0 os/linux#6.5.0 md/arch#x86_64 lang/python#3.11.8 "
    "md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/distrib#ubuntu.22 "
    "md/prompt#off md/command#iam.create-access-key"
)
BOTO3_AGENT = (
    "Boto3/1.34.69 md/Botocore#1.34.69 ua/2.0 os/linux#6.5.0 lang/python#3.11.8 Botocore/1.34.69"
)
TERRAFORM_AGENT = (
    "APN/1.0 HashiCorp/1.0 Terraform/1.7.5 (+https://www.terraform.io) "
    "terraform-provider-aws/5.42.0 (+https://registry.terraform.io/providers/hashicorp/aws) "
    "aws-sdk-go-v2/1.26.0 os/linux lang/go#1.22.1 md/GOOS#linux md/GOARCH#amd64 api/iam#1.31.3"
)
CONSOLE_AGENT = "AWS Internal"


@dataclass(frozen=True)
class Principal:
    """Who makes a call: the ``userIdentity`` element, and where the call comes from."""

    identity: dict[str, Any]
    source_ip: str
    user_agent: str
    console: bool = False


def iam_user(
    name: str, *, agent: str = CLI_AGENT, ip: str = "203.0.113.25", account: str = ACCOUNT
) -> Principal:
    return Principal(
        identity={
            "type": "IAMUser",
            "principalId": "AIDA" + uuid.uuid5(uuid.NAMESPACE_DNS, name).hex[:17].upper(),
            "arn": f"arn:aws:iam::{account}:user/{name}",
            "accountId": account,
            "accessKeyId": "AKIAEXAMPLECALLER001",
            "userName": name,
        },
        source_ip=ip,
        user_agent=agent,
    )


def console_user(name: str, *, ip: str = "198.51.100.7") -> Principal:
    """An IAM user signed in to the console: temporary credentials from the console."""
    principal = iam_user(name, agent=CONSOLE_AGENT, ip=ip)
    identity = dict(principal.identity)
    identity["accessKeyId"] = "ASIAEXAMPLECONSOLE01"
    identity["sessionContext"] = {
        "sessionIssuer": {},
        "webIdFederationData": {},
        "attributes": {"creationDate": "2024-01-01T00:00:00Z", "mfaAuthenticated": "true"},
    }
    return Principal(identity, ip, CONSOLE_AGENT, console=True)


def assumed_role(
    role: str,
    session: str,
    *,
    agent: str = CONSOLE_AGENT,
    ip: str = "192.0.2.44",
    console: bool = False,
    invoked_by: str | None = None,
) -> Principal:
    role_id = "AROA" + uuid.uuid5(uuid.NAMESPACE_DNS, role).hex[:17].upper()
    identity: dict[str, Any] = {
        "type": "AssumedRole",
        "principalId": f"{role_id}:{session}",
        "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/{session}",
        "accountId": ACCOUNT,
        "accessKeyId": "ASIAEXAMPLEROLE00001",
        "sessionContext": {
            "sessionIssuer": {
                "type": "Role",
                "principalId": role_id,
                "arn": f"arn:aws:iam::{ACCOUNT}:role/{role}",
                "accountId": ACCOUNT,
                "userName": role,
            },
            "webIdFederationData": {},
            "attributes": {"creationDate": "2024-01-01T00:00:00Z", "mfaAuthenticated": "false"},
        },
    }
    if invoked_by:
        identity["invokedBy"] = invoked_by
    return Principal(identity, ip, agent, console=console)


def admin_in_console(session: str = "ops.lead") -> Principal:
    """A person in the console, through an SSO permission set's role."""
    return assumed_role(
        "AWSReservedSSO_AdministratorAccess_0123456789abcdef", session, console=True
    )


def terraform() -> Principal:
    return assumed_role(
        "terraform-apply", "terraform-run-1711", agent=TERRAFORM_AGENT, ip="192.0.2.80"
    )


def cloudformation() -> Principal:
    return assumed_role(
        "cfn-deploy",
        "AWSCloudFormation",
        agent="cloudformation.amazonaws.com",
        ip="cloudformation.amazonaws.com",
        invoked_by="cloudformation.amazonaws.com",
    )


def _stamp(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _long_date(moment: datetime) -> str:
    # responseElements dates, the way IAM's CloudTrail records show them.
    return moment.strftime("%b %-d, %Y %-I:%M:%S %p")


def record(
    name: str,
    by: Principal,
    when: datetime,
    *,
    user: str | None,
    key_id: str | None = None,
    error: str | None = None,
    account: str = ACCOUNT,
    source: str = "iam.amazonaws.com",
) -> dict[str, Any]:
    """One CloudTrail record of an IAM call, as the real layout has it."""
    request: dict[str, Any] | None = {"userName": user} if user is not None else None
    response: dict[str, Any] | None = None
    if error is None and name == "CreateUser":
        response = {
            "user": {
                "path": "/",
                "userName": user,
                "userId": "AIDA" + uuid.uuid5(uuid.NAMESPACE_DNS, str(user)).hex[:17].upper(),
                "arn": f"arn:aws:iam::{account}:user/{user}",
                "createDate": _long_date(when),
            }
        }
    elif error is None and name == "CreateLoginProfile":
        request = {"userName": user, "passwordResetRequired": True}
        response = {
            "loginProfile": {
                "userName": user,
                "createDate": _long_date(when),
                "passwordResetRequired": True,
            }
        }
    elif error is None and name == "CreateAccessKey":
        response = {
            "accessKey": {
                "userName": user or by.identity.get("userName"),
                "accessKeyId": key_id,
                "status": "Active",
                "createDate": _long_date(when),
            }
        }
    result: dict[str, Any] = {
        "eventVersion": "1.09",
        "userIdentity": dict(by.identity),
        "eventTime": _stamp(when),
        "eventSource": source,
        "eventName": name,
        "awsRegion": "us-east-1",
        "sourceIPAddress": by.source_ip,
        "userAgent": by.user_agent,
        "requestParameters": request,
        "responseElements": response,
        "requestID": str(uuid.uuid4()),
        "eventID": str(uuid.uuid4()),
        "readOnly": False,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": account,
        "eventCategory": "Management",
        "tlsDetails": {
            "tlsVersion": "TLSv1.3",
            "cipherSuite": "TLS_AES_128_GCM_SHA256",
            "clientProvidedHostHeader": "iam.amazonaws.com",
        },
    }
    if error is not None:
        result["errorCode"] = error
        result["errorMessage"] = f"User is not authorized to perform: iam:{name}"
    if by.console:
        result["sessionCredentialFromConsole"] = "true"
    return result


def noise(when: datetime, by: Principal) -> dict[str, Any]:
    """A read-only call that every trail is full of."""
    return {
        **record("ListUsers", by, when, user=None),
        "readOnly": True,
        "requestParameters": None,
    }


@dataclass(frozen=True)
class LogFile:
    key: str
    """The object key (or path) relative to the trail's prefix, AWSLogs/… ."""
    body: bytes


def log_files(
    records: Iterable[dict[str, Any]],
    *,
    account: str = ACCOUNT,
    org: str | None = None,
    region: str = "us-east-1",
    delay: timedelta = timedelta(minutes=5),
) -> list[LogFile]:
    """Records grouped into the files a trail would deliver: one file per delivery
    minute, ``delay`` after its events, under that minute's day."""
    by_delivery: dict[datetime, list[dict[str, Any]]] = {}
    for item in records:
        when = datetime.strptime(item["eventTime"], "%Y-%m-%dT%H:%M:%SZ").replace(
            tzinfo=timezone.utc
        )
        delivered = (when + delay).replace(second=0)
        by_delivery.setdefault(delivered, []).append(item)
    files = []
    owner = f"{org}/{account}" if org else account
    for delivered, items in sorted(by_delivery.items()):
        name = (
            f"{account}_CloudTrail_{region}_{delivered:%Y%m%dT%H%MZ}_"
            f"{uuid.uuid4().hex[:16]}.json.gz"
        )
        key = f"AWSLogs/{owner}/CloudTrail/{region}/{delivered:%Y/%m/%d}/{name}"
        body = gzip.compress(json.dumps({"Records": items}).encode())
        files.append(LogFile(key, body))
    return files


def write_directory(root: Path, files: Iterable[LogFile]) -> Path:
    for item in files:
        path = root / item.key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(item.body)
    return root


def upload(s3: Any, bucket: str, prefix: str, files: Iterable[LogFile]) -> None:
    for item in files:
        key = f"{prefix}/{item.key}" if prefix else item.key
        s3.put_object(Bucket=bucket, Key=key, Body=item.body)
