"""Render a :class:`HostState` as a procfs tree in the real Linux format.

The layout and field order follow what the kernel writes and what psutil's
``_pslinux`` reads: ``<pid>/stat`` (52 fields, comm in parentheses),
``<pid>/status`` (``Tgid``, ``PPid``, ``Uid``, ``Threads`` ...),
``<pid>/cmdline`` (NUL-separated), ``<pid>/fd/N -> socket:[inode]``,
``net/tcp`` and ``net/tcp6`` (little-endian hex addresses), ``stat`` with
``btime``, ``meminfo`` with the ``HugePages_*`` lines, ``sys/kernel/*`` and
``sys/vm/nr_hugepages``.
"""

from __future__ import annotations

import ipaddress
import os
import struct
from collections.abc import Callable
from pathlib import Path

from pytest_iris.atomic import write_atomic
from pytest_iris.errors import SandboxError
from pytest_iris.sandbox._state import HostState, Proc, Sock

#: sysctl key -> path under proc/sys, with the default a modern kernel boots with.
KERNEL_DEFAULTS: dict[str, str] = {
    "kernel.shmmax": "18446744073692774399",
    "kernel.shmall": "18446744073692774399",
    "kernel.shmmni": "4096",
    "kernel.sem": "32000\t1024000000\t500\t32000",
    "kernel.msgmni": "32000",
    "kernel.msgmax": "8192",
    "kernel.msgmnb": "16384",
    "kernel.pid_max": "4194304",
    "kernel.ostype": "Linux",
    "kernel.osrelease": "4.18.0-425.3.1.el8.x86_64",
    "kernel.hostname": "iris-host",
    "kernel.shm_rmid_forced": "0",
    "kernel.shm_next_id": "-1",
    "kernel.msg_next_id": "-1",
    "kernel.sem_next_id": "-1",
    "kernel.threads-max": "126861",
    "kernel.randomize_va_space": "2",
    "kernel.panic": "0",
    "vm.nr_hugepages": "0",
    "vm.nr_hugepages_mempolicy": "0",
    "vm.nr_overcommit_hugepages": "0",
    "vm.hugetlb_shm_group": "0",
    "vm.swappiness": "30",
    "vm.overcommit_memory": "0",
    "vm.overcommit_ratio": "50",
    "vm.overcommit_kbytes": "0",
    "vm.min_free_kbytes": "67584",
    "vm.max_map_count": "65530",
    "vm.dirty_ratio": "30",
    "vm.dirty_background_ratio": "10",
    "vm.zone_reclaim_mode": "0",
    "fs.file-max": "9223372036854775807",
    "fs.nr_open": "1048576",
}
#: keys whose values are words, not numbers
TEXT_KEYS = frozenset({"kernel.ostype", "kernel.osrelease", "kernel.hostname"})

_TCP_STATE = {
    "ESTABLISHED": "01",
    "SYN_SENT": "02",
    "TIME_WAIT": "06",
    "CLOSE": "07",
    "LISTEN": "0A",
}
_TCP_HEADER = (
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt"
    "   uid  timeout inode\n"
)
_TCP6_HEADER = (
    "  sl  local_address                         remote_address                        st"
    " tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
)
_UDP_HEADER = (
    "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt"
    "   uid  timeout inode ref pointer drops\n"
)
_UNIX_HEADER = "Num       RefCount Protocol Flags    Type St Inode Path\n"


def key_path(proc_root: Path, key: str) -> Path:
    """``kernel.shmmax`` -> ``<proc_root>/sys/kernel/shmmax`` (as sysctl does)."""
    if not key or key.startswith(".") or key.endswith(".") or ".." in key or "/" in key:
        raise SandboxError(f"invalid sysctl key {key!r}")
    return proc_root / "sys" / key.replace(".", "/")


def read_key(proc_root: Path, key: str) -> str:
    return key_path(proc_root, key).read_text(encoding="ascii").rstrip("\n")


