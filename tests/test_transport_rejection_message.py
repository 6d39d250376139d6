"""A publish the receiver refuses says where it went, that it was not kept, and why a 404.

User trial: a receiver of the user's own that serves another path answered 404 and
``publish`` raised ``http://127.0.0.1:PORT rejected <id>: HTTP 404: Not Found``:
neither the path pytest-iris posts to nor that the message is gone (the docs say a
404 keeps a message, which is true only during redelivery).
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path

import pytest

from pytest_iris import HttpTransport, IRISMessage, MockEndpoint, TransportError

MESSAGE = IRISMessage(
    timestamp=datetime(2026, 1, 9, 11, 2, 8, 227000),
    pid=684,
    severity=2,
    category="Generic.Event",
    text="Journal file has reached its maximum size",
)


def test_a_404_names_the_path_and_says_the_message_was_not_kept(tmp_path: Path) -> None:
    with MockEndpoint() as endpoint:
        endpoint.faults.fail_next(1, status=404)

        async def main() -> None:
            async with HttpTransport(endpoint.url + "/hooks", outbox_dir=tmp_path) as transport:
                await transport.publish(MESSAGE)

        with pytest.raises(TransportError) as caught:
            asyncio.run(main())
    message = str(caught.value)
    assert message.startswith(f"POST {endpoint.url}/hooks/messages rejected ")
    assert "HTTP 404" in message
    assert "not delivered and not kept in the outbox" in message
    assert "the receiver has no route POST /hooks/messages" in message
    assert (tmp_path / "outbox.log").read_bytes() == b""
