"""Settings: defaults, and one clear line (exit code 2) for anything missing or malformed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import DEFAULT_DATABASE_URL, SettingsError, load_settings

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "123456:ABCdefGHIjklMNO"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("TELEGRAM_BOT_TOKEN", "DATABASE_URL", "ADMIN_IDS", "TELEGRAM_API_BASE_URL", "TIMEZONE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    settings = load_settings()
    assert settings.database_url == DEFAULT_DATABASE_URL
    assert settings.timezone == "Asia/Tehran"
    assert settings.admin_ids == frozenset()
    assert settings.telegram_api_base_url == "https://api.telegram.org/bot"


def test_admin_ids_and_env_file(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(f"TELEGRAM_BOT_TOKEN={TOKEN}\nADMIN_IDS= 12, 34 ,56\n", encoding="utf-8")
    assert load_settings().admin_ids == {12, 34, 56}


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({}, "TELEGRAM_BOT_TOKEN"),
        ({"TELEGRAM_BOT_TOKEN": "not-a-token"}, "TELEGRAM_BOT_TOKEN"),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "ADMIN_IDS": "12,abc"}, "ADMIN_IDS"),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": "tapi.bale.ai/bot"}, "TELEGRAM_API_BASE_URL"),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "DATABASE_URL": "mysql://x"}, "DATABASE_URL"),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "TIMEZONE": "Mars/Olympus"}, "TIMEZONE"),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "LOG_LEVEL": "LOUD"}, "LOG_LEVEL"),
    ],
)
def test_bad_settings_name_the_setting(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], named: str
) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert str(caught.value).startswith(named)
    assert "\n" not in str(caught.value)


def test_migrate_needs_no_token(tmp_path: Path) -> None:
    settings = load_settings(require_token=False, database_url=f"sqlite+aiosqlite:///{tmp_path}/x.db")
    assert settings.telegram_bot_token == ""


def _run_bot(tmp_path: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_run_without_token_prints_one_line_and_exits_2(tmp_path: Path) -> None:
    result = _run_bot(tmp_path, {}, "run")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "TELEGRAM_BOT_TOKEN" in lines[0]
    assert "Traceback" not in result.stderr


def test_malformed_url_exits_2_without_traceback(tmp_path: Path) -> None:
    result = _run_bot(tmp_path, {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": "nope"}, "run")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert "TELEGRAM_API_BASE_URL" in result.stderr


def test_help_for_every_command(tmp_path: Path) -> None:
    for command in ("run", "migrate", "seed", "check"):
        result = _run_bot(tmp_path, {}, command, "--help")
        assert result.returncode == 0, result.stderr
        assert command in result.stdout


def test_migrate_and_check(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/data/bot.db"}
    assert _run_bot(tmp_path, env, "migrate").returncode == 0
    result = _run_bot(tmp_path, {**env, "TELEGRAM_BOT_TOKEN": TOKEN}, "check")
    assert result.returncode == 0, result.stderr
    assert "up to date" in result.stdout
    assert "catalog: fa loaded" in result.stdout


def test_unreachable_bot_api_is_one_line(tmp_path: Path) -> None:
    env = {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": "http://127.0.0.1:9/bot",  # nothing listens on the discard port
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/bot.db",
    }
    result = _run_bot(tmp_path, env, "run")
    assert result.returncode == 4
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("error: cannot reach the Bot API")
