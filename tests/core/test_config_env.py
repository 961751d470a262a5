"""Every setting is honoured from the environment, and README's table names every one of them."""

from __future__ import annotations

import re
import types
import typing
from pathlib import Path

import pytest
from flask import Flask

from portal import config
from portal.config import (
    ENV_EXTRA,
    ENV_PREFIX,
    ENV_SETTINGS,
    NOT_FROM_ENV,
    ConfigError,
    Defaults,
    EnvSetting,
    load_config,
)

README = Path(__file__).resolve().parents[2] / "README.md"
BY_VARIABLE = {variable: s for s in ENV_SETTINGS.values() for variable in s.variables}
DEFAULTS = sorted(name for name in vars(Defaults) if name.isupper())


def readme_settings() -> set[str]:
    """Return the names in the first column of README's configuration table, unprefixed."""
    section = README.read_text(encoding="utf-8").split("\n## Configuration\n", 1)[1]
    table = section.split("\n| setting | meaning | default |\n", 1)[1].split("\n\n", 1)[0]
    names: set[str] = set()
    for line in table.splitlines():
        if line.startswith("| `"):
            first_column = line.split("|")[1]
            found = re.findall(r"`([A-Z][A-Z0-9_]+)`", first_column)
            names.update(name.removeprefix(ENV_PREFIX) for name in found)
    return names


README_SETTINGS = sorted(readme_settings())


