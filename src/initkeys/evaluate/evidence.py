"""CloudTrail evidence: who made each key in question, and the one verdict change it allows.

``docs/verdicts.md``, "Who made the key: CloudTrail evidence": a key's ``CreateAccessKey``
event names its creator. In ``setup`` mode a key its own IAM user made is PASS
``self-created``: the user made it as a separate step, which is what the control
asks for. Any other creator leaves the verdict as the creation times decided it,
with the creator as evidence (and, when the same principal also created the user
or its console password within the setup window, that too). ``cis`` mode only
adds the evidence. A key without an event keeps its verdict, and says why.

Pure, like the rest of the evaluator: the events come in as records.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import datetime, timedelta

from initkeys.humanize import describe_duration
from initkeys.model import (
    CLOCK_SKEW,
    CreationEvent,
    EventName,
    Finding,
    Mode,
    Reason,
    Settings,
    Status,
    TimeRange,
    TrailEvidence,
)
from initkeys.timeutil import format_utc, require_aware

# CloudTrail records event times to the second, a credential report key times to
# the second, live reads to the microsecond, and IAM's clocks differ a little:
# without a key id, an event this close to a key's creation (same user) is its event.
MATCH_TOLERANCE = timedelta(seconds=5)

# Only keys whose verdict is in doubt are looked up: a passing key needs no
# evidence, and every key looked up costs reading more of the trail.
_IN_QUESTION = frozenset({Status.FAIL, Status.WARNING})

_SETUP_EVENTS = (EventName.CREATE_USER, EventName.CREATE_LOGIN_PROFILE)
_MADE = {EventName.CREATE_USER: "the user", EventName.CREATE_LOGIN_PROFILE: "its console password"}


def needs_evidence(finding: Finding) -> bool:
    """True for a key finding that did not pass: the keys CloudTrail is read for."""
    return (
        finding.key_slot is not None
        and finding.key_created is not None
        and finding.status in _IN_QUESTION
    )


def search_ranges(findings: Iterable[Finding], settings: Settings) -> tuple[TimeRange, ...]:
    """The event times worth reading: around each key in question, as far as the setup
    window reaches either way (the user and its password may come before or after the
    key), merged where they overlap, in time order."""
    reach = settings.setup_window + CLOCK_SKEW + MATCH_TOLERANCE
    spans = sorted(
        (f.key_created - reach, f.key_created + reach)
        for f in findings
        if needs_evidence(f) and f.key_created is not None
    )
    merged: list[TimeRange] = []
    for start, end in spans:
        if merged and start <= merged[-1].end:
            last = merged[-1]
            merged[-1] = TimeRange(last.start, max(last.end, end))
        else:
            merged.append(TimeRange(start, end))
    return tuple(merged)


def with_evidence(
    findings: Iterable[Finding], evidence: TrailEvidence, settings: Settings
) -> Iterator[Finding]:
    """``findings`` in the same order, each key in question with its CloudTrail evidence
    (or a note saying why there is none), and PASS ``self-created`` where the spec says.
    A naive datetime in ``evidence`` is a TypeError."""
    _require_aware_evidence(evidence)
    index = _EventIndex(evidence.events)
    for finding in findings:
        if needs_evidence(finding):
            finding = _with_evidence(finding, index, evidence, settings)
        yield finding


def _require_aware_evidence(evidence: TrailEvidence) -> None:
    where = evidence.source
    require_aware(evidence.horizon, f"{where}: horizon")
    for r in (*evidence.searched, *evidence.unlogged):
        if r.start.tzinfo is None or r.end.tzinfo is None:  # the message only when it is due
            require_aware(r.start, f"{where}: the start of range {r}")
            require_aware(r.end, f"{where}: the end of range {r}")
    for event in evidence.events:
        if event.time.tzinfo is None:
            require_aware(event.time, f"{where}: the time of {event.name} {event.event_id}")


class _EventIndex:
    """The events of one account, by key id and by (case-folded) target user."""

    def __init__(self, events: Iterable[CreationEvent]) -> None:
        self.by_key_id: dict[str, CreationEvent] = {}
        self.keys_of: dict[str, list[CreationEvent]] = {}
        self.setup_of: dict[str, list[CreationEvent]] = {}
        for event in events:
            user = event.target_user.casefold()
            if event.name is EventName.CREATE_ACCESS_KEY:
                self.keys_of.setdefault(user, []).append(event)
                if event.access_key_id:
                    self.by_key_id[event.access_key_id] = event
            else:
                self.setup_of.setdefault(user, []).append(event)


def _with_evidence(
    finding: Finding, index: _EventIndex, evidence: TrailEvidence, settings: Settings
) -> Finding:
    event, ambiguity = _key_event(finding, index)
    if event is None:
        return replace(finding, evidence_note=ambiguity or _not_found(finding, evidence))
    found = replace(
        finding,
        created_by=_principal(event),
        created_via=event.via,
        created_from=event.source_ip,
        evidence_note=None,
    )
    self_made = event.is_self and event.target_user.casefold() == finding.user.casefold()
    if self_made and settings.mode is Mode.SETUP and finding.last_used is None:
        return replace(
            found,
            status=Status.PASS,
            reason=Reason.SELF_CREATED,
            message=f"Key {finding.key_slot} of {finding.user} was made by {finding.user} "
            f"as a separate step, not at setup ({_describe(event)}); "
            "it has never been used.",
        )
    partner = None if self_made else _setup_partner(event, finding, index, settings)
    return replace(found, message=finding.message + " " + _sentence(event, self_made, partner))


def _key_event(finding: Finding, index: _EventIndex) -> tuple[CreationEvent | None, str | None]:
    """The key's CreateAccessKey event, or (None, why it cannot be told) when several fit."""
    key_id = finding.access_key_id
    if key_id and key_id in index.by_key_id:
        return index.by_key_id[key_id], None
    assert finding.key_created is not None
    created = finding.key_created
    # Without an id (a report file), or an event without one: the same user's key
    # made within the tolerance. An event naming another key id is another key.
    candidates = sorted(
        (
            e
            for e in index.keys_of.get(finding.user.casefold(), ())
            if abs(e.time - created) <= MATCH_TOLERANCE
            and (key_id is None or e.access_key_id in (None, key_id))
        ),
        key=lambda e: (abs(e.time - created), e.event_id or ""),
    )
    if not candidates:
        return None, None
    if len({_principal(e) for e in candidates}) > 1:
        return None, (
            f"{len(candidates)} CreateAccessKey events by different principals match "
            f"{finding.user}'s key created {_stamp(created)}; without the key's id "
            "they cannot be told apart."
        )
    return candidates[0], None


