"""Architecture contracts, checked on every import statement of the code base.

Every import counts, also one made only for the type checker (``if TYPE_CHECKING``) or
inside a function: each is a dependency a reader has to follow.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PLATFORM_LIBS = {"discord", "telegram"}
#: Libraries that speak SQL; a module counts when any part of its dotted name is one
#: (``apscheduler.jobstores.sqlalchemy`` is SQLAlchemy).
SQL_LIBS = {"sqlite3", "aiosqlite", "sqlalchemy"}
#: What an adapter may import of the bot (besides its own package and its platform).
ADAPTERS_MAY_USE = ("bot.adapters", "bot.core", "bot.i18n", "bot.config")
#: The one module that may import the command line: ``python -m bot``.
ENTRY_POINT = "bot/__main__.py"


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def imported_names(path: Path) -> set[str]:
    """Every module ``path`` imports, by its full dotted name; ``from bot import runtime``
    counts as ``bot.runtime`` too."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def imports_any(path: Path, *modules: str) -> list[str]:
    """The imports of ``path`` that are one of ``modules`` or inside one of them."""
    return sorted(name for name in imported_names(path)
                  if any(name == m or name.startswith(m + ".") for m in modules))


def python_files(*folders: str) -> list[Path]:
    return [p for folder in folders for p in (ROOT / folder).rglob("*.py")]


def test_cogs_and_core_never_import_a_platform() -> None:
    offenders = [str(p.relative_to(ROOT)) for p in python_files("cogs", "bot/core")
                 if imported_modules(p) & PLATFORM_LIBS]
    assert offenders == []


def test_only_adapters_import_their_platform() -> None:
    offenders = []
    for path in python_files("bot", "cogs", "storage"):
        relative = path.relative_to(ROOT).as_posix()
        for lib in imported_modules(path) & PLATFORM_LIBS:
            if not relative.startswith(f"bot/adapters/{lib}/"):
                offenders.append(f"{relative} imports {lib}")
    assert offenders == []


def test_only_storage_speaks_sql() -> None:
    offenders = [f"{p.relative_to(ROOT)} imports {name}" for p in python_files("bot", "cogs")
                 for name in imported_names(p) if set(name.split(".")) & SQL_LIBS]
    assert offenders == []


def test_core_imports_neither_storage_nor_the_runtime() -> None:
    offenders = {str(p.relative_to(ROOT)): imports_any(p, "storage", "bot.runtime")
                 for p in python_files("bot/core")}
    assert {path: names for path, names in offenders.items() if names} == {}


def test_adapters_import_neither_the_runtime_nor_storage() -> None:
    # they reach the bot through bot.core.port.BotPort, which the runtime implements
    offenders = {str(p.relative_to(ROOT)): imports_any(p, "storage", "bot.runtime")
                 for p in python_files("bot/adapters")}
    assert {path: names for path, names in offenders.items() if names} == {}


def test_adapters_use_only_the_core_the_translations_and_their_config() -> None:
    # no cog, no per-community settings store, no recorder: what they need is on the port
    offenders = {}
    for path in python_files("bot/adapters"):
        names = [name for name in imports_any(path, "bot", "cogs", "storage")
                 if not any(name == m or name.startswith(m + ".") for m in ADAPTERS_MAY_USE)]
        if names:
            offenders[str(path.relative_to(ROOT))] = names
    assert offenders == {}


def test_only_the_entry_point_imports_the_command_line() -> None:
    offenders = [p.relative_to(ROOT).as_posix() for p in python_files("bot", "cogs", "storage")
                 if imports_any(p, "bot.cli")]
    assert offenders == [ENTRY_POINT]


def test_the_contract_checker_sees_imports() -> None:
    # guard against a checker that passes because it sees nothing
    assert "aiosqlite" in imported_modules(ROOT / "storage" / "database.py")
    assert "bot" in imported_modules(ROOT / "cogs" / "engagement" / "cog.py")
    assert "bot.core.port" in imported_names(ROOT / "bot" / "adapters" / "console" / "adapter.py")
    assert "bot.core.events.Event" in imported_names(ROOT / "bot" / "core" / "port.py")


def test_the_port_offers_only_what_adapters_use() -> None:
    # a member no adapter asks for is the runtime leaking through the port
    port = ast.parse((ROOT / "bot" / "core" / "port.py").read_text(encoding="utf-8"))
    [protocol] = [n for n in port.body if isinstance(n, ast.ClassDef) and n.name == "BotPort"]
    members = {n.name for n in protocol.body
               if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}
    users = [*python_files("bot/adapters"), ROOT / "bot" / "core" / "text_commands.py",
             ROOT / "bot" / "core" / "authors.py"]
    used = {node.attr for path in users
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name | ast.Attribute)
            and (node.value.id if isinstance(node.value, ast.Name) else node.value.attr) == "port"}
    assert len(members) > 10
    assert members - used == set()