def write_file(path: Path, text: str) -> None:
    """Replace a file atomically so a concurrent reader never sees half of it.

    ``cat``, ``sysctl`` and psutil read these files with no lock, so the new
    text goes through :func:`~pytest_iris.atomic.write_atomic`: a temporary
    of its own per write (racing writers never rename each other's half-written
    file), the file's mode and owner kept, nothing left behind by an interrupt.
    Not durable: the tree is a sandbox's, gone with it after a crash.
    A file that already holds ``text`` is left alone: a render after a clock
    tick changes a few files of hundreds, and comparing costs a tenth of a rewrite.
    """
    data = text.encode("ascii")
    name = os.fspath(path)
    try:
        fd = os.open(name, os.O_RDONLY)
    except OSError:
        pass
    else:
        try:
            if os.read(fd, len(data) + 1) == data:
                return
        finally:
            os.close(fd)
    write_atomic(name, data, durable=False)


def _dots_first(path: str) -> None:
    """Make directory ``path`` whose listing starts with ``.`` and ``..``, as procfs's does.

    procps ``sysctl -a`` skips the first two entries of each directory as if
    they were ``.`` and ``..``. ext4 lists a one-block directory in hash
    order, dots anywhere (sysctl then walks ``..`` for ever); a directory
    that once grew past one block is hash-indexed, and an indexed one lists
    the dots first for good. So grow it with long names and remove them.
    tmpfs, xfs and btrfs list the dots first anyway.
    """
    os.mkdir(path)
    pads = [f"{path}/.{n:02d}{'p' * 240}" for n in range(20)]
    for pad in pads:
        os.close(os.open(pad, os.O_WRONLY | os.O_CREAT, 0o600))
    for pad in pads:
        os.unlink(pad)


def init_tree(proc_root: Path, kernel: dict[str, str]) -> None:
    """Create the static part: the ``sys`` tunables, ``net``, and the files nothing changes."""
    base = str(proc_root)
    made: set[str] = set()
    _dots_first(f"{base}/sys")
    made.add(f"{base}/sys")
    for key, value in {**KERNEL_DEFAULTS, **kernel}.items():
        path = f"{base}/sys/{key.replace('.', '/')}"
        parent = os.path.dirname(path)
        if parent not in made:
            _dots_first(parent)
            made.add(parent)
        _put(path, value + "\n")
    os.makedirs(f"{base}/net", exist_ok=True)
    os.makedirs(f"{base}/sysvipc", exist_ok=True)
    for name, text in _STATIC.items():
        _put(f"{base}/{name}", text)
    os.symlink("self/mounts", f"{base}/mounts")


def hugepages_in_use(state: HostState) -> int:
    return sum(i.huge_pages for i in state.instances.values() if i.status == "running")


def render(proc_root: Path, state: HostState, *, fresh: bool = False) -> None:
    """Bring the tree in line with ``state`` (pids added/removed, net, meminfo, stat).

    ``fresh``: the tree is being built and nobody reads it yet, so files are
    written in place instead of through a temp file and a rename.
    """
    write = _put_path if fresh else write_file
    wanted = {str(pid) for pid in state.processes}
    present = {name for name in os.listdir(proc_root) if name.isdigit()}
    for name in present - wanted:
        import shutil  # rarely needed: kept out of the bin/ commands' start-up

        shutil.rmtree(proc_root / name, ignore_errors=True)
    base = str(proc_root)
    for pid, proc in state.processes.items():
        if str(pid) in present:
            _sync_process(proc_root / str(pid), proc, state)
        else:
            _write_process(f"{base}/{pid}", proc, state)
    _write_net(proc_root, state, write)
    write(proc_root / "meminfo", _meminfo(proc_root, state))
    write(proc_root / "stat", _stat(state))
    uptime = max(state.clock - state.boot_time, 0.0)
    write(proc_root / "uptime", f"{uptime:.2f} {uptime * 1.9:.2f}\n")
    write(proc_root / "loadavg", f"0.08 0.03 0.01 1/{len(state.processes)} {state.next_pid - 1}\n")
    write(proc_root / "vmstat", _vmstat(state))
    write(proc_root / "sysvipc" / "shm", _sysvipc_shm(state))
    _link_self(proc_root, state)


def shell_pid(state: HostState) -> int:
    """The login shell standing for "this process" (``/proc/self``): 0 when there is none."""
    return next((p.pid for p in state.processes.values() if p.role == "shell"), 0)


def _link_self(proc_root: Path, state: HostState) -> None:
    pid = shell_pid(state) or 1
    for name, target in (("self", str(pid)), ("thread-self", f"{pid}/task/{pid}")):
        link = proc_root / name
        if os.path.islink(link):
            if os.readlink(link) == target:
                continue
            os.unlink(link)
        os.symlink(target, link)


