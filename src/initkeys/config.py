"""Exemptions from ``initkeys.toml`` and ``--exempt-user``.

``initkeys.toml`` (in the working directory, or given with ``--config``)::

    [[exempt]]
    user = "svc-legacy-*"          # glob on the user name, in any case; "/path/*": path and name
    reason = "Vendor integration; replacement tracked in SEC-1234"
    expires = 2027-03-31           # optional: the last day the exemption applies

Every entry needs a user pattern and a reason: an auditor must be able to see
why a key was kept. Unknown keys are errors, so a typo cannot silently drop an
expiry date.

Patterns match user names without regard to case, as IAM does (``SVC-Legacy`` and
``svc-legacy`` cannot both exist); a path is matched exactly as written, as IAM
keeps it.
"""

from __future__ import annotations

import os
import sys
from datetime import date
from typing import Any

from initkeys.errors import InputError
from initkeys.humanize import terminal_safe as _shown
from initkeys.inputs import read_text
from initkeys.model import ExemptionRule

CONFIG_FILE = "initkeys.toml"
CLI_REASON = "exempted with --exempt-user"
_ENTRY_KEYS = {"user", "reason", "expires"}

MAX_CONFIG_BYTES = 1 << 20
"""An exemption list is a few kilobytes; a config file larger than 1 MiB is refused."""

MAX_PATTERN = 1024
"""An IAM path is at most 512 characters and a user name 64: a longer pattern is a mistake
(and would only cost time to match)."""


def exemption_rules(
    config_path: str | None, cli_patterns: tuple[str, ...], *, search_dir: str = "."
) -> tuple[ExemptionRule, ...]:
    """The rules from the config file (explicit, or found in ``search_dir``) and the CLI."""
    rules: list[ExemptionRule] = []
    if config_path is not None:
        rules.extend(read_config(config_path))
    else:
        found = os.path.join(search_dir, CONFIG_FILE)
        # Anything of that name is read (a FIFO or a dangling link is then a clear
        # error): exemptions the user wrote down must not be dropped unnoticed.
        if os.path.lexists(found):
            rules.extend(read_config(found))
    for pattern in cli_patterns:
        if not pattern.strip():
            raise InputError("--exempt-user needs a user name or pattern")
        _check_pattern(pattern.strip(), "--exempt-user")
        rules.append(ExemptionRule(pattern=pattern.strip(), reason=CLI_REASON, source="cli"))
    return tuple(rules)


def read_config(path: str) -> tuple[ExemptionRule, ...]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib

    name = _shown(os.path.basename(path))
    # A regular file only: an initkeys.toml that is a FIFO or device must not block or never end.
    text = read_text(path, "config file", stdin=False, limit=MAX_CONFIG_BYTES, regular_only=True)
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise InputError(f"{name}: not valid TOML: {_shown(str(e))}") from None
    except RecursionError:  # tomllib recurses once per level of nested arrays and tables
        raise InputError(f"{name}: not valid TOML: nested too deeply") from None
    unknown = set(document) - {"exempt"}
    if unknown:
        raise InputError(f"{name}: unknown setting(s) {', '.join(sorted(unknown))}")
    entries = document.get("exempt", [])
    if not isinstance(entries, list):
        raise InputError(f"{name}: 'exempt' must be an array of tables ([[exempt]])")
    return tuple(_rule(entry, n, name) for n, entry in enumerate(entries, start=1))


def _rule(entry: Any, n: int, name: str) -> ExemptionRule:
    where = f"{name}: exemption {n}"
    if not isinstance(entry, dict):
        raise InputError(f"{where} must be a table with user and reason")
    unknown = set(entry) - _ENTRY_KEYS
    if unknown:
        raise InputError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    user, reason = entry.get("user"), entry.get("reason")
    if not isinstance(user, str) or not user.strip():
        raise InputError(f"{where}: 'user' must be a user name or glob pattern")
    _check_pattern(user.strip(), where)
    if not isinstance(reason, str) or not reason.strip():
        raise InputError(f"{where} ({_shown(user)}): 'reason' is required")
    return ExemptionRule(
        pattern=user.strip(),
        reason=reason.strip(),
        source=f"config:{name}",
        expires=_expiry(entry.get("expires"), f"{where} ({_shown(user)})"),
    )


def _check_pattern(pattern: str, where: str) -> None:
    if len(pattern) > MAX_PATTERN:
        raise InputError(
            f"{where}: a user pattern of {len(pattern)} characters is longer than any IAM "
            f"path and name (at most {MAX_PATTERN})"
        )


def _expiry(value: Any, where: str) -> date | None:
    if value is None:
        return None
    if isinstance(value, date) and not hasattr(value, "hour"):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise InputError(f"{where}: 'expires' must be a date such as 2027-03-31")
