"""``--format html``: one self-contained page an auditor can file or print to PDF.

The page holds the control's metadata, a summary with an inline SVG chart of
verdicts per account, the scope and time of the audit, and a findings table
with the evidence that a small inline script makes sortable. The table is
plain HTML: it reads and prints the same without the script. A run that is
incomplete (an account not audited, a finding ERROR) says so in the title,
the masthead and a banner above the counts.

Self-contained means the page loads nothing: no fonts, images, styles or
scripts from anywhere. Its Content-Security-Policy (``default-src 'none'``,
the inline style and script allowed by their SHA-256 hashes) makes the browser
refuse any load, so even a crafted value that slipped through escaping could
neither run nor reach the network. The style and script are package files
(``static/report.css`` and ``static/report.js``) written into the page.

Every text that is not ours (user names, ARNs, account names, file names,
messages, exemption reasons) goes through :func:`_text`: HTML-escaped,
control characters and bidi overrides shown as visible escapes (as in the
text report), and anything outside ASCII written as a character reference,
so the file is pure ASCII and survives any output encoding.

With ``--cloudtrail`` (any finding has evidence, or a note on why it has none)
the table gets a "Created by" column: the creator's ARN, how and from where, or
"not found" and why. Without it the page is what it always was.

Large runs: every FAIL, ERROR and WARNING finding is listed; PASS and
NOT_APPLICABLE findings are counted, and listed only up to
:attr:`HtmlFormatter.passing_limit` (the JSON and CSV reports list them
all). The page is written row by row as findings are iterated, never built
in memory.
"""

from __future__ import annotations

import base64
import hashlib
import html
from collections.abc import Iterable, Iterator
from importlib import resources
from typing import TextIO

from initkeys.control import CONTROL
from initkeys.formats import (
    CREATOR_COLUMN,
    EVIDENCE_COLUMNS,
    LISTED,
    Formatter,
    finding_views,
    identified_findings,
    incomplete_note,
    key_label,
    looked_up,
    status_label,
    unsafe_pattern,
    visible_escape,
)
from initkeys.humanize import describe_duration, describe_gap, describe_window
from initkeys.model import STATUS_ORDER, AccountAudit, AuditRun, FindingView, Mode, Status
from initkeys.timeutil import format_utc

_CLASS = {status: status.value.lower().replace("_", "-") for status in Status}
# Status sort keys: ascending puts the worst first.
_SORT = {status: index for index, status in enumerate(STATUS_ORDER)}

_MODE_TEXT = {
    Mode.SETUP: "setup: the control's intent; keys created with the user fail",
    Mode.CIS: "cis: the benchmark's literal audit; any active, never-used key fails",
}

_REFERENCE_NAMES = {
    "800-53": "NIST SP 800-53",
    "CSCv6": "CIS Controls v6",
    "CSCv7": "CIS Controls v7",
    "CSCv8": "CIS Controls v8",
}

# Characters shown as escapes rather than written: those of every format
# (controls, separators, bidi), and lone surrogates and noncharacters.
_UNSAFE = unsafe_pattern(
    "\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff"
    + "".join(f"{chr(plane << 16 | 0xFFFE)}{chr(plane << 16 | 0xFFFF)}" for plane in range(1, 17))
)

_CHART_WIDTH = 940
_CHART_LABEL = 230
_CHART_BAR = 400
_CHART_ROW = 26
_CHART_MIN_SEGMENT = 3


def _static(name: str) -> str:
    """A file of the page shipped in ``static/`` beside this module, as text.

    Universal newlines: a checkout with CRLF endings still writes the same page,
    with the same CSP hashes.
    """
    return (resources.files("initkeys.formats") / "static" / name).read_text(encoding="utf-8")


# Each starts on a new line after its tag (``<style>\n``): the newline is part of
# the text the CSP hashes.
_CSS = "\n" + _static("report.css")
_SCRIPT = "\n" + _static("report.js")


