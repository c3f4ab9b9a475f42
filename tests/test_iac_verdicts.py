"""The IaC verdicts (initkeys.evaluate.iac), from records: examples and properties."""

from __future__ import annotations

import random
from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from initkeys.evaluate.iac import judge_iac
from initkeys.model import ExemptionRule, Settings, Status
from initkeys.sources.iac.records import (
    IacKind,
    IacNote,
    IacReason,
    IacResource,
    IacScan,
    SourceLine,
)

CONFIG = "infra/prod"


def res(
    kind: IacKind,
    address: str,
    line: int,
    *,
    name: str | None = None,
    ref: str | None = None,
    condition: str | None = None,
    configuration: str = CONFIG,
) -> IacResource:
    return IacResource(
        kind=kind,
        address=address,
        at=SourceLine("main.tf", line),
        configuration=configuration,
        user_name=name,
        user_address=ref,
        condition=condition,
    )


def user(address: str, name: str | None, line: int = 1, **kw: object) -> IacResource:
    return res(IacKind.USER, address, line, name=name, **kw)  # type: ignore[arg-type]


def profile(address: str, line: int = 5, **kw: object) -> IacResource:
    return res(IacKind.LOGIN_PROFILE, address, line, **kw)  # type: ignore[arg-type]


def key(address: str, line: int = 9, **kw: object) -> IacResource:
    return res(IacKind.ACCESS_KEY, address, line, **kw)  # type: ignore[arg-type]


def judge(*resources: IacResource, notes: tuple[IacNote, ...] = ()) -> list[tuple[str, str]]:
    scan = IacScan(resources=resources, notes=notes)
    return [(str(f.status), str(f.reason)) for f in judge_iac(scan, Settings())]


ALICE = user("aws_iam_user.alice", "alice")


def test_user_password_and_key_in_one_configuration_fail() -> None:
    scan = IacScan(
        resources=(
            ALICE,
            profile("aws_iam_user_login_profile.alice", ref="aws_iam_user.alice"),
            key("aws_iam_access_key.alice", ref="aws_iam_user.alice"),
        )
    )
    (finding,) = judge_iac(scan, Settings())
    assert (finding.status, finding.reason) == (Status.FAIL, IacReason.SETUP_KEY)
    assert finding.user == "alice"
    assert finding.user_at == SourceLine("main.tf", 1)
    assert finding.password_at == (SourceLine("main.tf", 5),)
    assert finding.key_at == (SourceLine("main.tf", 9),)


def test_linked_by_name_without_regard_to_case() -> None:
    assert judge(ALICE, profile("p", name="ALICE"), key("k", name="Alice")) == [
        ("FAIL", "iac-setup-key")
    ]


def test_a_condition_on_any_part_is_a_warning_that_names_it() -> None:
    scan = IacScan(
        resources=(
            ALICE,
            profile("p", name="alice"),
            key("k", name="alice", condition="count = var.ci ? 1 : 0 (var.ci has no default)"),
        )
    )
    (finding,) = judge_iac(scan, Settings())
    assert (finding.status, finding.reason) == (Status.WARNING, IacReason.MAYBE_SETUP_KEY)
    assert finding.conditions == ("count = var.ci ? 1 : 0 (var.ci has no default)",)


def test_one_certain_key_beside_a_conditional_one_still_fails() -> None:
    conditional = key("k1", name="alice", condition="c")
    assert judge(ALICE, profile("p", name="alice"), conditional, key("k2", name="alice")) == [
        ("FAIL", "iac-setup-key")
    ]


def test_a_key_whose_user_cannot_be_read_is_a_warning_not_a_pass() -> None:
    assert judge(ALICE, profile("p", name="alice"), key("k")) == [
        ("PASS", "iac-console-user-no-key"),
        ("WARNING", "iac-maybe-setup-key"),
    ]


def test_console_user_without_key_passes_and_programmatic_user_is_not_applicable() -> None:
    assert judge(ALICE, profile("p", name="alice")) == [("PASS", "iac-console-user-no-key")]
    assert judge(ALICE, key("k", name="alice")) == [("NOT_APPLICABLE", "iac-programmatic-user")]
    assert judge(ALICE) == [("NOT_APPLICABLE", "iac-programmatic-user")]


def test_a_key_for_a_different_user_than_the_password() -> None:
    bob = user("aws_iam_user.bob", "bob", line=20)
    assert judge(ALICE, bob, profile("p", name="alice"), key("k", name="bob")) == [
        ("PASS", "iac-console-user-no-key"),
        ("NOT_APPLICABLE", "iac-programmatic-user"),
    ]


