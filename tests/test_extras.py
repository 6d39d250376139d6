"""The ``all`` extra is what a user picks to get every part: it must name every other one."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_all_extra_names_every_user_extra() -> None:
    """``[all]`` left out ``hypothesis``: ``pytest-iris chaos --explore`` then said to install it."""
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    (spec,) = extras["all"]
    named = set(re.fullmatch(r"pytest-iris\[(.*)\]", spec).group(1).split(","))  # type: ignore[union-attr]
    assert named == set(extras) - {"all", "dev"}


def test_readme_names_every_user_extra() -> None:
    readme = (ROOT / "README.md").read_text()
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    for name in set(extras) - {"dev"}:
        assert f"'pytest-iris[{name}]'" in readme, name
