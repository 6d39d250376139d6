"""Realistic, seeded InterSystems IRIS ``messages.log`` streams.

Public API (everything deterministic: the same seed gives the same bytes on
every run, machine and xdist worker):

* :class:`SequenceContext` - the instance a sequence is written for: install
  directory, instance name, PIDs by role (``control``, ``write_daemon``,
  ``write_daemon_helper_1``, ``journal_daemon``, ``superserver``,
  ``web_server``, ``startup`` ...), the :class:`~pytest_iris.memory.SharedMemoryPlan`,
  start time, seed, ``users`` (client connections).
* :func:`render_sequence` ``(name, context, **params) -> list[IRISMessage]`` -
  the lines a named sequence writes (``startup``, ``shutdown``,
  ``wij_recovery``, ``backup``, ``cpf_merge``, ``license_limit``, ``mirror``,
  ``shard_attach``, ``shm_failure``, ``write_daemon_death``, ``lock_table``,
  ``disk_space``, ``journal_space``, ``process_crash``, ``journal_switch``,
  ``log_monitor``, ``license_error``, ``durable_sys``);
  :func:`sequence_names`, :func:`describe_sequences` list them. ``startup``
  writes the two ``Allocated ...`` lines only when ``context.plan`` is set.
* :class:`LogStream` - background noise plus scheduled sequences, with a
  clock (``rate`` entries/s, ``jitter``) and a PID pool; ``lines()``,
  ``chunks()``, ``messages()``, ``amessages()``, ``write(path)``.
* :func:`write_messages_log` - a whole ``<root>/mgr/messages.log``.
* :class:`LiveLogWriter` - appends a stream in the background, with rotation,
  truncation, partial last lines and bursts.
* :func:`load_catalog` - the template catalog (``catalog.yaml``), each entry
  with its source or an explicit ``invented`` note.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pytest_iris._lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "SequenceContext": "pytest_iris.generation.context",
    "ROLES": "pytest_iris.generation.context",
    "render_sequence": "pytest_iris.generation.sequences",
    "render_entries": "pytest_iris.generation.sequences",
    "sequence_names": "pytest_iris.generation.sequences",
    "describe_sequences": "pytest_iris.generation.sequences",
    "Catalog": "pytest_iris.generation.catalog",
    "Template": "pytest_iris.generation.catalog",
    "load_catalog": "pytest_iris.generation.catalog",
    "Entry": "pytest_iris.generation.entries",
    "format_entry": "pytest_iris.generation.entries",
    "to_message": "pytest_iris.generation.entries",
    "derive_seed": "pytest_iris.seeds",
    "LogStream": "pytest_iris.generation.stream",
    "ScheduledSequence": "pytest_iris.generation.stream",
    "write_messages_log": "pytest_iris.generation.outputs",
    "write_atomic": "pytest_iris.generation.outputs",
    "LiveLogWriter": "pytest_iris.generation.live",
}

__all__ = [
    "ROLES",
    "Catalog",
    "Entry",
    "LiveLogWriter",
    "LogStream",
    "ScheduledSequence",
    "SequenceContext",
    "Template",
    "derive_seed",
    "describe_sequences",
    "format_entry",
    "load_catalog",
    "render_entries",
    "render_sequence",
    "sequence_names",
    "to_message",
    "write_atomic",
    "write_messages_log",
]


__getattr__ = lazy_exports(__name__, _EXPORTS, globals())


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:
    from pytest_iris.generation.catalog import Catalog, Template, load_catalog
    from pytest_iris.generation.context import ROLES, SequenceContext
    from pytest_iris.generation.entries import Entry, format_entry, to_message
    from pytest_iris.generation.live import LiveLogWriter
    from pytest_iris.generation.outputs import write_atomic, write_messages_log
    from pytest_iris.generation.sequences import (
        describe_sequences,
        render_entries,
        render_sequence,
        sequence_names,
    )
    from pytest_iris.generation.stream import LogStream, ScheduledSequence
    from pytest_iris.seeds import derive_seed
