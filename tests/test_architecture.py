"""Architecture rules, checked on the source text so that a refactor cannot quietly erode them.

The core (``bot/``) is the part that must stay portable and testable without a platform: it knows no chat SDK, no
database driver, no settings library, and nothing of ``app``, ``adapters`` or ``storage``. Inside the core, feature
models are plain data (they import no service), the command framework ``bot/commands`` knows no feature, and there
is no import cycle (not even one hidden under ``TYPE_CHECKING`` or inside a function, since those still couple the
modules). Outside the core, only the composition root (``app``) knows every package: adapters and storage never
import it, storage never imports an adapter, and an adapter never imports storage (it persists through small
ports the root hands it, never through the SQLite store). Modules stay small enough to read.

The import graph is computed statically with :mod:`ast`, never by importing the project, so these checks also see
imports that only run inside functions or for the type checker. Each check is a function of a root directory: the
tests run it on the real tree, and self-tests run it on tiny fake trees to prove it detects what it claims to.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

CORE = "bot"
CORE_SHIM = "bot.__main__"
SOURCE_PACKAGES = ("bot", "app", "adapters", "storage")
FIRST_PARTY = frozenset({*SOURCE_PACKAGES, "tests"})

PLATFORM_AND_DRIVER_LIBS = frozenset({
    "slack_bolt", "slack_sdk", "discord", "aiohttp", "sqlite3", "aiosqlite", "asyncpg", "psycopg", "pydantic_settings",
})
OUTER_PACKAGES = frozenset({"app", "adapters", "storage"})
RUNTIME_FORBIDDEN = ("slack_bolt", "slack_sdk", "discord", "aiosqlite", "sqlite3", "psycopg", "asyncpg",
                     "pydantic_settings")

NOT_FEATURES = frozenset({"commands", "locales", "when"})
FRAMEWORK = "bot.commands"
MODEL_MAY_IMPORT = frozenset({"bot.i18n", "bot.model", "bot.messages", "bot.errors"})
FRAMEWORK_MAY_IMPORT = frozenset({
    "bot.model", "bot.i18n", "bot.bidi", "bot.messages", "bot.errors", "bot.clock", "bot.config", "bot.when",
    "bot.untrusted",
    FRAMEWORK,
})
MAX_LINES = 400
OUTWARD = {"adapters": frozenset({"app", "storage"}), "storage": frozenset({"app", "adapters"})}
"""What each outer package must never import: only the composition root (``app``) knows them all. An adapter
persists through ports (``bot/adapter_stores.py``, ``bot/ports.py``) whose ``storage/`` implementations the root
hands it, so it never depends on how or where they are stored."""


# --- the static import graph -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Import:
    """One imported module, as written in one file and as resolved to an absolute module name."""

    module: str  # the importing module, e.g. ``bot.topics.service``
    path: Path  # the importing file, relative to the root
    line: int
    statement: str  # the statement as written, e.g. ``from ..model import Topic``
    target: str  # the resolved module, e.g. ``bot.model``
    where: str  # ``""``, ``"under TYPE_CHECKING"``, ``"inside def f"`` …

    @property
    def top(self) -> str:
        return self.target.split(".")[0]

    def describe(self) -> str:
        where = f" ({self.where})" if self.where else ""
        return f"{self.path.as_posix()}:{self.line}: `{self.statement}` -> {self.target}{where}"


def module_name(root: Path, path: Path) -> str:
    """``bot/topics/service.py`` -> ``bot.topics.service``; ``bot/topics/__init__.py`` -> ``bot.topics``."""
    parts = path.relative_to(root).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def source_files(root: Path, package: str) -> list[Path]:
    """Every ``.py`` file of a top-level package, sorted, skipping caches."""
    base = root / package
    if not base.is_dir():
        return []
    return sorted(path for path in base.rglob("*.py") if "__pycache__" not in path.parts)


def core_modules(root: Path) -> dict[str, Path]:
    """The core: every module of ``bot/`` except the ``bot/__main__.py`` shim."""
    modules = {module_name(root, path): path for path in source_files(root, CORE)}
    modules.pop(CORE_SHIM, None)
    return modules


def module_exists(root: Path, name: str) -> bool:
    parts = name.split(".")
    if not all(parts):
        return False
    base = root.joinpath(*parts)
    return base.with_name(parts[-1] + ".py").is_file() or (base / "__init__.py").is_file()


def _resolve_base(module: str, is_package: bool, level: int, name: str | None) -> str:
    """The absolute module that ``from <level dots><name> import …`` refers to, written in ``module``."""
    if level == 0:
        return name or ""
    package = module.split(".") if is_package else module.split(".")[:-1]
    if level - 1 > len(package) - 1:
        return "." * level + (name or "")  # beyond the top-level package: unresolvable, matches no module
    anchor = package[: len(package) - (level - 1)]
    return ".".join([*anchor, name] if name else anchor)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(tree: ast.AST) -> Iterator[tuple[ast.Import | ast.ImportFrom, str]]:
    """Every import statement anywhere in the tree, with a short note of where it sits."""
    stack: list[tuple[ast.AST, str]] = [(tree, "")]
    while stack:
        node, where = stack.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node, where
            continue
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend((child, _join(where, "under TYPE_CHECKING")) for child in node.body)
            stack.extend((child, where) for child in node.orelse)
            continue
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            where = _join(where, f"inside def {node.name}")
        stack.extend((child, where) for child in ast.iter_child_nodes(node))


def _join(where: str, more: str) -> str:
    return f"{where}, {more}" if where else more


def imports_of(root: Path, path: Path) -> list[Import]:
    """The modules one file imports, resolved to absolute names (relative imports included).

    ``from a.b import c`` resolves to ``a.b.c`` when that module exists under ``root``, otherwise to ``a.b``;
    ``import a.b.c`` resolves to ``a.b.c``.
    """
    module = module_name(root, path)
    is_package = path.name == "__init__.py"
    relative = path.relative_to(root)
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[Import] = []
    for node, where in _import_nodes(tree):
        statement = ast.unparse(node)
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            base = _resolve_base(module, is_package, node.level, node.module)
            targets = []
            for alias in node.names:
                candidate = f"{base}.{alias.name}" if base else alias.name
                targets.append(candidate if alias.name != "*" and module_exists(root, candidate) else base)
        for target in dict.fromkeys(targets):
            found.append(Import(module, relative, node.lineno, statement, target, where))
    return sorted(found, key=lambda imp: (imp.line, imp.target))


def core_imports(root: Path) -> list[Import]:
    return [imp for path in core_modules(root).values() for imp in imports_of(root, path)]


def within(target: str, package: str) -> bool:
    """``bot.topics.model`` is within ``bot.topics`` (and so is ``bot.topics`` itself)."""
    return target == package or target.startswith(package + ".")


def features(root: Path) -> list[str]:
    """Feature packages: every subpackage of ``bot/`` except the command framework and the locales."""
    return sorted(
        f"{CORE}.{child.name}"
        for child in (root / CORE).iterdir()
        if child.is_dir() and child.name not in NOT_FEATURES and not child.name.startswith(("_", "."))
        and any(child.glob("*.py"))
    )


# --- the checks: each takes a root and returns readable violations (empty when the rule holds) -----------------


def core_boundary_violations(root: Path) -> list[str]:
    """Imports in the core of a platform SDK, a driver or settings library, or of ``app``/``adapters``/``storage``."""
    return [
        imp.describe()
        for imp in core_imports(root)
        if imp.top in PLATFORM_AND_DRIVER_LIBS or imp.top in OUTER_PACKAGES
    ]


def outer_package_violations(root: Path) -> list[str]:
    """Imports of the composition root by adapters or storage, of adapters by storage, or of storage by adapters."""
    return [
        imp.describe()
        for package, forbidden in OUTWARD.items()
        for path in source_files(root, package)
        for imp in imports_of(root, path)
        if imp.top in forbidden
    ]


def feature_model_violations(root: Path) -> list[str]:
    """Imports in ``bot/<feature>/model.py`` of anything first-party but the shared vocabulary and other models."""
    models = {f"{feature}.model" for feature in features(root)}
    allowed = MODEL_MAY_IMPORT | models
    violations = []
    for feature in features(root):
        path = root.joinpath(*feature.split("."), "model.py")
        if not path.is_file():
            continue
        for imp in imports_of(root, path):
            if imp.top in FIRST_PARTY and not any(within(imp.target, ok) for ok in allowed):
                violations.append(imp.describe())
    return violations


def framework_violations(root: Path) -> list[str]:
    """Imports in ``bot/commands/`` of a feature (or of any core module outside the framework's allowance)."""
    feature_packages = features(root)
    violations = []
    for imp in core_imports(root):
        if not within(imp.module, FRAMEWORK) or imp.top != CORE:
            continue
        feature = next((f for f in feature_packages if within(imp.target, f)), None)
        if feature is not None:
            violations.append(f"{imp.describe()} [imports the feature {feature}]")
        elif not any(within(imp.target, ok) for ok in FRAMEWORK_MAY_IMPORT):
            violations.append(f"{imp.describe()} [not one of the modules the framework may import]")
    graph = import_graph(root)
    for start in sorted(m for m in graph if within(m, FRAMEWORK)):
        for reached, path in _reachable(graph, start).items():
            feature = next((f for f in feature_packages if within(reached, f)), None)
            if feature is not None and len(path) > 2:  # direct imports are reported above
                violations.append(f"{start} reaches the feature {feature} through {' -> '.join(path)}")
    return violations


def _reachable(graph: Mapping[str, Mapping[str, object]], start: str) -> dict[str, list[str]]:
    """Every module ``start`` imports directly or through others, with one shortest path to it."""
    paths = {start: [start]}
    queue = deque([start])
    while queue:
        current = queue.popleft()
        for nxt in graph.get(current, {}):
            if nxt not in paths:
                paths[nxt] = [*paths[current], nxt]
                queue.append(nxt)
    del paths[start]
    return paths


def import_graph(root: Path) -> dict[str, dict[str, list[Import]]]:
    """Core module -> core module it imports -> the import statements making that edge."""
    modules = core_modules(root)
    graph: dict[str, dict[str, list[Import]]] = {name: {} for name in modules}
    for name, path in modules.items():
        for imp in imports_of(root, path):
            if imp.target in modules:
                graph[name].setdefault(imp.target, []).append(imp)
    return graph


def strongly_connected_cycles(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """Tarjan: every strongly connected component that is a cycle (two or more nodes, or a self-import), sorted."""
    edges = {node: sorted(set(targets)) for node, targets in graph.items()}
    for targets in list(edges.values()):
        for target in targets:
            edges.setdefault(target, [])
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    cycles: list[list[str]] = []
    for start in sorted(edges):
        if start in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(start, iter(edges[start]))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(edges[child])))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in edges[node]:
                    cycles.append(sorted(component))
    return sorted(cycles)