def _put_path(path: Path, text: str) -> None:
    _put(str(path), text)


# -- processes ------------------------------------------------------------


def _stat_line(proc: Proc, state: HostState) -> str:
    """The 52 fields of /proc/<pid>/stat (man 5 proc), comm in parentheses."""
    pid = proc.pid
    return (
        f"{pid} ({proc.comm}) {proc.state} {proc.ppid} {pid} {pid} 0 -1 4194560 120 0 0 0 "
        f"{pid % 97} {pid % 41} 0 0 20 0 {proc.threads} 0 {proc.start_ticks} "
        f"{(proc.vsize_kb + _shm_kb(proc, state)) * 1024} {proc.rss_kb // 4} 18446744073709551615 4194304 4210000 "
        f"140720000000000 0 0 0 0 0 0 0 0 0 17 {pid % 2} 0 0 0 0 0 0 0 0 0 0 0 0 0\n"
    )


_CAPS = "000001ffffffffff"
_NO_CAPS = "0000000000000000"
_STATE_NAMES = {"R": "R (running)", "S": "S (sleeping)", "T": "T (stopped)", "Z": "Z (zombie)"}


def _shm_kb(proc: Proc, state: HostState) -> int:
    """The instance's SysV shared-memory segment, mapped by each of its irisdb processes."""
    inst = state.instances.get(proc.instance)
    if inst is None or inst.status != "running" or proc.comm != "irisdb":
        return 0
    return inst.shm_mb * 1024


