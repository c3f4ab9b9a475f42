"""Read Terraform folders: decide which are root modules, read each root with its local
modules and input values, expand ``count`` and ``for_each``, and return the IAM users,
login profiles and access keys each configuration would create.

Files are read here (bounded by :data:`~initkeys.sources.iac.limits.MAX_FILE_BYTES`);
a file that cannot be read or parsed is an unreadable note and the rest is still read.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from initkeys.errors import InputError
from initkeys.inputs import read_text
from initkeys.sources.iac.limits import MAX_FILE_BYTES, MAX_MODULE_DEPTH
from initkeys.sources.iac.records import IacKind, IacNote, IacResource, IacScan, SourceLine
from initkeys.sources.iac.terraform.expressions import (
    MAX_ITEMS,
    NAME_ATTRS,
    Budget,
    ResRef,
    Scope,
    Unknown,
    evaluate,
    first_unknown,
    instance_suffix,
)
from initkeys.sources.iac.terraform.hcl import (
    Unparsable,
    parse_hcl,
    parse_json,
    parse_tfvars_hcl,
    parse_tfvars_json,
)
from initkeys.sources.iac.terraform.registry import KnownModule, known_module, major_range
from initkeys.sources.iac.terraform.syntax import Expr, ModuleCall, ResourceDecl, TfFile

KINDS = {
    "aws_iam_user": IacKind.USER,
    "aws_iam_user_login_profile": IacKind.LOGIN_PROFILE,
    "aws_iam_access_key": IacKind.ACCESS_KEY,
}
PLAN_HINT = "scan the plan JSON (terraform show -json PLAN)"
# Module instances read under one root: count/for_each on nested module calls multiply.
MAX_MODULE_INSTANCES = 2_000


@dataclass
class _Folder:
    """One folder's Terraform files, parsed once however many roots read it."""

    path: Path
    """As the user would name it (the walker's path, or a module source joined to it)."""
    key: Path
    """Its identity: the resolved path."""
    files: list[TfFile] = field(default_factory=list)
    unreadable: list[tuple[SourceLine, str]] = field(default_factory=list)
    listed: bool = True

    @property
    def resources(self) -> list[ResourceDecl]:
        return [r for f in self.files for r in f.resources]

    @property
    def modules(self) -> list[ModuleCall]:
        return [m for f in self.files for m in f.modules]


@dataclass(frozen=True)
class _Instance:
    """One instance of a resource or module call: its address suffix, its scope (each,
    count.index) and why it may not exist."""

    suffix: str
    scope: Scope
    condition: str | None


@dataclass
class _Root:
    configuration: str
    resources: list[IacResource] = field(default_factory=list)
    notes: list[IacNote] = field(default_factory=list)
    budget: Budget = field(default_factory=Budget)
    instances: int = 0
    users: set[str] = field(default_factory=set)
    """Addresses of the users created, in every module."""


def read_configurations(folders: Sequence[Path], shown: Callable[[Path], str]) -> IacScan:
    """Every root module among ``folders`` with its local modules (see the module doc)."""
    return _Reader(shown).read(folders)


def _is_dir(entry: os.DirEntry[str]) -> bool:
    # As Path.is_dir: a link to itself or to nowhere is not a folder (it is read, and refused).
    try:
        return entry.is_dir()
    except OSError:
        return False