def _shortest_cycle(graph: Mapping[str, Mapping[str, object]], component: list[str]) -> list[str]:
    """One concrete cycle through the first module of a component, e.g. ``[a, b, a]``."""
    members = set(component)
    start = component[0]
    previous: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for child in sorted(graph[node]):
            if child not in members:
                continue
            if child == start:
                path = [node]
                while path[-1] != start:
                    path.append(previous[path[-1]])
                return [start, *reversed(path[:-1]), start] if node != start else [start, start]
            if child not in previous:
                previous[child] = node
                queue.append(child)
    return [*component, start]  # unreachable for a genuine component


def import_cycles(root: Path) -> list[str]:
    """Every import cycle among core modules: its modules, one concrete loop, and the imports that close it."""
    graph = import_graph(root)
    reports = []
    for component in strongly_connected_cycles({node: targets.keys() for node, targets in graph.items()}):
        members = set(component)
        edges = [
            f"    {imp.describe()}"
            for node in component
            for target, imps in sorted(graph[node].items())
            if target in members
            for imp in imps
        ]
        loop = " -> ".join(_shortest_cycle(graph, component))
        reports.append("\n".join([f"cycle of {len(component)}: {component}", f"  e.g. {loop}", *edges]))
    return reports


def oversized_modules(root: Path, limit: int = MAX_LINES) -> list[str]:
    """Source modules longer than ``limit`` lines."""
    offenders = []
    for package in SOURCE_PACKAGES:
        for path in source_files(root, package):
            lines = len(path.read_text(encoding="utf-8").splitlines())
            if lines > limit:
                offenders.append(f"{path.relative_to(root).as_posix()}: {lines} lines")
    return offenders


