"""Starting hosts built once and copied: the set-up a suite of scenarios can share safely.

A :class:`~pytest_iris.sandbox.SandboxHost` is built from its arguments
alone (instance, CPF, kernel, users, seed, version ...), so two tests that
ask for the same starting host get the same files. :class:`HostTemplates`
keeps one built copy of each (the template, in a directory of its own: under
pytest, the run's basetemp, which xdist's workers share; each template is
built under a file lock, once) and gives every later test a copy of it.

The copy is a fully independent tree: every directory, file and symlink is
created anew (no hard links, no shared inodes), so nothing a test does to
its host reaches the template or another test's host. The host's files name
its root (the ``bin/`` scripts, the state, the CPF's database paths, the
processes' command lines and ``cwd``/``exe`` links), so the template's root
is rewritten to the copy's in each. A copy is checked against a fresh build
at the same place in ``tests/test_sandbox_template.py``.

A host seen for the first time is built in place (a suite whose hosts all
differ pays nothing for the cache); the template is built when the same
starting host is asked for again.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pytest_iris.atomic import write_all
from pytest_iris.sandbox._procfs import _dots_first

if TYPE_CHECKING:
    from pytest_iris.sandbox.host import SandboxHost

#: roots written the same way in every file that names them (a ``repr`` in the bin
#: scripts, a JSON string in the state): others are built in place, never copied
_PLAIN_ROOT = re.compile(r"/[A-Za-z0-9_.+/-]*\Z")


@dataclass(frozen=True)
class _Entry:
    """One directory, file or symlink of a template, relative to its root."""

    kind: str  # "d", "f" or "l"
    rel: str
    data: bytes = b""  # file content, or the symlink's target
    mode: int = 0
    owner: tuple[int, int] | None = None  # set when not the creating user's
    dots_first: bool = False  # a procfs sysctl directory (listing starts with . and ..)


@dataclass
class HostTree:
    """A built host held in memory: what :meth:`copy_to` writes under another root."""

    root: str
    entries: list[_Entry] = field(default_factory=list)

    @classmethod
    def read(cls, root: Path) -> HostTree:
        """Every directory, file and symlink under ``root``, parents before children."""
        tree = cls(str(root))
        me = (os.geteuid(), os.getegid())
        base = len(tree.root) + 1
        for top, dirs, files in os.walk(tree.root):
            dirs.sort()
            rel_top = top[base:]
            for name in sorted(dirs + files):
                path = f"{top}/{name}"
                rel = f"{rel_top}/{name}" if rel_top else name
                st = os.lstat(path)
                owner = None if (st.st_uid, st.st_gid) == me else (st.st_uid, st.st_gid)
                mode = st.st_mode & 0o7777
                if os.path.islink(path):
                    tree.entries.append(_Entry("l", rel, os.readlink(path).encode(), 0, owner))
                elif name in dirs:
                    sysctl = rel == "proc/sys" or rel.startswith("proc/sys/")
                    tree.entries.append(_Entry("d", rel, b"", mode, owner, sysctl))
                else:
                    with open(path, "rb") as fh:
                        tree.entries.append(_Entry("f", rel, fh.read(), mode, owner))
            # symlinks to directories are listed in dirs: never walk into them
            dirs[:] = [d for d in dirs if not os.path.islink(f"{top}/{d}")]
        return tree

    def copy_to(self, root: Path) -> None:
        """Write the tree under ``root`` (which must not exist), naming ``root`` where it named its own."""
        new = str(root)
        old_b, new_b = self.root.encode(), new.encode()
        umask = os.umask(0)
        os.umask(umask)
        os.makedirs(os.path.dirname(new), exist_ok=True)
        os.mkdir(new)
        for entry in self.entries:
            path = f"{new}/{entry.rel}"
            data = entry.data.replace(old_b, new_b) if old_b in entry.data else entry.data
            if entry.kind == "l":
                os.symlink(data.decode(), path)
            elif entry.kind == "d":
                if entry.dots_first:
                    _dots_first(path)
                else:
                    os.mkdir(path, entry.mode)
                if entry.mode & umask or entry.dots_first:
                    os.chmod(path, entry.mode)
            else:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, entry.mode)
                try:
                    write_all(fd, data)
                finally:
                    os.close(fd)
                if entry.mode & umask:
                    os.chmod(path, entry.mode)
            if entry.owner is not None:
                os.lchown(path, *entry.owner)


class HostTemplates:
    """Per-process cache of starting hosts under ``directory``; :meth:`provide` fills a host.

    Processes that share a ``directory`` share its templates (each built once,
    under a lock): the pytest plugin gives xdist's workers the run's one.
    """

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory).absolute()
        self._seen: set[str] = set()
        self._trees: dict[str, HostTree] = {}
        #: hosts filled from a template / built in place (the first of their kind, or not copyable)
        self.copies = 0
        self.builds = 0

    def provide(self, host: SandboxHost) -> SandboxHost:
        """Make ``host`` (not yet built) its starting state: a template's copy, or a build."""
        if host.built:
            return host
        key = host.template_key()
        plain = _PLAIN_ROOT.match(str(host.root)) and _PLAIN_ROOT.match(str(self.directory))
        if not plain or host.root.exists() or (key not in self._trees and key not in self._seen):
            self._seen.add(key)
            self.builds += 1
            host.build()
            return host
        tree = self._trees.get(key)
        if tree is None:
            tree = self._trees[key] = self._template(host, key)
        tree.copy_to(host.root)
        self.copies += 1
        return host

    def _template(self, host: SandboxHost, key: str) -> HostTree:
        """Build the template of ``host``'s starting state in a directory of its own.

        Under a file lock: processes given the same ``directory`` build each
        template once and never read one half built.
        """
        from filelock import FileLock

        digest = hashlib.sha256(key.encode()).hexdigest()[:16]
        twin = host.relocated(self.directory / digest / "host")
        twin.root.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(str(twin.root.parent / "build.lock")):
            twin.build()  # idempotent: a template built before is reused as it is
            return HostTree.read(twin.root)


__all__ = ["HostTemplates", "HostTree"]
