"""The layering holds: bot/ → handlers/ → coaching/ → store/, imports only downward."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ALLOWED = {
    "store": set(),
    "coaching": {"store"},
    "handlers": {"coaching", "store"},
    "bot": {"handlers", "coaching", "store"},
}


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names & set(ALLOWED)


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_each_layer_imports_only_the_layers_below_it(layer: str) -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported_packages(path) - ALLOWED[layer] - {layer})
        for path in (ROOT / layer).rglob("*.py")
    }
    assert {path: bad for path, bad in offenders.items() if bad} == {}


def test_block_kit_builders_import_no_listener() -> None:
    """handlers/blocks/ is pure: it may use coaching's snapshots and its own modules, never a listener."""
    offenders = {}
    for path in (ROOT / "handlers" / "blocks").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            modules = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module]
                if isinstance(node, ast.ImportFrom) and node.module and node.level == 0
                else []
            )
            for module in modules:
                if module.startswith(("handlers", "bot", "store")) and not module.startswith(
                    "handlers.blocks"
                ):
                    offenders.setdefault(path.name, []).append(module)
    assert offenders == {}


def test_feature_listeners_do_not_import_each_other() -> None:
    """Shared pieces live in services (deliveries, directory, say, forms…), not in another feature's listener."""
    handlers = ROOT / "handlers"
    listeners = {
        f"handlers.{path.stem}"
        for path in handlers.glob("*.py")
        if any(
            isinstance(node, ast.FunctionDef) and node.name == "register"
            for node in ast.parse(path.read_text()).body
        )
    } - {"handlers.registration"}  # registers the error handler; every listener uses its helpers
    offenders = {}
    for path in handlers.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module in listeners - {f"handlers.{path.stem}"}:
                offenders.setdefault(path.name, []).append(node.module)
            elif isinstance(node, ast.ImportFrom) and node.module == "handlers":
                named = {f"handlers.{alias.name}" for alias in node.names} & listeners
                if named:
                    offenders.setdefault(path.name, []).extend(sorted(named))
    assert "handlers.logcall" in listeners and offenders == {}


def test_the_coaching_rules_use_the_standard_library_only() -> None:
    for name in ("calendar.py", "rules.py", "digest_contents.py", "parsing.py", "tips.py", "review.py"):
        tree = ast.parse((ROOT / "coaching" / name).read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                assert node.module.split(".")[0] in {
                    "coaching",
                    "collections",
                    "dataclasses",
                    "datetime",
                    "enum",
                    "typing",
                    "zoneinfo",
                    "difflib",
                    "re",
                    "functools",
                    "itertools",
                }, (name, node.module)
                if node.module.startswith("coaching."):
                    assert node.module in {"coaching.rules", "coaching.calendar"}, (name, node.module)