def _is_protocol(node: ast.ClassDef) -> bool:
    """``class X(Protocol)`` or ``class X(Protocol[T])``, however ``Protocol`` was imported."""
    for base in node.bases:
        target = base.value if isinstance(base, ast.Subscript) else base
        if (isinstance(target, ast.Name) and target.id == "Protocol") \
                or (isinstance(target, ast.Attribute) and target.attr == "Protocol"):
            return True
    return False


def undocumented_protocol_methods(root: Path) -> list[str]:
    """Methods of a core interface (any ``Protocol`` class in bot/) whose docstring is missing or does not say both
    what they return and what they raise: the words "return" ("returns nothing" counts) and "raise" ("raises
    nothing of its own" counts). Properties (the aggregate store's repositories, an adapter's platform name) are
    attributes, not calls that can fail, and are left out."""
    offenders = []
    for path in source_files(root, "bot"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.ClassDef) and _is_protocol(node)):
                continue
            for method in node.body:
                if not isinstance(method, ast.FunctionDef | ast.AsyncFunctionDef) \
                        or any(isinstance(d, ast.Name) and d.id == "property" for d in method.decorator_list):
                    continue
                doc = (ast.get_docstring(method) or "").lower()
                missing = [word for word in ("return", "raise") if word not in doc]
                if missing:
                    offenders.append(f"{path.relative_to(root).as_posix()}: {node.name}.{method.name} "
                                     f"(says nothing of what it {' or '.join(w + 's' for w in missing)})")
    return offenders


