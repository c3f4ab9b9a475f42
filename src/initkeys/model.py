"""Typed records that flow through the pipeline: sources → evaluate → formats.

Every record is a frozen dataclass so that a stage can never change what an
earlier stage produced.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from functools import cached_property
from operator import itemgetter
from typing import TYPE_CHECKING, Protocol

from initkeys.timeutil import format_utc

# AWS records access-key last use only since this instant; a never-used key
# created before it has an unknown usage history.
TRACKING_START = datetime(2015, 4, 22, tzinfo=timezone.utc)

# Key creation may precede user creation by this much (clock skew between
# IAM's internal services) and still count as "created with the user".
CLOCK_SKEW = timedelta(seconds=60)

DEFAULT_SETUP_WINDOW = timedelta(minutes=10)


class TextEnum(str, enum.Enum):
    """An enum of strings whose ``str()`` and f-string form is the value (``FAIL``, not
    ``Status.FAIL``): the base of every enum initkeys writes. (``enum.StrEnum`` is 3.11+.)"""

    def __str__(self) -> str:
        return str(self.value)


class Status(TextEnum):
    """A finding's verdict. ``rank`` orders them for roll-ups."""

    FAIL = "FAIL"
    ERROR = "ERROR"
    WARNING = "WARNING"
    PASS = "PASS"
    NOT_APPLICABLE = "NOT_APPLICABLE"

    @property
    def rank(self) -> int:
        """Higher is worse: FAIL > ERROR > WARNING > PASS > NOT_APPLICABLE."""
        return _RANK[self]


# Order in which statuses are listed in summaries: the worst first.
STATUS_ORDER = (Status.FAIL, Status.ERROR, Status.WARNING, Status.PASS, Status.NOT_APPLICABLE)
_RANK = {status: rank for rank, status in enumerate(reversed(STATUS_ORDER))}


def worst(statuses: Iterable[Status]) -> Status | None:
    """The most severe status, or None for no statuses."""
    return max(statuses, key=lambda s: s.rank, default=None)


class Mode(TextEnum):
    """``setup``: the control's intent. ``cis``: the benchmark's literal audit."""

    SETUP = "setup"
    CIS = "cis"


class Reason(TextEnum):
    """Why a finding has its status; the codes of the verdict table."""

    INVALID_ROW = "invalid-row"
    SETUP_KEY_USED = "setup-key-used"
    KEY_USED = "key-used"
    USAGE_UNKNOWN = "usage-unknown"
    SETUP_KEY_UNUSED = "setup-key-unused"
    SETUP_KEY_INACTIVE = "setup-key-inactive"
    UNUSED_KEY = "unused-key"
    INACTIVE_UNUSED_KEY = "inactive-unused-key"
    NO_ACCESS_KEYS = "no-access-keys"
    NO_CONSOLE_PASSWORD = "no-console-password"
    ROOT_ACCOUNT = "root-account"
    # Not in the verdict table; live audits only (see README, "Decisions").
    USER_DELETED = "user-deleted"
    LIVE_READ_FAILED = "live-read-failed"
    # From CloudTrail evidence (--cloudtrail, setup mode): the key's own user made it.
    SELF_CREATED = "self-created"


@dataclass(frozen=True, slots=True)
class AccessKey:
    """One access key of a user, as a source saw it."""

    slot: int
    """1 or 2, the credential report's column pair (live: order of creation)."""
    created: datetime
    active: bool
    last_used: datetime | None
    access_key_id: str | None = None
    """Known only from live reads; a credential report does not carry key ids."""


@dataclass(frozen=True, slots=True)
class IamUser:
    """One IAM user (one credential report row)."""

    name: str
    arn: str
    created: datetime | None
    console_password: bool
    password_created: datetime | None = None
    keys: tuple[AccessKey, ...] = ()
    is_root: bool = False
    problem: str | None = None
    """Why the row could not be read; the user is then judged ERROR."""
    exempt_tag: str | None = None
    """The value of the user's ``initkeys:exempt`` tag (live reads only): the reason."""


@dataclass(frozen=True, slots=True)
class ReportLines:
    """How the data lines of a credential report were accounted for: every non-blank
    line after the header is either judged or reported as an ERROR ``invalid-row``."""

    read: int
    """Non-blank lines after the header."""
    judged: int
    """Lines read as a user (or the root account) and judged."""
    unreadable: int
    """Lines reported as ERROR ``invalid-row``."""


