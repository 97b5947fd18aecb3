"""Settings: one typed, validated, frozen object from the environment, with no pydantic (its
import cost a cold start about 110 ms, docs/PERFORMANCE.md)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from openbin.settings import Settings, SettingsError

ROOT = Path(__file__).resolve().parents[2]
REQUIRED = {spec.alias: f"t-{spec.name}" for spec in Settings.specs() if spec.required}


def test_the_environment_gives_typed_values_and_defaults():
    settings = Settings.from_env({**REQUIRED, "OPENBIN_MAX_VERSIONS": " 7 ", "OTHER": "x"})
    assert settings.bins_table == "t-bins_table"
    assert settings.max_versions == 7
    assert settings.free_record_limit == 102_400  # its default
    assert settings.record_limit("pro") == 1_048_576


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"OPENBIN_MAX_VERSIONS": "many"}, "OPENBIN_MAX_VERSIONS must be an integer, not 'many'"),
        ({"OPENBIN_MAX_VERSIONS": "1.5"}, "OPENBIN_MAX_VERSIONS must be an integer, not '1.5'"),
        ({"OPENBIN_MAX_VERSIONS": "-1"}, "OPENBIN_MAX_VERSIONS must be at least 0, not -1"),
        ({"OPENBIN_FREE_RECORD_LIMIT": "0"}, "OPENBIN_FREE_RECORD_LIMIT must be at least 1, not 0"),
        (
            {"OPENBIN_XL_BODY_LIMIT": "4700001"},
            "OPENBIN_XL_BODY_LIMIT must be at most 4700000, not 4700001",
        ),
    ],
)
def test_a_bad_value_is_refused_with_its_name(changes, message):
    with pytest.raises(SettingsError) as refused:
        Settings.from_env({**REQUIRED, **changes})
    assert str(refused.value) == message


def test_a_missing_table_is_refused_and_values_are_checked_however_made():
    without = {k: v for k, v in REQUIRED.items() if k != "OPENBIN_KEYS_TABLE"}
    with pytest.raises(SettingsError, match="OPENBIN_KEYS_TABLE is not set"):
        Settings.from_env(without)
    settings = Settings.from_env(REQUIRED)
    with pytest.raises(SettingsError, match="at most 720"):
        settings.but(idempotency_hours=721)
    with pytest.raises(SettingsError, match="must be an integer"):
        settings.but(max_versions="3")
    with pytest.raises(AttributeError):  # frozen
        settings.max_versions = 3  # type: ignore[misc]


def test_reading_the_settings_imports_no_pydantic():
    code = (
        "import sys; sys.path.insert(0, 'layers/common'); import openbin.settings, openbin.storage;"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pydantic', 'pydantic_core')))"
    )
    shown = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert shown.stdout.strip() == "[]"
