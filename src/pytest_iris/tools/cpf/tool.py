"""``CpfTool``: the CPF remediation tool, dry run unless asked to apply.

Every method returns a :class:`~pytest_iris.models.ToolResult`; an invalid
change raises :class:`~pytest_iris.errors.ValidationError` before anything
is read from or written to disk beyond the CPF itself. Applying holds the
CPF's write lock from the read to the write (two ``cpf set --apply`` at once
both land), writes a dated backup first (``iris.cpf_YYYYMMDD``, named from
the caller's clock, never reused), then the new file atomically, then prunes
backups beyond the retention; if the file changed on disk since it was read
(a writer that ignores the lock), nothing is written.
"""

from __future__ import annotations

import contextlib
import difflib
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from pytest_iris.errors import ToolError, ValidationError
from pytest_iris.logging import get_logger
from pytest_iris.memory import SharedMemoryPlan
from pytest_iris.models import ToolResult
from pytest_iris.tools.cpf import storage
from pytest_iris.tools.cpf.catalog import PARAMETERS, check, consistency_problems, normalize
from pytest_iris.tools.cpf.document import CpfFile
from pytest_iris.tools.cpf.merge import merge_messages, plan_merge
from pytest_iris.tools.cpf.names import resolve
from pytest_iris.tools.cpf.sizing import shared_memory_plan, uses_huge_pages
from pytest_iris.tools.results import ResultBuilder

Changes = Mapping[str, object] | Iterable[tuple[str, object]]

_log = get_logger("pytest_iris.tools.cpf")
#: changes to these alter the shared memory IRIS allocates at startup
_MEMORY_KEYS = frozenset(
    {"[config]globals", "[config]routines", "[config]jrnbufs", "[config]gmheap"}
)


@contextlib.contextmanager
def _logged_rejection(action: str, path: Path) -> Iterator[None]:
    """Log a rejected change (``cpf.rejected``) before the ValidationError propagates."""
    try:
        yield
    except ValidationError as error:
        _log.warning("cpf.rejected", action=action, path=str(path), error=str(error))
        raise


