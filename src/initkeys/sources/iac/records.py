"""What an infrastructure-as-code reader hands the evaluator: the IAM users, console
passwords (login profiles) and access keys a configuration would create, where each is
written, and what could not be read.

Readers (Terraform HCL, Terraform JSON and plan JSON, CloudFormation/SAM/CDK) resolve
what they can statically; what they cannot decide (a ``count`` over a variable without
a default, a CloudFormation ``Condition``) is kept as a ``condition`` sentence, never
guessed away.
"""

from __future__ import annotations

from dataclasses import dataclass

from initkeys.model import Exemption, Status, TextEnum


class IacKind(TextEnum):
    USER = "user"
    LOGIN_PROFILE = "login-profile"
    ACCESS_KEY = "access-key"


@dataclass(frozen=True, slots=True, order=True)
class SourceLine:
    """A place in a scanned file: its path as the user named it (or relative to the
    folder they named) and a 1-based line (0 when the format has no lines, e.g. a plan)."""

    path: str
    line: int = 0


@dataclass(frozen=True, slots=True)
class IacResource:
    """One user, login profile or access key a configuration would create."""

    kind: IacKind
    address: str
    """Where the configuration names it: ``module.team.aws_iam_user.this["alice"]``
    (Terraform) or the template's logical ID ``AliceUser`` (CloudFormation)."""
    at: SourceLine
    configuration: str
    """What is applied at once: a Terraform root module's folder (its local modules
    included) or one CloudFormation template. Only resources of one configuration are
    created together."""
    module: str = ""
    """The module path inside the configuration (``module.team``); "" at the root."""
    user_name: str | None = None
    """The IAM user name it creates (a user) or names (a profile or key), when static."""
    user_address: str | None = None
    """For a profile or key: the address of the user resource it references, when it
    references one (``aws_iam_user.alice.name``, ``!Ref AliceUser``)."""
    condition: str | None = None
    """Why it may not be created, when that cannot be decided statically (which
    variable, count or Condition); None when it certainly is."""


@dataclass(frozen=True, slots=True)
class IacNote:
    """Part of the tree that was not judged: ``unreadable`` (a file that could not be
    parsed: an ERROR) or not scanned (a remote module, a nested stack: a WARNING)."""

    at: SourceLine
    configuration: str
    what: str
    """What it is and what to do, one sentence (``module "ci" from a registry source
    was not scanned: scan the plan JSON (terraform show -json PLAN)``)."""
    unreadable: bool = False
    module: str = ""


@dataclass(frozen=True, slots=True)
class IacScan:
    """Everything the readers found in the paths scanned."""

    resources: tuple[IacResource, ...] = ()
    notes: tuple[IacNote, ...] = ()
    files_read: int = 0
    """Files parsed (an unreadable file is a note, not counted)."""
    skipped: int = 0
    """Files looked at and left alone: JSON or YAML that is neither a template nor a plan."""


class IacReason(TextEnum):
    """Why an IaC finding has its status (docs/verdicts.md, "Infrastructure as code")."""

    SETUP_KEY = "iac-setup-key"
    MAYBE_SETUP_KEY = "iac-maybe-setup-key"
    PASSWORD_AND_KEY = "iac-password-and-key"
    CONSOLE_USER_NO_KEY = "iac-console-user-no-key"
    PROGRAMMATIC_USER = "iac-programmatic-user"
    NOT_SCANNED = "iac-not-scanned"
    UNREADABLE = "iac-unreadable"


@dataclass(frozen=True, slots=True)
class IacFinding:
    """The verdict on one user a configuration creates (or names), or on one note."""

    status: Status
    reason: IacReason
    configuration: str
    user: str
    """The IAM user name when static, else the user's address (or the expression that
    names it); "" for a note."""
    module: str = ""
    user_at: SourceLine | None = None
    """Where the user is defined; None for a user defined elsewhere."""
    password_at: tuple[SourceLine, ...] = ()
    key_at: tuple[SourceLine, ...] = ()
    conditions: tuple[str, ...] = ()
    """What cannot be decided statically, for a WARNING ``iac-maybe-setup-key``."""
    elsewhere: tuple[str, ...] = ()
    """Other configurations that create a key for this user."""
    note: IacNote | None = None
    exemption: Exemption | None = None

    @property
    def at(self) -> SourceLine | None:
        """The line a reader should look at first: the user, else its key or password."""
        if self.note is not None:
            return self.note.at
        return self.user_at or next(iter(self.key_at + self.password_at), None)
