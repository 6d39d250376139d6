"""``deny_network()``: make every socket connect fail, to prove a replay stays offline."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class NetworkDenied(ConnectionRefusedError):
    """A connect attempted while :func:`deny_network` was active."""


@contextmanager
def deny_network() -> Iterator[list[Any]]:
    """Refuse ``connect``/``connect_ex`` on every socket; yields the addresses attempted.

    Process-wide while active (all threads), so use it around code that must not
    reach any server, loopback included.
    """
    attempts: list[Any] = []
    lock = threading.Lock()
    original_connect = socket.socket.connect
    original_connect_ex = socket.socket.connect_ex

    def refuse(self: socket.socket, address: Any) -> Any:
        with lock:
            attempts.append(address)
        raise NetworkDenied(f"network access denied: connect to {address!r}")

    socket.socket.connect = refuse  # type: ignore[method-assign,assignment]
    socket.socket.connect_ex = refuse  # type: ignore[method-assign,assignment]
    try:
        yield attempts
    finally:
        socket.socket.connect = original_connect  # type: ignore[method-assign]
        socket.socket.connect_ex = original_connect_ex  # type: ignore[method-assign]