def _csp_hash(source: str) -> str:
    digest = hashlib.sha256(source.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


CONTENT_SECURITY_POLICY = (
    "default-src 'none'; "
    f"style-src {_csp_hash(_CSS)}; "
    f"script-src {_csp_hash(_SCRIPT)}; "
    "base-uri 'none'; form-action 'none'"
)

_COLUMNS = ("ID", "Account", "User", "Key", "Status", *EVIDENCE_COLUMNS, "Exemption", "Message")
_CREATOR_AT = _COLUMNS.index("Password created") + 1  # where --cloudtrail adds its column
_NUMERIC = frozenset({"Status", "Gap"})  # sorted by their data-sort numbers
_RIGHT = frozenset({"Gap"})


class HtmlFormatter(Formatter):
    name = "html"

    def __init__(self, *, passing_limit: int = 1000, chart_limit: int = 20) -> None:
        self.passing_limit = passing_limit
        """PASS and NOT_APPLICABLE findings listed at most (all are counted)."""
        self.chart_limit = chart_limit
        """Accounts drawn in the chart at most: the worst ones."""

    def write(self, run: AuditRun, out: TextIO, tool_version: str) -> None:
        counts = run.counts()
        # A "Created by" column when CloudTrail was read (--cloudtrail) for any finding.
        trail = any(looked_up(f) for account in run.accounts for f in finding_views(account))
        write = out.write
        write(_head(run, tool_version))
        write('<main class="page">\n')
        _summary(out, run, counts, self.chart_limit)
        write(_control())
        _scope(out, run)
        self._findings(out, run, counts, trail)
        write(_footer(tool_version))

    def _findings(self, out: TextIO, run: AuditRun, counts: dict[Status, int], trail: bool) -> None:
        write = out.write
        write('<section id="findings">\n<h2>Findings</h2>\n')
        passing = counts[Status.PASS] + counts[Status.NOT_APPLICABLE]
        shown = min(passing, self.passing_limit)
        listed = sum(counts[s] for s in LISTED) + shown
        not_audited = sum(1 for a in run.accounts if a.error is not None)
        write(
            f'<p class="note" id="findings-note">{listed:,} of {sum(counts.values()):,} findings '
            "listed: every FAIL, ERROR and WARNING finding, then "
        )
        if shown == passing:
            write("every PASS and NOT_APPLICABLE finding.")
        else:
            write(
                f"the first {shown:,} PASS and NOT_APPLICABLE findings; the other "
                f"{passing - shown:,} are counted in the summary but not listed here "
                "(<code>--format json</code> or <code>csv</code> lists every finding)."
            )
        if not_audited:
            write(f" {not_audited:,} account(s) that could not be audited have one ERROR row each.")
        write(' <span class="screen-only">Click a column heading to sort.</span></p>\n')
        write('<table id="findings-table" class="findings">\n<thead><tr>')
        columns = list(_COLUMNS)
        if trail:
            columns.insert(_CREATOR_AT, CREATOR_COLUMN)
        for heading in columns:
            attributes = (' class="num"' if heading in _RIGHT else "") + (
                ' data-type="number"' if heading in _NUMERIC else ""
            )
            write(f'<th scope="col"{attributes}>{heading}</th>')
        write("</tr></thead>\n<tbody>\n")
        # One pass: FAIL, ERROR and WARNING rows are written as they come; the
        # first passing ones are kept (at most ``shown``) and written after them.
        passing_rows: list[tuple[AccountAudit, FindingView, str]] = []
        for account in run.accounts:
            if account.error is not None:
                write(_error_row(account, trail))
                continue
            for finding_id, finding in identified_findings(account):
                if finding.status in LISTED:
                    write(_finding_row(account, finding, finding_id, trail))
                elif len(passing_rows) < shown:
                    passing_rows.append((account, finding, finding_id))
        for account, finding, finding_id in passing_rows:
            write(_finding_row(account, finding, finding_id, trail))
        write("</tbody>\n</table>\n</section>\n")


# --------------------------------------------------------------------------- escaping


def _text(value: str) -> str:
    """``value`` as inert HTML text, also safe inside a quoted attribute."""
    if _UNSAFE.search(value):
        value = _UNSAFE.sub(visible_escape, value)
    value = html.escape(value, quote=True)
    if value.isascii():
        return value
    return value.encode("ascii", "xmlcharrefreplace").decode("ascii")


# --------------------------------------------------------------------------- head and header


def _head(run: AuditRun, tool_version: str) -> str:
    result = run.status
    generated = format_utc(run.generated_at) or "-"
    incomplete = ", INCOMPLETE" if run.incomplete() else ""
    title = f"CIS AWS {CONTROL.id} audit: {result.value}{incomplete} ({generated})"
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">\n'
        '<meta name="referrer" content="no-referrer">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta name="generator" content="initkeys {_text(tool_version)}">\n'
        f"<title>{_text(title)}</title>\n"
        f"<style>{_CSS}</style>\n"
        "</head>\n<body>\n"
        '<header class="masthead"><div class="page">\n'
        '<p class="eyebrow">CIS Amazon Web Services Foundations Benchmark &middot; '
        f"Recommendation {CONTROL.id} &middot; initkeys audit report</p>\n"
        f"<h1>{_text(CONTROL.title)}</h1>\n"
        '<p class="byline">'
        f"<span>Result {_badge(result)}"
        f"{' (incomplete)' if run.incomplete() else ''}</span>"
        f'<span>Generated <time datetime="{generated}">{generated}</time></span>'
        f"<span>Mode {run.settings.mode.value}</span>"
        f"<span>Setup window {describe_duration(run.settings.setup_window)}</span>"
        f"<span>initkeys {_text(tool_version)}</span>"
        "</p>\n</div></header>\n"
    )


