"""The example in each docs/features/<name>.md runs against the feature's running services.

Each page has a section `## Example` whose first Python block imports from `myapp` (the
user's package) and defines `async def main() -> None`; the test runs it in a project where
paxx added that feature and started its services.
"""

from __future__ import annotations

import re
import sys
import types
from collections.abc import Callable
from pathlib import Path

import pytest

from live.conftest import App

PAGES = sorted((Path(__file__).resolve().parents[2] / "docs" / "features").glob("*.md"))


def example_of(page: Path) -> str:
    text = page.read_text()
    section = text.split("## Example", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match, f"{page.name}: no python block under ## Example"
    return match.group(1)


@pytest.mark.parametrize("page", PAGES, ids=[p.stem for p in PAGES])
async def test_feature_page_example_runs(page: Path, app_with: Callable[..., App]) -> None:
    app = app_with(page.stem)
    code = example_of(page).replace("myapp", app.package)
    # A real module registered in sys.modules, compiled without this file's __future__
    # imports, so libraries that resolve annotations at run time (SQLAlchemy's Mapped[...])
    # see the example as they would see the user's code.
    module = types.ModuleType(f"docs_example_{page.stem}")
    sys.modules[module.__name__] = module
    try:
        exec(compile(code, str(page), "exec", dont_inherit=True), module.__dict__)
        main = module.__dict__["main"]
        assert callable(main)
        await main()
    finally:
        del sys.modules[module.__name__]
