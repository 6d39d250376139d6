"""The manual (README.md and docs/*.md) holds only examples that run and cite what exists.

* an include block equals the source it names (``python tests/docs_support.py``
  rewrites stale ones), and that source runs as part of this suite;
* every YAML block says what it is (```` ```yaml scenario ````, ```` ```yaml
  settings ````) and loads with that part's loader, as does every shipped
  ``iris_chaos_*.yaml``;
* every cited repository path exists, none points into ``shared/``, and every
  cited section of ``facts.md``/``commands.md`` and line of
  ``messages_real.log`` exists in ``docs/sources/``;
* the README's at-a-glance table names every fixture, marker, option, ini key
  and ``pytest-iris`` command the plugin registers.
"""

from __future__ import annotations

import configparser
import os
import re
from pathlib import Path

import pytest

from docs_support import (
    ROOT,
    Block,
    Citation,
    IncludeError,
    all_blocks,
    blocks,
    citation_files,
    citations,
    citations_in,
    doc_files,
    language_of,
    render_include,
    stale_includes,
    sync,
)
from pytest_iris.chaos.loader import load_scenario, load_scenario_text
from pytest_iris.registry import Registry
from pytest_iris.settings import load_settings

BLOCKS = list(all_blocks())
INCLUDES = [b for b in BLOCKS if b.include is not None]
YAML = [b for b in BLOCKS if b.language == "yaml"]
INI = [b for b in BLOCKS if b.language == "ini"]
SHIPPED_SCENARIOS = sorted(ROOT.glob("src/**/iris_chaos_*.yaml")) + sorted(
    ROOT.glob("tests/**/iris_chaos_*.yaml")
)


def _ids(items: list[Block]) -> list[str]:
    return [b.where for b in items]


# --- includes ---------------------------------------------------------------


@pytest.mark.parametrize("block", INCLUDES, ids=_ids(INCLUDES))
def test_include_block_is_its_source(block: Block) -> None:
    assert block.include is not None
    assert block.language == language_of(block.include), (
        f"{block.where}: a {language_of(block.include) or 'text'} source in a "
        f"```{block.language} block"
    )
    assert block.text == render_include(block.include), (
        f"{block.where}: include {block.include} differs from its source; "
        "run: python tests/docs_support.py"
    )


@pytest.mark.parametrize("block", INCLUDES, ids=_ids(INCLUDES))
def test_included_examples_are_collected_tests(block: Block) -> None:
    """An included Python example is in tests/examples/test_howto_*.py, so the suite runs it."""
    assert block.include is not None
    path = block.include.partition("::")[0]
    if path.endswith(".py"):
        assert re.fullmatch(r"tests/examples/(test_howto_\w+|conftest)\.py", path), (
            f"{block.where}: examples come from tests/examples/test_howto_*.py, not {path}"
        )


PY_INCLUDES = [b for b in INCLUDES if b.language == "python"]