# --------------------------------------------------------------------------- summary


def _summary(out: TextIO, run: AuditRun, counts: dict[Status, int], chart_limit: int) -> None:
    write = out.write
    result = run.status
    exempt = run.exempt
    write('<section id="summary">\n<h2>Summary</h2>\n')
    note = incomplete_note(run)
    if note is not None:  # before the counts: what was not seen is not a pass
        write(f'<p class="incomplete" id="incomplete" role="alert">{_text(note)}</p>\n')
    write('<div class="cards">\n')
    write(
        f'<div class="card result {_CLASS[result]}"><span class="label">RESULT</span>'
        f'<span class="n" id="result">{result.value}</span></div>\n'
    )
    for status in STATUS_ORDER:
        write(
            f'<div class="card {_CLASS[status]}"><span class="label">{status.value}</span>'
            f'<span class="n" id="count-{status.value}">{counts[status]:,}</span></div>\n'
        )
    write("</div>\n")
    accounts = len(run.accounts)
    failed = sum(1 for a in run.accounts if a.error is not None)
    if not accounts:
        line = "No accounts were audited."
    else:
        line = f"{accounts:,} account(s): {accounts - failed:,} audited"
        line += f", {failed:,} could not be audited." if failed else "."
    line += f" {sum(counts.values()):,} findings, one or more per IAM user."
    if exempt:
        line += (
            f" {exempt:,} finding(s) are exempt: they keep their status but do not count for "
            "the exit code and are never remediated."
        )
    write(f'<p id="accounts-line">{line}</p>\n')
    if accounts:
        write(_chart(run, chart_limit))
    write("</section>\n")


def _chart(run: AuditRun, limit: int) -> str:
    """Stacked bars of each account's findings per status, the worst accounts first."""
    ranked = sorted(
        ((account, account.counts()) for account in run.accounts),
        key=lambda pair: (
            -pair[0].status.rank,
            *(-pair[1][s] for s in (Status.FAIL, Status.ERROR, Status.WARNING)),
            pair[0].account_id,
        ),
    )
    drawn = ranked[:limit]
    legend_y = 16
    top = 34
    height = top + _CHART_ROW * len(drawn) + 4
    parts = [
        f'<figure id="chart"><svg xmlns="http://www.w3.org/2000/svg" role="img" '
        f'viewBox="0 0 {_CHART_WIDTH} {height}" width="{_CHART_WIDTH}" height="{height}" '
        'aria-labelledby="chart-title" font-family="system-ui, sans-serif" font-size="12">'
        '<title id="chart-title">Findings per account and status</title>'
    ]
    x = _CHART_LABEL
    for status in STATUS_ORDER:
        label = status_label(status)
        parts.append(
            f'<rect x="{x}" y="{legend_y - 10}" width="11" height="11" rx="2" '
            f'fill="{_FILL[status]}"/><text x="{x + 16}" y="{legend_y}" fill="#5b6578">'
            f"{label}</text>"
        )
        x += 30 + 8 * len(label)
    for row, (account, account_count) in enumerate(drawn):
        parts.append(_chart_row(account, account_count, top + row * _CHART_ROW))
    parts.append("</svg>\n<figcaption>")
    parts.append(
        "Findings of each account by status, worst accounts first; "
        "each bar is one account's findings (100%), the numbers are counts."
    )
    if len(ranked) > len(drawn):
        parts.append(
            f" Only the {len(drawn):,} accounts with the most severe results are drawn, of "
            f'{len(ranked):,}; the <a href="#scope">scope</a> lists every account.'
        )
    parts.append("</figcaption></figure>\n")
    return "".join(parts)


