#!/usr/bin/env bash
# The "Run initkeys" step of action.yml (tests/test_iac_ecosystem.py runs it locally).
#
# Runs `initkeys iac PATHS...` or `initkeys audit` with SARIF and Markdown written to a
# scratch folder, moves the SARIF to INITKEYS_SARIF_FILE, appends the Markdown to the job
# summary, and sets the outputs exit-code and sarif-file. Inputs arrive as environment
# variables: INITKEYS_COMMAND, INITKEYS_PATHS, INITKEYS_ARGS, INITKEYS_SARIF_FILE,
# INITKEYS_FAIL_ON_FINDINGS; GitHub's own GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, RUNNER_TEMP.
set -euo pipefail

command="${INITKEYS_COMMAND:-iac}"
case "$command" in
  iac | audit) ;;
  *)
    echo "::error::initkeys action: command must be 'iac' or 'audit', not '$command'" >&2
    exit 2
    ;;
esac
sarif="${INITKEYS_SARIF_FILE:-initkeys.sarif}"
fail_on_findings="${INITKEYS_FAIL_ON_FINDINGS:-true}"
case "$fail_on_findings" in
  true | false) ;;
  *)
    echo "::error::initkeys action: fail-on-findings must be 'true' or 'false'" >&2
    exit 2
    ;;
esac

# Split paths and args on white space (spaces, tabs, new lines) only: nothing is globbed
# or expanded, so a '*' or '$(...)' in them stays as typed.
read -r -d '' -a extra <<<"${INITKEYS_ARGS:-}" || true
argv=(initkeys "$command" ${extra[@]+"${extra[@]}"})
if [ "$command" = iac ]; then
  read -r -d '' -a paths <<<"${INITKEYS_PATHS:-.}" || true
  [ "${#paths[@]}" -gt 0 ] || paths=(.)
fi

out_dir="$(mktemp -d "${RUNNER_TEMP:-${TMPDIR:-/tmp}}/initkeys.XXXXXX")"
argv+=(--format sarif,markdown --output-dir "$out_dir")
# '--': a path that starts with '-' is a path, not an option.
[ "$command" = iac ] && argv+=(-- "${paths[@]}")

status=0
"${argv[@]}" || status=$?

written=""
for report in "$out_dir"/*.sarif; do
  [ -f "$report" ] || continue
  mkdir -p -- "$(dirname -- "$sarif")"
  mv -- "$report" "$sarif"
  written="$sarif"
done
for summary in "$out_dir"/*.md; do
  [ -f "$summary" ] || continue
  cat -- "$summary"
  if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
    cat -- "$summary" >>"$GITHUB_STEP_SUMMARY"
  fi
done
rm -rf -- "$out_dir"

if [ -n "${GITHUB_OUTPUT:-}" ]; then
  {
    echo "exit-code=$status"
    echo "sarif-file=$written"
  } >>"$GITHUB_OUTPUT"
fi

if [ "$status" -eq 1 ] && [ "$fail_on_findings" = false ]; then
  echo "initkeys exited 1 (findings); fail-on-findings is false, so the step passes"
  exit 0
fi
exit "$status"
