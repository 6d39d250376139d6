"""The command a wrapper program (``sudo``, ``env``, ``timeout`` ...) would run.

Shared by the guard (which checks what a child would run) and the containment
(which starts the sandbox's ``sudo`` of its own commands as is); stdlib only,
so neither imports the other.
"""

from __future__ import annotations


def unwrap(base: str, rest: list[str]) -> list[str]:
    """The command a wrapper program would run (best effort)."""
    out = list(rest)
    if base == "sudo":
        while out and out[0].startswith("-"):
            opt = out.pop(0)
            if opt in ("-u", "-g", "-C", "-D", "-h", "-p", "-r", "-t", "-U") and out:
                out.pop(0)
        return out
    if base == "timeout":
        while out and out[0].startswith("-"):
            opt = out.pop(0)
            if opt in ("-s", "-k", "--signal", "--kill-after") and out:
                out.pop(0)
        return out[1:]  # the duration
    if base in ("su", "runuser"):
        if "-c" in out:
            index = out.index("-c")
            return ["sh", "-c", *out[index + 1 : index + 2]]
        return []
    while out and (out[0].startswith("-") or (base == "env" and "=" in out[0])):
        opt = out.pop(0)
        if (
            base in ("nice", "ionice", "chrt", "taskset", "setpriv", "flock")
            and opt
            in (
                "-n",
                "-c",
                "-p",
            )
            and out
        ):
            out.pop(0)
    if base in ("chrt", "taskset", "flock", "chroot") and out:
        out.pop(0)  # priority / mask / lock file / new root
    return out