def _report(title: str, violations: list[str]) -> str:
    return f"{title} ({len(violations)}):\n" + "\n".join(violations)


# --- the rules, on the real tree ---------------------------------------------------------------------------------


def test_core_imports_no_platform_driver_or_outer_package() -> None:
    """bot/ imports no platform SDK, driver or settings library, nor app/adapters/storage."""
    violations = core_boundary_violations(ROOT)
    assert not violations, _report("the core imports a platform SDK, a driver or an outer package", violations)


def test_only_the_composition_root_knows_every_package() -> None:
    """adapters/ and storage/ never import app/ (settings reach them as values); storage never imports adapters,
    and adapters never import storage (they persist through ports the root hands them)."""
    violations = outer_package_violations(ROOT)
    assert not violations, _report("an outer package imports the composition root, an adapter or storage",
                                   violations)


def test_feature_models_import_no_service() -> None:
    """bot/<feature>/model.py imports only the shared vocabulary and other features' models."""
    violations = feature_model_violations(ROOT)
    assert not violations, _report("a feature model imports more than the vocabulary and other models", violations)


def test_command_framework_imports_no_feature() -> None:
    """bot/commands/ imports no feature package."""
    violations = framework_violations(ROOT)
    assert not violations, _report("the command framework imports a feature", violations)


def test_core_has_no_import_cycle() -> None:
    """No import cycle among core modules, counting TYPE_CHECKING and function-local imports."""
    cycles = import_cycles(ROOT)
    assert not cycles, _report("import cycles in the core", cycles)


