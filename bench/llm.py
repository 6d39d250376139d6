"""Replayed LLM generation calls against the same calls made live, in one process.

Every figure is milliseconds per ``LLMGenerator.generate`` call (prompt
building, the real openai SDK, validation of the lines with the parser):

* live: the call sent to ``iris_openai_server`` on 127.0.0.1 (the baseline);
* replay: the same call answered by pytest-iris's indexed cassette replay;
* vcrpy: the same call replayed by vcrpy itself (its linear scan, body matcher),
  for reference; its rounds include entering the cassette (loading the YAML),
  which weighs most in the 1-interaction row.

Cassettes of 1 and 100 interactions are recorded first (through vcrpy, from
the local server). Target: replay <= 0.5x live at 100 interactions. Last,
50 live calls gathered under semaphores of 1, 8 and 50: against a local
server in the same process, concurrency buys nothing (both sides share the
GIL); against a remote provider it hides the network latency.

    python bench/llm.py [--rounds N]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from pytest_iris.llm.cassette import CassetteSession, ReplayTransport
from pytest_iris.llm.generator import LLMGenerator
from pytest_iris.llm.providers import Provider
from pytest_iris.llm.server import IrisOpenAIServer

INCIDENT = "shm_failure"
COUNT = 5


def starts(n: int) -> list[str]:
    """``n`` distinct first timestamps: ``n`` distinct request bodies."""
    return [f"11/26/26-{10 + i // 3600:02d}:{i // 60 % 60:02d}:{i % 60:02d}:000" for i in range(n)]


def record(path: Path, provider: Provider, n: int) -> None:
    with (
        CassetteSession(path, "all") as cassette,
        LLMGenerator([provider], transport=cassette.transport, cache=False) as llm,
    ):
        for start in starts(n):
            llm.generate_sync(INCIDENT, COUNT, start=start)


def per_call_ms(llm: LLMGenerator, calls: list[str]) -> float:
    """Milliseconds per call for ``calls`` made one after another on ``llm``."""

    async def run() -> float:
        begin = time.perf_counter()
        for start in calls:
            await llm.generate(INCIDENT, COUNT, start=start)
        return (time.perf_counter() - begin) * 1000 / len(calls)

    return llm.run(run())


def compare(path: Path, provider: Provider, n: int, rounds: int) -> dict[str, float]:
    """Median and best ms per call (live, replay) over interleaved rounds, and the load time.

    Live and replay rounds alternate so that load from other processes on the
    machine hits both alike. The cassette is loaded and indexed once per
    round, outside the timed calls (that is what a test pays once).
    """
    calls = starts(n)
    live_ms, replay_ms, load_ms = [], [], []
    transport = ReplayTransport(path)
    with (
        LLMGenerator([provider], cache=False) as live,
        LLMGenerator([provider], transport=transport, cache=False) as replay,
    ):
        per_call_ms(live, calls)  # warm up: connection, imports
        transport.load()
        per_call_ms(replay, calls)
        for _ in range(rounds):
            live_ms.append(per_call_ms(live, calls))
            begin = time.perf_counter()
            transport.load()
            load_ms.append((time.perf_counter() - begin) * 1000)
            replay_ms.append(per_call_ms(replay, calls))
    return {
        "live": statistics.median(live_ms),
        "replay": statistics.median(replay_ms),
        "live_best": min(live_ms),
        "replay_best": min(replay_ms),
        "load": statistics.median(load_ms),
    }


def vcrpy_replay(path: Path, provider: Provider, n: int, rounds: int) -> float:
    import vcr

    machine = vcr.VCR(record_mode="none", match_on=("method", "path", "body"))
    figures = []
    for _ in range(rounds + 1):
        with machine.use_cassette(str(path)), LLMGenerator([provider], cache=False) as llm:
            figures.append(per_call_ms(llm, starts(n)))
    return statistics.median(figures[1:])


def concurrent(provider: Provider, bound: int, rounds: int) -> float:
    """ms per call for 50 live calls gathered under a semaphore of ``bound``."""
    calls = starts(50)
    with LLMGenerator([provider], cache=False, max_concurrency=bound) as llm:

        async def run() -> float:
            begin = time.perf_counter()
            await llm.gather([llm.generate(INCIDENT, COUNT, start=s) for s in calls])
            return (time.perf_counter() - begin) * 1000 / len(calls)

        llm.run(run())
        return statistics.median(llm.run(run()) for _ in range(rounds))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, IrisOpenAIServer() as server:
        provider = server.provider()
        print("medians over interleaved rounds (best round in brackets)")
        print(
            f"{'interactions':>12} {'live ms':>16} {'replay ms':>16} {'ratio':>13} "
            f"{'vcrpy ms':>9} {'ratio':>6} {'load ms':>8}"
        )
        for n in (1, 100):
            path = Path(tmp) / f"bench-{n}.yaml"
            record(path, provider, n)
            rounds = args.rounds if n > 1 else args.rounds * 40
            f = compare(path, provider, n, rounds)
            vcr_ms = vcrpy_replay(path, provider, n, 3 if n > 1 else 20)
            ratio, best = f["replay"] / f["live"], f["replay_best"] / f["live_best"]
            print(
                f"{n:>12} {f['live']:>7.3f} ({f['live_best']:>6.3f}) "
                f"{f['replay']:>7.3f} ({f['replay_best']:>6.3f}) "
                f"{ratio:>5.2f}x ({best:.2f}x) "
                f"{vcr_ms:>9.3f} {vcr_ms / f['live']:>5.2f}x {f['load']:>8.1f}"
            )
        print("target: replay <= 0.5x live at 100 interactions")
        print("\n50 live calls gathered, ms per call (client and server share this process):")
        for bound in (1, 8, 50):
            print(f"  max_concurrency={bound:<3} {concurrent(provider, bound, 3):7.3f}")


if __name__ == "__main__":
    main()
