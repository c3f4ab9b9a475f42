"""The guard's Lambda code: a zip of the ``initkeys`` package, for ``deploy/guard.yaml``.

The Lambda Python runtime provides boto3; initkeys needs nothing else there. The
zip holds the package's Python files less the modules that need click, rich or
moto (the command line, the demo emulator): the runtime has none of them, and
leaving them out proves the handler does not need them. The HTML report is left
out too: it reads package data files (its style and script) the zip does not
carry, and the handler writes no report. The zip is
reproducible: the same code gives the same bytes (sorted entries, fixed times),
so its S3 key can be its hash and a redeploy changes nothing when nothing changed.
"""

from __future__ import annotations

import hashlib
import os
import zipfile
from pathlib import Path

from initkeys.config import CONFIG_FILE, read_config
from initkeys.errors import InputError

HANDLER = "initkeys.guard.lambda_handler.handler"

# Modules (relative to the package) that import click, rich or moto, the HTML report,
# which reads package data files, and infrastructure-as-code scanning (PyYAML, not
# in the Lambda runtime, and never used by the guard, nor its sample tree demo_iac/).
EXCLUDED = frozenset(
    {
        "__main__.py",
        "cli.py",
        "completion.py",
        "cli_common.py",
        "cli_options.py",
        "remediate/cli.py",
        "guard/cli.py",
        "iac_cli.py",
        "app/iac.py",
        "evaluate/iac.py",
        "formats/text.py",
        "formats/html.py",
    }
)
EXCLUDED_DIRECTORIES = ("demo/", "demo_iac/", "sources/iac/", "formats/iac/")

# Zip's earliest time: a fixed one makes the archive depend on the code only.
_EPOCH = (1980, 1, 1, 0, 0, 0)


def package_files(root: Path | None = None) -> list[tuple[str, Path]]:
    """(name in the zip, file) for every module the Lambda function ships, sorted."""
    package = root or Path(__file__).resolve().parent.parent
    files: list[tuple[str, Path]] = []
    for path in package.rglob("*.py"):
        relative = path.relative_to(package).as_posix()
        if relative in EXCLUDED or relative.startswith(EXCLUDED_DIRECTORIES):
            continue
        files.append((f"initkeys/{relative}", path))
    return sorted(files)


def build_package(out: str, config_path: str | None = None) -> str:
    """Write the Lambda code zip to ``out``; returns its SHA-256 (hex).

    ``config_path``: an ``initkeys.toml`` whose exemptions the function honours;
    it is checked here, so a bad file fails now, not in Lambda.
    """
    entries = [(name, path.read_bytes()) for name, path in package_files()]
    if config_path is not None:
        read_config(config_path)
        entries.append((CONFIG_FILE, Path(config_path).read_bytes()))
    directory = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(directory):
        raise InputError(f"cannot write {out}: no directory {directory}")
    tmp = out + ".tmp"
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name, data in entries:
                info = zipfile.ZipInfo(name, date_time=_EPOCH)
                info.external_attr = 0o644 << 16  # readable by the Lambda runtime's user
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, data)
        os.replace(tmp, out)
    except OSError as e:
        raise InputError(f"cannot write {out}: {e.strerror}") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return hashlib.sha256(Path(out).read_bytes()).hexdigest()