def test_no_module_is_over_the_line_limit() -> None:
    """No module of bot/, app/, adapters/ or storage/ is over 400 lines."""
    offenders = oversized_modules(ROOT)
    assert not offenders, _report(f"modules over {MAX_LINES} lines", offenders)


def test_every_interface_method_says_what_it_returns_and_raises() -> None:
    """Each method of a ``Protocol`` in bot/ (stores, platform ports, clocks …) has a docstring saying what it
    returns (or that it returns nothing) and what it raises (or that it raises nothing)."""
    offenders = undocumented_protocol_methods(ROOT)
    assert not offenders, _report("interface methods that do not say what they return and raise", offenders)


def test_importing_the_core_loads_no_platform_sdk_or_driver() -> None:
    """Importing every core module in a fresh interpreter loads no platform SDK, SQL driver or pydantic_settings."""
    modules = sorted(core_modules(ROOT))
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        f"leaked = sorted(m for m in sys.modules if m.split('.')[0] in {RUNTIME_FORBIDDEN!r})\n"
        "print(leaked)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60,
                            check=False)
    assert result.returncode == 0, f"importing the core failed:\n{result.stderr}"
    assert result.stdout.strip() == "[]", f"importing the core loaded a platform SDK or driver: {result.stdout}"


def test_starting_without_platforms_loads_no_platform_sdk() -> None:
    """The CLI, the settings and the composition root load Slack's and Discord's SDKs only when configured."""
    code = (
        "import sys, app.cli, app.settings, app.assembly\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'slack_bolt', 'slack_sdk', 'discord'}))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60,
                            check=False)
    assert result.returncode == 0, f"importing the composition root failed:\n{result.stderr}"
    assert result.stdout.strip() == "[]", f"a platform SDK loaded without being configured: {result.stdout}"


# --- self-tests: the helpers detect what they claim to, on fake trees --------------------------------------------


def write_tree(root: Path, files: Mapping[str, str]) -> Path:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


CLEAN_TREE = {
    "bot/__init__.py": "",
    "bot/__main__.py": "import slack_bolt\nfrom app.cli import main\n",  # the shim is not the core
    "bot/model.py": "from dataclasses import dataclass\n",
    "bot/i18n.py": "import gettext\n",
    "bot/errors.py": "",
    "bot/ports.py": "from bot.model import dataclass\n",
    "bot/commands/__init__.py": "from bot.commands.spec import Command\n",
    "bot/commands/spec.py": "from bot.i18n import gettext\nfrom . import context\n",
    "bot/clock.py": "from datetime import datetime\n",
    "bot/commands/context.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from bot.clock import Clock\n",
    "bot/topics/__init__.py": "",
    "bot/topics/model.py": "import datetime\nimport babel\nfrom bot.people.model import Person\n"
                           "from ..errors import E\n",
    "bot/topics/service.py": "from bot.topics.model import Topic\nfrom bot.commands import Command\n"
                             "from ..ports import P\n",
    "bot/people/__init__.py": "from bot.people.model import Person\n",
    "bot/people/model.py": "from bot import model\nfrom bot.i18n import _\n",
    "bot/people/service.py": "from . import model\nfrom bot.topics import service\n",
    "bot/locales/fr/LC_MESSAGES/messages.po": "",
    "app/__init__.py": "",
    "app/cli.py": "import slack_bolt\nfrom bot.topics.service import S\n" + "x = 1\n" * 398,
    "storage/__init__.py": "import aiosqlite\n",
}


def test_clean_fake_tree_passes_every_check(tmp_path: Path) -> None:
    root = write_tree(tmp_path, CLEAN_TREE)
    assert features(root) == ["bot.people", "bot.topics"]
    assert core_boundary_violations(root) == []
    assert feature_model_violations(root) == []
    assert framework_violations(root) == []
    assert import_cycles(root) == []
    assert oversized_modules(root) == []