@dataclass(frozen=True)
class CredentialReport:
    """Users of one account, from a credential report (file or live)."""

    account_id: str
    partition: str
    source: str
    """``aws`` for a live audit, otherwise the input file's name."""
    generated_at: datetime | None
    users: tuple[IamUser, ...]
    lines: ReportLines | None = None
    """How the file's lines were accounted for (None when not known)."""
    notes: tuple[str, ...] = ()
    """What a reader of the result should know about the report (e.g. a redacted account id)."""


@dataclass(frozen=True, slots=True)
class ExemptionRule:
    """Users the organization keeps keys for: from --exempt-user or initkeys.toml."""

    pattern: str
    """A glob on the user name (``svc-*``), or on path and name when it starts
    with ``/`` (``/contractors/*``)."""
    reason: str
    source: str
    expires: date | None = None


@dataclass(frozen=True)
class Settings:
    """How findings are judged."""

    mode: Mode = Mode.SETUP
    setup_window: timedelta = DEFAULT_SETUP_WINDOW
    fail_on: Status = Status.FAIL
    allow_errors: bool = False
    """False (the default): the audit fails closed, and any ERROR finding or account that
    could not be audited fails the run whatever ``fail_on`` says."""
    exemptions: tuple[ExemptionRule, ...] = ()
    today: date | None = None
    """The day exemption expiry is judged against (passed in: the evaluator
    reads no clock). None: every exemption with an end date counts as expired."""


@dataclass(frozen=True, slots=True)
class Exemption:
    """A decision of the organization to keep a key: the finding is reported, not acted on."""

    reason: str
    source: str
    """``cli`` (--exempt-user), ``config:<file>``, or ``tag`` (initkeys:exempt)."""
    expires: date | None = None
    """The last day it applies; None for no end."""
    pattern: str | None = None
    """The user-name pattern that matched (cli and config exemptions)."""

    @property
    def scope(self) -> str:
        """Where it comes from, and until when: ``config:initkeys.toml, until 2027-01-31``."""
        if self.expires is None:
            return self.source
        return f"{self.source}, until {self.expires.isoformat()}"

    def describe(self, note: str = "") -> str:
        """``reason (source, until 2027-01-31)``, the way every report words it;
        ``note`` goes inside the brackets, after a semicolon."""
        return f"{self.reason} ({self.scope}{'; ' + note if note else ''})"


@dataclass(frozen=True, slots=True)
class Finding:
    """A verdict about one key (or, for user-level findings, one user)."""

    user: str
    arn: str
    status: Status
    reason: Reason
    message: str
    key_slot: int | None = None
    access_key_id: str | None = None
    active: bool | None = None
    user_created: datetime | None = None
    key_created: datetime | None = None
    last_used: datetime | None = None
    password_created: datetime | None = None
    exemption: Exemption | None = None
    """The exemption in force: the finding keeps its status, but does not count
    for the exit code and is never remediated."""
    expired_exemption: Exemption | None = None
    """An exemption that matched but has expired, so no longer applies."""
    created_by: str | None = None
    """CloudTrail evidence: the ARN of the principal whose ``CreateAccessKey`` made the key."""
    created_via: str | None = None
    """CloudTrail evidence: ``console``, ``cli``, ``sdk``, ``terraform``,
    ``cloudformation`` or ``other``, from the event's user agent."""
    created_from: str | None = None
    """CloudTrail evidence: the event's ``sourceIPAddress`` (an IP, or an AWS service name)."""
    evidence_note: str | None = None
    """Why a key that was looked up in CloudTrail has no evidence (None when it has some,
    or when CloudTrail was not read for it)."""

    @property
    def setup_gap(self) -> timedelta | None:
        """Time between the user's creation and the key's creation."""
        if self.key_created is None or self.user_created is None:
            return None
        return self.key_created - self.user_created

    # Each timestamp as every report writes it (format_utc), under one name for a Finding
    # and a report reader's light finding (see FindingView), which has the text already.
    @property
    def user_created_utc(self) -> str | None:
        return format_utc(self.user_created)

    @property
    def key_created_utc(self) -> str | None:
        return format_utc(self.key_created)

    @property
    def last_used_utc(self) -> str | None:
        return format_utc(self.last_used)

    @property
    def password_created_utc(self) -> str | None:
        return format_utc(self.password_created)


