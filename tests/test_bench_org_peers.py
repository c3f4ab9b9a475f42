"""benchmarks/org_peers.py's pure parts, without c7n-org or an emulator: reading each
tool's output into (account, user) findings, scoring them against the scenario's truth,
the accounts file it hands c7n-org, and its arguments and runs."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import org_peers
from org_audit import has_setup_key, truth, user_name

from initkeys.sources.accounts import TargetAccount

_POLICY = "cis-1-11-no-setup-access-keys"
_IDS = {"team-000": "111111111111", "team-001": "222222222222", "team-002": "333333333333"}


def _resources(out: Path, account: str, region: str, users: list[str]) -> None:
    """What c7n-org writes for one account and region: the matched iam-user resources."""
    policy_dir = out / account / region / _POLICY
    policy_dir.mkdir(parents=True)
    records = [
        {"UserName": u, "c7n:matched-keys": [{"active": True, "last_used_date": None}]}
        for u in users
    ]
    (policy_dir / "resources.json").write_text(json.dumps(records))
    (policy_dir / "metadata.json").write_text("{}")
    (policy_dir / "custodian-run.log").write_text("")


def test_c7n_org_output_maps_to_account_and_user(tmp_path: Path) -> None:
    _resources(tmp_path, "team-000", "us-east-1", ["user000", "user010"])
    _resources(tmp_path, "team-001", "us-east-1", [])
    _resources(tmp_path, "team-002", "us-east-1", ["user010"])
    # An account whose policy failed has no resources.json: nothing flagged there.
    (tmp_path / "team-003" / "us-east-1" / _POLICY).mkdir(parents=True)
    found = org_peers.c7n_org_findings(tmp_path, _IDS)
    assert found == {
        ("111111111111", "user000"),
        ("111111111111", "user010"),
        ("333333333333", "user010"),
    }


def test_c7n_org_same_user_in_two_regions_is_one_finding(tmp_path: Path) -> None:
    # Without -r, c7n-org runs the global iam-user policy in us-east-1 and us-west-2.
    _resources(tmp_path, "team-000", "us-east-1", ["user000"])
    _resources(tmp_path, "team-000", "us-west-2", ["user000"])
    assert org_peers.c7n_org_findings(tmp_path, _IDS) == {("111111111111", "user000")}


def test_c7n_org_log_names_the_failed_accounts() -> None:
    log = "\n".join(
        [
            "2026-12-01 06:10:52,162: c7n_org:ERROR Exception running policy:"
            f"{_POLICY} account:team-001 region:us-east-1 error:Credentials were refreshed, "
            "but the refreshed credentials are still expired.",
            "2026-12-01 06:10:52,300: c7n_org:WARNING Error running policy in team-002 @ "
            "us-east-1 exception: boom",
            "2026-12-01 06:10:52,400: c7n_org:ERROR Exception running policy:"
            f"{_POLICY} account:team-001 region:us-west-2 error:again",
            f"2026-12-01 06:11:45,989: c7n_org:INFO Ran account:team-000 region:us-east-1 "
            f"policy:{_POLICY} matched:2 time:17.33",
        ]
    )
    assert org_peers.c7n_org_failed(log) == {"team-001", "team-002"}
    assert org_peers.c7n_org_account_seconds(log) == [17.33]
    assert org_peers.c7n_org_failed("c7n_org:INFO Policy resource counts Counter()") == set()


def test_initkeys_report_maps_to_account_and_user() -> None:
    report = {
        "accounts": [
            {
                "account_id": "111111111111",
                "error": None,
                "findings": [
                    {"user": "user000", "status": "FAIL"},
                    {"user": "user001", "status": "PASS"},
                    {"user": "user002", "status": "WARNING"},
                ],
            },
            {"account_id": "222222222222", "error": "AccessDenied", "findings": []},
        ]
    }
    flagged, failed = org_peers.initkeys_findings(report)
    assert flagged == {("111111111111", "user000")}
    assert failed == 1


def test_score_against_the_scenarios_truth() -> None:
    targets = [TargetAccount(i, n) for n, i in _IDS.items()]
    wanted = truth(targets, 20)
    # Every tenth user of each account: user000 and user010.
    assert len(wanted) == 6
    assert [user_name(i) for i in range(20) if has_setup_key(i)] == ["user000", "user010"]
    assert org_peers.score(set(wanted), wanted) == ("1.00", "1.00")
    half = {("111111111111", "user000"), ("111111111111", "user001")}
    assert org_peers.score(half, wanted) == ("0.50", "0.17")
    assert org_peers.score(set(), wanted) == ("n/a", "0.00")


def test_accounts_file_lists_each_role_arn() -> None:
    targets = [TargetAccount(i, n) for n, i in _IDS.items()]
    # YAML is a superset of JSON: c7n-org reads this as it is.
    accounts = json.loads(org_peers.accounts_file(targets))["accounts"]
    assert accounts[0] == {
        "account_id": "111111111111",
        "name": "team-000",
        "role": "arn:aws:iam::111111111111:role/OrganizationAccountAccessRole",
    }
    assert [a["name"] for a in accounts] == list(_IDS)


def test_arguments_and_runs() -> None:
    args = org_peers.parse_args(["--accounts", "5", "--workers", "8", "32", "--no-write"])
    assert (args.accounts, args.users, args.workers, args.no_write) == (5, 20, [8, 32], True)
    assert (args.latency, args.report_delay) == (0.060, 4.0)
    default = org_peers.C7N_DEFAULT_WORKERS
    plan = org_peers.runs([default, default + 1])
    # c7n-org at its own default once, and again only at a count that differs from it.
    assert plan == [
        ("initkeys", default),
        ("initkeys", default + 1),
        ("c7n-org", None),
        ("c7n-org", default + 1),
    ]