def _setup_partner(
    key_event: CreationEvent, finding: Finding, index: _EventIndex, settings: Settings
) -> CreationEvent | None:
    """The user's CreateUser (else CreateLoginProfile) made by the key's creator within
    the setup window of the key: the key was made with the user, by whoever set it up."""
    if key_event.principal_arn is None:
        return None
    reach = settings.setup_window + CLOCK_SKEW
    matches = [
        e
        for e in index.setup_of.get(finding.user.casefold(), ())
        if e.principal_arn == key_event.principal_arn and abs(e.time - key_event.time) <= reach
    ]
    matches.sort(key=lambda e: (_SETUP_EVENTS.index(e.name), abs(e.time - key_event.time)))
    return matches[0] if matches else None


def _sentence(event: CreationEvent, self_made: bool, partner: CreationEvent | None) -> str:
    text = f"CloudTrail: {_describe(event)}"
    if partner is not None:
        gap = partner.time - event.time
        side = "after" if gap > timedelta(0) else "before"
        text += (
            f", the principal that also made {_MADE[partner.name]} "
            f"({partner.name}, {describe_duration(abs(gap))} {side} the key)"
        )
    elif self_made:
        text += ", the user itself"
    return text + "."


def _describe(event: CreationEvent) -> str:
    text = f"{event.name} by {_principal(event)} at {_stamp(event.time)}"
    if event.via:
        text += f" via {event.via}"
    if event.source_ip:
        text += f" from {event.source_ip}"
    return text


def _principal(event: CreationEvent) -> str:
    return event.principal_arn or event.principal_name or event.principal_type or "unknown"


def _not_found(finding: Finding, evidence: TrailEvidence) -> str:
    created = finding.key_created
    assert created is not None
    if evidence.horizon is not None and created < evidence.horizon:
        return (
            f"No CloudTrail evidence: the key was created {_stamp(created)}, before the "
            f"oldest event {evidence.source} keeps ({_stamp(evidence.horizon)}); "
            "read the trail's log files (s3:// or a directory) for older keys."
        )
    searched = next((r for r in evidence.searched if created in r), None)
    if searched is None:
        text = f"CloudTrail ({evidence.source}) was not searched around {_stamp(created)}"
    elif searched in evidence.unlogged:
        text = (
            f"No CloudTrail evidence: {evidence.source} has no log file for "
            f"{_stamp(searched.start)} to {_stamp(searched.end)}; the trail may not have "
            "been logging then"
        )
    else:
        text = (
            f"No CreateAccessKey event for this key was found in {evidence.source} "
            f"(searched {_stamp(searched.start)} to {_stamp(searched.end)})"
        )
    # What could not be read may hold the event: say so next to "not found".
    return "; ".join([text, *evidence.problems]) + "."


def _stamp(moment: datetime) -> str:
    """ISO 8601 UTC to the second, as CloudTrail shows event times."""
    return format_utc(moment, "seconds")
