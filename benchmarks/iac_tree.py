"""A large generated Terraform tree for the IaC benchmarks, with its ground truth.

    python benchmarks/iac_tree.py DIR [--configurations 2000]

Writes DIR/tree/ (the Terraform) and DIR/labels.json (which users the tree gives a setup
key: a console password and an access key in the same configuration). Each
configuration (``tree/stacks/sNNNNN/``) has five files and 25 resource blocks:

- ``users.tf``: a console user whose key is made in ``keys.tf`` (a setup key, across
  files), and a console user with no key; every fifth configuration instead has a
  ``for_each`` over a map of users with per-user flags (one setup key, one console
  user, one programmatic user);
- ``keys.tf``: that key, and a programmatic user with its key (no password);
- ``conditional.tf``: a console user whose key has ``count = var.ci ? 1 : 0`` with
  ``ci`` defaulting to false (no key: not a setup key);
- ``infra.tf``: unrelated resources (buckets, roles, policies, groups, security groups);
- ``modules.tf``: in every tenth configuration, two calls of the local module
  ``tree/modules/console-user`` (one ``with_key = true``: a setup key; one without).
  Elsewhere a ``variable``/``output`` file, so every configuration has five files.

User names are unique across the tree, so a tool's finding is matched to a user by name.
"""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import dataclass
from pathlib import Path

MODULE_SOURCE = "../../modules/console-user"
FILES_PER_CONFIGURATION = 5


@dataclass(frozen=True)
class Tree:
    root: Path  # the folder to scan
    files: int
    resources: int
    # user name -> what the tree gives it: "setup-key", "console-only", "programmatic"
    labels: dict[str, str]

    @property
    def positives(self) -> frozenset[str]:
        return frozenset(u for u, kind in self.labels.items() if kind == "setup-key")


def _user(label: str, name: str, *, password: bool) -> str:
    text = f'resource "aws_iam_user" "{label}" {{\n  name = "{name}"\n  path = "/staff/"\n}}\n\n'
    if password:
        text += (
            f'resource "aws_iam_user_login_profile" "{label}" {{\n'
            f"  user                    = aws_iam_user.{label}.name\n"
            "  password_reset_required = true\n}\n\n"
        )
    return text


def _key(label: str, user_label: str) -> str:
    return (
        f'resource "aws_iam_access_key" "{label}" {{\n'
        f"  user = aws_iam_user.{user_label}.name\n}}\n\n"
    )


def _infra(n: int) -> str:
    """15 resource blocks that have nothing to do with IAM users."""
    blocks = []
    for i in range(3):
        blocks.append(
            f'resource "aws_s3_bucket" "data_{i}" {{\n  bucket = "s{n:05d}-data-{i}"\n'
            f'  tags = {{\n    team = "s{n:05d}"\n  }}\n}}\n'
        )
        blocks.append(
            f'resource "aws_iam_role" "svc_{i}" {{\n  name = "s{n:05d}-svc-{i}"\n'
            "  assume_role_policy = jsonencode({\n"
            '    Version = "2012-10-17"\n'
            '    Statement = [{ Effect = "Allow", Action = "sts:AssumeRole",\n'
            '      Principal = { Service = "lambda.amazonaws.com" } }]\n  })\n}\n'
        )
        blocks.append(
            f'resource "aws_iam_policy" "read_{i}" {{\n  name = "s{n:05d}-read-{i}"\n'
            "  policy = jsonencode({\n"
            '    Version = "2012-10-17"\n'
            '    Statement = [{ Effect = "Allow", Action = ["s3:GetObject"],\n'
            f'      Resource = "${{aws_s3_bucket.data_{i}.arn}}/*" }}]\n  }})\n}}\n'
        )
        blocks.append(f'resource "aws_iam_group" "team_{i}" {{\n  name = "s{n:05d}-team-{i}"\n}}\n')
        blocks.append(
            f'resource "aws_security_group" "web_{i}" {{\n  name = "s{n:05d}-web-{i}"\n'
            '  ingress {\n    from_port   = 443\n    to_port     = 443\n    protocol    = "tcp"\n'
            '    cidr_blocks = ["10.0.0.0/8"]\n  }\n}\n'
        )
    return "\n".join(blocks)


MODULE = """\
variable "name" {
  type = string
}

variable "with_key" {
  type    = bool
  default = false
}

resource "aws_iam_user" "this" {
  name = var.name
}

resource "aws_iam_user_login_profile" "this" {
  user = aws_iam_user.this.name
}

resource "aws_iam_access_key" "this" {
  count = var.with_key ? 1 : 0
  user  = aws_iam_user.this.name
}

output "name" {
  value = aws_iam_user.this.name
}
"""


