"""DESIGN.md's layers: the mail package sits below the scoped accessor, so no module of it imports
appliance.models.access, not even inside a function; its callers hand it templates and pictures instead."""
from __future__ import annotations

import ast
from pathlib import Path

import appliance.mail

FORBIDDEN = "appliance.models.access"


def imported_modules(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, module) of every import statement anywhere in a module: top level, functions, branches."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found += [(node.lineno, node.module)]
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return found


def _offending(source: str) -> list[tuple[int, str]]:
    return [(line, name) for line, name in imported_modules(ast.parse(source))
            if name == FORBIDDEN or name.startswith(FORBIDDEN + ".")]


def test_no_mail_module_imports_the_access_layer() -> None:
    package = Path(appliance.mail.__file__).parent
    modules = sorted(package.rglob("*.py"))
    assert len(modules) > 10  # the package was found, not an empty folder
    bad = {str(path.relative_to(package)): hits for path in modules
           if (hits := _offending(path.read_text(encoding="utf-8")))}
    assert bad == {}


def test_the_check_sees_imports_inside_functions_and_from_the_package() -> None:
    source = ("def f():\n    from appliance.models.access.images import image_of_tenant\n"
              "from appliance.models import access\nimport appliance.models.access.content as c\n"
              "from appliance.models import Ticket\n")
    assert sorted({line for line, _ in _offending(source)}) == [2, 3, 4]