@pytest.fixture
def environ(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """Clear every variable a setting is read from, so the shell running the tests cannot count."""
    for variable in BY_VARIABLE:
        monkeypatch.delenv(variable, raising=False)
    for name in NOT_FROM_ENV:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(ENV_PREFIX + name, raising=False)
    return monkeypatch


def loaded(tmp_path: Path, overrides: dict[str, object] | None = None) -> dict[str, object]:
    """Run load_config on a bare app whose instance folder is tmp_path; return its config."""
    app = Flask(
        "probe", root_path=str(tmp_path), instance_path=str(tmp_path), instance_relative_config=True
    )
    app.testing = True
    load_config(app, overrides)
    return dict(app.config)


def _base(kind: object) -> object:
    """Return X for `X | None`, else the type itself."""
    if typing.get_origin(kind) in (types.UnionType, typing.Union):
        (inner,) = [arg for arg in typing.get_args(kind) if arg is not type(None)]
        return inner
    return kind


def sample(setting: EnvSetting) -> tuple[str, object]:
    """Return text for a variable and the value it must give, never the value already there."""
    default = getattr(Defaults, setting.name, None)
    kind = _base(setting.kind)
    if kind is bool:
        return ("off", False) if default else ("yes", True)
    if kind is int:
        return str((default or 0) + 7), (default or 0) + 7
    if kind is float:
        return str((default or 0) + 0.5), (default or 0) + 0.5
    if kind is str:
        if setting.name == "SQLALCHEMY_DATABASE_URI":
            return "sqlite:////srv/kopir/from-env.sqlite3", "sqlite:////srv/kopir/from-env.sqlite3"
        return f"from-env {setting.name.lower()}", f"from-env {setting.name.lower()}"
    if kind is list or typing.get_origin(kind) is list:
        return " 10.0.0.7, 192.0.2.0/24,, ", ["10.0.0.7", "192.0.2.0/24"]
    raise AssertionError(f"no sample for {setting.name} ({setting.kind})")


@pytest.mark.parametrize("name", sorted(set(README_SETTINGS) | set(DEFAULTS) | set(ENV_EXTRA)))
@pytest.mark.parametrize("prefixed", [True, False], ids=["KOPIR_", "bare"])
def test_every_setting_is_honoured_from_the_environment(name, prefixed, environ, tmp_path):
    variable = ENV_PREFIX + name if prefixed else name
    if name in NOT_FROM_ENV:
        before = loaded(tmp_path)[name]
        environ.setenv(variable, "1")
        assert loaded(tmp_path)[name] == before, f"{variable} must not change {name}"
        return
    setting = BY_VARIABLE.get(name)
    assert setting is not None, f"{name} is neither read from the environment nor in NOT_FROM_ENV"
    text, expected = sample(setting)
    assert loaded(tmp_path).get(setting.name) != expected
    environ.setenv(variable, text)
    value = loaded(tmp_path)[setting.name]
    assert value == expected and type(value) is type(expected), f"{variable}={text!r}"


def test_readme_lists_every_setting_the_environment_gives():
    documented = set(README_SETTINGS)
    missing = [
        s.name
        for s in ENV_SETTINGS.values()
        if not documented & {v for v in s.variables if not v.startswith(ENV_PREFIX)}
    ]
    assert not missing, f"README's configuration table lacks {missing}"
    unknown = documented - set(BY_VARIABLE)
    assert not unknown, f"README documents {unknown}, which the environment does not give"


def test_readme_names_the_settings_kept_from_the_environment():
    section = README.read_text(encoding="utf-8").split("\n## Configuration\n", 1)[1]
    section = section.split("\n## ", 1)[0]
    for name in NOT_FROM_ENV:
        assert f"`{name}`" in section, name
        assert name in DEFAULTS, f"NOT_FROM_ENV names {name}, which is not a setting"


def test_the_prefixed_variable_wins(environ, tmp_path):
    environ.setenv("PAGE_SIZE", "9")
    environ.setenv("KOPIR_PAGE_SIZE", "7")
    assert loaded(tmp_path)["PAGE_SIZE"] == 7


def test_database_url_and_its_aliases(environ, tmp_path):
    assert loaded(tmp_path)["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'kopir.sqlite3'}"
    environ.setenv("SQLALCHEMY_DATABASE_URI", "sqlite:////a.sqlite3")
    environ.setenv("DATABASE_URL", "postgres://kopir@db.internal/kopir")
    # The platform's DATABASE_URL beats the bare Flask name, and the driver is psycopg 3.
    assert loaded(tmp_path)["SQLALCHEMY_DATABASE_URI"] == (
        "postgresql+psycopg://kopir@db.internal/kopir"
    )
    environ.setenv("KOPIR_SQLALCHEMY_DATABASE_URI", "sqlite:////b.sqlite3")
    assert loaded(tmp_path)["SQLALCHEMY_DATABASE_URI"] == "sqlite:////b.sqlite3"
    environ.setenv("KOPIR_DATABASE_URL", "sqlite:////c.sqlite3")
    assert loaded(tmp_path)["SQLALCHEMY_DATABASE_URI"] == "sqlite:////c.sqlite3"


def test_layers_apply_in_order(environ, tmp_path):
    (tmp_path / "config.py").write_text("PAGE_SIZE = 11\nMAIL_PORT = 2525\n", encoding="utf-8")
    assert loaded(tmp_path)["PAGE_SIZE"] == 11
    environ.setenv("PAGE_SIZE", "12")
    settings = loaded(tmp_path)
    assert settings["PAGE_SIZE"] == 12 and settings["MAIL_PORT"] == 2525
    assert loaded(tmp_path, {"PAGE_SIZE": 13})["PAGE_SIZE"] == 13


@pytest.mark.parametrize("text", ["1", "true", "yes", "on", "TRUE", " On "])
def test_true_is_spelt_many_ways(text, environ, tmp_path):
    environ.setenv("MAIL_USE_TLS", text)
    assert loaded(tmp_path)["MAIL_USE_TLS"] is True


@pytest.mark.parametrize("text", ["0", "false", "no", "off", "False", "OFF"])
def test_false_is_spelt_many_ways(text, environ, tmp_path):
    environ.setenv("RATELIMIT_HEADERS_ENABLED", text)
    assert loaded(tmp_path)["RATELIMIT_HEADERS_ENABLED"] is False


@pytest.mark.parametrize(
    ("variable", "text", "says"),
    [
        ("UPLOAD_MAX_BYTES", "ten", "a whole number"),
        ("KOPIR_UPLOAD_MAX_BYTES", "10MB", "a whole number"),
        ("MAIL_USE_TLS", "maybe", "1, true, yes, on or 0, false, no, off"),
        ("KOPIR_SESSION_COOKIE_SECURE", "", "1, true, yes, on or 0, false, no, off"),
        ("LOGIN_SLOWDOWN_MAX", "fast", "a number"),
        ("LETTER_WORKERS", "two", "a whole number"),
    ],
)
def test_a_bad_value_names_its_variable(variable, text, says, environ, tmp_path):
    environ.setenv(variable, text)
    with pytest.raises(ConfigError) as caught:
        loaded(tmp_path)
    message = str(caught.value)
    assert f"{variable}={text!r}" in message and says in message


def test_an_empty_variable_means_none_where_none_is_allowed(environ, tmp_path):
    environ.setenv("KOPIR_MAIL_SERVER", "")
    environ.setenv("LETTER_WORKERS", " ")
    environ.setenv("TRUSTED_HOSTS", "")
    (tmp_path / "config.py").write_text("LETTER_WORKERS = 3\nMAIL_SERVER = 'smtp'\n")
    settings = loaded(tmp_path)
    assert settings["MAIL_SERVER"] is None and settings["LETTER_WORKERS"] is None
    assert settings["TRUSTED_HOSTS"] is None


def test_a_new_setting_without_a_readable_type_stops_the_portal(monkeypatch):
    monkeypatch.setattr(Defaults, "NEW_TIMEOUT", None, raising=False)
    with pytest.raises(TypeError, match="annotate"):
        config._env_settings()
    monkeypatch.delattr(Defaults, "NEW_TIMEOUT")
    monkeypatch.setattr(Defaults, "NEW_TABLE", {"a": 1}, raising=False)
    with pytest.raises(TypeError, match="NOT_FROM_ENV"):
        config._env_settings()
    monkeypatch.setitem(NOT_FROM_ENV, "NEW_TABLE", "a dict")
    assert "NEW_TABLE" not in config._env_settings()


def test_new_queue_and_metrics_settings_have_their_defaults(environ, tmp_path):
    settings = loaded(tmp_path)
    assert settings["TASK_QUEUE_URL"] is None
    assert settings["JOB_STALE_SECONDS"] == 120 and settings["TASK_PERIODIC_SECONDS"] == 60
    assert settings["METRICS_ALLOWED"] == ["127.0.0.1", "::1"]
    environ.setenv("KOPIR_TASK_QUEUE_URL", "redis://127.0.0.1:6379/9")
    assert loaded(tmp_path)["TASK_QUEUE_URL"] == "redis://127.0.0.1:6379/9"
