"""Find the infrastructure-as-code files under the paths given, hand each to its reader,
and merge what they find into one :class:`~initkeys.sources.iac.records.IacScan`.

- ``.tf`` and ``.tf.json`` files: their folders go, once, to the Terraform reader (which
  decides which folders are roots and which are local modules, and reads the files);
- ``.json``, ``.yaml``, ``.yml`` and ``.template`` files are read here (bounded) and
  sniffed: a plan (``terraform show -json``) or a CloudFormation template goes to its
  reader; anything else is not IaC and is counted as skipped;
- ``.terraform/``, ``.git/``, ``node_modules/`` and CDK's ``cdk.out/asset.*`` are skipped.

A folder is walked without following symbolic links to folders (so a link loop cannot
hang the walk); a linked file is read only when it points inside the folder given.
A file that cannot be read is an unreadable note; a path that does not exist is an
:class:`~initkeys.errors.InputError` before anything is read.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

from initkeys.errors import InputError
from initkeys.inputs import read_text
from initkeys.sources.iac import limits
from initkeys.sources.iac.records import IacNote, IacScan, SourceLine

SKIPPED_FOLDERS = frozenset({".terraform", ".git", "node_modules"})
_SNIFFED = (".json", ".yaml", ".yml", ".template")
_TERRAFORM = (".tf", ".tf.json")

# What makes a file a plan or a template. Sniffing reads text, not a parse: the reader
# parses (bounded) and turns a broken file into a note.
_PLAN_VERSION = re.compile(r'"format_version"\s*:')
_PLAN_BODY = re.compile(r'"(?:planned_values|resource_changes)"\s*:')
_CFN_VERSION = re.compile(r"""^\s*["']?AWSTemplateFormatVersion["']?\s*:""", re.MULTILINE)
# A top-level ``Resources`` mapping (YAML at column 0, or a JSON object) and a resource
# ``Type`` of ``AWS::`` (a YAML key, or a JSON member).
_CFN_RESOURCES = re.compile(r"""^Resources\s*:|"Resources"\s*:\s*\{""", re.MULTILINE)
_CFN_TYPE = re.compile(r"""^\s+["']?Type["']?\s*:\s*["']?AWS::|"Type"\s*:\s*"AWS::""", re.MULTILINE)

TemplateReader = Callable[[str, str], IacScan]
FoldersReader = Callable[[Sequence[Path], Callable[[Path], str]], IacScan]


@dataclass(frozen=True)
class Readers:
    """The three readers; tests may hand their own. Imported when first used, so the
    walker works (and is tested) apart from them."""

    template: TemplateReader | None = None
    plan: TemplateReader | None = None
    terraform: FoldersReader | None = None

    def read_template(self, text: str, shown: str) -> IacScan:
        if self.template is not None:
            return self.template(text, shown)
        return cast(TemplateReader, _reader("cloudformation", "read_template"))(text, shown)

    def read_plan(self, text: str, shown: str) -> IacScan:
        if self.plan is not None:
            return self.plan(text, shown)
        return cast(TemplateReader, _reader("plan", "read_plan"))(text, shown)

    def read_configurations(self, folders: Sequence[Path], shown: Callable[[Path], str]) -> IacScan:
        if self.terraform is not None:
            return self.terraform(folders, shown)
        return cast(FoldersReader, _reader("terraform", "read_configurations"))(folders, shown)


def display_name(name: str) -> str:
    """A file name as text every output can hold: bytes of a name that are not UTF-8
    (which Python keeps as lone surrogates, and no UTF-8 writer accepts) as ``\\udcff``."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return name.encode("utf-8", "backslashreplace").decode("utf-8")
    return name


def _reader(module: str, name: str) -> object:
    """A reader, imported when first needed (each is built and merged on its own)."""
    import importlib

    return getattr(importlib.import_module(f"initkeys.sources.iac.{module}"), name)


def sniff(text: str) -> str | None:
    """``"plan"``, ``"cloudformation"`` or None (not IaC) for a JSON or YAML document."""
    if _PLAN_VERSION.search(text) and _PLAN_BODY.search(text):
        return "plan"
    if _CFN_VERSION.search(text):
        return "cloudformation"
    if _CFN_RESOURCES.search(text) and _CFN_TYPE.search(text):
        return "cloudformation"
    return None


@dataclass
class _Found:
    """What the walk found, before anything is parsed."""

    documents: list[tuple[str, str]] = field(default_factory=list)
    folders: dict[str, None] = field(default_factory=dict)
    notes: list[IacNote] = field(default_factory=list)
    seen: set[tuple[int, int]] = field(default_factory=set)
    files: int = 0


@dataclass(frozen=True)
class _Root:
    """A path as the user typed it, and where it is (absolute, links not resolved)."""

    typed: str
    real: str

    def shown(self, path: str) -> str | None:
        """``path`` (absolute) as the user would write it from here; None when it is not
        under this root. String work: the Terraform reader asks once per file."""
        if path == self.real:
            return self.typed
        prefix = self.real.rstrip(os.sep) + os.sep
        if not path.startswith(prefix):
            return None
        return os.path.join(self.typed, display_name(path[len(prefix) :]))


def scan_paths(
    paths: Sequence[Path | str],
    readers: Readers | None = None,
    *,
    shown_as: Sequence[str] | None = None,
) -> IacScan:
    """Every IaC file under ``paths`` (files or folders), read and merged.

    ``shown_as``: the name to show for each path instead of the path as given (the
    sample tree of ``initkeys iac --demo`` is shown as ``demo``, not where it is
    installed). Raises :class:`InputError` for a path that does not exist; everything
    else that cannot be read is an unreadable note in the scan."""
    readers = readers or Readers()
    names = shown_as if shown_as is not None else [str(p) for p in paths]
    roots = [_root(str(p), name) for p, name in zip(paths, names, strict=True)]
    found = _Found()
    for root in roots:
        _collect(root, found)

    def shown(path: Path) -> str:
        real = os.path.abspath(path)
        for root in roots:
            name = root.shown(real)
            if name is not None:
                return name
        return display_name(os.path.relpath(real))  # a local module outside every path given

    scans: list[IacScan] = []
    skipped = 0
    for path, name in found.documents:
        scan, is_iac = _read_document(path, name, readers)
        scans.append(scan)
        skipped += not is_iac
    if found.folders:
        folders = [Path(folder) for folder in found.folders]
        scans.append(_guarded(lambda: readers.read_configurations(folders, shown)))
    return IacScan(
        resources=tuple(r for s in scans for r in s.resources),
        notes=(*found.notes, *(n for s in scans for n in s.notes)),
        files_read=sum(s.files_read for s in scans),
        skipped=skipped + sum(s.skipped for s in scans),
    )


def _root(typed: str, shown: str) -> _Root:
    if not os.path.lexists(typed):
        raise InputError(f"{shown}: no such file or folder")
    return _Root(display_name(shown), os.path.abspath(typed))


def _collect(root: _Root, found: _Found) -> None:
    """The files of one path given: a file as named (a link the user named is followed),
    a folder walked: a folder's own files in name order, then its subfolders, depth
    first. Plain strings, not pathlib, on this path: a tree may hold 100,000 files."""
    try:
        mode = os.stat(root.real).st_mode
    except OSError as e:
        found.notes.append(_unreadable(root.typed, f"{e.strerror or e}"))
        return
    if not stat.S_ISDIR(mode):
        _add_file(root.real, root.typed, found)
        return
    top = os.path.realpath(root.real)
    stack: list[tuple[str, str, int]] = [(root.real, root.typed, 0)]
    while stack:
        folder, shown, depth = stack.pop()
        if depth > limits.MAX_DEPTH:
            deep = f"is more than {limits.MAX_DEPTH} folders deep: not scanned"
            found.notes.append(_unreadable(shown, deep))
            continue
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as e:
            found.notes.append(_unreadable(shown, f"{e.strerror or e}"))
            continue
        subfolders: list[tuple[str, str, int]] = []
        for entry in entries:
            name = os.path.join(shown, display_name(entry.name))
            if entry.is_dir(follow_symlinks=False):  # links to folders are not followed
                if not _skipped_folder(folder, entry.name):
                    subfolders.append((entry.path, name, depth + 1))
                continue
            if entry.is_symlink() and not _inside(entry.path, top):
                continue  # a link out of the tree given is not followed
            if found.files >= limits.MAX_FILES:
                many = f"holds more than {limits.MAX_FILES} files: the rest were not scanned"
                found.notes.append(_unreadable(root.typed, many))
                return
            lower = entry.name.lower()
            if lower.endswith(_TERRAFORM):
                found.folders.setdefault(folder, None)
                found.files += 1
            elif lower.endswith(_SNIFFED):
                # Whatever it is, a FIFO or device too: reading it refuses it, as a note.
                _add_document(entry.path, name, found)
        stack.extend(reversed(subfolders))


def _skipped_folder(parent: str, name: str) -> bool:
    in_cdk_out = os.path.basename(parent) == "cdk.out"
    return name in SKIPPED_FOLDERS or (in_cdk_out and name.startswith("asset."))


def _inside(path: str, top: str) -> bool:
    real = os.path.realpath(path)
    return real == top or real.startswith(top.rstrip(os.sep) + os.sep)


def _add_file(path: str, name: str, found: _Found) -> None:
    """A file named on the command line: Terraform's folder, or a document to sniff
    whatever its extension (the user chose it)."""
    if os.path.basename(path).lower().endswith(_TERRAFORM):
        found.folders.setdefault(os.path.dirname(os.path.abspath(path)), None)
        found.files += 1
    else:
        _add_document(path, name, found)


def _add_document(path: str, name: str, found: _Found) -> None:
    try:
        info = os.stat(path)
    except OSError:
        info = None
    if info is not None:
        identity = (info.st_dev, info.st_ino)
        if identity in found.seen:
            return  # the same file by another name (a link, a path given twice)
        found.seen.add(identity)
    found.files += 1
    found.documents.append((path, name))


def _read_document(path: str, name: str, readers: Readers) -> tuple[IacScan, bool]:
    """(what its reader found, whether it is IaC at all)."""
    try:
        text = read_text(path, "file", stdin=False, limit=limits.MAX_FILE_BYTES, regular_only=True)
    except InputError as e:
        return IacScan(notes=(_unreadable(name, _problem(str(e), path)),)), True
    kind = sniff(text)
    if kind is None:
        return IacScan(), False
    if kind == "plan":
        return _guarded(lambda: readers.read_plan(text, name), name), True
    return _guarded(lambda: readers.read_template(text, name), name), True


def _guarded(read: Callable[[], IacScan], name: str = "the Terraform configuration") -> IacScan:
    """A reader's scan; one nested past Python's stack (a reader's bug on a hostile file)
    is a note on that file, not the end of the run."""
    try:
        return read()
    except RecursionError:
        return IacScan(notes=(_unreadable(name, "is nested too deeply to read"),))


def _problem(message: str, path: str) -> str:
    """InputError's ``PATH: problem`` without the path (the note names the file itself)."""
    prefix = f"{path}: "
    return message[len(prefix) :] if message.startswith(prefix) else message


def _unreadable(name: str, problem: str) -> IacNote:
    return IacNote(
        at=SourceLine(name, 0),
        configuration=name,
        what=f"{name}: {problem}",
        unreadable=True,
    )
