"""Settings declared once: the accessor's fallbacks, limits, types and sentences."""

from pathlib import Path
from typing import Any

import pytest

from bot.config import ConfigError, Settings, load_settings
from bot.core.commands import CommandError
from bot.core.settings import (
    CommunitySettings,
    Declaration,
    Setting,
    SettingError,
    UnknownSetting,
    refusal,
)
from bot.i18n import catalog
from cogs.content.settings import CONTENT
from cogs.engagement.settings import ENGAGEMENT
from cogs.welcome.settings import WELCOME

COMMUNITY = "discord:1"


class Store:
    """The communities' overrides, as ``bot.communities.Communities`` keeps them."""

    def __init__(self, language: str = "en") -> None:
        self.values: dict[str, dict[str, Any]] = {}
        self.changes = 0
        self._language = language

    def get(self, community: str, key: str, default: Any = None) -> Any:
        return self.values.get(community, {}).get(key, default)

    def set(self, community: str, key: str, value: Any) -> None:
        self.values.setdefault(community, {})[key] = value
        self.changes += 1

    def overrides(self, community: str, prefix: str) -> dict[str, Any]:
        items = self.values.get(community, {}).items()
        return {k[len(prefix) + 1:]: v for k, v in items if k.startswith(prefix + ".")}

    def language(self, community: str) -> str:
        return self._language

    def revision(self, community: str) -> int:
        return self.changes


def _range(values: Any) -> None:
    if values.low > values.high:
        raise ValueError("low must not exceed high")


DEMO = Declaration("demo", {
    "low": Setting(default=1, minimum=0, maximum=10),
    "high": Setting(default=5, minimum=0, maximum=10),
    "mode": Setting(default="off", choices=("off", "on")),
    "hours": Setting(default=4.0, above=0, maximum=24),
    "names": Setting(default=(), kind=tuple[str, ...], example=("ann", "ben")),
    "note": Setting(default="", max_length=5, in_file=False),
}, rules=(_range,))


def accessor(defaults: Any = None, store: Store | None = None) -> CommunitySettings:
    return CommunitySettings(DEMO, store or Store(), defaults)


def refused(settings: CommunitySettings, key: str, value: Any) -> str:
    with pytest.raises(SettingError) as caught:
        settings.change(COMMUNITY, key, value)
    return str(refusal(catalog("en"), caught.value).text.plain())


def test_a_value_falls_back_to_the_file_then_the_declaration() -> None:
    assert accessor().get(COMMUNITY, "high") == 5, "the declared default"
    from_file = DEMO.file_model(high=8)  # type: ignore[misc]
    store = Store()
    settings = accessor(from_file, store)
    assert settings.get(COMMUNITY, "high") == 8, "the config file's default"
    assert settings.default("high") == 8
    settings.change(COMMUNITY, "high", 9)
    assert settings.get(COMMUNITY, "high") == 9, "the community's own value"
    assert settings.get("discord:2", "high") == 8, "another community keeps the default"
    assert store.values[COMMUNITY] == {"demo.high": 9}


def test_values_are_typed() -> None:
    store = Store()
    settings = accessor(store=store)
    assert settings.change(COMMUNITY, "low", 2.0) == 2, "what is stored is the checked value"
    assert type(store.values[COMMUNITY]["demo.low"]) is int
    settings.change(COMMUNITY, "names", ["a", "b"])
    assert settings.get(COMMUNITY, "names") == ("a", "b")
    assert isinstance(settings.get(COMMUNITY, "hours"), float)
    assert settings.values(COMMUNITY).low == 2


@pytest.mark.parametrize(("key", "value", "answer"), [
    ("low", -1, "low was not changed: must be at least 0, not -1"),
    ("low", 11, "low was not changed: must be at most 10, not 11"),
    ("hours", 0, "hours was not changed: must be more than 0, not 0"),
    ("low", "many", 'low was not changed: must be a whole number, not "many"'),
    ("low", 2.5, "low was not changed: must be a whole number, not 2.5"),
    ("mode", "sometimes", "mode was not changed: must be one of 'off' or 'on', not "
                          '"sometimes"'),
    ("note", "too long", "note was not changed: must be at most 5 characters long"),
    ("names", "a", 'names was not changed: must be like ["ann", "ben"], not "a"'),
    ("names", ["a", 2], 'names was not changed: must be like ["ann", "ben"], not ["a", 2]'),
    ("low", 7, "low was not changed: low must not exceed high"),
])
def test_a_value_outside_its_limits_is_refused_with_a_sentence(key: str, value: Any,
                                                               answer: str) -> None:
    store = Store()
    settings = accessor(store=store)
    assert refused(settings, key, value) == answer
    assert store.values == {}, "nothing was stored"


