"""Hand-written SQL lives in one module per app (``<app>/sql.py``), and nothing
reaches into Django's private query internals."""

import ast
from pathlib import Path

BACKEND = Path(__file__).resolve().parents[3]
PRIVATE = ("get_compiler", "alias_refcount", "base_table", "get_initial_alias", "EmptyResultSet", "FullResultSet")


def _app_sources():
    for path in (BACKEND / "apps").rglob("*.py"):
        if not {"tests", "migrations"} & set(path.parts):
            yield path


def _sql_calls(path: Path) -> list[str]:
    """Calls that run SQL written by hand: cursor(), execute(), raw(), RawSQL()."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name in {"cursor", "execute", "executemany", "raw", "RawSQL"}:
                found.append(f"{name}() line {node.lineno}")
    return found


def test_hand_written_sql_lives_only_in_each_apps_sql_module():
    writers = {path.relative_to(BACKEND).as_posix(): _sql_calls(path) for path in _app_sources()}
    writers = {module: calls for module, calls in writers.items() if calls}
    assert all(module.endswith("/sql.py") for module in writers), writers
    # The check can see SQL: the bookings app runs its statements there.
    assert "apps/bookings/sql.py" in writers


def test_nothing_uses_djangos_private_query_internals():
    for path in _app_sources():
        text = path.read_text()
        used = [name for name in PRIVATE if name in text] + (["query.where"] if ".query.where" in text else [])
        assert not used, (path, used)