def _is_file(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_file()
    except OSError:
        return False


def _is_local(source: str) -> bool:
    return source.startswith(("./", "../", ".\\", "..\\")) or source in (".", "..")


def _combine(*conditions: str | None) -> str | None:
    kept = list(dict.fromkeys(c for c in conditions if c))
    return " and ".join(kept) if kept else None


class _Reader:
    def __init__(self, shown: Callable[[Path], str]) -> None:
        self.shown = shown
        self.folders: dict[Path, _Folder] = {}
        self.files_read = 0
        self.reported: set[SourceLine] = set()

    # --- files --------------------------------------------------------------------------

    def read(self, folders: Sequence[Path]) -> IacScan:
        given = list(dict.fromkeys(folders))
        keys = {folder: _key(folder) for folder in given}
        called: set[Path] = set()
        for folder in given:
            model = self.folder(folder, keys[folder])
            for call in model.modules:
                source = _literal_source(call)
                if source is not None and _is_local(source):
                    target = _key(_join(folder, source))
                    if target != keys[folder]:
                        called.add(target)
        reached: set[Path] = set()
        # One root per folder, however many paths name it (a link, "a" and "./a").
        roots = {keys[f]: f for f in reversed(given) if keys[f] not in called}
        results = [self.guarded(f, key, reached) for f in given if roots.get(key := keys[f]) is f]
        # Folders only called from each other (a cycle) have no root: each is read as one.
        for folder in given:
            if keys[folder] not in reached:
                results.append(self.guarded(folder, keys[folder], reached))
        resources = [r for result in results for r in result.resources]
        notes = [n for result in results for n in result.notes]
        return IacScan(tuple(resources), tuple(notes), self.files_read)

    def folder(self, path: Path, key: Path) -> _Folder:
        if key in self.folders:
            return self.folders[key]
        model = _Folder(path, key)
        self.folders[key] = model
        try:
            # Not only regular files: a FIFO or a dangling link named *.tf is refused by
            # read_text (a note), not skipped in silence.
            # scandir: the entry's type comes with the listing (no stat per file).
            with os.scandir(path) as entries:
                names = sorted(
                    path / e.name
                    for e in entries
                    if e.name.endswith((".tf", ".tf.json")) and not _is_dir(e)
                )
        except (OSError, ValueError):
            model.listed = False
            return model
        for file in names:
            shown = self.shown(file)
            text = self.text(file, model, shown)
            if text is None:
                continue
            try:
                if file.name.endswith(".json"):
                    parsed = _with_path(parse_json(text), shown)
                else:  # the HCL reader sets the path as it builds (no copy per resource)
                    parsed = parse_hcl(text, shown)
            except Unparsable as e:
                model.unreadable.append((SourceLine(shown, _line_of(str(e))), f"{shown}: {e}"))
                continue
            self.files_read += 1
            model.files.append(parsed)
        return model

    def text(self, file: Path, model: _Folder, shown: str | None = None) -> str | None:
        shown = self.shown(file) if shown is None else shown
        try:
            return read_text(
                str(file),
                "Terraform file",
                stdin=False,
                limit=MAX_FILE_BYTES,
                regular_only=True,
            )
        except InputError as e:
            message = str(e)
            if message.startswith(f"{file}: "):
                message = message[len(f"{file}: ") :]
            model.unreadable.append((SourceLine(shown), f"{shown}: {message}"))
            return None

    def tfvars(self, folder: Path, root: _Root) -> dict[str, Expr]:
        """Input values from terraform.tfvars(.json) and *.auto.tfvars(.json), in the
        order Terraform reads them (later files win)."""
        try:
            with os.scandir(folder) as entries:
                names = sorted(e.name for e in entries if _is_file(e))
        except OSError:
            return {}
        order: list[str] = [n for n in ("terraform.tfvars", "terraform.tfvars.json") if n in names]
        order += [n for n in names if n.endswith((".auto.tfvars", ".auto.tfvars.json"))]
        values: dict[str, Expr] = {}
        for name in order:
            file = folder / name
            scratch = _Folder(folder, folder)
            text = self.text(file, scratch)
            try:
                if text is not None:
                    parse = parse_tfvars_json if name.endswith(".json") else parse_tfvars_hcl
                    values.update(parse(text))
                    self.files_read += 1
            except Unparsable as e:
                shown = self.shown(file)
                scratch.unreadable.append((SourceLine(shown, _line_of(str(e))), f"{shown}: {e}"))
            for at, what in scratch.unreadable:
                self.note(root, at, what, unreadable=True)
        return values

    def note(
        self, root: _Root, at: SourceLine, what: str, *, unreadable: bool = False, module: str = ""
    ) -> None:
        if unreadable and at in self.reported:
            return  # a module file shared by two roots is reported once
        if unreadable:
            self.reported.add(at)
        root.notes.append(IacNote(at, root.configuration, what, unreadable, module))

    # --- configurations -----------------------------------------------------------------

    def guarded(self, folder: Path, key: Path, reached: set[Path]) -> _Root:
        try:
            return self.root(folder, key, reached)
        except RecursionError:
            # The bounds on nesting and evaluation depth should make this unreachable;
            # if a configuration still nests too deep, it is one note, not a traceback.
            root = _Root(self.shown(folder))
            reached.add(key)
            what = f"{root.configuration}: nested too deeply to evaluate"
            self.note(root, SourceLine(root.configuration), what, unreadable=True)
            return root

    def root(self, folder: Path, key: Path, reached: set[Path]) -> _Root:
        root = _Root(self.shown(folder))
        model = self.folder(folder, key)
        values = self.tfvars(folder, root)
        variables: dict[str, object] = {}
        constants = Scope({}, budget=root.budget)
        for file in model.files:
            for var in file.variables:
                if var.name in values:
                    variables[var.name] = evaluate(values[var.name], constants)
                elif var.default is not None:
                    variables[var.name] = evaluate(var.default, constants)
                else:
                    variables[var.name] = Unknown(f"var.{var.name} has no default")
        self.instance(root, model, variables, "", None, (key,), reached)
        return root

    def instance(
        self,
        root: _Root,
        model: _Folder,
        variables: dict[str, object],
        module: str,
        condition: str | None,
        stack: tuple[Path, ...],
        reached: set[Path],
    ) -> Scope:
        reached.add(model.key)
        for at, what in model.unreadable:
            self.note(root, at, what, unreadable=True, module=module)
        local_exprs = {name: expr for f in model.files for name, expr in f.locals}
        prefix = f"{module}." if module else ""
        scope = Scope(variables, local_exprs, prefix, budget=root.budget)
        decls = [r for r in model.resources if r.type in KINDS]
        for decl in (d for d in decls if d.type == "aws_iam_user"):
            self.resource(root, decl, scope, module, condition)
        for call in model.modules:
            self.module_call(root, model, call, scope, module, condition, stack, reached)
        for decl in (d for d in decls if d.type != "aws_iam_user"):
            self.resource(root, decl, scope, module, condition)
        return scope

    def expand(
        self, root: _Root, attrs: dict[str, Expr], scope: Scope, at: SourceLine, label: str
    ) -> list[_Instance]:
        count, for_each = attrs.get("count"), attrs.get("for_each")
        if count is not None:
            value = evaluate(count, scope)
            n = _count(value)
            if isinstance(n, Unknown):
                # Instance [0] exists when the count is at least 1: that is the condition.
                why = f"count = {count.text} ({n.why})"
                return [_Instance("[0]", scope.child(count_index=0), why)]
            if n > MAX_ITEMS:
                what = f"{label}: count is {n}; only the first {MAX_ITEMS} instances were judged"
                self.note(root, at, what, module=scope.prefix.rstrip("."))
                n = MAX_ITEMS
            return [_Instance(f"[{i}]", scope.child(count_index=i), None) for i in range(n)]
        if for_each is not None:
            value = evaluate(for_each, scope)
            items = _for_each(value)
            if isinstance(items, Unknown):
                unknown = Unknown(items.why)
                why = f"for_each = {for_each.text} ({items.why})"
                return [_Instance("[each.key]", scope.child(each=(unknown, unknown)), why)]
            if len(items) > MAX_ITEMS:
                what = (
                    f"{label}: for_each has {len(items)} items; the first {MAX_ITEMS} were judged"
                )
                self.note(root, at, what, module=scope.prefix.rstrip("."))
                items = items[:MAX_ITEMS]
            return [
                _Instance(instance_suffix(k, "each.key"), scope.child(each=(k, v)), None)
                for k, v in items
            ]
        return [_Instance("", scope, None)]

    def resource(
        self, root: _Root, decl: ResourceDecl, scope: Scope, module: str, condition: str | None
    ) -> None:
        at = SourceLine(decl.path, decl.line)
        base = f"{scope.prefix}{decl.type}.{decl.name}"
        kind = KINDS[decl.type]
        for inst in self.expand(root, decl.attrs, scope, at, base):
            address = base + inst.suffix
            if kind is IacKind.USER:
                name = (
                    _name(evaluate(decl.attrs["name"], inst.scope))
                    if "name" in decl.attrs
                    else None
                )
                scope.users[address] = name
                root.users.add(address)
                user_name, user_address = name, None
            else:
                user_name, user_address = _user_of(decl.attrs.get("user"), inst.scope, root)
            root.resources.append(
                IacResource(
                    kind=kind,
                    address=address,
                    at=at,
                    configuration=root.configuration,
                    module=module,
                    user_name=user_name,
                    user_address=user_address,
                    condition=_combine(condition, inst.condition),
                )
            )

    def module_call(
        self,
        root: _Root,
        model: _Folder,
        call: ModuleCall,
        scope: Scope,
        module: str,
        condition: str | None,
        stack: tuple[Path, ...],
        reached: set[Path],
    ) -> None:
        at = SourceLine(call.path, call.line)
        path = f"{module}.module.{call.name}" if module else f"module.{call.name}"
        source = _literal_source(call)
        called = f'module "{call.name}" ({_brief(source or "")})'
        if source is None:
            self.note(
                root,
                at,
                f'module "{call.name}" has no literal source: it was not scanned',
                module=path,
            )
            return
        if not _is_local(source):
            known = known_module(source)
            if known is not None:
                self.registry_module(root, call, known, scope, path, condition)
            else:
                what = f"{called} was not scanned: {PLAN_HINT}"
                self.note(root, at, what, module=path)
            return
        target_path = _join(model.path, source)
        target = _key(target_path)
        if ".terraform" in target.parts or ".terraform" in target_path.parts:
            what = f"{called} is a downloaded copy, not scanned: {PLAN_HINT}"
            self.note(root, at, what, module=path)
            return
        if target in stack:
            what = f"{called} calls a module being read (a cycle): not followed"
            self.note(root, at, what, module=path)
            return
        if len(stack) > MAX_MODULE_DEPTH:
            deep = f"nested more than {MAX_MODULE_DEPTH} modules deep"
            what = f"{called} is {deep}: not followed"
            self.note(root, at, what, module=path)
            return
        child = self.folder(target_path, target)
        if not child.files and not child.unreadable:
            what = f"{called}: no Terraform files in {_brief(self.shown(target_path))}"
            self.note(root, at, what, module=path)
            return
        for inst in self.expand(root, call.attrs, scope, at, path):
            root.instances += 1
            if root.instances > MAX_MODULE_INSTANCES:
                many = f"more than {MAX_MODULE_INSTANCES} module instances"
                what = f'module "{call.name}": {many}; the rest were not read'
                self.note(root, at, what, module=path)
                return
            variables = self.bind(child, call, inst.scope, root.budget)
            inner = self.instance(
                root,
                child,
                variables,
                path + inst.suffix,
                _combine(condition, inst.condition),
                (*stack, target),
                reached,
            )
            outputs = {name: expr for f in child.files for name, expr in f.outputs}
            scope.modules.setdefault(call.name, {})[inst.suffix] = _output_reader(inner, outputs)

    def bind(
        self, child: _Folder, call: ModuleCall, scope: Scope, budget: Budget
    ) -> dict[str, object]:
        constants = Scope({}, budget=budget)
        variables: dict[str, object] = {}
        for file in child.files:
            for var in file.variables:
                if var.name in call.attrs:
                    variables[var.name] = evaluate(call.attrs[var.name], scope)
                elif var.default is not None:
                    variables[var.name] = evaluate(var.default, constants)
                else:
                    why = f'module "{call.name}" does not set {var.name}, which has no default'
                    variables[var.name] = Unknown(why)
        return variables

    def registry_module(
        self,
        root: _Root,
        call: ModuleCall,
        known: KnownModule,
        scope: Scope,
        path: str,
        condition: str | None,
    ) -> None:
        at = SourceLine(call.path, call.line)
        version_expr = call.attrs.get("version")
        version = evaluate(version_expr, scope) if version_expr is not None else None
        if version is not None and not isinstance(version, str):
            version = "?"
        span = major_range(version)
        last = known.majors[1]
        if span is not None and span[0] > last:
            what = f'module "{call.name}" ({known.source} {version}) was not scanned: {PLAN_HINT}'
            self.note(root, at, what, module=path)
            return
        version_condition = None
        if span is None or span[1] is None or span[1] > last:
            pinned = f'version "{version}"' if version else "no version"
            version_condition = (
                f'module "{call.name}" has {pinned}, which allows v{last + 1} or later, '
                f"whose inputs initkeys does not record"
            )
        defaults = dict(known.defaults)
        for inst in self.expand(root, call.attrs, scope, at, path):
            prefix = f"{path}{inst.suffix}."
            flags: dict[str, str | None] = {}
            created = True
            for flag in (known.create_user, known.create_login_profile, known.create_access_key):
                expr = call.attrs.get(flag)
                value = evaluate(expr, inst.scope) if expr is not None else defaults[flag]
                if isinstance(value, str) and value in ("true", "false"):
                    value = value == "true"
                if isinstance(value, bool):
                    flags[flag] = None if value else "off"
                else:
                    why = value.why if isinstance(value, Unknown) else "not a bool"
                    flags[flag] = f"{flag} = {expr.text if expr else '?'} ({why})"
                if flag == known.create_user and flags[flag] == "off":
                    created = False
            if not created:
                continue
            name_expr = call.attrs.get(known.name_input)
            name = _name(evaluate(name_expr, inst.scope)) if name_expr is not None else None
            user_address = prefix + known.user
            user_ref = ResRef("aws_iam_user", user_address, "name", name)
            scope.modules.setdefault(call.name, {})[inst.suffix] = _registry_outputs(
                known, user_ref
            )
            common = _combine(condition, inst.condition, version_condition)
            made = [
                (IacKind.USER, known.user, known.create_user),
                (IacKind.LOGIN_PROFILE, known.login_profile, known.create_login_profile),
                (IacKind.ACCESS_KEY, known.access_key, known.create_access_key),
            ]
            for kind, local, flag in made:
                if flags[flag] == "off":
                    continue
                own = (
                    flags[flag]
                    if kind is IacKind.USER
                    else _combine(flags[known.create_user], flags[flag])
                )
                root.resources.append(
                    IacResource(
                        kind=kind,
                        address=prefix + local,
                        at=at,
                        configuration=root.configuration,
                        module=path + inst.suffix,
                        user_name=name,
                        user_address=None if kind is IacKind.USER else user_address,
                        condition=_combine(common, own),
                    )
                )


def _brief(text: str) -> str:
    """A module source or folder short enough for a one-line note."""
    return text if len(text) <= 80 else text[:77] + "..."


def _join(folder: Path, source: str) -> Path:
    """A local module's folder as the user would name it (``infra/modules/user``)."""
    return Path(os.path.normpath(folder / source.replace("\\", "/")))


def _key(path: Path) -> Path:
    """A folder's identity: its absolute, resolved path (symlink loops stay unresolved)."""
    try:
        return path.resolve()
    except (OSError, RuntimeError, ValueError):
        return path.absolute()


def _literal_source(call: ModuleCall) -> str | None:
    source = call.attrs.get("source")
    if source is None:
        return None
    value = evaluate(source, Scope({}))
    # A NUL cannot be in a path: such a source names no folder (a note, not an exception).
    return value if isinstance(value, str) and "\x00" not in value else None


def _with_path(parsed: TfFile, shown: str) -> TfFile:
    return TfFile(
        tuple(dataclasses.replace(r, path=shown) for r in parsed.resources),
        tuple(dataclasses.replace(m, path=shown) for m in parsed.modules),
        parsed.variables,
        parsed.locals,
        parsed.outputs,
    )


def _output_reader(scope: Scope, outputs: dict[str, Expr]) -> Callable[[str], object]:
    def read(name: str) -> object:
        expr = outputs.get(name)
        if expr is None:
            return Unknown(f"the module has no output {name}")
        return evaluate(expr, scope)

    return read


def _user_of(expr: Expr | None, scope: Scope, root: _Root) -> tuple[str | None, str | None]:
    """The user a login profile or key names: (name, user resource address)."""
    if expr is None:
        return None, None
    value = evaluate(expr, scope)
    if isinstance(value, str):
        return value, None
    if isinstance(value, ResRef) and value.type == "aws_iam_user" and value.attr in NAME_ATTRS:
        if value.undecided_index and value.address not in root.users:
            # aws_iam_user.u[each.key] where each.key is undecided: which user is unknown.
            return None, None
        return value.name, value.address
    # Not decided statically (or not a name at all): the expression itself says which.
    return None, expr.text


def _registry_outputs(known: KnownModule, user: ResRef) -> Callable[[str], object]:
    def read(name: str) -> object:
        if name in known.name_outputs:
            return user
        return Unknown(f"the module's output {name} is not recorded")

    return read


def _line_of(message: str) -> int:
    if message.startswith("line "):
        head = message[5:].split(":", 1)[0]
        if head.isdigit():
            return int(head)
    return 0


def _name(value: object) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, ResRef) and value.attr in NAME_ATTRS:
        return value.name
    return None


def _count(value: object) -> int | Unknown:
    if isinstance(value, Unknown):
        return value
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and value.isdigit() and len(value) < 10:
        value = int(value)
    if isinstance(value, int) and value >= 0:
        return value
    return Unknown("not a whole number")


def _for_each(value: object) -> list[tuple[str, object]] | Unknown:
    unknown = first_unknown(value) if isinstance(value, (list, dict)) else None
    if isinstance(value, Unknown):
        return value
    if isinstance(value, dict):
        # Unknown values inside the map do not hide its keys: each.value stays unknown.
        return sorted(value.items())
    if isinstance(value, list):
        if unknown is not None:
            return unknown
        if all(isinstance(v, str) for v in value):
            return [(str(v), v) for v in sorted(dict.fromkeys(value), key=str)]
    return Unknown("not a map or a set of strings")
