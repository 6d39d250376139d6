"""Cassette files: atomic writes, truthful origin metadata, reading them back."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

from pytest_iris import __version__
from pytest_iris.atomic import write_atomic as _write_atomic
from pytest_iris.errors import CassetteError

_KNOWN_SERVERS: Final = {
    "pytest-iris-iris_openai_server": (
        "pytest-iris iris_openai_server (local template engine, not a hosted model)"
    ),
}

Key = tuple[str, str, str]


def origins(requests: list[Any], responses: list[dict[str, Any]]) -> list[str]:
    """Where the interactions were recorded: origin and, when known, what answered."""
    seen: dict[str, None] = {}
    for request, response in zip(requests, responses, strict=False):
        parts = urlsplit(request.uri if hasattr(request, "uri") else request["uri"])
        headers = {k.lower(): v for k, v in (response.get("headers") or {}).items()}
        server = headers.get("server") or []
        name = (server[0] if isinstance(server, list) and server else str(server or "")).split("/")[
            0
        ]
        what = _KNOWN_SERVERS.get(name, f"server header {name!r}" if name else "unknown server")
        seen[f"{parts.scheme}://{parts.netloc} - {what}"] = None
    return list(seen)


def write_atomic(path: Path, data: str) -> None:
    """Write ``data`` to ``path`` atomically, creating its directory."""
    _write_atomic(path, data, make_parents=True)


class IrisPersister:
    """vcrpy persister: atomic writes, and metadata saying where the recording came from."""

    @staticmethod
    def load_cassette(cassette_path: str | os.PathLike[str], serializer: Any) -> Any:
        from vcr.persisters.filesystem import CassetteNotFoundError
        from vcr.serialize import deserialize

        path = Path(cassette_path)
        if not path.is_file():
            raise CassetteNotFoundError()
        data = _text(path)
        if not data.strip():
            raise CassetteNotFoundError()
        try:
            return deserialize(data, serializer)
        except Exception as error:  # vcrpy wraps YAML errors in a ValueError
            raise unreadable(path, error.__cause__ or error) from error

    @staticmethod
    def save_cassette(
        cassette_path: str | os.PathLike[str], cassette_dict: dict[str, Any], serializer: Any
    ) -> None:
        import vcr
        from vcr.serialize import serialize

        metadata = dict(cassette_dict.get("metadata") or {})
        metadata["recorded_against"] = origins(
            cassette_dict["requests"], cassette_dict["responses"]
        )
        metadata["recorded_with"] = f"pytest-iris {__version__}, vcrpy {vcr.__version__}"
        write_atomic(
            Path(cassette_path), serialize({**cassette_dict, "metadata": metadata}, serializer)
        )


def _text(path: Path) -> str:
    try:
        return path.read_text("utf-8")
    except UnicodeDecodeError as error:
        raise CassetteError(
            f"cassette {path}: cannot be read: not UTF-8 text (byte {error.start}); {_REMEDY}"
        ) from error
    except OSError as error:
        raise CassetteError(f"cassette {path}: cannot be read: {error.strerror}") from error


_REMEDY: Final = "fix it, or delete it and record again with --iris-record-mode=once"


def unreadable(path: Path, error: BaseException) -> CassetteError:
    """One line naming the cassette, the line and what is wrong (YAML's own error
    spans several lines and names ``<unicode string>``, not the file)."""
    import yaml

    if isinstance(error, yaml.MarkedYAMLError):
        mark = error.context_mark or error.problem_mark
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        problem = "; ".join(str(p) for p in (error.context, error.problem) if p)
        if error.problem_mark is not None:
            at = error.problem_mark
            problem += f" (line {at.line + 1}, column {at.column + 1})"
    else:
        where, problem = str(path), " ".join(str(error).split())
    return CassetteError(f"cassette {where}: cannot be read: {problem}; {_REMEDY}")


def read_cassette(path: Path) -> dict[str, Any]:
    """The raw cassette mapping (``interactions``, ``metadata``); a CassetteError if unreadable."""
    from vcr.serializers import yamlserializer

    try:
        data = yamlserializer.deserialize(_text(path))
    except CassetteError:
        raise
    except Exception as error:  # yaml errors subclass Exception
        raise unreadable(path, error) from error
    if not isinstance(data, dict) or not isinstance(data.get("interactions"), list):
        raise CassetteError(f"cassette {path} is not a vcrpy cassette (no 'interactions' list)")
    return data
