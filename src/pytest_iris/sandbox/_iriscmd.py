"""The sandbox's ``iris`` command: ``list``, ``view``, ``qlist``, ``all``, ``start``, ``stop``,
``restart``, ``force``, ``merge``, ``session``/``terminal``.

Output formats are the real ones of ``docs/sources/commands.md`` (``iris
list`` §1.1-§1.2 and §1.9, ``iris view`` §1.5, ``iris restart`` §3.3 and
§1.5, ``qlist`` §1.10 and §2, the session banner §4;
``iris all`` from the docs' column list); the work is done by :mod:`._iris`
and :mod:`._merge`.
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
       iris restart <instance> [quietly]
       iris force <instance>
       iris merge <instance> <merge_file> [<cpf_file>]
       iris list [<instance>]
       iris view [<instance>]
       iris qlist [<instance>]
       iris all
       iris session <instance> [-U <namespace>]
       iris terminal <instance> [-U <namespace>]
"""


def _status(state: HostState, inst: Instance) -> str:
    """``running, since ...`` / ``down, last used ...`` / ``crashed, last used ...``.

    commands.md §1.1, §1.2 and §1.9; dates in the host's local time.
    """
    when = _iris.ctime(state, inst.since)
    if inst.status == "running":
        return f"running, since {when}"
    return f"{'crashed' if inst.crashed else 'down'}, last used {when}"


def _list_entry(state: HostState, inst: Instance, word: str = "Configuration") -> str:
    """One ``iris list`` entry, as commands.md §1.1 (running, mirror member) and §1.2 (down).

    The field labels are 8-space indented and padded to column 22; a
    running mirror member gets ``mirroring:`` between ``status:`` and
    ``state:``; a stopped instance has neither (§1.2). ``iris view`` prints
    the same fields under ``Instance '...'`` (commands.md §1.5: ``word``).
    """
    head = f"{word} '{inst.name}'" + ("   (default)" if inst.default else "")
    pad = " " * 8
    lines = [
        head,
        f"{pad}directory:    {inst.directory}",
        f"{pad}versionid:    {inst.version}",
        f"{pad}datadir:      {inst.directory}",
        f"{pad}conf file:    {Path(inst.cpf).name}  (SuperServer port = {inst.superserver_port}, "
        f"WebServer = {inst.web_port})",
        f"{pad}status:       {_status(state, inst)}",
    ]
    if inst.status == "running":
        if inst.mirror_type:
            lines.append(
                f"{pad}mirroring: Member Type = {inst.mirror_type}; Status = {inst.mirror_status}"
            )
        lines.append(f"{pad}state:        {inst.health}")
    lines.append(f"{pad}product:      {inst.product}")
    return "\n".join(lines) + "\n"


def _qlist_entry(state: HostState, inst: Instance) -> str:
    """The 14 ``^``-separated fields of commands.md §1.10, shaped like the real lines of §2.

    Field 8 (JDBC gateway port) is 62972 in every real line (§2.1); field 9 the
    health state if running; 11-12 the mirror member type and status; 13 the
    data directory; 14 the superserver ports (not filled by any real line: empty).
    """
    health = inst.health if inst.status == "running" else ""
    mirror = (inst.mirror_type, inst.mirror_status) if inst.status == "running" else ("", "")
    fields = [inst.name, inst.directory, inst.version, _status(state, inst), Path(inst.cpf).name,
              str(inst.superserver_port), str(inst.web_port), "62972", health, inst.product,
              *mirror, inst.directory]  # fmt: skip
    return "^".join(fields) + "\n"


def _all_table(state: HostState) -> str:
    """``iris all`` (docs: first column ``up`` running, ``dn`` down or crashed; commands.md §1.10)."""
    rows = [
        "    Instance          Version ID        Port   Directory",
        "    -------------     ----------        ----   ---------",
    ]
    for inst in state.instances.values():
        up = "up  " if inst.status == "running" else "dn  "
        version = inst.version.removesuffix("com")
        rows.append(f"{up}{inst.name:<18}{version:<18}{inst.superserver_port:<7}{inst.directory}")
    return "\n".join(rows) + "\n"


