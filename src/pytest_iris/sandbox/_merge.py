"""``iris merge <instance> <file>`` (and ``ISC_CPF_MERGE_FILE`` at start).

Applies the merge file's sections and keys to the instance's CPF through
the CPF tool and logs the real merge lines (facts.md §3.10):
``Merging <file> into <cpf>``, ``Validating CPF file <cpf>_Merge``,
``No errors found in CPF file <cpf>_Merge``, and for an ``[Actions]``
section ``Reading [Actions] section`` / ``Validating [Actions] section``
(actions themselves are not carried out in the sandbox).
"""

from __future__ import annotations

from pathlib import Path

from pytest_iris.sandbox import _cpfio, _log
from pytest_iris.sandbox._iris import Outcome, messages_log
from pytest_iris.sandbox._state import HostState, Instance


def read_merge_file(path: Path) -> tuple[dict[tuple[str, str], str], bool]:
    """``(section, key) -> value`` of a merge file, and whether it has ``[Actions]``."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise FileNotFoundError(f"merge file {path}: {exc.strerror}") from None
    values: dict[tuple[str, str], str] = {}
    section, actions = "", False
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("[") and stripped.endswith("]"):
            section = stripped[1:-1]
            actions = actions or section == "Actions"
        elif "=" in line and section and section != "Actions":
            key, value = line.split("=", 1)
            values[(section, key.strip())] = value.strip()
    return values, actions


def merge(state: HostState, inst: Instance, path: Path) -> Outcome:
    pid = next(
        (
            p.pid
            for p in state.processes.values()
            if p.instance == inst.name and p.role == "control"
        ),
        0,
    )
    writer = _log.Writer(state, pid or state.next_pid)
    try:
        values, actions = read_merge_file(path)
    except FileNotFoundError as exc:
        return Outcome(status=1, stderr=f"{exc}\n")
    cpf = inst.cpf
    writer.add(0, "Utility.Event", f"Merging {path} into {cpf}")
    writer.add(0, "Utility.Event", f"Validating CPF file {cpf}_Merge", step=0.005)
    if values:
        _cpfio.cpf_set(Path(cpf), values)
    writer.add(0, "Utility.Event", f"No errors found in CPF file {cpf}_Merge", step=0.18)
    if actions:
        writer.add(0, "Utility.Event", "Reading [Actions] section", same_stamp=True)
        writer.add(0, "Utility.Event", "Validating [Actions] section", same_stamp=True)
    writer.write(messages_log(inst))
    return Outcome(messages=writer.messages)
