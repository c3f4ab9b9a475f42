"""The metadata of CIS AWS Foundations recommendation 1.11, carried by every report."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Control:
    # The JSON report's ``control`` object is these fields, in this order.
    id: str
    title: str
    information: str
    rationale: str
    solution: str
    category: str
    references: tuple[str, ...]
    control_id: str
    see_also: str
    numbering: str


CONTROL = Control(
    id="1.11",
    title=(
        "Do not setup access keys during initial user setup for all IAM users "
        "that have a console password"
    ),
    information=(
        "When an IAM user is created, an administrator decides which access it needs: "
        "programmatic (an access key) or console (a password)."
    ),
    rationale=(
        "Making key creation a separate step, done later by the user, is a stronger sign "
        "that the key is needed for work, and that a key that exists may be in use "
        "somewhere in the organization."
    ),
    solution=(
        "Delete access keys that were created at the same time as the user profile but "
        "have not been used (aws iam delete-access-key --access-key-id <id> "
        "--user-name <user>). Even when keys are needed, users create them themselves, "
        "as a separate step."
    ),
    category="ACCESS CONTROL, MEDIA PROTECTION",
    references=(
        "800-53|AC-3",
        "800-53|AC-6(2)",
        "800-53|AC-6(5)",
        "800-53|MP-2",
        "CSCv6|16",
        "CSCv7|16",
    ),
    control_id="7d0abf1f563b46fcad6d85157c2e8c5ba1e324ab6f25849c34e17de5a36199ac",
    see_also="https://workbench.cisecurity.org/files/3416",
    numbering=(
        "1.23 (v1.1), 1.21 (v1.2), 1.11 (v1.3-v4.0), 1.10 (v5.0), 2.10 (v6.0); "
        "Tenable plugin: amazon_aws"
    ),
)
