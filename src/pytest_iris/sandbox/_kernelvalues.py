"""What the kernel stores, or refuses, when a sandboxed ``/proc/sys`` key is written.

Why: the sandbox's ``sysctl -w`` stored any number (``kernel.shmmax=-1``,
``kernel.msgmni=3000000000``) where the real kernel answers ``EINVAL`` and
procps prints ``sysctl: setting key "kernel.shmmax": Invalid argument``.

The IPC keys (``kernel.shm*``, ``kernel.msg*``, ``kernel.sem``) were checked
with the real procps-ng 4.0.2 ``sysctl -w`` on Linux 6.18 inside private IPC
namespaces (``unshare --ipc`` and ``unshare --user --map-root-user --ipc``;
the host's values were compared before and after), and so was
``kernel.hostname`` (``unshare --uts``) and the read-only ``kernel.ostype``.
Observed, as the kernel's ``proc_get_long`` parses a number:

* leading blanks are skipped; the number is C ``strtoul`` base 0 (``0x10``
  is 16, ``010`` is 8, ``08`` and ``+5`` and ``1.5`` and ``""`` are refused);
  anything but a blank after it is refused (``5abc``);
* ``unsigned long`` keys (``proc_doulongvec_minmax``: ``kernel.shmmax``,
  ``kernel.shmall``) refuse any ``-`` (even ``-0``) and values above
  2**64-1; ``int`` keys (``proc_dointvec[_minmax]``) take ``-`` but refuse
  what does not fit in 32 bits, then the key's bounds: ``kernel.shmmni`` and
  ``kernel.msgmni`` 0..32768 (IPCMNI), ``kernel.msgmax``/``msgmnb``
  0..2**31-1, ``kernel.shm_rmid_forced`` 0..1 — all ``Invalid argument``;
* a key holding N numbers takes the first N given and ignores the rest
  (``kernel.shmmax=5 6`` stores 5); fewer leave the others as they were;
  numbers before a refused one stay stored (``kernel.sem=7 2147483648 3 4``
  stores 7 and fails);
* ``kernel.sem``'s fourth number (SEMMNI) outside 0..32768 is refused with
  ``Numerical result out of range`` after the first three were stored
  (``1 2 3 40000`` leaves ``1 2 3 32000``);
* ``kernel.hostname`` keeps the first 64 characters, status 0;
* ``kernel.ostype``/``osrelease`` (mode 0444): procps prints ``Invalid
  argument`` but exits 0 and nothing changes.

The keys that are not namespaced (``vm.*``, ``fs.*``, ``kernel.pid_max``,
``kernel.threads-max``, ...) could not be tried without writing the real
host's ``/proc/sys``: their bounds below are read from the kernel's sysctl
tables (``kernel/sysctl.c``, ``mm/``, ``fs/file_table.c``, ``kernel/pid.c``,
Linux 6.x), not run. ``kernel.*_next_id`` keep the sandbox's earlier
behaviour (any integer): on 6.18 they are 0444 and refused as ``ostype``,
but the sandbox emulates a 4.18 kernel where they are writable.
"""

from __future__ import annotations

from dataclasses import dataclass

ULONG_MAX = 2**64 - 1
INT_MIN, INT_MAX = -(2**31), 2**31 - 1
#: ``IPCMNI``: the most IPC identifiers of one kind (ipc/util.h)
IPCMNI = 32768


class Refused(ValueError):
    """The kernel refused the write; procps prints ``setting key "K": <errno_text>``."""

    errno_text = "Invalid argument"
    #: procps's exit status for this refusal
    status = 1

    def __init__(self, value: str, stored: str | None = None) -> None:
        super().__init__(value)
        #: what the key holds afterwards when part of the write stayed (None: unchanged)
        self.stored = stored


class OutOfRange(Refused):
    """``ERANGE`` (``kernel.sem``'s SEMMNI): ``Numerical result out of range``."""

    errno_text = "Numerical result out of range"


class ReadOnly(Refused):
    """A 0444 key: procps 4.0.2 prints ``Invalid argument`` yet exits 0; nothing changes."""

    status = 0


@dataclass(frozen=True)
class Rule:
    """How one key is parsed: ``unsigned long`` or ``int``, bounds, how many numbers."""

    unsigned: bool = False
    low: int = INT_MIN
    high: int = INT_MAX
    count: int = 1


_ULONG = Rule(unsigned=True, low=0, high=ULONG_MAX)
_INT = Rule()
_NONNEG = Rule(low=0)

