"""How the guard is configured: the action, the SNS topic, the judgement settings.

The Lambda function reads these from its environment (set by ``deploy/guard.yaml``);
``initkeys guard simulate`` from its options. Pure: a mapping in, a record out,
or an :class:`~initkeys.errors.InputError` that names the variable.

| variable                    | meaning                                              |
|-----------------------------|------------------------------------------------------|
| ``INITKEYS_GUARD_ACTION``   | ``notify`` (default) or ``deactivate``               |
| ``INITKEYS_GUARD_TOPIC_ARN``| the SNS topic notified (required in Lambda)          |
| ``INITKEYS_SETUP_WINDOW``   | the setup window, ``10m`` by default (``90s``, ``1h``)|
| ``INITKEYS_EXEMPT_USERS``   | user patterns to leave alone, comma-separated         |

An ``initkeys.toml`` beside the code (``initkeys guard package --config``) adds
its exemptions, as it does for the CLI.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from initkeys.config import exemption_rules
from initkeys.durations import parse_setup_window
from initkeys.errors import InputError
from initkeys.model import DEFAULT_SETUP_WINDOW, ExemptionRule, Settings

ACTION_VARIABLE = "INITKEYS_GUARD_ACTION"
TOPIC_VARIABLE = "INITKEYS_GUARD_TOPIC_ARN"
WINDOW_VARIABLE = "INITKEYS_SETUP_WINDOW"
EXEMPT_VARIABLE = "INITKEYS_EXEMPT_USERS"

# A standard topic (a FIFO topic would need a message group id the guard does not send).
_TOPIC_ARN = re.compile(r"arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}")


class GuardAction(str, enum.Enum):
    """What the guard does about a setup key: always notify; ``deactivate`` acts first."""

    NOTIFY = "notify"
    DEACTIVATE = "deactivate"


@dataclass(frozen=True)
class GuardConfig:
    action: GuardAction = GuardAction.NOTIFY
    topic_arn: str | None = None
    settings: Settings = field(default_factory=Settings)


def check_topic_arn(arn: str, where: str = "--topic-arn") -> str:
    """``arn`` when it is a standard SNS topic's ARN; InputError otherwise."""
    if not _TOPIC_ARN.fullmatch(arn):
        raise InputError(
            f"{where} {arn!r} is not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)"
        )
    return arn


def topic_region(arn: str) -> str:
    """The region of a topic ARN checked by :func:`check_topic_arn`."""
    return arn.split(":")[3]


def config_from_env(environ: Mapping[str, str], search_dir: str = ".") -> GuardConfig:
    """The Lambda function's configuration, from its environment variables."""
    raw_action = environ.get(ACTION_VARIABLE, GuardAction.NOTIFY.value).strip().lower()
    try:
        action = GuardAction(raw_action or GuardAction.NOTIFY.value)
    except ValueError:
        raise InputError(
            f"{ACTION_VARIABLE} must be notify or deactivate, not {raw_action!r}"
        ) from None
    topic = environ.get(TOPIC_VARIABLE, "").strip()
    if not topic:
        raise InputError(f"{TOPIC_VARIABLE} is not set: the guard has nowhere to notify")
    check_topic_arn(topic, TOPIC_VARIABLE)
    raw_window = environ.get(WINDOW_VARIABLE, "").strip()
    try:
        window = parse_setup_window(raw_window) if raw_window else DEFAULT_SETUP_WINDOW
    except ValueError as exc:
        raise InputError(f"{WINDOW_VARIABLE}: {exc}") from None
    rules = exemption_rules(None, (), search_dir=search_dir) + tuple(
        ExemptionRule(pattern=p.strip(), reason=f"exempted by {EXEMPT_VARIABLE}", source="env")
        for p in environ.get(EXEMPT_VARIABLE, "").split(",")
        if p.strip()
    )
    return GuardConfig(
        action=action, topic_arn=topic, settings=Settings(setup_window=window, exemptions=rules)
    )