def test_imports_are_resolved_statically_including_relative_ones(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {
        **CLEAN_TREE,
        "bot/topics/service.py": """\
            import bot.topics.model
            from typing import TYPE_CHECKING
            from . import model, missing
            from .model import Topic
            from .. import ports
            from ..people import service as people
            from bot.topics import Nothing
            from bot import *

            if TYPE_CHECKING:
                from bot.ports import Store
            else:
                import json

            def later() -> None:
                from bot.errors import E
            """,
    })
    found = [(imp.target, imp.where) for imp in imports_of(root, root / "bot/topics/service.py")]
    assert found == [
        ("bot.topics.model", ""),
        ("typing", ""),
        ("bot.topics", ""),  # ``missing`` is no module: the package is what is imported
        ("bot.topics.model", ""),
        ("bot.topics.model", ""),
        ("bot.ports", ""),
        ("bot.people.service", ""),
        ("bot.topics", ""),
        ("bot", ""),
        ("bot.ports", "under TYPE_CHECKING"),
        ("json", ""),
        ("bot.errors", "inside def later"),
    ]
    init = imports_of(root, root / "bot/people/__init__.py")
    assert [imp.target for imp in init] == ["bot.people.model"]
    assert init[0].describe() == "bot/people/__init__.py:1: `from bot.people.model import Person` -> bot.people.model"


def test_core_boundary_check_detects_sdks_drivers_and_outer_packages(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {
        **CLEAN_TREE,
        "bot/people/service.py": """\
            from typing import TYPE_CHECKING
            import pydantic
            if TYPE_CHECKING:
                import discord.abc

            async def connect() -> None:
                import aiosqlite
                from storage.database import Database
                from psycopg.rows import dict_row
            """,
        "bot/delivery/__init__.py": "from app import settings\nimport sqlite3\n",
        "bot/delivery/worker.py": "from slack_sdk.web.async_client import AsyncWebClient\nimport adapters.console\n",
    })
    assert core_boundary_violations(root) == [
        "bot/delivery/__init__.py:1: `from app import settings` -> app",
        "bot/delivery/__init__.py:2: `import sqlite3` -> sqlite3",
        "bot/delivery/worker.py:1: `from slack_sdk.web.async_client import AsyncWebClient`"
        " -> slack_sdk.web.async_client",
        "bot/delivery/worker.py:2: `import adapters.console` -> adapters.console",
        "bot/people/service.py:4: `import discord.abc` -> discord.abc (under TYPE_CHECKING)",
        "bot/people/service.py:7: `import aiosqlite` -> aiosqlite (inside def connect)",
        "bot/people/service.py:8: `from storage.database import Database` -> storage.database (inside def connect)",
        "bot/people/service.py:9: `from psycopg.rows import dict_row` -> psycopg.rows (inside def connect)",
    ]


def test_outer_package_check_detects_adapters_or_storage_importing_the_root(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {
        "adapters/__init__.py": "",
        "adapters/slack.py": "from bot.model import Role\ndef f():\n    from app.settings import Settings\n",
        "storage/__init__.py": "",
        "storage/store.py": "import adapters.slack\nfrom bot.ports import Store\n",
        "app/__init__.py": "",
        "app/settings.py": "import adapters.slack\nimport storage.store\n",
    })
    violations = outer_package_violations(root)
    assert len(violations) == 2, violations
    assert any("adapters/slack.py" in v and "app.settings" in v for v in violations)
    assert any("storage/store.py" in v and "adapters.slack" in v for v in violations)


