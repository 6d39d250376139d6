"""The docs' machinery: fenced blocks, includes from tests, citations.

The README and the pages under ``docs/`` are checked by ``tests/test_docs.py``
and ``tests/test_readme.py`` with these helpers, so an example in the manual is
code that ran. Run as a script to bring every include block up to date:

    python tests/docs_support.py          # rewrite the include blocks in place
    python tests/docs_support.py --check  # exit 1 and name the stale blocks

An include block is an HTML comment naming the source, followed at once by a
fenced block holding that source::

    <!-- include: tests/examples/test_howto_logs.py::test_a_log,test_another -->
    ```python
    ...
    ```

``path`` alone includes the whole file; ``path::a,b`` includes the top-level
functions, classes or assignments named, decorators included, in that order,
after the module's imports that they use.
"""

from __future__ import annotations

import ast
import functools
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ROOT / "docs" / "sources"


def doc_files() -> list[Path]:
    """README.md and every page under docs/ (the copied sources are material, not docs)."""
    pages = sorted(p for p in (ROOT / "docs").rglob("*.md") if SOURCES not in p.parents)
    return [ROOT / "README.md", *pages, SOURCES / "README.md"]


def rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else str(path)


@dataclass(frozen=True)
class Block:
    """One fenced block: where it is, its info string and its text."""

    path: Path
    line: int  #: 1-based line of the opening fence
    info: str  #: what follows the backticks, e.g. "yaml scenario"
    text: str  #: the body, each line ending in a newline
    include: str | None  #: the include spec of a comment right above, if any
    start: int  #: offset of the include comment (or the fence) in the file
    end: int  #: offset just after the closing fence's newline

    @property
    def where(self) -> str:
        return f"{rel(self.path)}:{self.line}"

    @property
    def language(self) -> str:
        return self.info.split()[0] if self.info else ""

    @property
    def kind(self) -> str:
        """The word after the language (``yaml scenario`` -> ``scenario``)."""
        words = self.info.split()
        return words[1] if len(words) > 1 else ""


_FENCE = re.compile(r"^(```+)([^`\n]*)\n", re.M)
_INCLUDE = re.compile(r"<!-- include: (\S+) -->\n$")


def blocks(path: Path) -> list[Block]:
    """Every fenced block of a markdown file, in order."""
    text = path.read_text(encoding="utf-8")
    out: list[Block] = []
    pos = 0
    while (opening := _FENCE.search(text, pos)) is not None:
        ticks = opening.group(1)
        close = re.compile(rf"^{ticks}[ \t]*(\n|\Z)", re.M).search(text, opening.end())
        if close is None:
            raise ValueError(
                f"{rel(path)}:{text.count(chr(10), 0, opening.start()) + 1}: fence never closed"
            )
        before = text[: opening.start()]
        last_line = before[before.rfind("\n", 0, len(before) - 1) + 1 :]
        include = _INCLUDE.search(last_line) if last_line.startswith("<!-- include:") else None
        out.append(
            Block(
                path=path,
                line=before.count("\n") + 1,
                info=opening.group(2).strip(),
                text=text[opening.end() : close.start()],
                include=include.group(1) if include else None,
                start=opening.start() - len(last_line) if include else opening.start(),
                end=close.end(),
            )
        )
        pos = close.end()
    return out


def all_blocks() -> Iterator[Block]:
    for path in doc_files():
        yield from blocks(path)


# --- includes ---------------------------------------------------------------


class IncludeError(ValueError):
    pass


def _top_level(tree: ast.Module, name: str) -> ast.stmt | None:
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            if node.name == name:
                return node
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                return node
    return None


