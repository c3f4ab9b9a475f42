"""The guard as it is deployed: the CloudFormation template (cfn-lint, and a stack in
moto's CloudFormation), the Lambda code zip, and the handler run from that zip the
way the Lambda runtime runs it (boto3 and nothing else)."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from botocore.config import Config
from guard_kit import ADMIN_KEY_EVENT, event, key_status, make_inbox, setup_key
from remediation_kit import invoke

from initkeys.guard.config import (
    ACTION_VARIABLE,
    EXEMPT_VARIABLE,
    TOPIC_VARIABLE,
    WINDOW_VARIABLE,
)
from initkeys.guard.package import HANDLER, build_package
from initkeys.policy import GUARD_DEACTIVATE_ACTIONS, GUARD_NOTIFY_ACTIONS, GUARD_READ_ACTIONS

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "deploy" / "guard.yaml"
# What the Lambda Python runtime lacks: the guard must run without them.
NOT_IN_LAMBDA = ("click", "rich", "moto")


class _CfnLoader(yaml.SafeLoader):
    """Reads CloudFormation's short forms (!Ref, !If, …) as {"Ref": …}, {"Fn::If": …}."""


def _tag(loader: _CfnLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_CfnLoader.add_multi_constructor("!", _tag)


def template() -> dict[str, Any]:
    document: dict[str, Any] = yaml.load(TEMPLATE.read_text(), Loader=_CfnLoader)
    return document


# -- the template -------------------------------------------------------------------------


def test_the_template_passes_cfn_lint() -> None:
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    proc = subprocess.run(
        [str(cfn_lint), str(TEMPLATE)], capture_output=True, text=True, timeout=300
    )
    # 0: no errors, no warnings, nothing informational.
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.strip() == ""


def test_the_template_grants_what_policy_guard_prints() -> None:
    resources = template()["Resources"]
    (policy,) = resources["Role"]["Properties"]["Policies"]
    statements = policy["PolicyDocument"]["Statement"]
    read, conditional, notify, logs = statements
    assert read["Sid"] == "InitkeysGuardRead" and tuple(read["Action"]) == GUARD_READ_ACTIONS
    # UpdateAccessKey only when the stack is deployed with GuardAction=deactivate.
    condition, deactivate, otherwise = conditional["Fn::If"]
    assert condition == "Deactivate" and otherwise == {"Ref": "AWS::NoValue"}
    assert tuple(deactivate["Action"]) == GUARD_DEACTIVATE_ACTIONS
    assert tuple(notify["Action"]) == GUARD_NOTIFY_ACTIONS
    assert notify["Resource"] == {"Fn::If": ["CreateTopic", {"Ref": "Topic"}, {"Ref": "TopicArn"}]}
    assert logs["Resource"] == {"Fn::GetAtt": ["LogGroup", "Arn"]}
    everything = json.dumps(statements)
    assert "DeleteAccessKey" not in everything and '"*"' not in everything
    assert template()["Conditions"]["Deactivate"] == {
        "Fn::Equals": [{"Ref": "GuardAction"}, "deactivate"]
    }


def test_the_template_wires_the_rule_the_function_and_its_configuration() -> None:
    resources = template()["Resources"]
    function = resources["Function"]["Properties"]
    assert function["Runtime"] == "python3.12"
    assert function["Handler"] == HANDLER
    assert set(function["Environment"]["Variables"]) == {
        ACTION_VARIABLE,
        TOPIC_VARIABLE,
        WINDOW_VARIABLE,
        EXEMPT_VARIABLE,
    }
    rule = resources["Rule"]["Properties"]
    assert rule["EventPattern"] == {
        "source": ["aws.iam"],
        "detail-type": ["AWS API Call via CloudTrail"],
        "detail": {
            "eventSource": ["iam.amazonaws.com"],
            "eventName": ["CreateAccessKey", "CreateLoginProfile"],
        },
    }
    assert rule["Targets"][0]["Arn"] == {"Fn::GetAtt": ["Function", "Arn"]}
    permission = resources["Permission"]["Properties"]
    assert permission["Principal"] == "events.amazonaws.com"
    assert permission["SourceArn"] == {"Fn::GetAtt": ["Rule", "Arn"]}
    (assertion,) = template()["Rules"]["IamEventsRegion"]["Assertions"]
    assert "us-east-1" in json.dumps(assertion["Assert"])


# -- the code zip ---------------------------------------------------------------------------


def test_the_package_is_reproducible_and_leaves_out_the_command_line(tmp_path: Path) -> None:
    first = build_package(str(tmp_path / "a.zip"))
    assert build_package(str(tmp_path / "b.zip")) == first
    names = zipfile.ZipFile(tmp_path / "a.zip").namelist()
    assert names == sorted(names)
    assert "initkeys/guard/lambda_handler.py" in names
    assert "initkeys/remediate/execute.py" in names
    for left_out in ("initkeys/cli.py", "initkeys/guard/cli.py", "initkeys/demo/emulator.py"):
        assert left_out not in names
    assert not [n for n in names if "__pycache__" in n or not n.endswith(".py")]


def test_guard_package_command(tmp_path: Path) -> None:
    config = tmp_path / "initkeys.toml"
    config.write_text('[[exempt]]\nuser = "svc-*"\nreason = "vendor"\n')
    out = tmp_path / "guard.zip"
    ran = invoke(["guard", "package", str(out), "--config", str(config)])
    assert ran.code == 0, ran.stderr
    assert "handler initkeys.guard.lambda_handler.handler" in ran.stdout
    assert "initkeys.toml" in zipfile.ZipFile(out).namelist()
    config.write_text("[[exempt]]\nuser = 1\n")
    bad = invoke(["guard", "package", str(out), "--config", str(config)])
    assert bad.code == 2 and "exemption 1" in bad.stderr


def lambda_task(tmp_path: Path, config: str | None = None) -> Path:
    """The zip, extracted as the Lambda runtime extracts it (to /var/task)."""
    zip_path = tmp_path / "guard.zip"
    if config is not None:
        (tmp_path / "initkeys.toml").write_text(config)
    build_package(str(zip_path), str(tmp_path / "initkeys.toml") if config else None)
    task = tmp_path / "task"
    zipfile.ZipFile(zip_path).extractall(task)
    return task


# Blocks the modules the Lambda runtime does not have, then runs the rest of the script
# with the code directory first on the path (as the runtime does).
_AS_LAMBDA = """
import sys
for name in {blocked!r}:
    sys.modules[name] = None  # an import of it now raises ImportError
sys.path.insert(0, {task!r})
"""


def run_as_lambda(task: Path, script: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    base.update(env, LAMBDA_TASK_ROOT=str(task))
    preamble = _AS_LAMBDA.format(blocked=NOT_IN_LAMBDA, task=str(task))
    return subprocess.run(
        [sys.executable, "-c", preamble + script],
        cwd=task,
        env=base,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_lambda_import_path_needs_no_click_or_rich() -> None:
    """From the installed package: importing the handler loads neither."""
    script = (
        "import sys, initkeys.guard.lambda_handler\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {NOT_IN_LAMBDA!r}))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_every_module_in_the_zip_imports_without_click_rich_or_moto(tmp_path: Path) -> None:
    task = lambda_task(tmp_path)
    modules = sorted(
        str(p.relative_to(task).with_suffix("")).replace("/", ".").removesuffix(".__init__")
        for p in task.rglob("*.py")
    )
    script = (
        "import importlib, initkeys\n"
        f"assert initkeys.__file__.startswith({str(task)!r}), initkeys.__file__\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "print('ok', len(" + repr(modules) + "))\n"
    )
    proc = run_as_lambda(task, script, {})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"ok {len(modules)}"


def test_the_zip_runs_the_handler_against_the_emulator(aws: Any, tmp_path: Path) -> None:
    """The deployed code path end to end: the handler from the extracted zip, configured by
    environment variables as the template sets them, boto3 reaching the emulator through
    AWS_ENDPOINT_URL; the packaged initkeys.toml exempts svc-*."""
    key = setup_key(aws)
    vendor_key = setup_key(aws, "svc-vendor")
    inbox = make_inbox(aws.session(), aws.endpoint_url)
    task = lambda_task(tmp_path, '[[exempt]]\nuser = "svc-*"\nreason = "vendor integration"\n')
    events = [
        event(ADMIN_KEY_EVENT, key_id=key.access_key_id),
        event(ADMIN_KEY_EVENT, user="svc-vendor", key_id=vendor_key.access_key_id),
        {"detail-type": "Scheduled Event", "source": "aws.events", "id": "tick"},
    ]
    script = (
        "import json, initkeys\n"
        "from initkeys.guard.lambda_handler import handler\n"
        f"assert initkeys.__file__.startswith({str(task)!r}), initkeys.__file__\n"
        f"for e in json.loads({json.dumps(events)!r}):\n"
        "    handler(e, None)\n"
    )
    proc = run_as_lambda(
        task,
        script,
        {
            "AWS_ENDPOINT_URL": aws.endpoint_url,
            "AWS_REGION": "us-east-1",
            ACTION_VARIABLE: "deactivate",
            TOPIC_VARIABLE: inbox.topic_arn,
            WINDOW_VARIABLE: "10m",
            EXEMPT_VARIABLE: "",
        },
    )
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [(line["result"], line.get("decision")) for line in lines] == [
        ("decided", "setup-key"),
        ("decided", "exempt"),
        ("ignored", None),
    ]
    assert key_status(aws.client("iam"), "alice", key.access_key_id) == "Inactive"
    assert key_status(aws.client("iam"), "svc-vendor", vendor_key.access_key_id) == "Active"
    ((subject, message),) = inbox.messages()
    assert subject == "initkeys guard: setup key of console user alice deactivated"
    assert message["keys"][0]["outcome"] == "applied"
    assert key.secret not in proc.stdout + json.dumps(message)


def test_the_handler_refuses_a_bad_configuration_loudly(tmp_path: Path) -> None:
    task = lambda_task(tmp_path)
    script = "from initkeys.guard.lambda_handler import handler\nhandler({}, None)\n"
    proc = run_as_lambda(task, script, {ACTION_VARIABLE: "delete", TOPIC_VARIABLE: "x"})
    assert proc.returncode != 0
    assert "INITKEYS_GUARD_ACTION must be notify or deactivate, not 'delete'" in proc.stderr


# -- the stack, in moto's CloudFormation ------------------------------------------------------


def deploy(aws: Any, tmp_path: Path, name: str, **parameters: str) -> dict[str, str]:
    """Create the stack from the template and the built zip; its outputs."""
    s3 = aws.session().client("s3", endpoint_url=aws.endpoint_url, region_name="us-east-1")
    s3.create_bucket(Bucket=f"{name}-code")
    digest = build_package(str(tmp_path / f"{name}.zip"))
    code_key = f"initkeys-guard-{digest[:12]}.zip"
    s3.upload_file(str(tmp_path / f"{name}.zip"), f"{name}-code", code_key)
    # One attempt, and time to finish: moto creates the stack inside CreateStack, which can
    # outlast botocore's 60 s read timeout on a loaded machine, and a retried CreateStack
    # then fails on the log group the first attempt made.
    cfn = aws.session().client(
        "cloudformation",
        endpoint_url=aws.endpoint_url,
        region_name="us-east-1",
        config=Config(read_timeout=300, retries={"total_max_attempts": 1}),
    )
    given = {"CodeBucket": f"{name}-code", "CodeKey": code_key, **parameters}
    cfn.create_stack(
        StackName=name,
        TemplateBody=TEMPLATE.read_text(),
        Capabilities=["CAPABILITY_IAM"],
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in given.items()],
    )
    cfn.get_waiter("stack_create_complete").wait(StackName=name, WaiterConfig={"Delay": 1})
    (stack,) = cfn.describe_stacks(StackName=name)["Stacks"]
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack.get("StackStatusReason")
    return {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}


def role_actions(aws: Any, role_arn: str) -> list[str]:
    client = aws.client("iam")
    name = role_arn.rsplit("/", 1)[1]
    (policy_name,) = client.list_role_policies(RoleName=name)["PolicyNames"]
    document = client.get_role_policy(RoleName=name, PolicyName=policy_name)["PolicyDocument"]
    if isinstance(document, str):
        # moto's CloudFormation stores an inline policy as Python's repr of it, and
        # keeps AWS::NoValue in a list as None (AWS drops it): both are moto's quirks.
        document = ast.literal_eval(document)
    return [a for s in document["Statement"] if s is not None for a in s["Action"]]


@pytest.mark.parametrize("action", ["notify", "deactivate"])
def test_the_template_deploys(aws: Any, tmp_path: Path, action: str) -> None:
    outputs = deploy(aws, tmp_path, f"guard-{action}", GuardAction=action, SetupWindow="90s")
    lam = aws.session().client("lambda", endpoint_url=aws.endpoint_url, region_name="us-east-1")
    function = lam.get_function(FunctionName=outputs["FunctionArn"])["Configuration"]
    assert (function["Runtime"], function["Handler"]) == ("python3.12", HANDLER)
    assert function["Role"] == outputs["RoleArn"]
    assert function["Environment"]["Variables"] == {
        ACTION_VARIABLE: action,
        TOPIC_VARIABLE: outputs["TopicArn"],
        WINDOW_VARIABLE: "90s",
        EXEMPT_VARIABLE: "",
    }
    events = aws.session().client("events", endpoint_url=aws.endpoint_url, region_name="us-east-1")
    rule_name = outputs["RuleArn"].rsplit("/", 1)[1]
    rule = events.describe_rule(Name=rule_name)
    assert rule["State"] == "ENABLED"
    assert json.loads(rule["EventPattern"])["detail"]["eventName"] == [
        "CreateAccessKey",
        "CreateLoginProfile",
    ]
    (target,) = events.list_targets_by_rule(Rule=rule_name)["Targets"]
    assert target["Arn"] == outputs["FunctionArn"]
    (grant,) = json.loads(lam.get_policy(FunctionName=outputs["FunctionArn"])["Policy"])[
        "Statement"
    ]
    assert grant["Principal"] == {"Service": "events.amazonaws.com"}
    assert json.dumps(grant["Condition"]).count(outputs["RuleArn"]) == 1
    actions = role_actions(aws, outputs["RoleArn"])
    expected = [
        *GUARD_READ_ACTIONS,
        *GUARD_NOTIFY_ACTIONS,
        "logs:CreateLogStream",
        "logs:PutLogEvents",
    ]
    if action == "deactivate":
        expected += GUARD_DEACTIVATE_ACTIONS
    assert sorted(actions) == sorted(expected)
    sns = aws.session().client("sns", endpoint_url=aws.endpoint_url, region_name="us-east-1")
    assert sns.get_topic_attributes(TopicArn=outputs["TopicArn"])["Attributes"]


def test_the_template_can_notify_an_existing_topic(aws: Any, tmp_path: Path) -> None:
    inbox = make_inbox(aws.session(), aws.endpoint_url, "security-alerts")
    outputs = deploy(aws, tmp_path, "guard-existing", TopicArn=inbox.topic_arn)
    assert outputs["TopicArn"] == inbox.topic_arn
    sns = aws.session().client("sns", endpoint_url=aws.endpoint_url, region_name="us-east-1")
    assert [t["TopicArn"] for t in sns.list_topics()["Topics"]] == [inbox.topic_arn]