def test_outer_package_check_detects_an_adapter_importing_storage(tmp_path: Path) -> None:
    """Issue 17: the Discord adapter wrote SQL through ``storage.database`` and took the ``SqliteStore``."""
    root = write_tree(tmp_path, {
        "adapters/__init__.py": "",
        "adapters/discord/__init__.py": "from typing import TYPE_CHECKING\n"
                                        "if TYPE_CHECKING:\n    from storage.store import SqliteStore\n",
        "adapters/discord/tokens.py": "from bot.adapter_stores import ActionTokenStore\n"
                                      "def f():\n    import storage.database\n",
        "storage/__init__.py": "",
        "storage/store.py": "from bot.ports import Store\n",
        "storage/database.py": "",
    })
    assert outer_package_violations(root) == [
        "adapters/discord/__init__.py:3: `from storage.store import SqliteStore` -> storage.store"
        " (under TYPE_CHECKING)",
        "adapters/discord/tokens.py:3: `import storage.database` -> storage.database (inside def f)",
    ]


def test_feature_model_check_detects_a_model_importing_a_service(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {
        **CLEAN_TREE,
        "bot/topics/model.py": """\
            from typing import TYPE_CHECKING
            from bot.people.model import Person
            from .service import TopicService
            from bot.people import roles
            from bot.people import Person
            from bot.when import parse
            if TYPE_CHECKING:
                from bot.ports import Store
            def f() -> None:
                from bot.commands.spec import Command
            """,
        "bot/people/roles.py": "",
    })
    violations = feature_model_violations(root)
    assert violations == [
        "bot/topics/model.py:3: `from .service import TopicService` -> bot.topics.service",
        "bot/topics/model.py:4: `from bot.people import roles` -> bot.people.roles",
        "bot/topics/model.py:5: `from bot.people import Person` -> bot.people",
        "bot/topics/model.py:6: `from bot.when import parse` -> bot.when",
        "bot/topics/model.py:8: `from bot.ports import Store` -> bot.ports (under TYPE_CHECKING)",
        "bot/topics/model.py:10: `from bot.commands.spec import Command` -> bot.commands.spec (inside def f)",
    ]


def test_framework_check_detects_a_feature_reached_through_an_allowed_module(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {
        "bot/__init__.py": "",
        "bot/model.py": "",
        "bot/clock.py": "from bot.topics.model import Topic\n",
        "bot/commands/__init__.py": "",
        "bot/commands/dispatcher.py": "from bot.clock import Clock\n",
        "bot/topics/__init__.py": "",
        "bot/topics/model.py": "from bot.model import Role\n",
    })
    violations = framework_violations(root)
    assert violations == ["bot.commands.dispatcher reaches the feature bot.topics through "
                          "bot.commands.dispatcher -> bot.clock -> bot.topics.model"], violations


def test_framework_check_detects_the_framework_importing_a_feature(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {
        **CLEAN_TREE,
        "bot/services.py": "",
        "bot/commands/context.py": """\
            from typing import TYPE_CHECKING
            from bot.clock import Clock
            if TYPE_CHECKING:
                from bot.services import Services
            def handler() -> None:
                from bot.topics.model import Topic
            """,
        "bot/commands/help.py": "from ..people import service\nfrom bot import topics\n",
    })
    violations = framework_violations(root)
    assert [v for v in violations if " reaches " not in v] == [
        "bot/commands/context.py:4: `from bot.services import Services` -> bot.services (under TYPE_CHECKING)"
        " [not one of the modules the framework may import]",
        "bot/commands/context.py:6: `from bot.topics.model import Topic` -> bot.topics.model (inside def handler)"
        " [imports the feature bot.topics]",
        "bot/commands/help.py:1: `from ..people import service` -> bot.people.service [imports the feature bot.people]",
        "bot/commands/help.py:2: `from bot import topics` -> bot.topics [imports the feature bot.topics]",
    ]


def test_tarjan_finds_every_cycle_and_nothing_else() -> None:
    graph = {"a": ["b"], "b": ["a", "c"], "c": ["d"], "d": [], "e": ["e"], "f": ["g"], "g": ["h"], "h": ["f", "a"]}
    assert strongly_connected_cycles(graph) == [["a", "b"], ["e"], ["f", "g", "h"]]
    assert strongly_connected_cycles({"a": ["b"], "b": ["c"]}) == []
    chain = {str(i): [str(i + 1)] for i in range(5000)} | {"5000": ["0"]}  # deep: no recursion limit
    assert len(strongly_connected_cycles(chain)[0]) == 5001