_FILL = {
    Status.FAIL: "#d9382c",
    Status.ERROR: "#9b4dbb",
    Status.WARNING: "#f29a1f",
    Status.PASS: "#2f9e66",
    Status.NOT_APPLICABLE: "#aab1be",
}


def _chart_row(account: AccountAudit, counts: dict[Status, int], y: int) -> str:
    name = account.account_id
    if account.account_name:
        short = account.account_name
        name += " " + (short if len(short) <= 14 else short[:13] + "\u2026")
    label = (
        f'<text x="{_CHART_LABEL - 10}" y="{y + 14}" text-anchor="end" fill="#1d2433">'
        f"{_text(name)}<title>{_text(account.account_id)}</title></text>"
    )
    x0 = _CHART_LABEL
    note_x = x0 + _CHART_BAR + 10
    if account.error is not None:
        return (
            f'{label}<rect x="{x0}" y="{y + 3}" width="{_CHART_BAR}" height="16" rx="2" '
            f'fill="{_FILL[Status.ERROR]}" fill-opacity="0.25" stroke="{_FILL[Status.ERROR]}"/>'
            f'<text x="{note_x}" y="{y + 14}" fill="#8b3aa8">could not be audited</text>'
        )
    total = sum(counts.values())
    if not total:
        return (
            f'{label}<rect x="{x0}" y="{y + 3}" width="{_CHART_BAR}" height="16" rx="2" '
            'fill="none" stroke="#d9dee7"/>'
            f'<text x="{note_x}" y="{y + 14}" fill="#5b6578">no findings</text>'
        )
    parts = [label]
    x = float(x0)
    for status, width in _segments(counts, total):
        parts.append(
            f'<rect x="{x:.1f}" y="{y + 3}" width="{width:.1f}" height="16" '
            f'fill="{_FILL[status]}"><title>{_text(account.account_id)}: {status.value} '
            f"{counts[status]:,} of {total:,}</title></rect>"
        )
        x += width
    summary = " \u00b7 ".join(f"{status_label(s)} {counts[s]:,}" for s in STATUS_ORDER if counts[s])
    parts.append(f'<text x="{note_x}" y="{y + 14}" fill="#5b6578">{_text(summary)}</text>')
    return "".join(parts)


def _segments(counts: dict[Status, int], total: int) -> Iterator[tuple[Status, float]]:
    """Widths of the bar's segments: proportional, but no present status thinner than a sliver."""
    present = [s for s in STATUS_ORDER if counts[s]]
    widths = {s: max(_CHART_MIN_SEGMENT, _CHART_BAR * counts[s] / total) for s in present}
    excess = sum(widths.values()) - _CHART_BAR
    if excess > 0:
        room = sum(w - _CHART_MIN_SEGMENT for w in widths.values())
        for s in present:
            widths[s] -= excess * (widths[s] - _CHART_MIN_SEGMENT) / room
    for s in present:
        yield s, widths[s]


# --------------------------------------------------------------------------- control


def _control() -> str:
    references = "".join(f"<li>{_text(line)}</li>" for line in _references(CONTROL.references))
    see_also = _text(CONTROL.see_also)
    rows = (
        ("Recommendation", f"CIS AWS Foundations {CONTROL.id}"),
        ("Title", _text(CONTROL.title)),
        ("Information", _text(CONTROL.information)),
        ("Rationale", _text(CONTROL.rationale)),
        ("Solution", _text(CONTROL.solution)),
        ("Category", _text(CONTROL.category)),
        ("References", f"<ul>{references}</ul>"),
        ("Control ID", f'<span class="mono">{_text(CONTROL.control_id)}</span>'),
        ("Numbering", _text(CONTROL.numbering)),
        ("See also", f'<a href="{see_also}" rel="noreferrer noopener">{see_also}</a>'),
    )
    return (
        '<section id="control">\n<h2>Control</h2>\n<dl class="facts">\n'
        + "".join(f"<dt>{label}</dt><dd>{value}</dd>\n" for label, value in rows)
        + "</dl>\n</section>\n"
    )


def _references(references: Iterable[str]) -> list[str]:
    """``800-53|AC-3``… grouped by framework: ``NIST SP 800-53: AC-3, AC-6(2)``."""
    grouped: dict[str, list[str]] = {}
    for reference in references:
        framework, _, item = reference.partition("|")
        grouped.setdefault(_REFERENCE_NAMES.get(framework, framework), []).append(item)
    return [f"{framework}: {', '.join(items)}" for framework, items in grouped.items()]


