"""The sandbox's ``iris`` command: ``list``, ``qlist``, ``all``, ``start``, ``stop``, ``force``, ``merge``.

Output formats are the real ones from facts.md §4 (``iris list`` from the
insights-core fixtures, ``iris all`` from the docs, ``qlist`` fields 1-4 from
real scripts); the work is done by :mod:`._iris` and :mod:`._merge`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from pytest_iris.host import Outcome
from pytest_iris.sandbox import _iris, _procfs
from pytest_iris.sandbox._cmdbase import euid as _euid
from pytest_iris.sandbox._cmdbase import proc_root as _proc_root
from pytest_iris.sandbox._state import HostState, Instance, load_state, locked_state

_USAGE = """usage:
       iris start <instance> [<cpf_file>] [quietly]
       iris stop <instance> [quietly] [restart]
       iris force <instance>
       iris merge <instance> <merge_file> [<cpf_file>]
       iris list [<instance>]
       iris qlist [<instance>]
       iris all
"""


def _list_entry(inst: Instance) -> str:
    head = f"Configuration '{inst.name}'" + ("   (default)" if inst.default else "")
    if inst.status == "running":
        status = f"running, since {_iris.ctime(inst.since)}"
    else:
        status = f"down, last used {_iris.ctime(inst.since)}"
    lines = [
        head,
        f"    directory:    {inst.directory}",
        f"    versionid:    {inst.version}",
        f"    datadir:      {inst.directory}",
        f"    conf file:    {Path(inst.cpf).name}  (SuperServer port = {inst.superserver_port}, "
        f"WebServer = {inst.web_port})",
        f"    status:       {status}",
    ]
    if inst.status == "running":
        lines.append(f"    state:        {inst.health}")
    lines.append(f"    product:      {inst.product}")
    return "\n".join(lines) + "\n"


def _qlist_entry(inst: Instance) -> str:
    # Fields 1-4 are known from real scripts (facts.md §4.2); the rest follow
    # the order of `iris list` (conf file, ports, state, product, datadir).
    if inst.status == "running":
        status = f"running, since {_iris.ctime(inst.since)}"
        health = inst.health
    else:
        status = f"down, last used {_iris.ctime(inst.since)}"
        health = ""
    fields = [inst.name, inst.directory, inst.version, status, Path(inst.cpf).name,
              str(inst.superserver_port), str(inst.web_port), "0", health, inst.product,
              "", "", inst.directory]  # fmt: skip
    return "^".join(fields) + "\n"


def _all_table(state: HostState) -> str:
    rows = [
        "    Instance          Version ID        Port   Directory",
        "    -------------     ----------        ----   ---------",
    ]
    for inst in state.instances.values():
        up = "up  " if inst.status == "running" else "dn  "
        version = inst.version.removesuffix("com")
        rows.append(f"{up}{inst.name:<18}{version:<18}{inst.superserver_port:<7}{inst.directory}")
    return "\n".join(rows) + "\n"


def iris_command(root: Path, argv: list[str], *, env: Mapping[str, str] | None = None) -> Outcome:
    """``iris list|qlist|all|start|stop|force|merge`` acting on the sandbox host."""
    env = os.environ if env is None else env
    if not argv or argv[0] in ("help", "-h", "--help"):
        return Outcome(status=0 if argv else 1, stdout=_USAGE)
    sub, rest = argv[0].lower(), argv[1:]
    words = [a for a in rest if a.lower() not in ("quietly", "restart", "nostu")]
    flags = {a.lower() for a in rest} - {w.lower() for w in words}
    if sub in ("list", "qlist", "all", "allw"):
        state = load_state(root)
        chosen = [
            i for i in state.instances.values() if not words or i.name.upper() == words[0].upper()
        ]
        if words and not chosen:
            return Outcome(status=1, stderr=f"iris: unknown instance '{words[0]}'\n")
        if sub == "list":
            return Outcome(stdout="".join("\n" + _list_entry(i) for i in chosen))
        if sub == "qlist":
            return Outcome(stdout="".join(_qlist_entry(i) for i in chosen))
        return Outcome(stdout=_all_table(state))
    if sub not in ("start", "stop", "force", "merge", "startnostu"):
        return Outcome(status=1, stderr=f"iris: unknown command '{argv[0]}'\n" + _USAGE)
    if not words:
        return Outcome(status=1, stderr=_USAGE)
    with locked_state(root) as state:
        inst = next(
            (i for i in state.instances.values() if i.name.upper() == words[0].upper()), None
        )
        if inst is None:
            return Outcome(status=1, stderr=f"iris: unknown instance '{words[0]}'\n")
        euid = _euid(state, env)
        if euid not in (0, inst.owner_uid):
            return Outcome(
                status=1,
                stderr=f"iris: permission denied: {sub} {inst.name} needs root or the instance owner\n",
            )
        quietly = "quietly" in flags
        if sub in ("start", "startnostu"):
            merge = env.get("ISC_CPF_MERGE_FILE")
            if merge:
                from pytest_iris.sandbox import _merge

                _merge.merge(state, inst, Path(merge))
            if len(words) > 1:
                inst.cpf = str(Path(words[1]).absolute())
            out = _iris.start(state, _proc_root(root), inst, quietly=quietly)
        elif sub == "stop":
            out = _iris.stop(state, inst, quietly=quietly)
            if out.status == 0 and "restart" in flags:
                again = _iris.start(state, _proc_root(root), inst, quietly=quietly)
                out = Outcome(again.status, out.stdout + again.stdout, out.stderr + again.stderr,
                              out.messages + again.messages)  # fmt: skip
        elif sub == "force":
            out = _iris.force(state, inst)
        else:
            if len(words) < 2:
                return Outcome(status=1, stderr=_USAGE)
            from pytest_iris.sandbox import _merge

            out = _merge.merge(state, inst, Path(words[1]))
        _procfs.render(_proc_root(root), state)
    return out
