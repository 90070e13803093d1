"""The seams between the outbox, delivery and the tasks: who may import whom."""

import ast
from pathlib import Path

NOTIFICATIONS = Path(__file__).resolve().parents[1]


def _imports(module: str) -> set[str]:
    tree = ast.parse((NOTIFICATIONS / module).read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_the_tasks_import_delivery_and_delivery_imports_neither_tasks_nor_the_outbox():
    assert "apps.notifications.delivery" in _imports("tasks.py")
    delivery = _imports("delivery.py")
    assert not {
        name for name in delivery if name.startswith(("apps.notifications.tasks", "apps.notifications.services"))
    }


def test_the_outbox_hands_rows_to_delivery_and_never_to_the_tasks():
    outbox = _imports("services.py")
    assert "apps.notifications.delivery" in outbox
    assert not {name for name in outbox if name.startswith("apps.notifications.tasks")}
