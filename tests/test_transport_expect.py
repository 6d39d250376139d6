"""The endpoint's user routes: expect(...), responders, ordering, failures that explain."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator

import httpx
import pytest

from pytest_iris.log import parse_message
from pytest_iris.transport import MockEndpoint
from pytest_iris.transport.endpoint import Request, Response
from pytest_iris.transport.envelope import encode_one, wrap


@pytest.fixture
def endpoint() -> Iterator[MockEndpoint]:
    with MockEndpoint(seed=5) as running:
        yield running


@pytest.fixture
def client(endpoint: MockEndpoint) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=endpoint.url, timeout=10) as http:
        yield http


def test_json_route_answers_and_is_recorded(endpoint: MockEndpoint, client: httpx.Client) -> None:
    endpoint.expect("POST", "/hooks/alert", json={"level": "severe", "n": 1}).respond_with_json(
        {"ok": True}, status=201, headers={"X-Id": "7"}
    )
    response = client.post("/hooks/alert", json={"n": 1, "level": "severe"})
    assert response.status_code == 201
    assert response.json() == {"ok": True}
    assert response.headers["x-id"] == "7"
    (got,) = endpoint.assert_received(path="/hooks/alert", json={"level": "severe", "n": 1})
    assert got.json() == {"n": 1, "level": "severe"}
    endpoint.check()


def test_text_and_form_bodies_headers_and_query(
    endpoint: MockEndpoint, client: httpx.Client
) -> None:
    endpoint.expect(
        "PUT",
        "/alerts",
        data="disk full on node1",
        headers={"Content-Type": "text/plain; charset=utf-8", "X-Token": "t1"},
        query={"source": "iris"},
    ).respond_with_data("noted", status=202)
    response = client.put(
        "/alerts?source=iris&x=2",
        content=b"disk full on node1",
        headers={"content-type": "text/plain; charset=utf-8", "x-token": "t1"},
    )
    assert (response.status_code, response.text) == (202, "noted")
    assert response.headers["content-type"].startswith("text/plain")
    assert endpoint.history[-1].text() == "disk full on node1"


def test_chunked_body_reaches_a_user_route(endpoint: MockEndpoint, client: httpx.Client) -> None:
    endpoint.expect("POST", "/stream", data=b"abcdef").respond_with_status(204)

    def parts() -> Iterator[bytes]:
        yield b"abc"
        yield b"def"

    response = client.post("/stream", content=parts())  # no length: chunked
    assert response.status_code == 204
    assert endpoint.history[-1].headers["transfer-encoding"] == "chunked"


def test_regex_paths_and_handlers_sync_and_async(
    endpoint: MockEndpoint, client: httpx.Client
) -> None:
    def sync_handler(request: Request) -> Response:
        return Response(200, request.path.encode()[::-1], {"Content-Type": "text/plain"})

    async def async_handler(request: Request) -> Response:
        return Response(418, b"teapot", {"Content-Type": "text/plain"})

    endpoint.expect("GET", re.compile(r"/items/\d+")).respond_with_handler(sync_handler)
    endpoint.expect("DELETE", "/items/1").respond_with_handler(async_handler)
    assert client.get("/items/42").text == "24/smeti/"
    assert client.delete("/items/1").status_code == 418
    assert client.get("/items/x").status_code == 404
    with pytest.raises(AssertionError, match=r"unexpected GET /items/x"):
        endpoint.check()


def test_oneshot_and_ordered_expectations(endpoint: MockEndpoint, client: httpx.Client) -> None:
    endpoint.expect_once("POST", "/once").respond_with_json({"n": 1})
    assert client.post("/once").json() == {"n": 1}
    assert client.post("/once").status_code == 404

    endpoint.expect_ordered("POST", "/step", json={"step": 1}).respond_with_json("first")
    endpoint.expect_ordered("POST", "/step", json={"step": 2}).respond_with_json("second")
    assert client.post("/step", json={"step": 2}).status_code == 404  # out of order
    with pytest.raises(AssertionError, match=r"arrived before the ordered expectation"):
        endpoint.check()


def test_ordered_in_order_passes(endpoint: MockEndpoint, client: httpx.Client) -> None:
    endpoint.expect("POST", "/step", json={"step": 1}, ordered=True).respond_with_json("first")
    endpoint.expect("POST", "/step", json={"step": 2}, ordered=True).respond_with_json("second")
    assert client.post("/step", json={"step": 1}).json() == "first"
    assert client.post("/step", json={"step": 2}).json() == "second"
    assert endpoint.expectations == []
    endpoint.check()


def test_user_routes_sit_beside_the_envelope_routes(
    endpoint: MockEndpoint, client: httpx.Client
) -> None:
    endpoint.expect("POST", "/hook").respond_with_json({"ok": 1})
    message = parse_message("11/26/26-10:00:00:000 (1234) 2 [Generic.Event] boom")
    assert client.post("/messages", content=encode_one(wrap(message))).status_code == 200
    assert client.post("/hook", json={}).json() == {"ok": 1}
    assert endpoint.received == [message]
    endpoint.check()


def test_faults_apply_to_user_routes(endpoint: MockEndpoint, client: httpx.Client) -> None:
    endpoint.expect("POST", "/hook").respond_with_json({"ok": 1})
    endpoint.faults.fail_next(2, status=502)
    codes = [client.post("/hook", json={"i": i}).status_code for i in range(3)]
    assert codes == [502, 502, 200]
    endpoint.faults.drop_next(1)
    with pytest.raises(httpx.RemoteProtocolError):
        client.post("/hook", json={"i": 9})
    # faulted requests were not handled: only the one that got through is in the history
    assert [r.json() for r in endpoint.requests_to("/hook")] == [{"i": 2}]


def test_failed_assertion_lists_nearest_requests_and_differences(
    endpoint: MockEndpoint, client: httpx.Client
) -> None:
    endpoint.expect("POST", "/hook").respond_with_json({})
    client.post("/hook", json={"level": "warning", "host": "a"})
    client.post("/hook?env=prod", json={"level": "severe", "host": "b"})
    with pytest.raises(AssertionError) as failure:
        endpoint.assert_received(
            path="/hook", json={"level": "severe", "host": "a"}, query={"env": "prod"}
        )
    text = str(failure.value)
    assert "found 0 among 2 received; nearest:" in text
    assert "json.host: 'b' != 'a'" in text
    assert "query env=<missing> != prod" in text
    assert "json.level: 'warning' != 'severe'" in text


def test_wait_for_a_route_is_event_driven(endpoint: MockEndpoint) -> None:
    endpoint.expect("POST", "/late").respond_with_status(200)

    def later() -> None:
        httpx.post(endpoint.url + "/late", content=b"x", timeout=10)

    worker = threading.Thread(target=later)
    worker.start()
    (request,) = endpoint.wait_for(1, timeout=30, path="/late")
    worker.join()
    assert request.body == b"x"
    with pytest.raises(AssertionError, match=r"waited 0.1 s for 2 request\(s\) POST /late"):
        endpoint.wait_for(2, timeout=0.1, path="/late", method="POST")


def test_json_and_data_together_is_an_error(endpoint: MockEndpoint) -> None:
    with pytest.raises(TypeError, match="json= or data="):
        endpoint.expect("POST", "/x", json={}, data="y")


WEBHOOK_PUBLISHER = '''
import json, time, urllib.request, urllib.error

def publish_alert(base_url, alert, attempts=5):
    """The user's own webhook publisher: their format, their retry loop."""
    body = json.dumps(alert).encode()
    for attempt in range(attempts):
        request = urllib.request.Request(
            base_url + "/api/v2/alerts", data=body, method="POST",
            headers={"Content-Type": "application/json", "X-Source": "iris-watch"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as reply:
                return json.loads(reply.read())
        except (urllib.error.HTTPError, urllib.error.URLError, ConnectionError):
            time.sleep(0.01 * attempt)
    raise RuntimeError("gave up")
'''


def test_a_users_webhook_publisher_against_expect_with_faults(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(publisher=WEBHOOK_PUBLISHER)
    pytester.makepyfile(
        test_publisher="""
        import pytest
        from publisher import publish_alert

        @pytest.mark.iris_endpoint_faults(fail_next=2, status=503)
        def test_retries_through_faults(iris_endpoint):
            iris_endpoint.expect(
                "POST", "/api/v2/alerts", headers={"X-Source": "iris-watch"},
                json={"severity": 2, "text": "disk full"},
            ).respond_with_json({"id": "a-1"}, status=201)
            assert publish_alert(iris_endpoint.url, {"severity": 2, "text": "disk full"}) == {
                "id": "a-1"
            }
            assert iris_endpoint.faults.injected["failed"] == 2
            iris_endpoint.assert_received(path="/api/v2/alerts", at_least=1)

        def test_wrong_payload_is_explained(iris_endpoint):
            iris_endpoint.expect("POST", "/api/v2/alerts", json={"severity": 3}).respond_with_json({})
            try:
                publish_alert(iris_endpoint.url, {"severity": 2}, attempts=1)
            except RuntimeError:
                pass
            iris_endpoint.assert_received(path="/api/v2/alerts", json={"severity": 3})

        def test_unexpected_request_fails_at_teardown(iris_endpoint):
            try:
                publish_alert(iris_endpoint.url, {"severity": 1}, attempts=1)
            except RuntimeError:
                pass
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, failed=1, errors=2)
    result.stdout.fnmatch_lines(
        ["*found 0 among 1 received; nearest:*", "*POST /api/v2/alerts: json.severity: 2 != 3*"]
    )
    result.stdout.fnmatch_lines(
        ["*unexpected POST /api/v2/alerts (content-type application/json): *severity*"]
    )