def test_cycle_check_detects_a_cycle_through_type_checking(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {
        **CLEAN_TREE,
        "bot/a.py": "from bot import b\n",
        "bot/b.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from bot.a import A\n",
    })
    assert import_cycles(root) == [
        "cycle of 2: ['bot.a', 'bot.b']\n"
        "  e.g. bot.a -> bot.b -> bot.a\n"
        "    bot/a.py:1: `from bot import b` -> bot.b\n"
        "    bot/b.py:3: `from bot.a import A` -> bot.a (under TYPE_CHECKING)"
    ]


def test_cycle_check_detects_cycles_through_functions_relative_imports_and_self_imports(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {
        **CLEAN_TREE,
        "bot/commands/context.py": "from bot.services import Services\n",
        "bot/services.py": "from bot.topics.service import TopicService\n",
        "bot/topics/service.py": "def run() -> None:\n    from ..commands.context import Context\n",
        "bot/when.py": "import bot.when\n",
        "bot/__main__.py": "import bot.__main__\nfrom bot import model\n",  # the shim is not the core
    })
    cycles = import_cycles(root)
    assert [report.splitlines()[:2] for report in cycles] == [
        ["cycle of 3: ['bot.commands.context', 'bot.services', 'bot.topics.service']",
         "  e.g. bot.commands.context -> bot.services -> bot.topics.service -> bot.commands.context"],
        ["cycle of 1: ['bot.when']", "  e.g. bot.when -> bot.when"],
    ]
    assert "bot/topics/service.py:2: `from ..commands.context import Context` -> bot.commands.context" \
        " (inside def run)" in cycles[0]


@pytest.mark.parametrize(("lines", "flagged"), [(MAX_LINES, False), (MAX_LINES + 1, True)])
def test_line_limit_check_flags_only_modules_over_the_limit(tmp_path: Path, lines: int, flagged: bool) -> None:
    root = write_tree(tmp_path, {**CLEAN_TREE, "adapters/slack/big.py": "x = 1\n" * lines})
    expected = [f"adapters/slack/big.py: {lines} lines"] if flagged else []
    assert oversized_modules(root) == expected


def test_interface_docstring_check_flags_a_method_that_does_not_say_what_it_returns_or_raises(
        tmp_path: Path) -> None:
    root = write_tree(tmp_path, {**CLEAN_TREE, "bot/topics/store.py": """\
        import typing
        from typing import Protocol

        class TopicStore(Protocol):
            async def get(self, topic_id: int) -> None:
                \"\"\"Returns the topic. Raises nothing of its own.\"\"\"

            async def all(self) -> None:
                \"\"\"Every topic. Raises nothing of its own.\"\"\"

            async def put(self) -> None:
                \"\"\"Store it; returns nothing.\"\"\"

            async def count(self) -> int: ...

            @property
            def name(self) -> str: ...

        class Clock(typing.Protocol):
            def now(self) -> int:
                \"\"\"The time.\"\"\"

        class Source(Protocol[int]):
            def read(self) -> int:
                \"\"\"Returns one; raises ValueError when empty.\"\"\"

            def more(self) -> int: ...

        class TopicCache:
            def get(self) -> None: ...
        """})
    assert undocumented_protocol_methods(root) == [
        "bot/topics/store.py: TopicStore.all (says nothing of what it returns)",
        "bot/topics/store.py: TopicStore.put (says nothing of what it raises)",
        "bot/topics/store.py: TopicStore.count (says nothing of what it returns or raises)",
        "bot/topics/store.py: Clock.now (says nothing of what it returns or raises)",
        "bot/topics/store.py: Source.more (says nothing of what it returns or raises)",
    ]
