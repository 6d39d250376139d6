"""Version profiles: each writes the shapes the real lines of its version show."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pytest_iris.errors import ConfigError
from pytest_iris.generation.outputs import write_messages_log
from pytest_iris.generation.stream import LogStream
from pytest_iris.log.reader import LogEntry, LogProblem, read_log
from pytest_iris.log.versions import DEFAULT_VERSION, VERSIONS

REAL = Path(__file__).parent / "data" / "messages_real.log"


def real_line(number: int) -> str:
    return REAL.read_text(encoding="utf-8").splitlines()[number - 1]


def startup(version: str, tmp_path: Path) -> tuple[Path, list[LogEntry]]:
    path = write_messages_log(tmp_path / version, seed=5, count=300, version=version)
    items = list(read_log(path))
    assert not [i for i in items if isinstance(i, LogProblem)]
    return path, [i for i in items if isinstance(i, LogEntry)]


ONE_LINE = re.compile(
    r"Allocated \d+MB shared memory: \d+MB global buffers, \d+MB routine buffers$"
)


def shape(text: str) -> str:
    """A line's wording with its numbers taken out."""
    return re.sub(r"\d+", "N", text)


def test_default_is_the_newest_profile() -> None:
    assert DEFAULT_VERSION == VERSIONS[-1] == "2024.1"
    assert LogStream(1, count=10, sequences=[]).context.profile == "2024.1"


@pytest.mark.parametrize("version", ["2020.1", "2021.1"])
def test_2021_allocates_in_one_line(tmp_path: Path, version: str) -> None:
    # Real 2021 lines 24, 34 and 124: "Allocated N: g global buffers, r routine buffers".
    real = real_line(124).split("] ", 1)[1]
    assert ONE_LINE.search(real)
    _, entries = startup(version, tmp_path)
    allocated = [e for e in entries if e.text.startswith("Allocated")]
    assert len(allocated) == 1
    assert shape(allocated[0].text) == shape(real)
    assert allocated[0].category == "Generic.Event" and allocated[0].severity == 0
    assert not any("MB journal buffers" in e.text for e in entries)


@pytest.mark.parametrize("version", ["2022.1", "2023.1", "2024.1"])
def test_2022_and_later_allocate_in_two_lines(tmp_path: Path, version: str) -> None:
    # Real lines 1-2 (2023.1) and 39-40 (2022.1): the total, then seven parts, same stamp and pid.
    first, second = real_line(1), real_line(2)
    _, entries = startup(version, tmp_path)
    index = next(i for i, e in enumerate(entries) if e.text.startswith("Allocated"))
    total, parts = entries[index], entries[index + 1]
    assert shape(total.text) == shape(first.split("] ", 1)[1])
    assert shape(parts.text) == shape(second.split("] ", 1)[1])
    assert (total.timestamp, total.pid) == (parts.timestamp, parts.pid)


def test_2022_heap_differs_from_2023(tmp_path: Path) -> None:
    # memory_pairs.md: 2022.1 logs a 72 MB heap by default (real line 40), 2023.1+ 300 MB (line 2).
    heaps = {}
    for version in ("2022.1", "2023.1"):
        _, entries = startup(version, tmp_path)
        parts = next(e.text for e in entries if "MB heap" in e.text)
        heaps[version] = re.search(r"(\d+)MB heap", parts).group(1)  # type: ignore[union-attr]
    assert heaps == {"2022.1": "72", "2023.1": "300"}
    assert "72MB heap" in real_line(40) and "300MB heap" in real_line(2)


def test_cache_writes_cconsole_log_without_categories(tmp_path: Path) -> None:
    # Real lines 84-97 (Caché 2017.2.2, cconsole.log): no [Category] field.
    assert re.match(r"\d\d/\d\d/\d\d-[\d:]+ \(\d+\) 3 Daemon WRTDMN", real_line(84))
    path, entries = startup("cache-2017", tmp_path)
    assert path.name == "cconsole.log"
    assert entries and all(e.category is None or e.text.startswith("[") for e in entries)
    assert any(ONE_LINE.search(e.text) for e in entries)


def test_unknown_version_names_the_allowed() -> None:
    with pytest.raises(ConfigError, match=re.escape("allowed: cache-2017, 2020.1, 2021.1")):
        LogStream(1, count=10, sequences=[], version="2019.1")


def test_marker_version_reaches_the_fixture(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.iris_log("startup", count=200, version="2021.1")
        def test_log(iris_log):
            text = iris_log.text()
            assert "MB routine buffers" in text and "MB journal buffers" not in text
        """
    )
    pytester.runpytest("-p", "no:randomly").assert_outcomes(passed=1)


def test_same_seed_same_bytes_in_two_directories(tmp_path: Path) -> None:
    a = write_messages_log(tmp_path / "one" / "deep", seed=42, count=2000,
                           sequences=["startup", "backup", "shutdown"])  # fmt: skip
    b = write_messages_log(tmp_path / "two", seed=42, count=2000,
                           sequences=["startup", "backup", "shutdown"])  # fmt: skip
    assert a.read_bytes() == b.read_bytes()
    assert str(tmp_path) not in a.read_text()
    assert "/usr/irissys/mgr" in a.read_text()


def test_fixture_bytes_do_not_depend_on_tmp_path(pytester: pytest.Pytester) -> None:
    """Two runs (-n 0 and -n 2, different basetemp) of one seeded fixture write identical bytes."""
    pytester.makepyfile(
        """
        import hashlib, pathlib, pytest

        @pytest.mark.iris_log("startup", "backup", count=500, seed=7)
        def test_log(iris_log, request):
            out = pathlib.Path(str(request.config.rootpath)) / "digest"
            with open(out, "a") as handle:
                handle.write(hashlib.sha256(iris_log.path.read_bytes()).hexdigest() + "\\n")
        """
    )
    # One run in-process (-n 0), one under xdist with two workers, in other tmp dirs.
    runs = (("first", ["-n", "0"]), ("second", ["-n", "2"]))
    for name, workers in runs:
        result = pytester.runpytest_subprocess(
            "-p", "no:randomly", *workers, f"--basetemp={pytester.path / name}"
        )
        result.assert_outcomes(passed=1)
    digests = (pytester.path / "digest").read_text().split()
    assert len(digests) == 2 and digests[0] == digests[1]