def test_the_reason_is_said_in_the_communitys_language() -> None:
    with pytest.raises(SettingError) as caught:
        accessor().change(COMMUNITY, "low", -1)
    assert refusal(catalog("he"), caught.value).text.plain() == (
        "\u2068low\u2069 לא שונה: \u2068צריך להיות לפחות \u20680\u2069, לא \u2068-1\u2069\u2069")


def test_an_unknown_setting_lists_the_known_ones() -> None:
    with pytest.raises(UnknownSetting) as caught:
        accessor().change(COMMUNITY, "lwo", 1)
    answer = refusal(catalog("en"), caught.value)
    assert isinstance(answer, CommandError)
    assert answer.text.plain() == ("There is no setting “lwo”. Settings: high, hours, low, "
                                   "mode, names, note.")


def test_the_rule_across_settings_sees_the_communitys_other_values() -> None:
    settings = accessor()
    settings.change(COMMUNITY, "high", 9)
    assert settings.change(COMMUNITY, "low", 7) == 7


def test_a_value_stored_behind_the_accessors_back_is_read() -> None:
    store = Store()
    settings = accessor(store=store)
    assert settings.get(COMMUNITY, "high") == 5
    store.set(COMMUNITY, "demo.high", 6)
    assert settings.get(COMMUNITY, "high") == 6


def test_stored_values_that_no_longer_pass_give_way_to_the_defaults() -> None:
    store = Store()
    store.set(COMMUNITY, "demo.low", 99)
    assert accessor(store=store).get(COMMUNITY, "low") == 1


def test_typed_text_is_read_as_json_or_a_list() -> None:
    settings = accessor()
    assert settings.parse("low", " 3 ") == 3
    assert settings.parse("names", "a, b,") == ["a", "b"]
    assert settings.parse("names", '["a b"]') == ["a b"]
    assert settings.parse("mode", "on") == "on"
    with pytest.raises(UnknownSetting):
        settings.parse("nope", "1")


def test_engagement_checks_are_the_declared_ones() -> None:
    settings = CommunitySettings(ENGAGEMENT, Store())
    assert refused(settings, "level_curve", [0, 0, 0]).startswith(
        "level_curve was not changed: with 0, 0, 0 level 1 costs 0 points")
    assert refused(settings, "level_curve", [1, 2]) == (
        "level_curve was not changed: must be like [5, 50, 100], not [1, 2]")
    assert refused(settings, "level_up_template", "Hi {membr}") == (
        "level_up_template was not changed: unknown placeholder {membr}; you can use "
        "{level}, {member}, {name}, {reward}")
    assert refused(settings, "level_up_template", "x" * 2001).startswith(
        "level_up_template was not changed: The text has 2001 characters; discord allows")
    assert refused(settings, "message_points_min", 26) == (
        "message_points_min was not changed: message_points_min must not exceed "
        "message_points_max")


def test_a_per_language_setting_is_stored_for_the_communitys_language() -> None:
    store = Store(language="he")
    settings = CommunitySettings(WELCOME, store)
    settings.change(COMMUNITY, "template", "שלום {member}")
    assert store.values[COMMUNITY] == {"welcome.template.he": "שלום {member}"}
    assert settings.get(COMMUNITY, "template") == "שלום {member}"


def test_the_config_file_holds_the_declared_file_settings_only(tmp_path: Path) -> None:
    assert CONTENT.file_model is None, "content settings are per community only"
    assert "template" not in Settings.model_fields["welcome"].annotation.model_fields
    path = tmp_path / "config.toml"
    path.write_text('[welcome]\ntemplate = "hi"\nburst_seconds = 4000\n', "utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(path, env={})
    assert any(p.startswith("config.toml: [welcome] template: unknown key; expected one "
                            "of: burst_max_names,") for p in caught.value.problems)
    assert any(p.startswith("config.toml: [welcome] burst_seconds:")
               for p in caught.value.problems)


def test_every_cog_that_declares_settings_is_known_to_the_config() -> None:
    from bot.runtime import default_cogs
    from cogs.settings import declarations

    declared = {cog.declares.section for cog in default_cogs() if cog.declares is not None}
    assert declared == {d.section for d in declarations()}
    assert {"engagement", "journey", "welcome"} <= set(Settings.model_fields)


def test_the_config_module_knows_no_cogs_schema() -> None:
    """bot/config.py reads the cogs' sections from their declarations, nothing else."""
    import ast

    import bot.config

    tree = ast.parse(Path(bot.config.__file__).read_text(encoding="utf-8"))
    cog_imports = {node.module for node in ast.walk(tree)
                   if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("cogs")}
    assert cog_imports == {"cogs.settings"}
    assert set(bot.config.BotSettings.model_fields) == {"bot", "storage", "privacy", "discord",
                                                        "telegram"}
