"""The core knows no platform: importing every module of bot/ loads no platform SDK."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_core_imports_no_platform_sdk() -> None:
    modules = sorted(
        ".".join(path.relative_to(ROOT).with_suffix("").parts)
        for path in (ROOT / "bot").rglob("*.py") if path.name != "__main__.py"
    )
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "leaked = sorted(m for m in sys.modules if m.split('.')[0] in ('slack_bolt', 'slack_sdk', 'discord'))\n"
        "print(leaked)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60,
                            check=True)
    assert result.stdout.strip() == "[]", f"the core loaded a platform SDK: {result.stdout}"


def test_no_source_file_in_bot_mentions_a_platform_sdk_import() -> None:
    for path in (ROOT / "bot").rglob("*.py"):
        for line in path.read_text().splitlines():
            stripped = line.strip()
            if stripped.startswith(("import ", "from ")):
                assert not any(sdk in stripped.split()[1] for sdk in ("slack_bolt", "slack_sdk", "discord")), \
                    f"{path}: {stripped}"