def _configuration(n: int, labels: dict[str, str]) -> tuple[dict[str, str], int]:
    """The files of configuration n and its count of resource blocks."""
    p = f"s{n:05d}"
    files: dict[str, str] = {}
    if n % 5 == 0:
        setup, console, prog = f"{p}-lead", f"{p}-viewer", f"{p}-deployer"
        files["users.tf"] = (
            'variable "staff" {\n  type = map(object({ console = bool, key = bool }))\n'
            "  default = {\n"
            f'    "{setup}"   = {{ console = true, key = true }}\n'
            f'    "{console}" = {{ console = true, key = false }}\n'
            f'    "{prog}"    = {{ console = false, key = true }}\n  }}\n}}\n\n'
            'resource "aws_iam_user" "staff" {\n  for_each = var.staff\n'
            "  name     = each.key\n}\n\n"
            'resource "aws_iam_user_login_profile" "staff" {\n'
            "  for_each = { for name, u in var.staff : name => u if u.console }\n"
            "  user     = aws_iam_user.staff[each.key].name\n}\n\n"
            'resource "aws_iam_access_key" "staff" {\n'
            "  for_each = { for name, u in var.staff : name => u if u.key }\n"
            "  user     = aws_iam_user.staff[each.key].name\n}\n"
        )
        labels.update({setup: "setup-key", console: "console-only", prog: "programmatic"})
        # Three blocks here, so keys.tf keeps its own user and key and one more bucket.
        files["keys.tf"] = _user("ops", f"{p}-ops", password=True) + _key("ops", "ops")
        labels[f"{p}-ops"] = "setup-key"
        extra_blocks = 3 + 3
    else:
        files["users.tf"] = _user("admin", f"{p}-admin", password=True) + _user(
            "analyst", f"{p}-analyst", password=True
        )
        files["keys.tf"] = _key("admin", "admin") + _user("ci", f"{p}-ci", password=False)
        files["keys.tf"] += _key("ci", "ci")
        labels.update(
            {f"{p}-admin": "setup-key", f"{p}-analyst": "console-only", f"{p}-ci": "programmatic"}
        )
        extra_blocks = 4 + 3
    files["conditional.tf"] = (
        'variable "ci" {\n  type    = bool\n  default = false\n}\n\n'
        + _user("tester", f"{p}-tester", password=True)
        + 'resource "aws_iam_access_key" "tester" {\n  count = var.ci ? 1 : 0\n'
        "  user  = aws_iam_user.tester.name\n}\n"
    )
    labels[f"{p}-tester"] = "console-only"
    files["infra.tf"] = _infra(n)
    blocks = extra_blocks + 3 + 15
    if n % 10 == 0:
        files["modules.tf"] = (
            f'module "oncall" {{\n  source   = "{MODULE_SOURCE}"\n  name     = "{p}-oncall"\n'
            "  with_key = true\n}\n\n"
            f'module "auditor" {{\n  source = "{MODULE_SOURCE}"\n  name   = "{p}-auditor"\n}}\n'
        )
        labels.update({f"{p}-oncall": "setup-key", f"{p}-auditor": "console-only"})
    else:
        files["modules.tf"] = (
            f'variable "team" {{\n  type    = string\n  default = "{p}"\n}}\n\n'
            'output "team" {\n  value = var.team\n}\n'
        )
    # Top up to 25 blocks with buckets, so every configuration weighs the same.
    for i in range(25 - blocks):
        files["infra.tf"] += (
            f'\nresource "aws_s3_bucket" "extra_{i}" {{\n  bucket = "{p}-x{i}"\n}}\n'
        )
    return files, 25


def generate(folder: Path, configurations: int = 2000) -> Tree:
    root = folder / "tree"
    labels: dict[str, str] = {}
    files = resources = 0
    module = root / "modules" / "console-user"
    module.mkdir(parents=True)
    (module / "main.tf").write_text(MODULE)
    files += 1
    for n in range(configurations):
        texts, blocks = _configuration(n, labels)
        where = root / "stacks" / f"s{n:05d}"
        where.mkdir(parents=True)
        for name, text in texts.items():
            (where / name).write_text(text)
        files += len(texts)
        resources += blocks
    (folder / "labels.json").write_text(json.dumps(labels, indent=0, sort_keys=True))
    return Tree(root, files, resources, labels)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--configurations", type=int, default=2000)
    args = parser.parse_args()
    tree = generate(args.folder, args.configurations)
    print(
        f"{tree.files} .tf files, {tree.resources} resource blocks in configurations, "
        f"{len(tree.labels)} users ({len(tree.positives)} with a setup key) under {tree.root}"
    )


if __name__ == "__main__":
    main()


SRC = Path(__file__).resolve().parent.parent / "src"


def child_env() -> dict[str, str]:
    """This environment with this checkout's ``src`` first on the path: the child runs the
    initkeys beside these scripts, wherever the venv's own install points."""
    path = [str(SRC), os.environ.get("PYTHONPATH", "")]
    return dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, path)))
