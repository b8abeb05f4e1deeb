"""`make docs`: pdoc writes the API reference of `shopping_cart` from its docstrings, the page that the
README's embedding section links to, with every exported name and every constructor's parameters."""

from __future__ import annotations

import inspect
import os
import re
import subprocess
from pathlib import Path

import pytest

import shopping_cart

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def api_reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("api")
    env = {key: value for key, value in os.environ.items() if key not in ("MAKEFLAGS", "MAKELEVEL")}
    result = subprocess.run(
        ["make", "--no-print-directory", "docs", f"DOCS_DIR={out}"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return out, result.stderr


def test_make_docs_writes_the_page_the_readme_links_to(api_reference: tuple[Path, str]) -> None:
    out, stderr = api_reference
    # pdoc reports a module it could not import, or a docstring it could not read, as a warning.
    assert "Warn" not in stderr, stderr
    readme = (REPO / "README.md").read_text()
    embedding = readme.split("## Embedding the construct", 1)[1].split("\n## ", 1)[0]
    linked = re.findall(r"\]\((docs/api/[^)#]+)", embedding)
    assert linked, "the embedding section links to the API reference"
    for link in linked:
        assert (out / Path(link).relative_to("docs/api")).is_file(), link


def test_every_exported_name_and_parameter_is_documented(api_reference: tuple[Path, str]) -> None:
    out, _ = api_reference
    page = (out / "shopping_cart.html").read_text()
    anchors = set(re.findall(r'id="([A-Za-z_][\w.]*)"', page))
    assert set(shopping_cart.__all__) - anchors == set()
    for name in shopping_cart.__all__:
        exported = getattr(shopping_cart, name)
        if inspect.isclass(exported):
            assert f"{name}.__init__" in anchors, name
            for parameter in inspect.signature(exported.__init__).parameters:
                if parameter not in {"self", "scope", "id", "construct_id"}:
                    # In the rendered signature (the source view, which has them all, does not count).
                    # (*args and **kwargs carry their stars in a span of their own.)
                    star = r'(?:<span class="o">\*{1,2}</span>)?'
                    signature = rf'class="param">\s*{star}<span class="n">{parameter}</span>'
                    assert re.search(signature, page), f"{name}({parameter})"
