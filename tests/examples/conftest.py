"""Each how-to example runs as a user's test would: in a fresh directory of its own.

Relative paths in the examples (``Path("iris.yaml")``, ``mgr/messages.log``)
land in a fresh directory (not ``tmp_path``, which stays the test's own),
where ``log_samples/`` is linked to the repository's samples, so the examples in docs/ read as a user would write
them and never touch the checkout.
"""

from __future__ import annotations

from pathlib import Path

import pytest

SAMPLES = Path(__file__).resolve().parents[2] / "log_samples"


@pytest.fixture(autouse=True)
def _in_a_fresh_directory(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    cwd = tmp_path_factory.mktemp("cwd")
    (cwd / "log_samples").symlink_to(SAMPLES, target_is_directory=True)
    monkeypatch.chdir(cwd)
    return cwd