class CpfTool:
    """Show, validate, change, merge into and roll back one ``iris.cpf``."""

    name = "cpf"

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        total_ram_mb: int | None = None,
        allow_unknown: bool = False,
        today: Callable[[], date] | None = None,
        now: Callable[[], datetime] | None = None,
        retention: storage.BackupRetention | None = None,
    ) -> None:
        """``now`` is the clock that names and ages backups (a sandbox passes its host
        clock); ``today`` is the older day-only form of it. Default: real time."""
        self.path = Path(path)
        self.total_ram_mb = total_ram_mb
        self.allow_unknown = allow_unknown
        if now is None:
            now = _day_clock(today) if today is not None else datetime.now
        self._now = now
        self.retention = retention if retention is not None else storage.BackupRetention()

    def __enter__(self) -> CpfTool:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        return None

    # --- reading ---------------------------------------------------------------

    def read(self) -> CpfFile:
        return CpfFile.read(self.path)

    def backups(self) -> list[Path]:
        """Dated backups of the CPF, oldest first."""
        return storage.backups(self.path)

    def ram_mb(self) -> int:
        """Physical memory for automatic globals: as configured, else this host's."""
        if self.total_ram_mb is not None:
            return self.total_ram_mb
        import psutil

        return int(psutil.virtual_memory().total // (1024 * 1024))

    def shared_memory_plan(self, cpf: CpfFile | None = None) -> SharedMemoryPlan:
        return shared_memory_plan(cpf or self.read(), self.ram_mb())

    def show(self) -> ToolResult:
        """The catalogued parameters with unit, default and restart rule, and the memory plan."""
        result = ResultBuilder(self.name, "show", dry_run=True)
        cpf = self.read()
        rows: dict[str, dict[str, Any]] = {}
        lines = []
        for parameter in PARAMETERS:
            value = cpf.get(parameter.section, parameter.name)
            rows[parameter.qualified] = {
                "value": value,
                "unit": parameter.unit,
                "default": parameter.default,
                "restart_required": parameter.restart_required,
                "source": parameter.source,
            }
            shown = value if value is not None else f"(absent, default {parameter.default})"
            lines.append(f"{parameter.qualified:32} {shown}  [{parameter.unit}]")
        plan = self.shared_memory_plan(cpf)
        result.details.update(
            path=str(self.path),
            parameters=rows,
            sections=cpf.sections(),
            huge_pages=uses_huge_pages(cpf),
            shared_memory=_plan_details(plan),
            backups=[str(p) for p in self.backups()],
        )
        lines.append(f"shared memory: {plan.total_mb}MB ({plan.breakdown_text()})")
        return result.success("\n".join(lines))

    def validate(self) -> ToolResult:
        """Check every catalogued value and the file's form; failure lists each problem."""
        result = ResultBuilder(self.name, "validate", dry_run=True)
        cpf = self.read()
        problems = cpf.structure_problems()
        for entry in cpf.entries():
            name = f"[{entry.section}]{entry.key}"
            try:
                parameter = resolve(name, allow_unknown=True).parameter
                if parameter is not None:
                    check(parameter, normalize(parameter, entry.value))
            except ValidationError as error:
                problems.append(f"line {entry.line}: {error}")
        problems += consistency_problems(_config_values(cpf))
        problems += _conflicting_duplicates(cpf)
        result.details.update(path=str(self.path), problems=problems)
        _log.info("cpf.validated", path=str(self.path), problems=len(problems))
        if problems:
            return result.failure(
                f"{self.path}: {len(problems)} problem(s)\n" + "\n".join(problems)
            )
        return result.success(f"{self.path}: no problems found")

    # --- changing --------------------------------------------------------------

    def set(self, changes: Changes, apply: bool = False) -> ToolResult:
        """Change parameters (``{"globals": "0,0,512,0,0,0", "[config]jrnbufs": 128}``).

        All values are validated, together, before anything is written; a
        dry run (the default) reports the changes and the diff only.
        """
        with _logged_rejection("set", self.path), self._locked(apply):
            return self._set(changes, apply)

    def _set(self, changes: Changes, apply: bool) -> ToolResult:
        result = ResultBuilder(self.name, "set", dry_run=not apply)
        items = list(changes.items() if isinstance(changes, Mapping) else changes)
        if not items:
            raise ValidationError("cpf set: no changes given")
        original = self._editable()
        updated = original.copy()
        for raw_name, raw_value in items:
            name = resolve(raw_name, allow_unknown=self.allow_unknown)
            value = normalize(name.parameter, raw_value)
            if name.parameter is not None:
                check(name.parameter, value)
            before = updated.get(name.section, name.key)
            updated.set(name.section, name.key, value)
            reason = _reason(name.parameter)
            result.change(name.qualified, before, value, applied=False, reason=reason)
        problems = _new_problems(original, updated)
        if problems:
            raise ValidationError("; ".join(problems))
        return self._finish(result, original, updated, apply, "set")

    def merge(self, merge_file: str | os.PathLike[str], apply: bool = False) -> ToolResult:
        """Apply a merge file's keys (validated first); record its ``[Actions]`` lines."""
        with _logged_rejection("merge", self.path), self._locked(apply):
            return self._merge(merge_file, apply)

    def _merge(self, merge_file: str | os.PathLike[str], apply: bool) -> ToolResult:
        result = ResultBuilder(self.name, "merge", dry_run=not apply)
        merge = CpfFile.read(merge_file)
        original = self._editable()
        updated, settings, actions = plan_merge(original, merge)
        for setting in settings:
            parameter = resolve(setting.qualified, allow_unknown=True).parameter
            result.change(
                setting.qualified, setting.before, setting.after, applied=False,
                reason=_reason(parameter),
            )  # fmt: skip
        problems = _new_problems(original, updated)
        if problems:
            raise ValidationError(f"{os.fspath(merge_file)}: " + "; ".join(problems))
        result.details["actions"] = [
            {"line": a.line, "verb": a.verb, "properties": a.properties, "text": a.text}
            for a in actions
        ]
        result.confirm(
            *merge_messages(
                os.path.abspath(merge_file), os.path.abspath(self.path), actions=bool(actions)
            )
        )
        return self._finish(result, original, updated, apply, "merge")

    def rollback(
        self,
        apply: bool = False,
        backup: str | os.PathLike[str] | None = None,
        *,
        force: bool = False,
    ) -> ToolResult:
        """Restore the newest dated backup (or ``backup``); the current file is backed up first.

        So a rollback can itself be rolled back, and nothing on disk is lost.
        A bare ``backup`` name (``iris.cpf_20240309``) is looked up next to the CPF.
        The backup must parse as a CPF of the same instance (see
        :func:`_foreign`) unless ``force``: ``--backup /etc/passwd`` is refused.
        """
        with _logged_rejection("rollback", self.path), self._locked(apply):
            return self._rollback(apply, backup, force)

    def _rollback(
        self, apply: bool, backup: str | os.PathLike[str] | None, force: bool
    ) -> ToolResult:
        result = ResultBuilder(self.name, "rollback", dry_run=not apply)
        available = self.backups()
        source = available[-1] if available else None
        if backup is not None:
            source = Path(backup)
            if source.name == os.fspath(backup):  # a bare name: next to the CPF
                source = self.path.parent / source
        if source is None:
            return result.failure(
                f"{self.path}: no backup ({self.path.name}_YYYYMMDD) to roll back to"
            )
        current = self.read()
        restored = CpfFile.read(source)
        if not force:
            problems = _foreign(current, restored)
            if problems:
                raise ValidationError(
                    f"{source} is not a backup of {self.path}: {'; '.join(problems)} "
                    "(use force to restore it anyway)"
                )
        for target, before, after in _differences(current, restored):
            result.change(target, before, after, applied=False, reason=f"from {source.name}")
        result.details["restored_from"] = str(source)
        return self._finish(result, current, restored, apply, "rollback")

    def _editable(self) -> CpfFile:
        """The CPF, if it reads unambiguously; else a ValidationError and nothing changes.

        A remediation tool must not guess which of two ``[config]`` sections
        to edit or write around a NUL byte: its structure problems (see
        :meth:`CpfFile.structure_problems`) refuse ``set`` and ``merge``, dry
        run included. Values outside their rule do not: fixing one is an edit.
        A rollback replaces the whole file and stays possible.
        """
        cpf = self.read()
        problems = cpf.structure_problems()
        if problems:
            more = len(problems) - 1
            also = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
            raise ValidationError(
                f"{self.path}: cannot be edited unambiguously: {problems[0]}{also}; "
                "nothing was changed (see 'pytest-iris cpf validate')"
            )
        return cpf

    # --- writing ---------------------------------------------------------------

    def _locked(self, apply: bool) -> contextlib.AbstractContextManager[None]:
        """The CPF's write lock when applying (read, check, backup and write under it)."""
        return storage.locked(self.path) if apply else contextlib.nullcontext()

    def _finish(
        self, result: ResultBuilder, original: CpfFile, updated: CpfFile, apply: bool, verb: str
    ) -> ToolResult:
        old, new = original.to_bytes(), updated.to_bytes()
        result.details["path"] = str(self.path)
        result.details["diff"] = _diff(old, new, str(self.path))
        result.details["restart_required"] = any(
            _restart(c.target) for c in result.changes if c.before != c.after
        )
        effective = [c for c in result.changes if c.before != c.after]
        targets = [c.target for c in effective]
        if any(t in _MEMORY_KEYS for t in targets):
            ram = self.ram_mb()
            result.details["shared_memory_mb"] = {
                "before": _sized(original, ram),  # None: the value being fixed is not a size
                "after": shared_memory_plan(updated, ram).total_mb,
            }
        if old == new:
            _log.info(f"cpf.{verb}.unchanged", path=str(self.path))
            return result.success(f"{self.path}: nothing to change")
        if not apply:
            _log.info(f"cpf.{verb}.planned", path=str(self.path), changes=targets)
            return result.success(
                f"{self.path}: dry run, {len(effective)} change(s) not applied (pass apply=True; CLI: --apply)"
            )
        try:
            on_disk = self.path.read_bytes()
        except OSError as error:
            raise ToolError(
                f"cannot re-read {self.path} before writing: {error.strerror}"
            ) from None
        if on_disk != old:
            raise ToolError(f"{self.path} changed on disk while the {verb} was prepared; retry")
        now = self._now()
        backup = storage.make_backup(self.path, now.date())
        _log.info("cpf.backup", path=str(self.path), backup=str(backup))
        storage.write_atomic(self.path, new)
        pruned = storage.prune_backups(self.path, self.retention, now, keep_also=backup)
        if pruned:
            _log.info("cpf.backups.pruned", path=str(self.path), removed=[str(p) for p in pruned])
        _log.info(f"cpf.{verb}.applied", path=str(self.path), changes=targets)
        result.changes[:] = [c.model_copy(update={"applied": True}) for c in result.changes]
        result.details["backup"] = str(backup) if backup else None
        return result.success(f"{self.path}: {len(effective)} change(s) applied, backup {backup}")


#: keys that name the instance a CPF belongs to (facts.md / the real files in cpf/)
_IDENTITY = (("ConfigFile", "Product"), ("Databases", "IRISSYS"), ("Startup", "DefaultPort"))


def _day_clock(today: Callable[[], date]) -> Callable[[], datetime]:
    """A ``now`` clock from a day-only ``today`` (midnight of each day)."""
    return lambda: datetime.combine(today(), datetime.min.time())


def _foreign(current: CpfFile, candidate: CpfFile) -> list[str]:
    """Why ``candidate`` cannot be a backup of ``current`` (empty: it can).

    It must be a well-formed CPF (no stray lines), hold at least one of the
    current file's sections, and agree on the keys that name the instance
    (product, the IRISSYS database directory, the superserver port) where
    both files have them. Invented rule: IRIS has no rollback command.
    """
    problems = candidate.structure_problems()[:3]
    if problems:
        return problems
    mine = {s.casefold() for s in current.sections()}
    if mine and not mine & {s.casefold() for s in candidate.sections()}:
        return ["it shares no [section] with the current file"]
    out = []
    for section, key in _IDENTITY:
        a, b = current.get(section, key), candidate.get(section, key)
        if a is not None and b is not None and a != b:
            out.append(f"[{section}]{key} is {b!r}, the instance's is {a!r}")
    return out


def _reason(parameter: Any) -> str:
    if parameter is None:
        return "not catalogued: written unchecked"
    when = "restart required" if parameter.restart_required else parameter.takes_effect
    return f"{parameter.unit}; {when}"


def _restart(target: str) -> bool:
    try:
        parameter = resolve(target, allow_unknown=True).parameter
    except ValidationError:
        return False
    return parameter is not None and parameter.restart_required


def _conflicting_duplicates(cpf: CpfFile) -> list[str]:
    """Keys set twice in one section with different values (IRIS's choice is undocumented)."""
    seen: dict[tuple[str | None, str], list[tuple[int, str]]] = {}
    for entry in cpf.entries():
        if entry.section is None or entry.section.casefold() == "actions":
            continue
        seen.setdefault((entry.section, entry.key), []).append((entry.line, entry.value))
    out = []
    for (section, key), places in seen.items():
        if len({value for _, value in places}) > 1:
            lines = ", ".join(str(line) for line, _ in places)
            out.append(
                f"lines {lines}: [{section}]{key} is set {len(places)} times with different "
                f"values; pytest-iris reads the last ({places[-1][1]!r})"
            )
    return out


def _new_problems(original: CpfFile, updated: CpfFile) -> list[str]:
    """Rules between parameters that the change breaks (not those the file already broke)."""
    already = set(consistency_problems(_config_values(original)))
    return [p for p in consistency_problems(_config_values(updated)) if p not in already]


def _config_values(cpf: CpfFile) -> dict[str, str]:
    return {key: value for key, value in cpf.items("config")}


def _sized(cpf: CpfFile, ram_mb: int) -> int | None:
    try:
        return shared_memory_plan(cpf, ram_mb).total_mb
    except ValidationError:
        return None


def _plan_details(plan: SharedMemoryPlan) -> dict[str, Any]:
    return {
        "total_mb": plan.total_mb,
        "breakdown": plan.breakdown_text(),
        **plan.parts_mb(),
    }


def _differences(old: CpfFile, new: CpfFile) -> list[tuple[str, str | None, str | None]]:
    """Keys whose (last) value differs between two CPFs, in order of appearance."""
    before = {(e.section, e.key): e.value for e in old.entries()}
    after = {(e.section, e.key): e.value for e in new.entries()}
    keys = list(dict.fromkeys([*before, *after]))
    return [
        (f"[{section}]{key}", before.get((section, key)), after.get((section, key)))
        for section, key in keys
        if before.get((section, key)) != after.get((section, key))
    ]


def _diff(old: bytes, new: bytes, name: str) -> str:
    """A unified diff, split where the CPF model splits (``\\n``), control bytes escaped."""
    a = [_printable(line) for line in _lines(old)]
    b = [_printable(line) for line in _lines(new)]
    return "".join(difflib.unified_diff(a, b, f"{name} (current)", f"{name} (new)", n=1))


def _lines(data: bytes) -> list[str]:
    parts = data.decode("utf-8", "surrogateescape").split("\n")
    last = parts.pop()
    return [part + "\n" for part in parts] + ([last] if last else [])


def _printable(line: str) -> str:
    """``line`` with control characters and undecodable bytes escaped as ``repr`` does.

    A NUL or an escape sequence printed raw reaches the terminal of whoever
    reads the diff; tabs and the line ending (``\\n``, ``\\r\\n``) stay as they are.
    """
    ending = "\r\n" if line.endswith("\r\n") else "\n" if line.endswith("\n") else ""
    body = line[: len(line) - len(ending)]
    return "".join(_escape(ch) for ch in body) + ending


def _escape(ch: str) -> str:
    if ch.isprintable() or ch == "\t":
        return ch
    if "\udc80" <= ch <= "\udcff":  # a byte that is not UTF-8 (surrogateescape)
        return f"\\x{ord(ch) - 0xDC00:02x}"
    return repr(ch)[1:-1]
