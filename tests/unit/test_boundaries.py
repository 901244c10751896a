"""Architecture contracts, checked on every import statement of the code base."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PLATFORM_LIBS = {"discord", "telegram"}
SQL_LIBS = {"sqlite3", "aiosqlite"}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


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
    offenders = [str(p.relative_to(ROOT)) for p in python_files("bot", "cogs")
                 if imported_modules(p) & SQL_LIBS]
    assert offenders == []


def test_the_contract_checker_sees_imports() -> None:
    # guard against a checker that passes because it sees nothing
    assert "aiosqlite" in imported_modules(ROOT / "storage" / "database.py")
    assert "bot" in imported_modules(ROOT / "cogs" / "engagement" / "cog.py")
