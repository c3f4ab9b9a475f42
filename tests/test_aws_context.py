"""One AwsContext at the public API: what it carries instead of loose parameters."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError

from initkeys.aws import AwsContext, access_errors, describe_access_error
from initkeys.cli_options import AwsOptions
from initkeys.errors import AccessError, InputError


def expired() -> ClientError:
    error = {"Error": {"Code": "ExpiredToken", "Message": "The security token has expired"}}
    return ClientError(error, "ListUsers")


def session() -> boto3.Session:
    return boto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="eu-west-1"
    )


def test_login_advice_names_the_contexts_profile() -> None:
    named = AwsContext(session(), profile="prod")
    assert "run again" in describe_access_error(expired(), "iam:ListUsers", named)
    assert "'aws sso login --profile prod'" in describe_access_error(expired(), "x", named)
    assert "'aws sso login'" in describe_access_error(expired(), "x", AwsContext(session()))
    assert "'aws sso login'" in describe_access_error(expired(), "x")


def test_access_errors_take_the_context() -> None:
    with (
        pytest.raises(AccessError, match="--profile prod"),
        access_errors("iam:ListUsers", AwsContext(session(), profile="prod")),
    ):
        raise expired()


def test_from_session_wraps_a_session_and_keeps_a_context() -> None:
    context = AwsContext(session(), endpoint_url="http://localhost:1")
    assert AwsContext.from_session(context) is context
    plain = session()
    wrapped = AwsContext.from_session(plain)
    assert wrapped.session is plain and wrapped.endpoint_url is None
    assert wrapped.region == "eu-west-1"


def test_cli_options_open_one_context(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    aws = AwsOptions(region="eu-central-1", endpoint_url="http://localhost:1").context()
    assert (aws.region, aws.endpoint_url, aws.profile) == (
        "eu-central-1",
        "http://localhost:1",
        None,
    )
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    with pytest.raises(InputError, match="AWS profile 'nobody' not found"):
        AwsOptions(profile="nobody").context()


def test_sessions_initkeys_opens_share_one_model_loader() -> None:
    # A new session would otherwise read botocore's service models from disk again.
    first = AwsContext.open(region="eu-west-1").session
    second = AwsContext.open(region="us-east-1").session
    assert first._session.get_component("data_loader") is second._session.get_component(
        "data_loader"
    )
    assert first.region_name == "eu-west-1" and second.region_name == "us-east-1"