#: measured in a private IPC namespace (see the module docstring)
_MEASURED: dict[str, Rule] = {
    "kernel.shmmax": _ULONG,
    "kernel.shmall": _ULONG,
    "kernel.shmmni": Rule(low=0, high=IPCMNI),
    "kernel.shm_rmid_forced": Rule(low=0, high=1),
    "kernel.msgmni": Rule(low=0, high=IPCMNI),
    "kernel.msgmax": _NONNEG,
    "kernel.msgmnb": _NONNEG,
    "kernel.sem": Rule(count=4),
}
#: from the kernel's sysctl tables (Linux 6.x source), not run: see the module docstring
_FROM_SOURCE: dict[str, Rule] = {
    "kernel.shm_next_id": _INT,
    "kernel.msg_next_id": _INT,
    "kernel.sem_next_id": _INT,
    "kernel.pid_max": Rule(low=301, high=4194304),  # RESERVED_PIDS + 1 .. PID_MAX_LIMIT
    "kernel.threads-max": Rule(low=20, high=0x3FFFFFFF),  # MIN_THREADS .. FUTEX_TID_MASK
    "kernel.randomize_va_space": _INT,
    "kernel.panic": _INT,
    "vm.nr_hugepages": _ULONG,
    "vm.nr_hugepages_mempolicy": _ULONG,
    "vm.nr_overcommit_hugepages": _ULONG,
    "vm.hugetlb_shm_group": _INT,
    "vm.swappiness": Rule(low=0, high=200),
    "vm.overcommit_memory": Rule(low=0, high=2),
    "vm.overcommit_ratio": _INT,
    "vm.overcommit_kbytes": _ULONG,
    "vm.min_free_kbytes": _NONNEG,
    "vm.max_map_count": _NONNEG,
    "vm.dirty_ratio": Rule(low=0, high=100),
    "vm.dirty_background_ratio": Rule(low=0, high=100),
    "vm.zone_reclaim_mode": _NONNEG,
    "fs.file-max": Rule(unsigned=True, low=0, high=2**63 - 1),  # long_max
    "fs.nr_open": Rule(low=64, high=2147483584),  # BITS_PER_LONG .. INT_MAX & -64
}
RULES: dict[str, Rule] = {**_MEASURED, **_FROM_SOURCE}
READ_ONLY = frozenset({"kernel.ostype", "kernel.osrelease"})
#: ``__NEW_UTS_LEN``: longer host names are cut, not refused (measured with ``unshare --uts``)
UTS_LEN = 64


def _number(word: str, rule: Rule) -> int:
    """One number as ``proc_get_long`` reads it (``strtoul`` base 0), checked against ``rule``."""
    negative = word.startswith("-")
    digits = word[1:] if negative else word
    if digits[:2].lower() == "0x":
        base, body = 16, digits[2:]
    elif len(digits) > 1 and digits[0] == "0":
        base, body = 8, digits[1:]
    else:
        base, body = 10, digits
    if (negative and rule.unsigned) or not body:
        raise Refused(word)
    if any(c not in "0123456789abcdef"[:base] for c in body.lower()):
        raise Refused(word)
    value = int(body, base)
    if value > ULONG_MAX:
        raise Refused(word)
    value = -value if negative else value
    if not rule.unsigned and not INT_MIN <= value <= INT_MAX:
        raise Refused(word)
    if not rule.low <= value <= rule.high:
        raise Refused(word)
    return value


def store(key: str, value: str, current: str) -> str:
    """What ``key`` holds after ``value`` is written over ``current``, or the kernel's refusal.

    Keys without a rule (the sandbox's own words) are stored as given.
    """
    if key in READ_ONLY:
        raise ReadOnly(value)
    if key == "kernel.hostname":
        return value.strip()[:UTS_LEN]
    rule = RULES.get(key)
    if rule is None:
        return value.strip()
    words = value.split()
    if not words:
        raise Refused(value)
    held = current.split()
    held += ["0"] * (rule.count - len(held))
    for n, word in enumerate(words[: rule.count]):
        try:
            held[n] = str(_number(word, rule))
        except Refused as exc:
            # the numbers before stay written: the write is partial
            raise Refused(word, "\t".join(held[: rule.count]) if n else None) from exc
    if key == "kernel.sem" and not 0 <= int(held[3]) <= IPCMNI:
        # ipc/ipc_sysctl.c: SEMMNI checked after the write, the old one put back
        held[3] = current.split()[3]
        raise OutOfRange(value, "\t".join(held))
    return "\t".join(held[: rule.count])
