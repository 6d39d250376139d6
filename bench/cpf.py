"""CPF tool speed against plain file I/O of the same file, in the same process.

Uses the largest real CPF (1,477 lines, shared/iris/cpf/, or a synthetic one
of the same size when the corpus is absent). Prints operations per second
and the ratio to the baselines:

* baseline read: ``Path.read_bytes()``;
* baseline write: ``read_bytes`` + ``bytes.replace`` + ``write_bytes`` (not atomic);
* ``CpfFile.read`` + ``get``; ``read`` + ``set`` + ``to_bytes``;
* ``CpfTool.set`` dry run (validation, diff, ToolResult);
* ``CpfTool.set(apply=True)``: directory lock + backup (linked to a fresh
  name) + atomic write + retention pruning (two fsyncs each);
* the write lock alone (``storage.locked``: open + flock + close of the
  directory), to show what the lost-update protection costs.

    python bench/cpf.py [--runs N]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from pytest_iris.tools.cpf import CpfFile, CpfTool, storage

CORPUS = (
    Path(__file__).parents[2] / "shared" / "iris" / "cpf" / "Fahima396-Intersystems-IRIS-iris.cpf"
)


def synthetic() -> bytes:
    lines = ["[ConfigFile]", "Product=IRIS", ""]
    for section in range(40):
        lines.append(f"[Map.NS{section}]")
        lines += [f"Package_App{section}.Item{i}=DB{section}" for i in range(33)]
        lines.append("")
    lines += ["[config]", "globals=0,0,0,0,0,0", "gmheap=0", "jrnbufs=64", "routines=0", ""]
    return "\n".join(lines).encode()


def ops_per_second(seconds_budget: float, work: Callable[[], object]) -> float:
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds_budget:
        work()
        count += 1
    return count / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3, help="median of this many runs")
    parser.add_argument("--seconds", type=float, default=0.4, help="per run and case")
    args = parser.parse_args()
    from pytest_iris.logging import configure

    configure(level="warning")  # events are still built; only writing them is skipped

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "iris.cpf"
        if CORPUS.is_file():
            shutil.copyfile(CORPUS, path)
        else:
            path.write_bytes(synthetic())
        tool = CpfTool(path, total_ram_mb=8192)
        values = iter(range(10**9))

        def base_read() -> object:
            return path.read_bytes()

        def base_write() -> object:
            data = path.read_bytes().replace(b"jrnbufs=64", b"jrnbufs=64")
            return path.write_bytes(data)

        def model_get() -> object:
            return CpfFile.read(path).get("config", "globals")

        def model_set() -> object:
            cpf = CpfFile.read(path)
            cpf.set("config", "jrnbufs", "128")
            return cpf.to_bytes()

        def dry_run() -> object:
            return tool.set({"jrnbufs": 128})

        def lock_only() -> object:
            with storage.locked(path):
                return None

        def apply() -> object:
            result = tool.set({"jrnbufs": 64 + next(values) % 2}, apply=True)
            for backup in tool.backups():
                backup.unlink()
            return result

        cases = [
            ("baseline read_bytes", base_read),
            ("baseline read+replace+write_bytes", base_write),
            ("CpfFile.read + get", model_get),
            ("CpfFile.read + set + to_bytes", model_set),
            ("CpfTool.set dry run", dry_run),
            ("write lock alone (flock on the dir)", lock_only),
            ("CpfTool.set apply (lock+backup+atomic)", apply),
        ]
        results = {
            name: statistics.median(ops_per_second(args.seconds, work) for _ in range(args.runs))
            for name, work in cases
        }
    lines_count = (
        len((CORPUS if CORPUS.is_file() else path).read_bytes().splitlines())
        if CORPUS.is_file()
        else 0
    )
    print(
        f"file: {CORPUS.name if CORPUS.is_file() else 'synthetic'} ({lines_count or '~1480'} lines)"
    )
    read_base = results["baseline read_bytes"]
    write_base = results["baseline read+replace+write_bytes"]
    for name, rate in results.items():
        base = write_base if ("set" in name or "write" in name) else read_base
        print(f"{name:38} {rate:10.0f} ops/s   {rate / base:6.3f}x of its baseline")


if __name__ == "__main__":
    main()
