"""``iris merge <instance> <file>`` (and ``ISC_CPF_MERGE_FILE`` at start).

The CPF tool validates and applies the merge (``plan_merge``) and supplies
the real messages.log texts (facts.md §3.10: ``Merging <file> into <cpf>``,
``Validating CPF file <cpf>_Merge``, ``No errors found ...``, and for an
``[Actions]`` section ``Reading``/``Validating [Actions] section``). The
sandbox writes the merged CPF and logs the lines; ``[Actions]`` are
validated but not carried out (no databases exist on the fake host). An
invalid merge file changes nothing and exits 1 with the validation error.
"""

from __future__ import annotations

from pathlib import Path

from pytest_iris.errors import InstanceError
from pytest_iris.host import Outcome
from pytest_iris.sandbox import _log
from pytest_iris.sandbox._iris import messages_log
from pytest_iris.sandbox._state import HostState, Instance


def merge(state: HostState, inst: Instance, path: Path) -> Outcome:
    from pytest_iris.tools.cpf import CpfFile, plan_merge
    from pytest_iris.tools.cpf.merge import merge_messages

    try:
        target = CpfFile.read(inst.cpf)
        merged, _settings, actions = plan_merge(target, CpfFile.read(path))
    except InstanceError as exc:
        return Outcome(status=1, stderr=f"{exc}\n")
    pid = next(
        (
            p.pid
            for p in state.processes.values()
            if p.instance == inst.name and p.role == "control"
        ),
        0,
    )
    writer = _log.Writer(state, pid or state.next_pid)
    texts = merge_messages(str(path), inst.cpf, actions=bool(actions))
    merged.write(inst.cpf)
    for n, text in enumerate(texts):
        writer.add(
            0,
            "Utility.Event",
            text,
            step=(0.005, 0.005, 0.18)[n] if n < 3 else 0.0,
            same_stamp=n >= 3,
        )
    writer.write(messages_log(inst))
    return Outcome(messages=writer.messages)
