"""The ground truth of a live log: where every written line went, and when.

A tailer is judged against what it *could* have read. Each line records
when it was appended to the live file, when it left that file (renamed away
by a rotation, cut by a truncation) and, if its bytes are gone from every
file, when they were destroyed (the lines a ``copytruncate`` writes between
its copy and its truncate, a truncation without a copy, a rotated file
deleted past the ``keep`` count). From these:

* :meth:`LiveTruth.readable` - the lines a reader that looked at the live
  file at the given instants (its polls) saw there, in order;
* :meth:`LiveTruth.unseen` - the rest: they came and went between polls;
* :meth:`LiveTruth.missed` - lines written *and destroyed* between two polls
  of a reader polling every ``interval`` seconds: no tailer with that
  interval could have seen them, and no rotated file holds them.

Times are ``time.monotonic()`` seconds, as the writer records them.
"""

from __future__ import annotations

import bisect
import math
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass
class LineRecord:
    """One written line: its text, and its life in the live file and beyond."""

    index: int
    text: str
    written_at: float
    #: when it stopped being in the live file (``None``: still there)
    left_at: float | None = None
    #: when its bytes were gone from every file (``None``: some file holds them)
    destroyed_at: float | None = None
    #: where it is now: ``live``, a rotated file's name, ``truncated``,
    #: ``copytruncate-window`` or ``deleted:<name>``
    fate: str = "live"

    def live_at(self, instant: float) -> bool:
        """Whether the line was in the live file at ``instant``."""
        end = math.inf if self.left_at is None else self.left_at
        return self.written_at <= instant < end


class LiveTruth:
    """Every line a :class:`~pytest_iris.generation.live.LiveLogWriter` wrote, with its fate."""

    def __init__(self) -> None:
        self.records: list[LineRecord] = []
        self._lock = threading.Lock()

    # -- recording (the writer calls these) -----------------------------------

    def wrote(self, texts: Sequence[str], at: float) -> list[int]:
        with self._lock:
            start = len(self.records)
            self.records.extend(LineRecord(start + i, text, at) for i, text in enumerate(texts))
            return list(range(start, start + len(texts)))

    def left(self, indexes: Iterable[int], at: float, fate: str, *, destroyed: bool) -> None:
        with self._lock:
            for index in indexes:
                record = self.records[index]
                if record.left_at is None:
                    record.left_at = at
                record.fate = fate
                if destroyed and record.destroyed_at is None:
                    record.destroyed_at = at

    def moved(self, indexes: Iterable[int], fate: str) -> None:
        """Lines already rotated away now live in ``fate`` (a renamed or compressed file)."""
        with self._lock:
            for index in indexes:
                self.records[index].fate = fate

    def destroyed(self, indexes: Iterable[int], at: float, fate: str) -> None:
        self.left(indexes, at, fate, destroyed=True)

    # -- questions -----------------------------------------------------------

    def readable(self, polls: Iterable[float]) -> list[LineRecord]:
        """Lines in the live file at one of ``polls`` at least, or still there, in order."""
        instants = sorted(polls)
        return [r for r in self.records if self._seen(r, instants)]

    def unseen(self, polls: Iterable[float]) -> list[LineRecord]:
        """Lines that came and left the live file with no poll while they were there."""
        instants = sorted(polls)
        return [r for r in self.records if not self._seen(r, instants)]

    def lost(self) -> list[LineRecord]:
        """Lines whose bytes no file holds any more."""
        return [r for r in self.records if r.destroyed_at is not None]

    def missed(self, interval: float, phase: float = 0.0) -> list[LineRecord]:
        """Lines written and destroyed between two polls ``interval`` s apart (first at ``phase``).

        No tailer polling at that interval and phase could have read them, and
        they are in no rotated file either.
        """
        if not interval > 0:
            raise ValueError(f"interval must be > 0 s, got {interval!r}")
        out = []
        for record in self.lost():
            assert record.left_at is not None
            # the first poll at or after the write
            k = math.ceil((record.written_at - phase) / interval)
            if phase + k * interval >= record.left_at:
                out.append(record)
        return out

    @staticmethod
    def _seen(record: LineRecord, instants: list[float]) -> bool:
        if record.left_at is None:
            return True  # a reader catches up with the live file at the end
        at = bisect.bisect_left(instants, record.written_at)
        return at < len(instants) and instants[at] < record.left_at