class FindingView(Protocol):
    """What a format reads of a finding: a :class:`Finding`, or the light finding of a
    report file's row (``evaluate.light.LightFinding``), which builds no dataclass and
    keeps its timestamps as the report's text."""

    @property
    def user(self) -> str: ...
    @property
    def arn(self) -> str: ...
    @property
    def status(self) -> Status: ...
    @property
    def reason(self) -> Reason: ...
    @property
    def message(self) -> str: ...
    @property
    def key_slot(self) -> int | None: ...
    @property
    def access_key_id(self) -> str | None: ...
    @property
    def active(self) -> bool | None: ...
    @property
    def user_created(self) -> datetime | None: ...
    @property
    def key_created(self) -> datetime | None: ...
    @property
    def last_used(self) -> datetime | None: ...
    @property
    def password_created(self) -> datetime | None: ...
    @property
    def exemption(self) -> Exemption | None: ...
    @property
    def expired_exemption(self) -> Exemption | None: ...
    @property
    def created_by(self) -> str | None: ...
    @property
    def created_via(self) -> str | None: ...
    @property
    def created_from(self) -> str | None: ...
    @property
    def evidence_note(self) -> str | None: ...
    @property
    def setup_gap(self) -> timedelta | None: ...
    @property
    def user_created_utc(self) -> str | None: ...
    @property
    def key_created_utc(self) -> str | None: ...
    @property
    def last_used_utc(self) -> str | None: ...
    @property
    def password_created_utc(self) -> str | None: ...


class Tallied:
    """Counts of a frozen record's ``findings`` by status (an account's, an IaC run's)."""

    findings: Iterable[Judged]

    def counts(self) -> dict[Status, int]:
        """Findings per status (a copy: the caller may change it)."""
        return dict(self._tally[0])

    def open_counts(self) -> dict[Status, int]:
        """Findings per status that no exemption covers (a copy)."""
        return dict(self._tally[1])

    @property
    def exempt(self) -> int:
        """How many findings an exemption covers."""
        return sum(self._tally[0].values()) - sum(self._tally[1].values())

    @cached_property
    def _tally(self) -> tuple[dict[Status, int], dict[Status, int]]:
        # Counted once, on first use: the findings never change (a frozen
        # dataclass without slots keeps a cached_property in its __dict__).
        return tally_statuses(self.findings)


@dataclass(frozen=True)
class AccountAudit(Tallied):
    """The result of auditing one account (or one report file)."""

    account_id: str
    partition: str
    source: str
    report_generated_at: datetime | None
    findings: Sequence[Finding] = ()
    """A tuple, (organization audits) a ``spill.SpilledFindings`` on disk, or (a report
    file) an ``evaluate.light.ReportFindings``: iterate it, don't copy it."""
    error: str | None = None
    account_name: str | None = None
    """The account's name in AWS Organizations, when it is known."""
    report_lines: ReportLines | None = None
    """How a credential report file's lines were accounted for; None when the account was
    not judged from a report file alone (live audits re-read users)."""
    notes: tuple[str, ...] = ()
    """Sentences about the account's input a reader must see (a redacted account id)."""

    @property
    def status(self) -> Status:
        if self.error is not None:
            return Status.ERROR
        counts = self._tally[0]
        return worst(s for s in STATUS_ORDER if counts[s]) or Status.NOT_APPLICABLE


@dataclass(frozen=True)
class AuditRun:
    """Everything one ``initkeys audit`` invocation produced."""

    settings: Settings
    generated_at: datetime
    accounts: tuple[AccountAudit, ...] = field(default_factory=tuple)

    def counts(self) -> dict[Status, int]:
        total = dict.fromkeys(STATUS_ORDER, 0)
        for account in self.accounts:
            for status, n in account.counts().items():
                total[status] += n
        return total

    @property
    def exempt(self) -> int:
        """How many findings of all accounts an exemption covers."""
        return sum(account.exempt for account in self.accounts)

    @property
    def status(self) -> Status:
        """The worst account status; an account that could not be audited counts as ERROR."""
        return worst(a.status for a in self.accounts) or Status.NOT_APPLICABLE

    def incomplete(self) -> bool:
        """True when something was not seen: an account that could not be audited, or an
        ERROR finding (an unreadable row, a user whose re-read failed) that is not exempt."""
        return any(
            account.error is not None or account.open_counts()[Status.ERROR]
            for account in self.accounts
        )

    def fails(self) -> bool:
        """True when a finding that is not exempt is at or above ``settings.fail_on``, or
        (unless ``settings.allow_errors``) when the run is :meth:`incomplete`."""
        totals = dict.fromkeys(STATUS_ORDER, 0)
        for account in self.accounts:
            for status, n in account.open_counts().items():
                totals[status] += n
        return run_fails(self.settings, totals, self.incomplete())