def _status(proc: Proc, state: HostState | None = None) -> str:
    uid = proc.uid
    shm = _shm_kb(proc, state) if state is not None else 0
    huge = shm if shm and state is not None and state.instances[proc.instance].huge_pages else 0
    vsize = proc.vsize_kb + shm
    rss_shmem = 0 if huge else min(shm, shm // 8)
    rss = proc.rss_kb + rss_shmem
    return (
        f"Name:\t{proc.comm}\nUmask:\t0022\nState:\t{_STATE_NAMES.get(proc.state, proc.state)}\n"
        f"Tgid:\t{proc.pid}\nNgid:\t0\nPid:\t{proc.pid}\nPPid:\t{proc.ppid}\nTracerPid:\t0\n"
        f"Uid:\t{uid}\t{uid}\t{uid}\t{uid}\nGid:\t{uid}\t{uid}\t{uid}\t{uid}\n"
        f"FDSize:\t64\nGroups:\t{uid} \nNStgid:\t{proc.pid}\nNSpid:\t{proc.pid}\n"
        f"NSpgid:\t{proc.pid}\nNSsid:\t{proc.pid}\n"
        f"VmPeak:\t{vsize:8d} kB\nVmSize:\t{vsize:8d} kB\nVmLck:\t       0 kB\n"
        f"VmPin:\t       0 kB\nVmHWM:\t{rss:8d} kB\nVmRSS:\t{rss:8d} kB\n"
        f"RssAnon:\t{proc.rss_kb // 2:8d} kB\nRssFile:\t{proc.rss_kb - proc.rss_kb // 2:8d} kB\n"
        f"RssShmem:\t{rss_shmem:8d} kB\nVmData:\t    2048 kB\nVmStk:\t     132 kB\n"
        f"VmExe:\t    8192 kB\nVmLib:\t    4096 kB\nVmPTE:\t      96 kB\nVmSwap:\t       0 kB\n"
        f"HugetlbPages:\t{huge:8d} kB\nCoreDumping:\t0\nTHP_enabled:\t1\n"
        f"Threads:\t{proc.threads}\nSigQ:\t0/63405\nSigPnd:\t0000000000000000\n"
        f"ShdPnd:\t0000000000000000\nSigBlk:\t0000000000000000\nSigIgn:\t0000000000001000\n"
        f"SigCgt:\t0000000180004a02\nCapInh:\t0000000000000000\n"
        f"CapPrm:\t{_CAPS if uid == 0 else _NO_CAPS}\nCapEff:\t{_CAPS if uid == 0 else _NO_CAPS}\n"
        f"CapBnd:\t{_CAPS}\nCapAmb:\t0000000000000000\nNoNewPrivs:\t0\nSeccomp:\t0\n"
        f"Speculation_Store_Bypass:\tthread vulnerable\n"
        f"Cpus_allowed:\t3\nCpus_allowed_list:\t0-1\n"
        f"voluntary_ctxt_switches:\t{proc.pid % 503}\nnonvoluntary_ctxt_switches:\t{proc.pid % 17}\n"
    )


def _put(path: str, text: str, mode: int = 0o644) -> None:
    """Create a file in a tree being built (os-level calls: no buffering layers)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def _write_process(base: str, proc: Proc, state: HostState) -> None:
    os.mkdir(base)
    os.mkdir(f"{base}/fd")
    os.mkdir(f"{base}/task")
    os.mkdir(f"{base}/task/{proc.pid}")
    stat = _stat_line(proc, state)
    _put(f"{base}/stat", stat)
    _put(f"{base}/task/{proc.pid}/stat", stat)
    _put(f"{base}/status", _status(proc, state))
    _put(f"{base}/maps", _maps(proc, state))
    _put(f"{base}/mounts", _MOUNTS)
    _put(f"{base}/comm", proc.comm + "\n")
    _put(f"{base}/cmdline", "".join(arg + "\0" for arg in proc.cmdline))
    _put(f"{base}/environ", f"PATH=/usr/bin:/bin\0HOME={proc.cwd}\0")
    pages = proc.rss_kb // 4
    vsize = proc.vsize_kb + _shm_kb(proc, state)
    _put(f"{base}/statm", f"{vsize // 4} {pages} {pages // 2} 2048 0 512 0\n")
    _put(f"{base}/io", _io(proc))
    _put(f"{base}/smaps_rollup", _smaps_rollup(proc))
    _put(f"{base}/smaps", _smaps(proc))
    os.symlink(proc.exe or "/usr/bin/true", f"{base}/exe")
    os.symlink(proc.cwd, f"{base}/cwd")
    for fd in (0, 1, 2):
        os.symlink("/dev/null", f"{base}/fd/{fd}")
    for fd, inode in proc.fds.items():
        os.symlink(f"socket:[{inode}]", f"{base}/fd/{fd}")
    _own(base, proc.uid)


def _own(base: str, uid: int) -> None:
    """``/proc/PID`` and its files belong to the process's user, as the kernel shows them.

    Only root can give files away; another user's sandbox keeps its own uid.
    """
    if uid == 0 or os.geteuid() != 0:
        return
    for name in ("", "/task", f"/task/{os.path.basename(base)}", "/stat", "/status", "/cmdline"):
        os.lchown(base + name, uid, uid)


def _maps(proc: Proc, state: HostState) -> str:
    """Mappings: the executable, libc, the stack, and the instance's SysV segment (irisdb)."""
    exe = proc.exe or "/usr/bin/true"
    lines = [
        f"00400000-00c00000 r-xp 00000000 fd:00 {proc.pid * 13}                 {exe}",
        "7f1c2a000000-7f1c2a1c6000 r-xp 00000000 fd:00 1311                     /usr/lib64/libc.so.6",
    ]
    shm = _shm_kb(proc, state)
    if shm:
        key, shmid = shm_ident(state, proc.instance)
        start = 0x7F0000000000
        lines.append(
            f"{start:x}-{start + shm * 1024:x} rw-s 00000000 00:01 {shmid}"
            f"                     /SYSV{key:08x} (deleted)"
        )
    lines.append("7ffd5c000000-7ffd5c021000 rw-p 00000000 00:00 0                          [stack]")
    return "\n".join(lines) + "\n"


def _io(proc: Proc) -> str:
    n = proc.pid
    return (
        f"rchar: {n * 4099}\nwchar: {n * 1031}\nsyscr: {n * 7}\nsyscw: {n * 3}\n"
        f"read_bytes: {n * 4096}\nwrite_bytes: {n * 1024}\ncancelled_write_bytes: 0\n"
    )


def _smaps_rollup(proc: Proc) -> str:
    rss, private = proc.rss_kb, proc.rss_kb // 2
    return (
        f"00400000-7ffd00000000 ---p 00000000 00:00 0                          [rollup]\n"
        f"Rss:            {rss:8d} kB\nPss:            {rss * 3 // 4:8d} kB\n"
        f"Shared_Clean:   {rss - private:8d} kB\nPrivate_Clean:  {private // 2:8d} kB\n"
        f"Private_Dirty:  {private - private // 2:8d} kB\nSwap:           {0:8d} kB\n"
    )


def _smaps(proc: Proc) -> str:
    rss, private = proc.rss_kb, proc.rss_kb // 2
    exe = proc.exe or "/usr/bin/true"
    return (
        f"00400000-00c00000 r-xp 00000000 fd:00 {proc.pid * 13}                 {exe}\n"
        f"Size:           {proc.vsize_kb:8d} kB\nRss:            {rss:8d} kB\n"
        f"Pss:            {rss * 3 // 4:8d} kB\nShared_Clean:   {rss - private:8d} kB\n"
        f"Shared_Dirty:          0 kB\nPrivate_Clean:  {private // 2:8d} kB\n"
        f"Private_Dirty:  {private - private // 2:8d} kB\nReferenced:     {rss:8d} kB\n"
        f"Anonymous:      {private:8d} kB\nLazyFree:              0 kB\n"
        f"AnonHugePages:         0 kB\nSwap:                  0 kB\n"
    )


def _sync_process(pdir: Path, proc: Proc, state: HostState) -> None:
    """Rewrite what can change for a living process: stat/status and its fds."""
    stat = _stat_line(proc, state)
    write_file(pdir / "stat", stat)
    write_file(pdir / "task" / str(proc.pid) / "stat", stat)
    write_file(pdir / "status", _status(proc, state))
    write_file(pdir / "maps", _maps(proc, state))
    fd_dir = pdir / "fd"
    wanted = {str(fd): f"socket:[{inode}]" for fd, inode in proc.fds.items()}
    for name in os.listdir(fd_dir):
        if name in ("0", "1", "2"):
            continue
        target = wanted.pop(name, None)
        if target is None or os.readlink(fd_dir / name) != target:
            os.unlink(fd_dir / name)
            if target is not None:
                os.symlink(target, fd_dir / name)
    for name, target in wanted.items():
        os.symlink(target, fd_dir / name)


# -- network --------------------------------------------------------------


def _hex4(addr: str, port: int) -> str:
    # ipaddress, not socket.inet_pton: the bin/ commands render this, and socket costs ~5 ms
    # of each one's start-up (its IntEnum conversions); ipaddress is already loaded by pathlib
    packed = ipaddress.IPv4Address(addr).packed
    return f"{struct.unpack('<I', packed)[0]:08X}:{port:04X}"


def _hex6(addr: str, port: int) -> str:
    packed = ipaddress.IPv6Address(addr).packed
    # The kernel prints each 32-bit word in host (little-endian) order.
    words = struct.unpack("<4I", packed)
    return "".join(f"{w:08X}" for w in words) + f":{port:04X}"


def _tcp_line(n: int, sock: Sock) -> str:
    enc = _hex4 if sock.family == 4 else _hex6
    local, remote = enc(sock.laddr, sock.lport), enc(sock.raddr, sock.rport)
    return (
        f"{n:4d}: {local} {remote} {_TCP_STATE[sock.state]} 00000000:00000000 00:00000000 "
        f"00000000 {sock.uid:5d}        0 {sock.inode} 1 0000000000000000 100 0 0 10 0\n"
    )


def _write_net(
    proc_root: Path, state: HostState, write: Callable[[Path, str], None] = write_file
) -> None:
    v4 = [s for s in state.sockets.values() if s.family == 4]
    v6 = [s for s in state.sockets.values() if s.family == 6]
    net = proc_root / "net"
    write(net / "tcp", _TCP_HEADER + "".join(_tcp_line(n, s) for n, s in enumerate(v4)))
    write(net / "tcp6", _TCP6_HEADER + "".join(_tcp_line(n, s) for n, s in enumerate(v6)))
    if not (net / "udp").exists():
        for name in ("udp", "udp6"):
            (net / name).write_text(_UDP_HEADER, encoding="ascii")
        (net / "unix").write_text(_UNIX_HEADER, encoding="ascii")


# -- memory and cpu -------------------------------------------------------


def _meminfo(proc_root: Path, state: HostState) -> str:
    total_kb = state.total_ram_mb * 1024
    try:
        nr_huge = int(read_key(proc_root, "vm.nr_hugepages"))
    except (OSError, ValueError):
        nr_huge = 0
    used_huge = min(hugepages_in_use(state), nr_huge)
    huge_kb = nr_huge * state.hugepagesize_kb
    shm_kb = sum(
        i.shm_mb * 1024
        for i in state.instances.values()
        if i.status == "running" and not i.huge_pages
    )
    procs_kb = sum(p.rss_kb for p in state.processes.values())
    free_kb = max(total_kb - huge_kb - shm_kb - procs_kb - 180_000, 0)
    cached = 64752 + shm_kb
    rows = [
        ("MemTotal", total_kb), ("MemFree", free_kb), ("MemAvailable", free_kb + 60000),
        ("Buffers", 2132), ("Cached", cached), ("SwapCached", 0), ("Active", 37104 + shm_kb),
        ("Inactive", 31436), ("Active(anon)", 1560 + shm_kb), ("Inactive(anon)", 8968),
        ("Active(file)", 35544), ("Inactive(file)", 22468), ("Unevictable", 0), ("Mlocked", 0),
        ("SwapTotal", 0), ("SwapFree", 0), ("Dirty", 120), ("Writeback", 0),
        ("AnonPages", procs_kb), ("Mapped", 10652), ("Shmem", 8872 + shm_kb),
        ("KReclaimable", 41716), ("Slab", 63684), ("SReclaimable", 41716), ("SUnreclaim", 21968),
        ("KernelStack", 1492), ("PageTables", 1640), ("NFS_Unstable", 0), ("Bounce", 0),
        ("WritebackTmp", 0), ("CommitLimit", total_kb // 2), ("Committed_AS", 67448 + procs_kb),
        ("VmallocTotal", 34359738367), ("VmallocUsed", 14252), ("VmallocChunk", 0),
        ("Percpu", 688), ("AnonHugePages", 0), ("ShmemHugePages", 0), ("ShmemPmdMapped", 0),
        ("FileHugePages", 0), ("FilePmdMapped", 0),
    ]  # fmt: skip
    text = "".join(f"{k + ':':<16}{v:>8} kB\n" for k, v in rows)
    text += (
        f"HugePages_Total:   {nr_huge:>5}\nHugePages_Free:    {nr_huge - used_huge:>5}\n"
        f"HugePages_Rsvd:    {0:>5}\nHugePages_Surp:    {0:>5}\n"
        f"Hugepagesize:   {state.hugepagesize_kb:>8} kB\nHugetlb:        {huge_kb:>8} kB\n"
        f"DirectMap4k:       28672 kB\nDirectMap2M:     2068480 kB\n"
    )
    return text


def _stat(state: HostState) -> str:
    up = max(int((state.clock - state.boot_time) * 100), 0)
    idle = up * 95 // 100
    user = up * 3 // 100
    sys_ = up - idle - user
    cpus = [f"cpu  {user} 0 {sys_} {idle} 164 0 32 20 0 0\n"]
    for n in range(2):
        cpus.append(f"cpu{n} {user // 2} 0 {sys_ // 2} {idle // 2} 82 0 16 10 0 0\n")
    return "".join(cpus) + (
        f"intr 282319 0\nctxt 457629\nbtime {int(state.boot_time)}\n"
        f"processes {state.next_pid}\nprocs_running 1\nprocs_blocked 0\n"
        "softirq 323952 0 103890 3 2611 16128 0 2 140071 0 61247\n"
    )


# -- the rest of what procps and psutil read ------------------------------

#: /proc/PID/mounts (psutil.disk_partitions reads /proc/self/mounts); a RHEL 8 host's (invented)
_MOUNTS = (
    "/dev/mapper/rhel-root / xfs rw,seclabel,relatime,attr2,inode64,noquota 0 0\n"
    "proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0\n"
    "sysfs /sys sysfs rw,seclabel,nosuid,nodev,noexec,relatime 0 0\n"
    "devtmpfs /dev devtmpfs rw,seclabel,nosuid,size=8122940k,nr_inodes=2030735,mode=755 0 0\n"
    "tmpfs /dev/shm tmpfs rw,seclabel,nosuid,nodev 0 0\n"
    "/dev/vda1 /boot xfs rw,seclabel,relatime,attr2,inode64,noquota 0 0\n"
    "/dev/mapper/rhel-iris /usr/irissys xfs rw,seclabel,relatime,attr2,inode64,noquota 0 0\n"
)
_STATIC = {
    "filesystems": "nodev\tsysfs\nnodev\ttmpfs\nnodev\tproc\nnodev\tdevtmpfs\n"
    "nodev\thugetlbfs\nnodev\tmqueue\n\txfs\n\text4\n",
    "diskstats": "   8       0 vda 41873 2149 2835362 23741 60398 40219 3462424 70128 0 53436 "
    "93869 0 0 0 0 4211 3456\n   8       1 vda1 1223 0 71858 487 17 0 2082 14 0 414 502 "
    "0 0 0 0 0 0\n 253       0 dm-0 40301 0 2748594 23519 100533 0 3460342 105032 0 "
    "53314 128551 0 0 0 0 0 0\n",
    "swaps": "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n",
    "version": "Linux version 4.18.0-425.3.1.el8.x86_64 (mockbuild@x86-vm-07.build.eng.bos"
    ".redhat.com) (gcc version 8.5.0 20210514 (Red Hat 8.5.0-15) (GCC)) #1 SMP Fri Sep 30 "
    "11:45:06 EDT 2022\n",
    "cpuinfo": "".join(
        f"processor\t: {n}\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 85\n"
        f"model name\t: Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz\ncpu MHz\t\t: 2500.000\n"
        f"physical id\t: 0\ncore id\t\t: {n}\ncpu cores\t: 2\n\n"
        for n in range(2)
    ),
    "net/dev": "Inter-|   Receive                                                |  Transmit\n"
    " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs "
    "drop fifo colls carrier compressed\n"
    "    lo:  874561    9012    0    0    0     0          0         0   874561    9012    0 "
    "   0    0     0       0          0\n"
    "  eth0: 93820711  112846    0    0    0     0          0         0 20385120   83412    0 "
    "   0    0     0       0          0\n",
}


def shm_ident(state: HostState, instance: str) -> tuple[int, int]:
    """(key, shmid) of an instance's segment. Invented: the real key comes from IRIS's ftok."""
    n = sorted(state.instances).index(instance)
    return 0x49520000 + n, 32768 * (n + 1)


def _sysvipc_shm(state: HostState) -> str:
    """/proc/sysvipc/shm: one segment per running instance on standard pages (``ipcs -m``)."""
    head = (
        "       key      shmid perms                  size  cpid  lpid nattch   uid   gid  cuid  "
        "cgid      atime      dtime      ctime                   rss                  swap\n"
    )
    rows = []
    for name, inst in sorted(state.instances.items()):
        if inst.status != "running" or not inst.shm_mb:
            continue
        key, shmid = shm_ident(state, name)
        members = [p for p in state.processes.values() if p.instance == name and p.comm == "irisdb"]
        control = next((p.pid for p in members if p.role == "control"), 0)
        size = inst.shm_mb * 1024 * 1024
        uid = inst.owner_uid
        mode = 0o1600 if inst.huge_pages else 0o600
        rows.append(
            f"{key:10d} {shmid:10d} {mode:5o} {size:21d} {control:5d} {control:5d} "
            f"{len(members):6d} {uid:5d} {uid:5d} {uid:5d} {uid:5d} {int(inst.since):10d} "
            f"{0:10d} {int(inst.since):10d} {size // 8:21d} {0:21d}\n"
        )
    return head + "".join(rows)


def _vmstat(state: HostState) -> str:
    """/proc/vmstat: page counters grow with uptime (procps ``vmstat``, psutil swap_memory)."""
    up = max(int(state.clock - state.boot_time), 0)
    free = max(state.total_ram_mb * 256 - up, 0)
    rows = {
        "nr_free_pages": free, "nr_zone_inactive_anon": 2242, "nr_zone_active_anon": 390,
        "nr_zone_inactive_file": 5617, "nr_zone_active_file": 8886, "nr_mlock": 0,
        "nr_page_table_pages": 410, "nr_dirty": 30, "nr_writeback": 0, "nr_shmem": 2218,
        "nr_anon_transparent_hugepages": 0, "pgpgin": 1417681 + up * 3,
        "pgpgout": 1731212 + up * 5, "pswpin": 0, "pswpout": 0,
        "pgalloc_normal": 2510120 + up * 40, "pgfree": 2800133 + up * 41,
        "pgfault": 3120331 + up * 50, "pgmajfault": 2031, "pgsteal_kswapd": 0,
        "pgscan_kswapd": 0, "htlb_buddy_alloc_success": 0, "htlb_buddy_alloc_fail": 0,
    }  # fmt: skip
    return "".join(f"{k} {v}\n" for k, v in rows.items())
