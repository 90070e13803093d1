"""The seams between the outbox, delivery and the tasks, the provider adapters and
the common ground floor: who may import whom, and who writes which rows."""

import ast
from pathlib import Path

BACKEND = Path(__file__).resolve().parents[3]
NOTIFICATIONS = BACKEND / "apps" / "notifications"
DELIVERY_MODULES = ("publishing", "policy", "pacing", "sending", "reports", "resend")


def _sources(folder: Path):
    return [path for path in folder.rglob("*.py") if "tests" not in path.parts and "migrations" not in path.parts]


def _imports(module: str | Path) -> set[str]:
    path = module if isinstance(module, Path) else NOTIFICATIONS / module
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def _imported_modules(module: str | Path) -> set[str]:
    return {name for name in _imports(module) if not name[-1:].isupper() and "." in name}


def test_each_delivery_job_is_a_module_a_newcomer_can_name():
    found = sorted(path.stem for path in (NOTIFICATIONS / "delivery").glob("*.py") if path.stem != "__init__")
    assert found == sorted(DELIVERY_MODULES)


def test_the_tasks_only_call_delivery_and_the_reminder_scan():
    tasks = _imports("tasks.py")
    assert {"apps.notifications.delivery.sending", "apps.notifications.delivery.publishing"} <= tasks
    assert not {name for name in tasks if name.startswith("apps.notifications.services")}


def test_publishing_policy_and_resend_know_nothing_of_the_outbox_sending_or_tasks():
    for module in ("publishing", "policy", "resend"):
        imports = _imports(f"delivery/{module}.py")
        forbidden = ("apps.notifications.services", "apps.notifications.tasks", "apps.notifications.delivery.sending")
        assert not {name for name in imports if name.startswith(forbidden)}, module


def test_the_outbox_hands_rows_to_publishing_and_never_to_sending_reports_or_tasks():
    outbox = _imports("services.py")
    assert "apps.notifications.delivery.publishing" in outbox
    forbidden = (
        "apps.notifications.tasks",
        "apps.notifications.delivery.sending",
        "apps.notifications.delivery.reports",
    )
    assert not {name for name in outbox if name.startswith(forbidden)}


def test_sending_and_reports_write_fallback_rows_through_the_outbox():
    for module in ("sending", "reports"):
        assert "apps.notifications.services.notification_fall_back_to_sms" in _imports(f"delivery/{module}.py")


def _notification_writes(path: Path) -> list[str]:
    """Calls that create Notification rows: Notification(...), Notification.objects.create/get_or_create/..."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id == "Notification":
            found.append(f"{path.name}:{node.lineno} Notification(...)")
        if (
            isinstance(func, ast.Attribute)
            and func.attr in ("create", "get_or_create", "update_or_create", "bulk_create")
            and isinstance(func.value, ast.Attribute)
            and func.value.attr == "objects"
            and isinstance(func.value.value, ast.Name)
            and func.value.value.id == "Notification"
        ):
            found.append(f"{path.name}:{node.lineno} Notification.objects.{func.attr}")
    return found


def test_every_notification_row_is_written_by_the_outbox():
    writers = {path.relative_to(BACKEND).as_posix(): _notification_writes(path) for path in _sources(BACKEND / "apps")}
    writers = {module: calls for module, calls in writers.items() if calls}
    assert set(writers) == {"apps/notifications/services.py"}, writers
    # The check can see a write: the outbox makes rows in four places (build, get_or_create x3 and bulk_create).
    assert len(writers["apps/notifications/services.py"]) >= 4


def test_senders_import_the_provider_adapters_directly_not_through_the_login_code_module():
    for path in _sources(BACKEND / "apps"):
        if path.name == "otp.py":
            continue
        imports = _imports(path)
        assert "apps.accounts.services.otp" not in {name.rsplit(".", 1)[0] for name in imports} | imports or (
            path.parent.name == "accounts"
        ), path
    assert "integrations.messaging" in _imports("delivery/sending.py")


def test_the_common_ground_floor_and_the_adapters_import_no_app():
    for folder, allowed in (
        (BACKEND / "apps" / "common", ("apps.common",)),
        (BACKEND / "integrations", ("apps.common",)),
    ):
        sources = _sources(folder)
        assert sources, folder
        for path in sources:
            apps = {name for name in _imports(path) if name.startswith("apps.")}
            assert all(name.startswith(allowed) for name in apps), (path, apps)