def render_include(spec: str) -> str:
    """The text an include spec stands for (ending in a newline).

    Named definitions come with the module's imports they use, so each
    example in the docs runs as it stands when pasted into a test file.
    """
    file_part, _, names = spec.partition("::")
    source = ROOT / file_part
    if not source.is_file():
        raise IncludeError(f"include {spec!r}: no file {file_part}")
    text = source.read_text(encoding="utf-8")
    if not names:
        return text if text.endswith("\n") else text + "\n"
    lines = text.splitlines(keepends=True)
    tree = ast.parse(text, file_part)
    nodes, pieces = [], []
    for name in names.split(","):
        node = _top_level(tree, name)
        if node is None:
            raise IncludeError(f"include {spec!r}: {file_part} has no top-level {name!r}")
        first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
        assert node.end_lineno is not None
        nodes.append(node)
        pieces.append("".join(lines[first - 1 : node.end_lineno]))
    imports = _imports_used(tree, nodes, lines)
    body = "\n\n".join(pieces)
    return f"{imports}\n\n{body}" if imports else body


def _imports_used(tree: ast.Module, nodes: list[ast.stmt], lines: list[str]) -> str:
    """The module's import statements cut down to the names ``nodes`` use, groups kept."""
    used = {n.id for node in nodes for n in ast.walk(node) if isinstance(n, ast.Name)}
    used -= {  # names the definitions import themselves
        (a.asname or a.name.split(".")[0])
        for node in nodes
        for n in ast.walk(node)
        if isinstance(n, ast.Import | ast.ImportFrom)
        for a in n.names
    }
    out: list[str] = []
    previous_end = None
    for stmt in tree.body:
        if isinstance(stmt, ast.Import):
            keep = [a for a in stmt.names if (a.asname or a.name.split(".")[0]) in used]
            kept: ast.stmt = ast.Import(names=keep)
        elif isinstance(stmt, ast.ImportFrom) and stmt.module != "__future__":
            keep = [a for a in stmt.names if (a.asname or a.name) in used]
            kept = ast.ImportFrom(module=stmt.module, names=keep, level=stmt.level)
        else:
            continue
        if keep:
            blank = previous_end is not None and any(
                not line.strip() for line in lines[previous_end : stmt.lineno - 1]
            )
            if blank and out:
                out.append("")
            out.append(ast.unparse(kept))
            previous_end = stmt.end_lineno
    return "\n".join(out) + "\n" if out else ""


def language_of(spec: str) -> str:
    suffix = Path(spec.partition("::")[0]).suffix
    return {".py": "python", ".yaml": "yaml", ".yml": "yaml", ".ini": "ini", ".toml": "toml"}.get(
        suffix, ""
    )


def stale_includes(path: Path) -> list[tuple[Block, str]]:
    """Include blocks whose text differs from their source, with the fresh text."""
    out = []
    for block in blocks(path):
        if block.include is not None:
            fresh = render_include(block.include)
            if fresh != block.text:
                out.append((block, fresh))
    return out


def sync(path: Path) -> int:
    """Rewrite the stale include blocks of one file; returns how many changed."""
    stale = stale_includes(path)
    if not stale:
        return 0
    text = path.read_text(encoding="utf-8")
    for block, fresh in reversed(stale):
        ticks = "````" if "```" in fresh else "```"
        body = f"<!-- include: {block.include} -->\n{ticks}{block.info}\n{fresh}{ticks}\n"
        text = text[: block.start] + body + text[block.end :]
    path.write_text(text, encoding="utf-8")
    return len(stale)


# --- citations --------------------------------------------------------------

#: material cited by bare name, and where the repository keeps it
SOURCE_NAMES = (
    "facts.md",
    "commands.md",
    "messages_real.log",
    "memory_pairs.md",
    "documented_messages.md",
    "sources.md",
    "baselines.md",
)
#: repository paths a citation may name (``shared/`` was the authors' scratch area)
_PATH = re.compile(
    r"(?<![\w/.-])(?:\.\./)*((?:shared|docs/sources|tests/data)/[\w.-]+(?:/[\w.-]+)*)"
)
_SECTIONED = ("facts.md", "commands.md", "documented_messages.md")
_TOKEN = re.compile(
    r"\b(facts\.md|commands\.md|documented_messages\.md|messages_real\.log|sources\.md)\b"
    r"|(?:§\s?|\bsections?\s+)(\d+(?:\.\d+)*)(?:\s?[-–]\s?§?(\d+(?:\.\d+)*))?"
    r"|\blines?\s+(\d+)(?:\s?[-–]\s?(\d+))?"
)
#: what may stand between a source's name and the sections or lines cited from it
_JOINER = re.compile(r"[\s,;/&`*()]*(?:and\s+|\(\s*)?", re.S)