def test_password_and_key_for_a_user_defined_elsewhere_warn() -> None:
    assert judge(profile("p", name="carol"), key("k", name="carol")) == [
        ("WARNING", "iac-password-and-key")
    ]
    assert judge(key("k", name="carol")) == [("NOT_APPLICABLE", "iac-programmatic-user")]
    assert judge(profile("p", name="carol")) == [("PASS", "iac-console-user-no-key")]


def test_a_key_in_another_configuration_for_a_scanned_console_user_warns() -> None:
    scan = IacScan(
        resources=(
            ALICE,
            profile("p", name="alice"),
            key("k", name="alice", configuration="infra/ci"),
        )
    )
    (finding,) = judge_iac(scan, Settings())
    assert (finding.status, finding.reason) == (Status.WARNING, IacReason.MAYBE_SETUP_KEY)
    assert finding.elsewhere == ("infra/ci",)


def test_notes_are_warnings_and_unreadable_files_errors() -> None:
    notes = (
        IacNote(SourceLine("main.tf", 3), CONFIG, "module from the registry not scanned"),
        IacNote(SourceLine("bad.tf", 0), CONFIG, "bad.tf: unexpected token", unreadable=True),
    )
    assert judge(notes=notes) == [
        ("WARNING", "iac-not-scanned"),
        ("ERROR", "iac-unreadable"),
    ]


def test_exemptions_match_the_user_name() -> None:
    rules = (ExemptionRule(pattern="ALI*", reason="break-glass", source="cli"),)
    scan = IacScan(resources=(ALICE, profile("p", name="alice"), key("k", name="alice")))
    (finding,) = judge_iac(scan, Settings(exemptions=rules))
    assert finding.status is Status.FAIL
    assert finding.exemption is not None and finding.exemption.reason == "break-glass"


# -- properties --------------------------------------------------------------------------

names = st.sampled_from(["alice", "Alice", "bob", "carol", None])
kinds = st.sampled_from(list(IacKind))
conditions = st.sampled_from([None, None, "count = var.x ? 1 : 0"])
configs = st.sampled_from([CONFIG, "infra/ci"])


@st.composite
def resources(draw: st.DrawFn) -> IacResource:
    index = draw(st.integers(0, 5))
    return res(
        draw(kinds),
        f"r{index}",
        index + 1,
        name=draw(names),
        condition=draw(conditions),
        configuration=draw(configs),
    )


scans = st.lists(resources(), max_size=12).map(lambda r: IacScan(resources=tuple(r)))


@settings(max_examples=150, deadline=None, derandomize=True)
@given(scans)
def test_every_user_resource_has_exactly_one_finding(scan: IacScan) -> None:
    findings = judge_iac(scan, Settings())
    users = [r for r in scan.resources if r.kind is IacKind.USER]
    assert [f.user_at for f in findings if f.user_at is not None] == [u.at for u in users]


@settings(max_examples=150, deadline=None, derandomize=True)
@given(scans)
def test_no_password_never_fails_and_every_fail_has_all_three(scan: IacScan) -> None:
    for finding in judge_iac(scan, Settings()):
        if finding.status is Status.FAIL:
            assert finding.user_at is not None and finding.password_at and finding.key_at
        if not finding.password_at:  # no console password: never FAIL, never a pass claim
            assert finding.status is not Status.FAIL
            assert finding.reason is not IacReason.CONSOLE_USER_NO_KEY


@settings(max_examples=150, deadline=None, derandomize=True)
@given(scans, st.randoms(use_true_random=False))
def test_order_of_profiles_and_keys_does_not_change_verdicts(
    scan: IacScan, rnd: random.Random
) -> None:
    users = [r for r in scan.resources if r.kind is IacKind.USER]
    others = [r for r in scan.resources if r.kind is not IacKind.USER]
    rnd.shuffle(others)
    shuffled = IacScan(resources=tuple(users + others))

    def verdicts(s: IacScan) -> Counter[tuple[str, Status]]:
        return Counter((f.user, f.status) for f in judge_iac(s, Settings()) if f.user_at)

    assert verdicts(shuffled) == verdicts(scan)


@settings(max_examples=150, deadline=None, derandomize=True)
@given(scans)
def test_removing_a_condition_never_lowers_a_verdict(scan: IacScan) -> None:
    from dataclasses import replace

    certain = IacScan(resources=tuple(replace(r, condition=None) for r in scan.resources))
    before = {f.user_at: f.status for f in judge_iac(scan, Settings()) if f.user_at}
    after = {f.user_at: f.status for f in judge_iac(certain, Settings()) if f.user_at}
    for at, status in before.items():
        if status is Status.WARNING:
            assert after[at] in (Status.WARNING, Status.FAIL)
        else:
            assert after[at] is status