# --------------------------------------------------------------------------- scope


def _scope(out: TextIO, run: AuditRun) -> None:
    write = out.write
    settings = run.settings
    generated = format_utc(run.generated_at) or "-"
    sources = sorted({a.source for a in run.accounts})
    source_items = "".join(
        f"<li>{'live audit (AWS API)' if s == 'aws' else _text(s)}</li>" for s in sources
    )
    window = settings.setup_window
    facts = (
        ("Audit started", f'<time datetime="{generated}">{generated}</time> (UTC)'),
        ("Mode", _MODE_TEXT.get(settings.mode, settings.mode.value)),
        (
            "Setup window",
            f"{describe_window(window)}: a key created "
            "within this time of its user (60s of clock skew allowed) is a setup key",
        ),
        ("Fails the run at", f"{settings.fail_on.value} and above (exempt findings excepted)"),
        ("Sources", f"<ul>{source_items}</ul>" if sources else "none"),
    )
    write('<section id="scope">\n<h2>Scope and time</h2>\n<dl class="facts">\n')
    for label, value in facts:
        write(f"<dt>{label}</dt><dd>{value}</dd>\n")
    write("</dl>\n")
    if not run.accounts:
        write('<p class="note">No accounts were audited.</p>\n</section>\n')
        return
    write(
        "<h3>Accounts</h3>\n"
        '<table id="accounts-table" class="accounts">\n<thead><tr>'
        '<th scope="col">Account</th><th scope="col">Partition</th><th scope="col">Source</th>'
        '<th scope="col">Credential report</th><th scope="col">Status</th>'
    )
    for status in STATUS_ORDER:
        write(f'<th scope="col" class="num">{status_label(status)}</th>')
    write('<th scope="col">Note</th></tr></thead>\n<tbody>\n')
    for account in run.accounts:
        write(_account_row(account))
    write("</tbody>\n</table>\n")
    errors = [a for a in run.accounts if a.error is not None]
    if errors:
        write('<h3 id="not-audited">Could not be audited</h3>\n<ul>\n')
        for account in errors:
            account_id, error = _text(account.account_id), _text(account.error or "")
            write(f"<li><strong>{account_id}</strong>: {error}</li>\n")
        write("</ul>\n")
    write("</section>\n")


def _account_row(account: AccountAudit) -> str:
    counts = account.counts()
    status = account.status
    cells = [
        _account_cell(account),
        f"<td>{_text(account.partition)}</td>",
        f"<td>{_text(account.source)}</td>",
        _time_cell(format_utc(account.report_generated_at)),
        f"<td>{_badge(status)}</td>",
    ]
    for status in STATUS_ORDER:
        n = counts[status]
        cells.append(f'<td class="num{"" if n else " zero"}">{n:,}</td>')
    note = "could not be audited: " + account.error if account.error is not None else ""
    cells.append(f"<td>{_text(note)}</td>")
    return f'<tr class="{_CLASS[status]}">{"".join(cells)}</tr>\n'


# --------------------------------------------------------------------------- findings


def _finding_row(
    account: AccountAudit, f: FindingView, finding_id: str, trail: bool = False
) -> str:
    # Hot path: one call per listed finding.
    status = f.status
    gap = f.setup_gap
    if gap is None:
        gap_cell = '<td class="num" data-sort="">-</td>'
    else:
        gap_cell = (
            f'<td class="num" data-sort="{int(gap.total_seconds())}">{describe_gap(gap)}</td>'
        )
    if f.last_used_utc is None and f.key_slot is not None:
        last_used = '<td class="time" data-sort="">never</td>'
    else:
        last_used = _time_cell(f.last_used_utc)
    return (
        f'<tr class="{_CLASS[status]}">'
        f"{_id_cell(finding_id)}"
        f"{_account_cell(account)}"
        f'<td class="user" title="{_text(f.arn)}">{_text(f.user)}</td>'
        f"{_key_cell(f)}"
        f'<td class="nowrap" data-sort="{_SORT[status]}">{_badge(status)}'
        f"{_EXEMPT if f.exemption is not None else ''}</td>"
        f'<td class="reason">{f.reason.value}</td>'
        f"{_time_cell(f.user_created_utc)}{_time_cell(f.key_created_utc)}{gap_cell}{last_used}"
        f"{_time_cell(f.password_created_utc)}{_creator_cell(f) if trail else ''}"
        f"{_exemption_cell(f)}"
        f'<td class="message">{_text(f.message)}</td>'
        "</tr>\n"
    )


