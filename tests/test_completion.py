"""Shell completion (initkeys.completion): ``initkeys completion SHELL`` prints click's
own script for bash, zsh and fish, and ``initkeys`` answers the script's questions
(``_INITKEYS_COMPLETE=SHELL_complete``) with commands, options, format names, AWS
profile names (never a secret) and file or folder names, as a real shell asks them:
each round trip runs ``python -m initkeys`` in a subprocess; bash itself sources the
script and runs its completion function."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest
from cli_kit import assert_one_line_error, run, subprocess_env
from fuzz_kit import tried
from hypothesis import given, settings
from hypothesis import strategies as st

from initkeys.cli import cli, main
from initkeys.completion import COMPLETE_VAR, SHELLS, format_completer, path_kind
from initkeys.formats import FORMAT_NAMES
from initkeys.formats.iac import IAC_FORMAT_NAMES

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
KEY_ID = "AKIAIOSFODNN7EXAMPLE"


def _complete(
    words: str,
    *,
    shell: str = "bash",
    env: dict[str, str] | None = None,
    in_process: bool = True,
) -> subprocess.CompletedProcess[str]:
    """What ``initkeys`` answers the ``shell`` script about ``words`` (the last word is the
    one being completed; a trailing space starts a new, empty one): in a subprocess as the
    script runs it, or (``in_process``, 20 times cheaper) through the same entry point in
    this process."""
    parts = words.split(" ")
    if shell == "fish":  # fish hands the word being completed itself
        extra = {"COMP_WORDS": words, "COMP_CWORD": parts[-1]}
    else:
        extra = {"COMP_WORDS": words, "COMP_CWORD": str(len(parts) - 1)}
    extra[COMPLETE_VAR] = f"{shell}_complete"
    extra.update(env or {})
    proc = _in_process(extra) if in_process else run([], env=subprocess_env(**extra))
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == "", proc.stderr
    return proc


def _in_process(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # click writes completions as bytes, to the stream's buffer: a StringIO has none.
    raw, err = io.BytesIO(), io.StringIO()
    out = io.TextIOWrapper(raw, encoding="utf-8")
    saved = dict(os.environ)
    os.environ.update(env)
    code: int | str | None = 0
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            main([])
    except SystemExit as e:
        code = e.code
    finally:
        os.environ.clear()
        os.environ.update(saved)
    out.flush()
    text = raw.getvalue().decode("utf-8")
    return subprocess.CompletedProcess(
        [], code if isinstance(code, int) else 1, text, err.getvalue()
    )


def _bash_items(
    words: str, env: dict[str, str] | None = None, *, in_process: bool = True
) -> list[str]:
    proc = _complete(words, env=env, in_process=in_process)
    return [line for line in proc.stdout.splitlines() if line]


# --- initkeys completion SHELL --------------------------------------------------------


@pytest.mark.parametrize("shell", SHELLS)
def test_completion_prints_clicks_script(shell: str) -> None:
    proc = run(["completion", shell])
    assert proc.returncode == 0, proc.stderr
    assert COMPLETE_VAR in proc.stdout and "_initkeys_completion" in proc.stdout
    # Exactly what click's own variable prints.
    source = run([], env=subprocess_env(**{COMPLETE_VAR: f"{shell}_source"}))
    assert source.returncode == 0 and source.stdout == proc.stdout


def test_completion_takes_the_shell_from_SHELL() -> None:
    proc = run(["completion"], env=subprocess_env(SHELL="/usr/bin/zsh"))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("#compdef initkeys\n")


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["completion", "tcsh"], {}, "'tcsh' is not one of 'bash', 'zsh', 'fish'"),
        (["completion"], {"SHELL": "/bin/tcsh"}, "say which shell"),
        (["completion"], {"SHELL": ""}, "($SHELL is 'not set')"),
        (["completion", "bash", "zsh"], {}, "unexpected extra argument"),
    ],
)
def test_completion_refuses_other_shells(
    args: list[str], env: dict[str, str], message: str
) -> None:
    proc = run(args, env=subprocess_env(**env))
    line = assert_one_line_error(proc, 2)
    assert message in line
    assert proc.stdout == ""


# --- the round trips ------------------------------------------------------------------


def test_a_real_round_trip(tmp_path: Path) -> None:
    """As the shell runs it: ``initkeys`` in its own process, the words in the environment."""
    assert _bash_items("initkeys rem", in_process=False) == ["plain,remediate"]
    assert _bash_items("initkeys audit --fo", in_process=False) == ["plain,--format"]
    assert _bash_items("initkeys audit --format ", in_process=False) == [
        f"plain,{n}" for n in FORMAT_NAMES
    ]
    config = tmp_path / "config"
    config.write_text("[default]\nregion = eu-west-1\n[profile dev]\n", encoding="utf-8")
    env = {"AWS_CONFIG_FILE": str(config), "AWS_SHARED_CREDENTIALS_FILE": os.devnull}
    assert _bash_items("initkeys audit --profile ", env, in_process=False) == [
        "plain,default",
        "plain,dev",
    ]


def test_commands_complete() -> None:
    assert _bash_items("initkeys rem") == ["plain,remediate"]
    assert _bash_items("initkeys r") == ["plain,remediate", "plain,rollback"]
    assert "plain,completion" in _bash_items("initkeys ")
    assert _bash_items("initkeys guard si") == ["plain,simulate"]


def test_options_and_format_names_complete() -> None:
    assert _bash_items("initkeys audit --fo") == ["plain,--format"]
    assert _bash_items("initkeys audit --format ") == [f"plain,{n}" for n in FORMAT_NAMES]
    assert _bash_items("initkeys iac --format ") == [f"plain,{n}" for n in IAC_FORMAT_NAMES]
    # After a comma: the rest of the list, without the names already given.
    assert _bash_items("initkeys audit --format json,s") == ["plain,json,sarif"]
    assert "plain,json,json" not in _bash_items("initkeys audit --format json,")
    # A click Choice completes as click does (this one is case-insensitive: click 8.5 offers
    # its value in lower case, which the option takes).
    assert [i.lower() for i in _bash_items("initkeys audit --fail-on W")] == ["plain,warning"]
    assert _bash_items("initkeys completion z") == ["plain,zsh"]


def test_file_and_folder_options_complete_names() -> None:
    # click completes nothing for a plain string: the shell is told to offer file names.
    assert _bash_items("initkeys rollback --journal jour") == ["file,jour"]
    assert _bash_items("initkeys remediate --from-audit ") == ["file,"]
    assert _bash_items("initkeys audit --credential-report rep") == ["file,rep"]
    assert _bash_items("initkeys iac ") == ["file,"]
    assert _bash_items("initkeys guard simulate ev") == ["file,ev"]
    assert _bash_items("initkeys iac -o ") == ["file,"]
    assert _bash_items("initkeys iac --output-dir rep") == ["dir,rep"]
    assert _bash_items("initkeys remediate --journal-dir ") == ["dir,"]
    # Not a file: nothing.
    assert _bash_items("initkeys audit --role-name ") == []


def test_profiles_complete_from_the_aws_files_and_never_a_secret(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.write_text(
        "[default]\nregion = eu-west-1\n"
        "[profile dev]\nregion = eu-west-1\n"
        "[profile prod-admin]\nrole_arn = arn:aws:iam::111122223333:role/Admin\n"
        "source_profile = dev\n"
        "[sso-session corp]\nsso_start_url = https://example.awsapps.com/start\n",
        encoding="utf-8",
    )
    credentials = tmp_path / "credentials"
    credentials.write_text(
        f"[ci]\naws_access_key_id = {KEY_ID}\naws_secret_access_key = {SECRET}\n",
        encoding="utf-8",
    )
    env = {"AWS_CONFIG_FILE": str(config), "AWS_SHARED_CREDENTIALS_FILE": str(credentials)}
    proc = _complete("initkeys audit --profile ", env=env)
    assert proc.stdout.splitlines() == [
        "plain,ci",
        "plain,default",
        "plain,dev",
        "plain,prod-admin",
    ]
    assert SECRET not in proc.stdout and KEY_ID not in proc.stdout
    assert _bash_items("initkeys remediate --profile pr", env=env) == ["plain,prod-admin"]
    assert _bash_items("initkeys guard simulate e.json --profile c", env=env) == ["plain,ci"]
    # No files: no names, and no error in the middle of the command line.
    missing = {"AWS_CONFIG_FILE": str(tmp_path / "none"), "AWS_SHARED_CREDENTIALS_FILE": ""}
    assert _bash_items("initkeys audit --profile ", env=missing) == []


def test_a_broken_aws_config_completes_nothing_quietly(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.write_text("[profile dev\nregion = x\n  bad continuation\n", encoding="utf-8")
    proc = _complete(
        "initkeys audit --profile ",
        env={"AWS_CONFIG_FILE": str(config), "AWS_SHARED_CREDENTIALS_FILE": os.devnull},
    )
    assert proc.stdout.strip() == ""


def test_zsh_and_fish_answers() -> None:
    zsh = _complete("initkeys rem", shell="zsh").stdout.splitlines()
    assert zsh[:2] == ["plain", "remediate"] and len(zsh) == 3  # type, value, help
    fish = _complete("initkeys rem", shell="fish").stdout.splitlines()
    assert len(fish) == 1 and fish[0].startswith("plain,remediate\t")
    assert _complete("initkeys iac --output-dir ", shell="zsh").stdout.splitlines()[0] == "dir"
    assert _complete("initkeys audit --format json,c", shell="fish").stdout.splitlines() == [
        "plain,json,csv"
    ]


# --- in a real bash -------------------------------------------------------------------


@pytest.fixture
def initkeys_on_path(tmp_path: Path) -> dict[str, str]:
    """An environment whose PATH has an ``initkeys`` (this checkout's), as installed."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "initkeys"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m initkeys "$@"\n', encoding="utf-8")
    shim.chmod(0o755)
    env = subprocess_env()
    env["PATH"] = os.pathsep.join([str(bin_dir), env.get("PATH", "")])
    return env


