"""Per-test cost of the ``iris_sandbox`` fixture against a files-only baseline.

Runs one pytest session (in this process) with N tests using
``iris_sandbox`` and N tests using ``baseline_files``, a fixture that only
creates the same files, directories and symlinks in ``tmp_path`` (the
manifest of a built sandbox), the two kinds alternating so that a slow spell
of the disk hits both. Prints the median setup + teardown time of
each and their ratio. Targets: iris_sandbox < 5 ms per test and <= 3x the
baseline. ``--root`` picks the base temp directory (file creation speed
depends on the filesystem: compare both figures from the same run).

    python bench/sandbox.py [--tests N] [--root DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import textwrap
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from pytest_iris.sandbox import SandboxHost


def manifest(root: Path) -> list[tuple[str, str, str]]:
    """(relative path, kind, content or link target) of every entry under ``root``."""
    entries: list[tuple[str, str, str]] = []
    for dirpath, dirnames, filenames in os.walk(root):
        base = Path(dirpath)
        for name in sorted(dirnames):
            path = base / name
            rel = str(path.relative_to(root))
            if path.is_symlink():
                entries.append((rel, "link", os.readlink(path)))
            else:
                entries.append((rel, "dir", ""))
        for name in sorted(filenames):
            path = base / name
            rel = str(path.relative_to(root))
            if path.is_symlink():
                entries.append((rel, "link", os.readlink(path)))
            else:
                entries.append((rel, "file", path.read_text(encoding="utf-8", errors="replace")))
    return entries


class Recorder:
    def __init__(self) -> None:
        self.times: dict[str, list[float]] = defaultdict(list)

    @pytest.hookimpl
    def pytest_runtest_logreport(self, report: Any) -> None:
        if report.when in ("setup", "teardown"):
            kind = "sandbox" if "sandbox" in report.nodeid else "baseline"
            self.times[f"{kind}:{report.nodeid}"].append(report.duration)


TESTS = """
import json, os
from pathlib import Path
import pytest

MANIFEST = json.loads(Path({manifest!r}).read_text())

@pytest.fixture
def baseline_files(tmp_path):
    root = tmp_path / "iris-host"
    root.mkdir()
    for rel, kind, data in MANIFEST:
        path = root / rel
        if kind == "dir":
            path.mkdir()
        elif kind == "link":
            os.symlink(data, path)
        else:
            path.write_text(data)
    yield root

{tests}
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=40)
    parser.add_argument("--root", default=None, help="base temp dir (default: the system temp dir)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.root) as tmp:
        work = Path(tmp)
        host = SandboxHost(work / "template").build()
        entries = manifest(host.root)
        (work / "manifest.json").write_text(json.dumps(entries))
        suite = work / "suite"
        suite.mkdir()
        # alternate the two kinds, so a slow spell of the disk hits both alike
        tests = "\n".join(
            f"def test_sandbox_{n}(iris_sandbox):\n    pass\n\n\n"
            f"def test_baseline_{n}(baseline_files):\n    pass\n"
            for n in range(args.tests)
        )
        source = TESTS.format(manifest=str(work / "manifest.json"), tests=tests)
        (suite / "test_bench.py").write_text(textwrap.dedent(source))
        recorder = Recorder()
        code = pytest.main(
            [
                str(suite),
                "-q",
                "-p",
                "no:cacheprovider",
                "-p",
                "no:randomly",
                f"--basetemp={work / 'base'}",
                "-o",
                "addopts=",
            ],
            plugins=[recorder],
        )
        if code != 0:
            raise SystemExit(f"benchmark suite failed (exit {code})")
    per_test: dict[str, list[float]] = defaultdict(list)
    for key, durations in recorder.times.items():
        per_test[key.split(":", 1)[0]].append(sum(durations))
    sandbox = statistics.median(per_test["sandbox"]) * 1000
    baseline = statistics.median(per_test["baseline"]) * 1000
    files = sum(1 for _, kind, _ in entries if kind != "dir")
    print(f"entries per host: {len(entries)} ({files} files and links)")
    print(
        f"baseline (same files in tmp_path): {baseline:8.2f} ms per test (setup + teardown, median of {args.tests})"
    )
    print(f"iris_sandbox:                      {sandbox:8.2f} ms per test")
    print(
        f"ratio:                             {sandbox / baseline:8.2f}x   (target <= 3x, and < 5 ms)"
    )


if __name__ == "__main__":
    main()