def run_fails(settings: Settings, open_counts: Mapping[Status, int], incomplete: bool) -> bool:
    """The exit rule of every command that judges (``audit``, ``iac``): fail closed. True
    when a count of findings no exemption covers is at or above ``settings.fail_on``, or,
    unless ``settings.allow_errors``, when something was not seen (``incomplete``)."""
    if incomplete and not settings.allow_errors:
        return True
    return any(n and status.rank >= settings.fail_on.rank for status, n in open_counts.items())


def count_statuses(findings: Iterable[Finding]) -> dict[Status, int]:
    """Findings per status, every status present."""
    return tally_statuses(findings)[0]


class Judged(Protocol):
    """What counting needs of a finding (an audit's or an IaC scan's)."""

    @property
    def status(self) -> Status: ...

    @property
    def exemption(self) -> Exemption | None: ...


def tally_statuses(findings: Iterable[Judged]) -> tuple[dict[Status, int], dict[Status, int]]:
    """(findings per status, findings per status without an exemption), in one pass."""
    # Spilled findings (spill.SpilledFindings) were counted when written.
    known = getattr(findings, "status_counts", None)
    known_open = getattr(findings, "open_counts", None)
    if known is not None and known_open is not None:
        return dict(known), dict(known_open)
    counts = dict.fromkeys(STATUS_ORDER, 0)
    open_counts = dict.fromkeys(STATUS_ORDER, 0)
    for f in findings:
        counts[f.status] += 1
        if f.exemption is None:
            open_counts[f.status] += 1
    return counts, open_counts


# --------------------------------------------------------------------------- CloudTrail evidence


class EventName(TextEnum):
    """The IAM events that say who set a user up, and who made its keys."""

    CREATE_USER = "CreateUser"
    CREATE_LOGIN_PROFILE = "CreateLoginProfile"
    CREATE_ACCESS_KEY = "CreateAccessKey"


def acted_on_itself(
    principal_type: str | None,
    principal_name: str | None,
    user: str,
    *,
    principal_account: str | None = None,
    account: str | None = None,
) -> bool:
    """True when the caller of an IAM event is the IAM user it acted on: the one
    rule for "the user made its own key", shared by the audit's CloudTrail
    evidence and the event guard. IAM user names are unique regardless of case.

    A user of another account is never the user acted on, whatever its name
    (when both accounts are known)."""
    return (
        principal_type == "IAMUser"
        and principal_name is not None
        and principal_name.casefold() == user.casefold()
        and (principal_account is None or account is None or principal_account == account)
    )


@dataclass(frozen=True, slots=True)
class CreationEvent:
    """One successful CloudTrail event that created a user, its console password, or a key."""

    name: EventName
    time: datetime
    account_id: str
    """The account the event happened in (``recipientAccountId``)."""
    target_user: str
    """The user created, given a password or given a key (``requestParameters.userName``,
    or the caller itself when a user called without one)."""
    principal_arn: str | None
    """``userIdentity.arn``: a user, an assumed-role session, the root user…"""
    principal_type: str | None
    """``userIdentity.type``: ``IAMUser``, ``AssumedRole``, ``Root``, ``FederatedUser``…"""
    principal_name: str | None = None
    """``userIdentity.userName`` for an IAM user (and root); for others the session's name."""
    access_key_id: str | None = None
    """CreateAccessKey: the new key (``responseElements.accessKey.accessKeyId``)."""
    source_ip: str | None = None
    via: str | None = None
    """``console``, ``cli``, ``sdk``, ``terraform``, ``cloudformation`` or ``other``."""
    event_id: str | None = None

    @property
    def is_self(self) -> bool:
        """True when an IAM user acted on itself (in its own account)."""
        principal_account = None
        if self.principal_arn is not None and self.principal_arn.count(":") >= 5:
            principal_account = self.principal_arn.split(":")[4] or None
        return acted_on_itself(
            self.principal_type,
            self.principal_name,
            self.target_user,
            principal_account=principal_account,
            account=self.account_id or None,
        )


@dataclass(frozen=True, slots=True)
class TimeRange:
    """From ``start`` to ``end``, both included."""

    start: datetime
    end: datetime

    def __contains__(self, moment: object) -> bool:
        return isinstance(moment, datetime) and self.start <= moment <= self.end


@dataclass(frozen=True)
class TrailEvidence:
    """What one CloudTrail source found for one account, and where it looked."""

    source: str
    """Where the events came from, for people: ``LookupEvents``, ``s3://bucket/prefix``…"""
    events: tuple[CreationEvent, ...] = ()
    searched: tuple[TimeRange, ...] = ()
    """The event times that were read; an event outside them was not looked for."""
    horizon: datetime | None = None
    """The oldest event the source can hold at all (LookupEvents: 90 days back)."""
    unlogged: tuple[TimeRange, ...] = ()
    """Searched ranges that no log file covers at all: the trail was not logging then."""
    problems: tuple[str, ...] = ()
    """What got in the way (unreadable log files, no logs for the account): said in
    the note of every key without evidence, since the event may be where it could
    not be read."""