def _session(state: HostState, inst: Instance) -> Outcome:
    """``iris session``/``terminal``: the real banner (commands.md §4), then a refusal.

    The sandbox runs no ObjectScript: after the banner it says so on stderr
    and exits 1, so a script that pipes code into a session fails visibly
    instead of believing the code ran. A stopped instance refuses first (our
    wording: no real text is known).
    """
    from pytest_iris.sandbox._console import session_banner

    if inst.status != "running":
        return Outcome(status=1, stderr=f"InterSystems IRIS instance {inst.name} is not running.\n")
    return Outcome(
        status=1,
        stdout=session_banner(state.nodename, inst.name),
        stderr="iris session: the sandbox host runs no ObjectScript; nothing was executed "
        "(use a real instance or a live IRIS for code)\n",
    )


def restart(
    state: HostState, proc_root: Path, inst: Instance, *, quietly: bool, sub: str, flags: set[str]
) -> Outcome:
    """``iris stop <i> [restart]`` and ``iris restart <i>``: stop, then start if asked and it stopped.

    ``iris restart iris`` prints only the start's console (commands.md §3.3:
    no stop line, without ``quietly``), so its stop half is quiet; the stop
    half keeps the stop's own rules (a stopped instance fails with status 1,
    connected users' jobs are halted, :func:`._iris.stop`). Whether the real
    ``restart`` starts an instance that is already down is not in the sources:
    refusing as ``stop`` does is our choice.
    """
    out = _iris.stop(state, inst, quietly=quietly or sub == "restart")
    if out.status == 0 and (sub == "restart" or "restart" in flags):
        again = _iris.start(state, proc_root, inst, quietly=quietly)
        out = Outcome(again.status, out.stdout + again.stdout, out.stderr + again.stderr,
                      out.messages + again.messages)  # fmt: skip
    return out


def iris_command(root: Path, argv: list[str], *, env: Mapping[str, str] | None = None) -> Outcome:
    """``iris list|view|qlist|all|start|stop|restart|force|merge`` acting on the sandbox host."""
    env = os.environ if env is None else env
    if not argv or argv[0] in ("help", "-h", "--help"):
        return Outcome(status=0 if argv else 1, stdout=_USAGE)
    sub, rest = argv[0].lower(), argv[1:]
    words = [a for a in rest if a.lower() not in ("quietly", "restart", "nostu")]
    flags = {a.lower() for a in rest} - {w.lower() for w in words}
    if sub in ("list", "view", "qlist", "all", "allw"):
        state = load_state(root)
        chosen = [
            i for i in state.instances.values() if not words or i.name.upper() == words[0].upper()
        ]
        if words and not chosen:
            return Outcome(status=1, stderr=f"iris: unknown instance '{words[0]}'\n")
        if sub in ("list", "view"):
            # commands.md §1.5: `iris view` is the list block headed `Instance 'IRIS'`
            word = "Instance" if sub == "view" else "Configuration"
            return Outcome(stdout="".join("\n" + _list_entry(state, i, word) for i in chosen))
        if sub == "qlist":
            return Outcome(stdout="".join(_qlist_entry(state, i) for i in chosen))
        return Outcome(stdout=_all_table(state))
    if sub in ("session", "terminal"):
        if not words:
            return Outcome(status=1, stderr=_USAGE)
        state = load_state(root)
        inst = next(
            (i for i in state.instances.values() if i.name.upper() == words[0].upper()), None
        )
        if inst is None:
            return Outcome(status=1, stderr=f"iris: unknown instance '{words[0]}'\n")
        return _session(state, inst)
    if sub not in ("start", "stop", "restart", "force", "merge", "startnostu"):
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
        elif sub in ("stop", "restart"):
            out = restart(state, _proc_root(root), inst, quietly=quietly, sub=sub, flags=flags)
        elif sub == "force":
            out = _iris.force(state, inst)
        else:
            if len(words) < 2:
                return Outcome(status=1, stderr=_USAGE)
            from pytest_iris.sandbox import _merge

            out = _merge.merge(state, inst, Path(words[1]))
        _procfs.render(_proc_root(root), state)
    return out