_EXEMPT = '<span class="sub">exempt</span>'


def _error_row(account: AccountAudit, trail: bool = False) -> str:
    """The one row of an account that could not be audited: it must not drop out of the table."""
    blank = '<td data-sort="">-</td>'
    empty = 7 if trail else 6  # user created … password created, (created by,) exemption
    return (
        f'<tr class="{_CLASS[Status.ERROR]}"><td class="id" data-sort="">-</td>'
        f"{_account_cell(account)}{blank}{blank}"
        f'<td data-sort="{_SORT[Status.ERROR]}">{_badge(Status.ERROR)}</td>'
        f"<td>not audited</td>{blank * empty}"
        f'<td class="message">Could not be audited: {_text(account.error or "")}</td></tr>\n'
    )


def _id_cell(finding_id: str) -> str:
    """The id on three short lines (prefix, then 12 + 12 hex digits): the text stays whole."""
    prefix, _, digits = finding_id.rpartition("-1.11-")
    if not prefix:
        return f'<td class="id">{_text(finding_id)}</td>'
    return (
        f'<td class="id"><span>{prefix}-1.11-</span>'
        f"<span>{digits[:12]}</span><span>{digits[12:]}</span></td>"
    )


def _account_cell(account: AccountAudit) -> str:
    account_id = _text(account.account_id)
    name = account.account_name
    sub = f'<span class="sub">{_text(name)}</span>' if name else ""
    return f'<td class="account" data-sort="{account_id}">{account_id}{sub}</td>'


def _key_cell(f: FindingView) -> str:
    if f.key_slot is None:
        return '<td data-sort="">-</td>'
    label = _text(key_label(f))
    details = [f"slot {f.key_slot}"] if f.access_key_id else []
    if f.active is not None:
        details.append("active" if f.active else "inactive")
    sub = f'<span class="sub">{", ".join(details)}</span>' if details else ""
    return f'<td class="key" data-sort="{label}">{label}{sub}</td>'


def _creator_cell(f: FindingView) -> str:
    """Who made the key (the principal's ARN; how and from where below it), or that
    CloudTrail had no event for it, and why; ``-`` when it was not looked up."""
    if f.created_by is not None:
        by = _text(f.created_by)
        details = " \u00b7 ".join(x for x in (f.created_via, f.created_from) if x)
        sub = f'<span class="sub">{_text(details)}</span>' if details else ""
        return f'<td class="creator" data-sort="{by}">{by}{sub}</td>'
    if f.evidence_note is not None:
        return (
            '<td class="creator" data-sort="">not found'
            f'<span class="sub">{_text(f.evidence_note)}</span></td>'
        )
    return '<td data-sort="">-</td>'


def _exemption_cell(f: FindingView) -> str:
    if f.exemption is not None:
        e = f.exemption
        return (
            f'<td>exempt: {_text(e.reason)}<span class="sub">{_text(e.scope)}; '
            "not counted, never remediated</span></td>"
        )
    if f.expired_exemption is not None:
        e = f.expired_exemption
        ended = e.expires.isoformat() if e.expires else "unknown"
        return (
            f"<td>expired {ended}: {_text(e.reason)}"
            f'<span class="sub">{_text(e.source)}; no longer applies</span></td>'
        )
    return '<td data-sort="">-</td>'


def _time_cell(text: str | None) -> str:
    if text is None:
        return '<td class="time" data-sort="">-</td>'
    date, _, time = text.partition("T")
    return (
        f'<td class="time"><time datetime="{text}"><span>{date}T</span><span>{time}</span>'
        "</time></td>"
    )


def _badge(status: Status) -> str:
    return f'<span class="badge {_CLASS[status]}">{status.value}</span>'


# --------------------------------------------------------------------------- footer


def _footer(tool_version: str) -> str:
    return (
        '<footer class="note">Generated by initkeys '
        f"{_text(tool_version)}. This page is self-contained: it loads nothing from the "
        "network, and its table reads and prints without scripts. Timestamps are UTC "
        "(ISO 8601). Finding ids are stable across runs and formats.</footer>\n"
        "</main>\n"
        f"<script>{_SCRIPT}</script>\n"
        "</body>\n</html>\n"
    )
