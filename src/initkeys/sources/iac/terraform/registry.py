"""Registry modules whose effect on IAM users is known from their documented inputs.

Kept as data: for each module source, the versions the record holds for, the inputs
that name the user and switch its login profile and access key on, their defaults, and
the addresses of the resources the module creates. A module call is judged from its
arguments and these defaults, without downloading the module.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class KnownModule:
    source: str
    majors: tuple[int, int]
    """The major versions (inclusive) whose inputs and defaults are recorded here."""
    taken_from: str
    name_input: str
    create_user: str
    create_login_profile: str
    create_access_key: str
    defaults: tuple[tuple[str, bool], ...]
    user: str
    login_profile: str
    access_key: str
    name_outputs: tuple[str, ...] = ()
    """Outputs that are the user's name (``module.x.iam_user_name``)."""


# terraform-aws-modules/terraform-aws-iam, modules/iam-user/variables.tf (v5.x; the
# same inputs and defaults since v2, read at commit cfb1aad) and its README "Inputs"
# table. v6 renamed the inputs; a version that may be 6 or later is a condition.
IAM_USER = KnownModule(
    source="terraform-aws-modules/iam/aws//modules/iam-user",
    majors=(1, 5),
    taken_from="terraform-aws-modules/terraform-aws-iam modules/iam-user/variables.tf, v5",
    name_input="name",
    create_user="create_user",
    create_login_profile="create_iam_user_login_profile",
    create_access_key="create_iam_access_key",
    defaults=(
        ("create_user", True),
        ("create_iam_user_login_profile", True),
        ("create_iam_access_key", True),
    ),
    user="aws_iam_user.this[0]",
    login_profile="aws_iam_user_login_profile.this[0]",
    access_key="aws_iam_access_key.this[0]",
    # iam_user_name since v4 (README "Outputs"); this_iam_user_name before.
    name_outputs=("iam_user_name", "this_iam_user_name"),
)

KNOWN_MODULES = {IAM_USER.source: IAM_USER}

_REGISTRY_HOST = "registry.terraform.io/"


def known_module(source: str) -> KnownModule | None:
    """The record for a registry source (``registry.terraform.io/`` prefix allowed)."""
    text = source.strip()
    if text.lower().startswith(_REGISTRY_HOST):
        text = text[len(_REGISTRY_HOST) :]
    return KNOWN_MODULES.get(text)


_CONSTRAINT = re.compile(r"^\s*(=|!=|>=|<=|>|<|~>)?\s*v?(\d{1,6})(?:\.(\d{1,6}))?(?:\.\d{1,6})?")


def major_range(version: str | None) -> tuple[int, int | None] | None:
    """The lowest and highest major version a constraint allows (None: no upper bound),
    or None when the constraint cannot be read."""
    if version is None or not version.strip():
        return 0, None
    low, high = 0, None
    for part in version.split(","):
        m = _CONSTRAINT.match(part)
        if m is None or m.end() != len(part.rstrip()):
            return None
        op, major, minor = m.group(1) or "=", int(m.group(2)), m.group(3)
        if op == "=":
            low, high = max(low, major), major if high is None else min(high, major)
        elif op in (">=", ">"):
            low = max(low, major)
        elif op == "<":
            top = major - 1 if minor is None or int(minor) == 0 else major
            high = top if high is None else min(high, top)
        elif op == "<=":
            high = major if high is None else min(high, major)
        elif op == "~>":
            # ~> 5.1 allows 5.x only; ~> 5 lets the major itself grow, so it has no bound.
            low = max(low, major)
            if minor is not None:
                high = major if high is None else min(high, major)
    return low, high
