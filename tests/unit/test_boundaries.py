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


# -- storage: below the bot, and a graph without cycles -----------------------------------

def full_imports(path: Path, package: str, modules: set[str] | None = None) -> set[str]:
    """Every module ``path`` imports, dotted in full (relative imports resolved against
    ``package``). ``from a import b`` names ``a.b`` if that is one of ``modules``, else
    ``a``; without ``modules``, both. Imports inside functions count: a lazy import is
    still a dependency."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            for alias in node.names:
                full = f"{base}.{alias.name}"
                if modules is None:
                    found.update((base, full))
                else:
                    found.add(full if full in modules else base)
    return found


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def storage_graph(root: Path = ROOT) -> dict[str, set[str]]:
    """storage module -> the storage modules it imports."""
    files = {module_name(p, root): p for p in (root / "storage").rglob("*.py")}
    graph = {}
    for name, path in files.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        imported = full_imports(path, package, set(files))
        graph[name] = {m for m in imported if m in files and m != name}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle, as the modules along it, or None."""
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt):], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)):
            return cycle
    return None


def test_storage_imports_no_cog_and_not_the_runtime() -> None:
    offenders = []
    for path in python_files("storage"):
        for module in full_imports(path, "storage"):
            if module.split(".")[0] == "cogs" or module.startswith("bot.runtime"):
                offenders.append(f"{path.relative_to(ROOT)} imports {module}")
    assert offenders == []


def test_storage_modules_import_each_other_without_a_cycle() -> None:
    graph = storage_graph()
    assert graph["storage.welcome"] >= {"storage.journey", "storage.book"}  # sees edges
    assert find_cycle(graph) is None


def test_the_cycle_check_catches_a_registry_shared_both_ways(tmp_path: Path) -> None:
    # the layout before issue 19: journey added its statements to repository's BOOK,
    # and repository imported journey (lazily) so the book was complete
    (tmp_path / "storage").mkdir()
    (tmp_path / "storage" / "__init__.py").write_text(
        "from storage.repository import Repository\n")
    (tmp_path / "storage" / "repository.py").write_text(
        "BOOK = object()\n\nclass Repository:\n    def open(self):\n"
        "        import storage.journey  # noqa: F401\n")
    (tmp_path / "storage" / "journey.py").write_text(
        "from storage.repository import BOOK, Repository\n")
    cycle = find_cycle(storage_graph(tmp_path))
    assert cycle is not None and {"storage.repository", "storage.journey"} <= set(cycle)
    (tmp_path / "storage" / "other.py").write_text("from . import journey\n")
    assert storage_graph(tmp_path)["storage.other"] == {"storage.journey"}


def sqlalchemy_imports(path: Path) -> set[str]:
    return {m for m in full_imports(path, "") if "sqlalchemy" in m.split(".")}


def test_only_storage_opens_sqlalchemy() -> None:
    # APScheduler's SQLAlchemy job store is SQL on the bot's file too: storage.jobs opens it
    offenders = [f"{p.relative_to(ROOT)}: {sorted(sqlalchemy_imports(p))}"
                 for p in python_files("bot", "cogs", "bench") if sqlalchemy_imports(p)]
    assert offenders == []
    assert sqlalchemy_imports(ROOT / "storage" / "jobs.py")  # the checker sees them
