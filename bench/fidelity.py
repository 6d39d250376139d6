"""How much a generated log looks like a real instance's, beside the real corpus.

Prints, for a default generated log (20,000 lines, ``pytest-iris generate``
defaults) and for every real log in tests/data: the severity mix, the share
of consecutive entries that share a millisecond, the pid pattern (distinct
pids, share of the busiest pid), how often one-off lines appear, the share of
generated lines that come from templates with an ``invented`` note (target:
at most 20%), and what ``pytest-iris catalog match`` covers in each real file.

    python bench/fidelity.py [--count N] [--seed N]
"""

from __future__ import annotations

import argparse
import tempfile
from collections import Counter
from itertools import pairwise
from pathlib import Path

from pytest_iris.generation.catalog import load_catalog
from pytest_iris.generation.matching import TemplateMatcher
from pytest_iris.generation.stream import LogStream
from pytest_iris.log.reader import LogEntry, read_log

DATA = Path(__file__).parents[1] / "tests" / "data"
#: Lines IRIS writes once per start (messages_real.log lines 70, 71, 10).
ONE_OFF = ("WorkQueue: Starting work queue daemon", "Rebuild of Extent index", "Startup of ")
INVENTED_TARGET = 0.20


def stats(entries: list[LogEntry]) -> dict[str, str]:
    n = len(entries) or 1
    severities = Counter(int(e.severity) for e in entries)
    same_ms = sum(a.header[:21] == b.header[:21] for a, b in pairwise(entries))
    pids = Counter(e.pid for e in entries)
    one_off = sum(any(mark in e.format() for mark in ONE_OFF) for e in entries)
    return {
        "entries": f"{len(entries):,}",
        "severity 0/1/2/3": "/".join(f"{severities[s] / n:.1%}" for s in range(4)),
        "consecutive same ms": f"{same_ms / max(n - 1, 1):.1%}",
        "distinct pids": f"{len(pids)} ({len(pids) / n:.2f} per entry)",
        "busiest pid's share": f"{pids.most_common(1)[0][1] / n:.1%}" if pids else "-",
        "one-off lines": str(one_off),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    catalog = load_catalog()
    stream = LogStream(args.seed, count=args.count)
    with tempfile.TemporaryDirectory() as tmp:
        path = stream.write(Path(tmp) / "messages.log")
        generated = [i for i in read_log(path) if isinstance(i, LogEntry)]
    lines_by_template: Counter[str] = Counter()
    for entry in stream.entries():
        lines_by_template[entry.template] += 1 + len(entry.continuation)
    total = sum(lines_by_template.values())
    noted = sum(c for t, c in lines_by_template.items() if t in catalog.templates
                and catalog[t].invented)  # fmt: skip
    wholly = sum(c for t, c in lines_by_template.items() if t in catalog.templates
                 and catalog[t].invented and not catalog[t].source)  # fmt: skip

    columns = {f"generated ({args.count:,} lines, seed {args.seed})": stats(generated)}
    matcher = TemplateMatcher(catalog)
    coverage = {}
    for real in sorted(DATA.glob("*.log")):
        entries = [i for i in read_log(real) if isinstance(i, LogEntry)]
        if not entries:
            continue
        columns[f"real: {real.name}"] = stats(entries)
        hits = sum(
            matcher.match(e.severity, e.category, e.text, e.continuation) is not None
            for e in entries
        )
        coverage[real.name] = f"{hits} of {len(entries)} entries ({hits / len(entries):.0%})"

    names = list(next(iter(columns.values())))
    width = max(len(name) for name in names) + 2
    for title, values in columns.items():
        print(title)
        for name in names:
            print(f"  {name:<{width}} {values[name]}")
    templates = list(catalog)
    invented_templates = [t for t in templates if t.invented]
    print("catalog")
    print(f"  {'templates':<{width}} {len(templates)}, {len(invented_templates)} with an "
          f"'invented' note ({len(invented_templates) / len(templates):.0%}; target <= 10%)")  # fmt: skip
    share = noted / total if total else 0.0
    verdict = "met" if share <= INVENTED_TARGET else "MISSED"
    print(f"  {'generated lines from templates with an invented note':<{width}} {share:.1%} "
          f"(target <= {INVENTED_TARGET:.0%}: {verdict}); wholly invented: {wholly / total:.1%}")  # fmt: skip
    for name, figure in coverage.items():
        print(f"  {'catalog match ' + name:<{width}} {figure}")


if __name__ == "__main__":
    main()