@pytest.mark.parametrize("block", PY_INCLUDES, ids=_ids(PY_INCLUDES))
def test_an_included_example_stands_alone(block: Block) -> None:
    """Pasted alone into a test file, the example has every name it uses (ruff's F rules)."""
    import shutil
    import subprocess
    import sys

    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    assert ruff, "ruff (a dev dependency) is needed to check the examples"
    done = subprocess.run(
        [ruff, "check", "--isolated", "--select", "F", "--stdin-filename", "example.py", "-"],
        input=block.text,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, f"{block.where}: {block.include}:\n{done.stdout}{done.stderr}"


def test_sync_rewrites_a_stale_block_and_check_finds_it(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    spec = "tests/examples/test_howto_chaos.py::do_nothing"
    page.write_text(
        f"# probe\n\n<!-- include: {spec} -->\n```python\nstale\n```\n\nafter\n", encoding="utf-8"
    )
    assert [b.include for b, _ in stale_includes(page)] == [spec]
    assert sync(page) == 1
    assert stale_includes(page) == []
    (block,) = blocks(page)
    assert block.text == render_include(spec)
    assert "def do_nothing(" in block.text
    assert page.read_text(encoding="utf-8").endswith("```\n\nafter\n")


def test_an_include_of_a_missing_name_is_an_error() -> None:
    with pytest.raises(IncludeError, match="no top-level 'nope'"):
        render_include("tests/examples/test_howto_chaos.py::nope")
    with pytest.raises(IncludeError, match="no file"):
        render_include("tests/examples/missing.py")


# --- YAML and ini -----------------------------------------------------------


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The user's PYTEST_IRIS_* variables must not decide whether the docs' YAML is valid."""
    for name in list(os.environ):
        if name.startswith("PYTEST_IRIS_"):
            monkeypatch.delenv(name)


@pytest.mark.usefixtures("clean_env")
@pytest.mark.parametrize("block", YAML, ids=_ids(YAML))
def test_yaml_block_loads(block: Block, tmp_path: Path) -> None:
    if block.kind == "scenario":
        load_scenario_text(block.text, block.where, registry=Registry.default())
    elif block.kind == "settings":
        path = tmp_path / "iris.yaml"
        path.write_text(block.text, encoding="utf-8")
        load_settings(path)
    else:
        pytest.fail(
            f"{block.where}: say what the YAML is: ```yaml scenario or ```yaml settings "
            f"(got {block.info!r})"
        )


@pytest.mark.parametrize(
    "path", SHIPPED_SCENARIOS, ids=[p.relative_to(ROOT).as_posix() for p in SHIPPED_SCENARIOS]
)
def test_shipped_scenario_loads(path: Path) -> None:
    load_scenario(path, registry=Registry.default())


def test_there_are_shipped_scenarios() -> None:
    assert len(SHIPPED_SCENARIOS) >= 5


@pytest.mark.parametrize("block", INI, ids=_ids(INI))
def test_ini_block_names_real_keys(block: Block, pytestconfig: pytest.Config) -> None:
    parser = configparser.ConfigParser()
    parser.read_string(block.text, block.where)
    keys = {k for section in parser.sections() for k in parser[section]}
    known = set(_ini_keys(pytestconfig))
    unknown = {k for k in keys if k.startswith("iris_")} - known
    assert not unknown, f"{block.where}: not ini keys of pytest-iris: {sorted(unknown)}"


def test_a_bad_yaml_block_fails(tmp_path: Path) -> None:
    """The loaders the YAML test uses do reject a wrong block (so the test can fail)."""
    from pytest_iris.errors import ConfigError, ScenarioError

    with pytest.raises(ScenarioError, match="shmmx"):
        load_scenario_text(
            "name: x\nhost: {kernel: {kernel.shmmx: 1}}\nexpect: {instance: running}\n", "doc.md:1"
        )
    path = tmp_path / "iris.yaml"
    path.write_text("transport: {retry: {jitter: 2}}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"retry\.jitter"):
        load_settings(path)


# --- citations --------------------------------------------------------------

CITING = citation_files()


def test_citations_resolve() -> None:
    broken = [c for path in CITING for c in citations(path)]
    assert not broken, "broken citations:\n" + "\n".join(
        f"  {c.where}: {c.text!r}: {c.problem}" for c in broken
    )


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("see shared/iris/facts.md", "cites shared/"),
        ("see docs/sources/nofile.md", "no such file"),
        ("copied to tests/data/nothing.log", "no such file"),
        ("(facts.md §9.9)", "no section 9.9 in docs/sources/facts.md"),
        ("(facts.md §3.4, §6.9)", "no section 6.9 in docs/sources/facts.md"),
        ("commands.md §3.1-§3.9", "no section 3.9 in docs/sources/commands.md"),
        ("`docs/sources/commands.md` section 12", "no section 12 in docs/sources/commands.md"),
        ("messages_real.log lines 111-99999", "messages_real.log has"),
    ],
)
def test_a_broken_citation_is_found(text: str, problem: str) -> None:
    found: list[Citation] = list(citations_in(text, "probe"))
    assert any(problem in c.problem for c in found), found


@pytest.mark.parametrize(
    "text",
    [
        "facts.md §3.4, §6.4",
        "commands.md §3.1-§3.7, §1.5",
        "(docs/sources/facts.md §5.1)",
        "messages_real.log lines 111-122",
        "tests/data/messages_real.log and docs/sources/README.md",
        "the *Monitoring Guide* §18.2.2",  # another document's section: not ours to check
    ],
)
def test_a_good_citation_passes(text: str) -> None:
    assert list(citations_in(text, "probe")) == []


def test_citations_are_searched_in_docs_and_src() -> None:
    names = {p.relative_to(ROOT).as_posix() for p in CITING}
    assert "README.md" in names
    assert "src/pytest_iris/memory.py" in names
    assert "src/pytest_iris/generation/catalog.yaml" in names
    assert all(not n.startswith("docs/sources/") or n == "docs/sources/README.md" for n in names)


# --- the at-a-glance table --------------------------------------------------


def glance_table() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"^## At a glance\n(.*?)(?=^## )", text, re.S | re.M)
    assert match, "README.md has no '## At a glance' section"
    return match.group(1)


def _glance_names() -> set[str]:
    return set(re.findall(r"`([^`]+)`", glance_table()))


def _mentions(name: str) -> bool:
    return any(
        re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", code) for code in _glance_names()
    )


def _ini_keys(config: pytest.Config) -> list[str]:
    return [k for k in config._parser._inidict if k.startswith("iris_")]


@pytest.fixture(scope="module")
def plugin_fixtures(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    """The fixtures the plugin registers, as ``pytest --fixtures`` lists them in a bare project."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--fixtures", "-p", "no:cacheprovider"],
        cwd=tmp_path_factory.mktemp("bare"),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    fixtures, section = set(), ""
    for line in done.stdout.splitlines():
        if line.startswith("---"):
            section = line
        elif "pytest_iris" in section and (m := re.match(r"(\w+)( \[\w+ scope\])? -- ", line)):
            fixtures.add(m.group(1))
    assert len(fixtures) >= 20, done.stdout + done.stderr
    return fixtures


def test_glance_table_lists_every_fixture(plugin_fixtures: set[str]) -> None:
    missing = sorted(f for f in plugin_fixtures if not _mentions(f))
    assert not missing, f"README.md's at-a-glance table lacks fixtures: {missing}"


def _examples(*languages: str) -> str:
    return "\n".join(b.text for b in BLOCKS if b.language in languages)


def test_every_fixture_is_used_in_an_example(plugin_fixtures: set[str]) -> None:
    code = _examples("python")
    missing = sorted(f for f in plugin_fixtures if not re.search(rf"\b{f}\b", code))
    assert not missing, f"fixtures with no runnable example in README.md or docs/: {missing}"


def test_every_marker_is_used_in_an_example(pytestconfig: pytest.Config) -> None:
    code = _examples("python")
    markers = [m.split(":")[0].split("(")[0] for m in pytestconfig.getini("markers")]
    missing = [m for m in markers if m.startswith("iris_") and f"mark.{m}" not in code]
    assert not missing, f"markers with no runnable example in README.md or docs/: {missing}"


def test_every_option_and_ini_key_is_used_in_an_example(pytestconfig: pytest.Config) -> None:
    """An option or ini key shows up in a runnable example (a pytester run) of the manual."""
    code = _examples("python").replace("\\n", "\n")  # ini text written from a string
    names = [*_options(pytestconfig), *_ini_keys(pytestconfig)]
    missing = [n for n in names if not re.search(rf"(?<![\w-]){re.escape(n)}(?![\w-])", code)]
    assert not missing, (
        f"options/ini keys with no runnable example in README.md or docs/: {missing}"
    )


def test_glance_table_lists_every_marker(pytestconfig: pytest.Config) -> None:
    markers = [
        line.split(":")[0].split("(")[0]
        for line in pytestconfig.getini("markers")
        if line.startswith("iris_")
    ]
    assert len(markers) >= 7
    missing = [m for m in markers if not _mentions(m)]
    assert not missing, f"README.md's at-a-glance table lacks markers: {missing}"


def _options(config: pytest.Config) -> list[str]:
    groups = [config._parser._anonymous, *config._parser._groups]
    return [
        name
        for group in groups
        for opt in group.options
        for name in opt.names()
        if name.startswith("--iris-")
    ]


def test_glance_table_lists_every_option_and_ini_key(pytestconfig: pytest.Config) -> None:
    options = _options(pytestconfig)
    assert len(options) >= 5
    keys = _ini_keys(pytestconfig)
    assert len(keys) >= 5
    missing = [n for n in options + keys if not _mentions(n)]
    assert not missing, f"README.md's at-a-glance table lacks options/ini keys: {missing}"


def test_glance_table_lists_every_command() -> None:
    import argparse

    from pytest_iris.cli import build_parser

    parser = build_parser()
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    commands = sorted(sub.choices)
    assert len(commands) >= 8
    table = glance_table()
    missing = [c for c in commands if not re.search(rf"`(pytest-iris )?{c}`", table)]
    assert not missing, f"README.md's at-a-glance table lacks pytest-iris commands: {missing}"


def _headings(path: Path) -> set[str]:
    text = path.read_text(encoding="utf-8")
    for block in reversed(blocks(path)):  # a '# comment' in a code block is no heading
        text = text[: block.start] + text[block.end :]
    return {_anchor(h) for h in re.findall(r"^#+ (.+)$", text, re.M)}


@pytest.mark.parametrize(
    "path", doc_files(), ids=[p.relative_to(ROOT).as_posix() for p in doc_files()]
)
def test_links_resolve(path: Path) -> None:
    """Every relative link of the manual goes to a file that exists, and to one of its headings."""
    text = path.read_text(encoding="utf-8")
    for block in reversed(blocks(path)):
        text = text[: block.start] + text[block.end :]
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+:", target):
            continue  # https:, mailto:
        page, _, anchor = target.partition("#")
        linked = (path.parent / page).resolve() if page else path
        if not linked.exists():
            broken.append(f"{target}: no such file")
        elif anchor and anchor not in _headings(linked):
            broken.append(f"{target}: no heading #{anchor}")
    assert not broken, f"{path.relative_to(ROOT)}: broken links: {broken}"


def _anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to dashes."""
    text = heading.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def test_docs_pages_are_linked_from_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    pages = [p for p in doc_files() if p.parent == ROOT / "docs"]
    missing = [p.name for p in pages if f"docs/{p.name}" not in readme]
    assert not missing, f"README.md does not link to {missing}"


def _command_lines() -> list[tuple[str, str]]:
    """``pytest-iris ...`` lines of the manual's console blocks, comments cut off.

    In a block with ``$ `` prompts only the prompted lines are commands.
    """
    out = []
    for block in BLOCKS:
        if block.language != "console":
            continue
        lines = re.sub(r"\\\n\s*", " ", block.text).splitlines()
        prompted = any(line.startswith("$ ") for line in lines)  # then the rest is output
        for line in lines:
            if prompted and not line.startswith("$ "):
                continue
            line = re.sub(r"\s+#.*$", "", line.removeprefix("$ ").strip())
            match = re.match(r"(?:\S+=\S+ )*(?:pytest-iris|python -m pytest_iris) (.*)$", line)
            if match and not re.search(r"\.\.\.|[|<>;&`]|\$\(", match.group(1)):
                out.append((block.where, match.group(1)))
    return out


COMMANDS = _command_lines()


@pytest.mark.parametrize(("where", "args"), COMMANDS, ids=[f"{w} {a}" for w, a in COMMANDS])
def test_documented_command_line_parses(where: str, args: str) -> None:
    """Each documented ``pytest-iris`` command line is accepted by the CLI's own parser."""
    import shlex

    from pytest_iris.cli import build_parser

    try:
        build_parser().parse_args(shlex.split(args))
    except SystemExit as exit:
        pytest.fail(f"{where}: pytest-iris {args}: rejected by the parser (exit {exit.code})")


def test_every_command_has_a_documented_command_line() -> None:
    import argparse

    from pytest_iris.cli import build_parser

    (sub,) = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    shown = {args.split()[0] for _, args in COMMANDS}
    missing = sorted(set(sub.choices) - shown)
    assert not missing, f"pytest-iris commands with no example command line: {missing}"