# --------------------------------------------------------------------------- light report rows

ReportKeyCells = tuple[int, str, datetime, bool, str | None]
"""A key of a :data:`ReportRow`: (slot, creation as the report wrote it, the same parsed,
active, last use as written or None for never)."""

ReportRow = tuple[str, str, str, datetime, bool, str | None, tuple[ReportKeyCells, ...]]
"""A readable credential report row of a user whose timestamps are all in AWS's own form
(``2019-01-07T10:30:00+00:00``): (name, ARN, creation as written, the same parsed,
console password, its creation as written or None, keys). The offline path's record:
a tuple costs a fraction of an :class:`IamUser`, and the text is what every report
writes (see ``sources.credential_report`` and ``evaluate.light``)."""


_Cells = tuple[
    str,  # user
    str,  # arn
    Status,
    Reason,
    int | None,  # key slot
    bool | None,  # active
    str,  # user created, as the report wrote it (2019-01-07T10:30:00+00:00)
    str | None,  # key created, as written
    str | None,  # last used, as written
    str | None,  # password created, as written
    timedelta | None,  # the key's creation less its user's
]


def _parsed(text: str | None) -> datetime | None:
    # The reader checked the text's form and parsed it once already (see ReportRow).
    return None if text is None else datetime.fromisoformat(text)


def _utc(text: str | None) -> str | None:
    # format_utc of the parsed time: AWS's form less "+00:00", plus "Z".
    return None if text is None else text[:19] + "Z"


class LightFinding(_Cells):
    """A :class:`~initkeys.model.FindingView` of a report row: a tuple (no evidence, no
    exemption: the light path is not taken with either)."""

    __slots__ = ()

    if TYPE_CHECKING:  # what the getters below give
        user: str
        arn: str
        status: Status
        reason: Reason
        key_slot: int | None
        active: bool | None
        setup_gap: timedelta | None
        access_key_id: str | None
        exemption: Exemption | None
        expired_exemption: Exemption | None
        created_by: str | None
        created_via: str | None
        created_from: str | None
        evidence_note: str | None
    else:
        # C-level getters and class constants: formats read these for every finding.
        user = property(itemgetter(0))
        arn = property(itemgetter(1))
        status = property(itemgetter(2))
        reason = property(itemgetter(3))
        key_slot = property(itemgetter(4))
        active = property(itemgetter(5))
        setup_gap = property(itemgetter(10))
        access_key_id = exemption = expired_exemption = None
        created_by = created_via = created_from = evidence_note = None

    @property
    def message(self) -> str:
        # Worded by the evaluator, as a Finding's message is; imported here so that the
        # model (and the formats that read it) load without the evaluator.
        from initkeys.evaluate.verdicts import key_message, user_message

        slot, active, gap = self[4], self[5], self[10]
        if slot is None or active is None or gap is None:
            return user_message(self[3], self[0])
        return key_message(self[3], self[0], slot, active, gap)

    @property
    def user_created(self) -> datetime | None:
        return _parsed(self[6])

    @property
    def key_created(self) -> datetime | None:
        return _parsed(self[7])

    @property
    def last_used(self) -> datetime | None:
        return _parsed(self[8])

    @property
    def password_created(self) -> datetime | None:
        return _parsed(self[9])

    @property
    def user_created_utc(self) -> str | None:
        return _utc(self[6])

    @property
    def key_created_utc(self) -> str | None:
        return _utc(self[7])

    @property
    def last_used_utc(self) -> str | None:
        return _utc(self[8])

    @property
    def password_created_utc(self) -> str | None:
        return _utc(self[9])

    def utc_times(self) -> tuple[str | None, str | None, str | None, str | None]:
        """The four ``*_utc`` texts (user and key created, last used, password created) in
        one call, for a format that writes them all."""
        return _utc(self[6]), _utc(self[7]), _utc(self[8]), _utc(self[9])

    def finding(self) -> Finding:
        """The same finding as a :class:`~initkeys.model.Finding`."""
        return Finding(
            self[0],
            self[1],
            self[2],
            self[3],
            self.message,
            key_slot=self[4],
            active=self[5],
            user_created=self.user_created,
            key_created=self.key_created,
            last_used=self.last_used,
            password_created=self.password_created,
        )