@dataclass(frozen=True)
class Citation:
    where: str
    text: str
    problem: str


@functools.cache
def sections(name: str) -> frozenset[str]:
    """Section numbers of a source file's headings (``## 3.`` -> "3", ``### 3.1`` -> "3.1")."""
    text = (SOURCES / name).read_text(encoding="utf-8")
    return frozenset(m.group(1) for m in re.finditer(r"^#+\s+(\d+(?:\.\d+)*)\.?\s", text, re.M))


def citation_files() -> list[Path]:
    """Where citations live: the docs, and every text file shipped in src/."""
    src = [
        p
        for p in sorted((ROOT / "src").rglob("*"))
        if p.suffix in {".py", ".yaml", ".yml", ".json", ".md"} and "egg-info" not in str(p)
    ]
    return [*doc_files(), *src]


def citations(path: Path) -> Iterator[Citation]:
    """Every citation of one file that does not resolve."""
    return citations_in(path.read_text(encoding="utf-8"), rel(path))


def citations_in(text: str, label: str) -> Iterator[Citation]:
    """Every citation of ``text`` that does not resolve, as a Citation.

    Paths under ``docs/sources/`` and ``tests/data/`` must exist, ``shared/``
    is refused; ``facts.md §5.1``, ``commands.md §3.1-§3.7``, ``facts.md §3.4,
    §6.4`` need those section headings; ``messages_real.log lines 111-122``
    needs the lines. A ``§`` with no source named right before it is another
    document's (the *Monitoring Guide*'s) and is left alone.
    """
    numbered = {name: sections(name) for name in _SECTIONED}
    log_lines = len((SOURCES / "messages_real.log").read_text(encoding="utf-8").splitlines())

    def where(offset: int) -> str:
        return f"{label}:{text.count(chr(10), 0, offset) + 1}"

    for m in _PATH.finditer(text):
        cited = m.group(1).rstrip(".")
        if cited.startswith("shared/"):
            yield Citation(where(m.start()), cited, "cites shared/ (not in the repository)")
        elif not (ROOT / cited).exists():
            yield Citation(where(m.start()), cited, "no such file in the repository")
    named: str | None = None  # the source the last token belongs to
    last_end = 0
    for m in _TOKEN.finditer(text):
        if m.group(1):
            named, last_end = m.group(1), m.end()
            continue
        gap = text[last_end : m.start()]
        if named is None or _JOINER.fullmatch(gap) is None:
            named = None
            continue
        last_end = m.end()
        if m.group(2) and named in numbered:
            for number in (m.group(2), m.group(3)):
                if number and number not in numbered[named]:
                    yield Citation(
                        where(m.start()), m.group(0), f"no section {number} in docs/sources/{named}"
                    )
        elif m.group(4) and named == "messages_real.log":
            for number in (m.group(4), m.group(5)):
                if number and not 1 <= int(number) <= log_lines:
                    yield Citation(
                        where(m.start()),
                        m.group(0),
                        f"docs/sources/messages_real.log has {log_lines} lines",
                    )


def main(argv: list[str]) -> int:
    check = "--check" in argv
    changed = 0
    for path in doc_files():
        if check:
            for block, _ in stale_includes(path):
                print(f"{block.where}: include {block.include} is out of date")
                changed += 1
        else:
            count = sync(path)
            if count:
                print(f"{rel(path)}: {count} include block(s) rewritten")
            changed += count
    if check:
        return 1 if changed else 0
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