def _bash(script: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("bash is not installed")
    return subprocess.run(
        [bash, "--norc", "--noprofile", "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_bash_registers_and_runs_the_completion(initkeys_on_path: dict[str, str]) -> None:
    proc = _bash(
        'eval "$(initkeys completion bash)"\n'
        "complete -p initkeys\n"
        "COMP_WORDS=(initkeys rem); COMP_CWORD=1\n"
        '_initkeys_completion initkeys; echo "reply: ${COMPREPLY[*]}"\n'
        "COMPREPLY=(); COMP_WORDS=(initkeys audit --format json,sa); COMP_CWORD=3\n"
        '_initkeys_completion initkeys; echo "reply: ${COMPREPLY[*]}"\n',
        initkeys_on_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        "complete -o nosort -F _initkeys_completion initkeys",
        "reply: remediate",
        "reply: json,sarif",
    ], proc.stderr


# --- which parameters complete file names ---------------------------------------------


def _params(command: click.Command, ctx: click.Context) -> list[tuple[str, click.Parameter]]:
    found = [(command.name or "", p) for p in command.params]
    if isinstance(command, click.Group):
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            assert sub is not None
            found += [(f"{command.name} {n}", p) for n, p in _params(sub, ctx)]
    return found


def test_every_file_option_completes_file_names() -> None:
    with click.Context(cli) as ctx:
        kinds = {
            (where.split(" ", 1)[-1], p.opts[0]): path_kind(p) for where, p in _params(cli, ctx)
        }
    for where, option in [
        ("audit", "--credential-report"),
        ("audit", "--output"),
        ("audit", "--config"),
        ("remediate", "--from-audit"),
        ("remediate", "--journal"),
        ("remediate", "--plan-out"),
        ("rollback", "--journal"),
        ("guard simulate", "event_path"),
        ("guard simulate", "--journal"),
        ("guard package", "out"),
        ("iac", "paths"),
    ]:
        assert kinds[(where, option)] == "file", (where, option)
    assert kinds[("audit", "--output-dir")] == "dir"
    assert kinds[("remediate", "--journal-dir")] == "dir"
    for where, option in [("audit", "--role-name"), ("audit", "--profile"), ("iac", "--format")]:
        assert kinds[(where, option)] is None


def test_format_names_after_commas() -> None:
    complete = format_completer(("text", "json", "sarif", "csv"))
    with click.Context(cli) as ctx:
        param = click.Option(["--format"])

        def values(incomplete: str) -> list[str]:
            return [item.value for item in complete(ctx, param, incomplete)]

        assert values("") == ["text", "json", "sarif", "csv"]
        assert values("s") == ["sarif"]
        assert values("json,") == ["json,text", "json,sarif", "json,csv"]
        assert values("json,sarif,c") == ["json,sarif,csv"]
        assert values("nope") == []


# --- a fuzzer over the words typed ----------------------------------------------------

_WORDS = [
    *("audit", "remediate", "rollback", "guard", "simulate", "package", "iac", "policy"),
    *("completion", "bash", "--format", "json,", "--profile", "--journal", "--demo"),
    *("--setup-window", "0s", "--fail-on", "-o", "--output-dir", "--", "-", "=", "'", '"'),
    *("--org", "--accounts", "@x", "--mode", "cis", "--help", "-h", "\\", "x" * 300),
]


@settings(max_examples=150, deadline=None, derandomize=True)
@given(
    words=st.lists(st.one_of(st.sampled_from(_WORDS), st.text(max_size=8)), max_size=6),
    shell=st.sampled_from(SHELLS),
    cword=st.integers(-2, 8),
)
def test_fuzz_completion_never_breaks_the_command_line(
    words: list[str], shell: str, cword: int
) -> None:
    """Whatever is typed, the answer is a completion list: exit 0, nothing on stderr
    (it would land in the middle of the user's command line), never a traceback."""
    tried("completion-words")
    typed = " ".join(["initkeys", *words]).replace("\x00", "")
    env = {
        COMPLETE_VAR: f"{shell}_complete",
        "COMP_WORDS": typed,
        "COMP_CWORD": words[-1].replace("\x00", "") if shell == "fish" and words else str(cword),
        "AWS_CONFIG_FILE": os.devnull,
    }
    proc = _in_process(env)
    assert proc.returncode == 0, (typed, proc.stderr)
    assert proc.stderr == "", (typed, proc.stderr)
