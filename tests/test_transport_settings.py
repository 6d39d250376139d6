"""The ``transport`` settings section: environment, YAML, and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_iris.errors import ConfigError
from pytest_iris.settings import load_settings
from pytest_iris.transport import FileTransport, HttpTransport, TransportSettings, build_transport


def test_defaults() -> None:
    settings = load_settings().transport
    assert settings == TransportSettings()
    assert settings.kind == "http"
    assert settings.retention_s == 24 * 3600
    assert settings.retry.attempts >= 1


def test_environment_overrides_nested_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTEST_IRIS_TRANSPORT__ENDPOINT_URL", "http://receiver.test:8080/")
    monkeypatch.setenv("PYTEST_IRIS_TRANSPORT__RETENTION_S", "3600")
    monkeypatch.setenv("PYTEST_IRIS_TRANSPORT__RETRY__ATTEMPTS", "7")
    settings = load_settings().transport
    assert settings.endpoint_url == "http://receiver.test:8080"
    assert settings.retention_s == 3600
    assert settings.retry.attempts == 7


def test_yaml_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "iris.yaml"
    config.write_text(
        "transport:\n"
        "  kind: file\n"
        f"  file_path: {tmp_path / 'messages.log'}\n"
        "  file_format: jsonl\n"
        "  batch_size: 25\n"
        "  retry: {attempts: 2, base_delay_s: 0.1, max_delay_s: 1}\n"
    )
    monkeypatch.setenv("PYTEST_IRIS_TRANSPORT__BATCH_SIZE", "50")  # the environment wins
    settings = load_settings(config).transport
    assert settings.kind == "file" and settings.file_format == "jsonl"
    assert settings.batch_size == 50
    assert settings.retry.max_delay_s == 1
    transport = build_transport(settings)
    assert isinstance(transport, FileTransport)
    assert transport.path == tmp_path / "messages.log"


@pytest.mark.parametrize(
    ("variable", "value", "problem"),
    [
        ("ENDPOINT_URL", "ftp://x", "must be an http:// or https:// URL"),
        ("ENDPOINT_URL", "http://host:99999", "bad port"),
        ("RETENTION_S", "-5", "transport.retention_s: Input should be greater than 0"),
        ("RETRY__JITTER", "2", "transport.retry.jitter"),
        ("RETRY__ATTEMPTS", "zero", "transport.retry.attempts"),
        ("BATCH_SIZE", "0", "transport.batch_size"),
        ("TIMEOUT", "5", "transport.TIMEOUT: Extra inputs are not permitted"),
    ],
)
def test_invalid_environment_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, problem: str
) -> None:
    monkeypatch.setenv(f"PYTEST_IRIS_TRANSPORT__{variable}", value)
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert problem.lower() in str(info.value).lower()
    assert "PYTEST_IRIS_" in str(info.value)


def test_cross_field_errors(tmp_path: Path) -> None:
    config = tmp_path / "iris.yaml"
    config.write_text("transport:\n  kind: file\n")
    with pytest.raises(ConfigError, match="kind 'file' needs file_path"):
        load_settings(config)
    config.write_text("transport:\n  retry: {base_delay_s: 5, max_delay_s: 1}\n")
    with pytest.raises(ConfigError, match=r"max_delay_s \(1.0\) must be >= base_delay_s"):
        load_settings(config)


def test_http_needs_a_url_when_built(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="endpoint_url is required"):
        build_transport(TransportSettings())
    built = build_transport(
        TransportSettings(endpoint_url="http://127.0.0.1:9", batch_size=5), outbox_dir=tmp_path
    )
    assert isinstance(built, HttpTransport)
    assert built.batch_size == 5 and built.outbox.directory == tmp_path


def test_unknown_kind_fails_at_start_up_naming_the_registered(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``transport.kind`` is any registered name: checked against the registry at start-up."""
    pytester.makepyfile("def test_nothing():\n    pass\n")
    monkeypatch.setenv("PYTEST_IRIS_TRANSPORT__KIND", "smtp")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*transport.kind 'smtp': unknown transport (registered: file, http;*"]
    )
    pytester.makeconftest(
        "def pytest_iris_add_transports():\n    return {'smtp': lambda settings, **options: None}\n"
    )
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)
