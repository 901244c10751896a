"""TOML configuration -> validated, frozen settings.

Every problem is reported at once as ``config.toml: [section] key: what is wrong``,
so an owner fixes the file in one go instead of one traceback at a time.
"""

from __future__ import annotations

import ipaddress
import os
import re
import tomllib
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    StrictInt,
    ValidationError,
    create_model,
    field_validator,
    model_validator,
)

from bot.i18n import SUPPORTED_LANGUAGES
from cogs.settings import declarations

TOKEN_ENV = {"discord": "TRIBEBOT_DISCORD_TOKEN", "telegram": "TRIBEBOT_TELEGRAM_TOKEN"}


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def validate_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {name!r}; use an IANA name such as 'Asia/Jerusalem' or 'UTC'"
        ) from None
    return name


def validate_language(code: str) -> str:
    if code not in SUPPORTED_LANGUAGES:
        raise ValueError(f"unsupported language {code!r}; expected one of "
                         + ", ".join(SUPPORTED_LANGUAGES))
    return code


def _is_local(host: str) -> bool:
    """This machine or the local network: loopback and private addresses, ``localhost``,
    and one-word names such as a Docker service (``telegram-bot-api``)."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host == "localhost" or "." not in host
    return address.is_loopback or address.is_private or address.is_link_local


def check_api_url(url: str, *, path_end: str, example: str) -> str:
    """An API address the bot sends its token to: http(s) with a host and the path the
    library builds on, and https unless the server is on this machine or network."""
    shape = f"{url!r} is not an API address; write it like {example}"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        raise ValueError(shape) from None
    if parts.scheme not in ("http", "https") or not parts.hostname or " " in url:
        raise ValueError(shape)
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError(f"{url!r} has a query, fragment or password; write it like {example}")
    if parts.scheme == "http" and not _is_local(parts.hostname):
        raise ValueError(f"{url!r} would send the token unencrypted; use https:// (plain "
                         "http:// only to this machine or the local network)")
    if not parts.path.rstrip("/").endswith(path_end):
        raise ValueError(f"{url!r} must end in {path_end}, like {example}")
    return url


#: Telegram calls webhooks only over https, and only on these ports.
WEBHOOK_PORTS = (443, 80, 88, 8443)
_SECRET_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_HOST_NAME = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?"
                        r"(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$")


class BotSection(_Section):
    language: str = "en"
    timezone: str = "UTC"
    log_level: Literal["debug", "info", "warning", "error"] = "info"

    _tz = field_validator("timezone")(validate_timezone)
    _lang = field_validator("language")(validate_language)


def check_store_url(url: str) -> str:
    """``sqlite:///file.db`` (or a bare path, taken as one) or ``postgresql://…/database``."""
    if url.startswith(("postgresql://", "postgres://")):
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018 - raises on a port that is not a number
        except ValueError as exc:
            raise ValueError(f"{_hide_password(url)!r} is not a PostgreSQL URL ({exc}); "
                             "write postgresql://user@host:5432/database") from None
        if not parts.path.strip("/") or "/" in parts.path.strip("/"):
            raise ValueError(f"{_hide_password(url)!r} names no database; write "
                             "postgresql://user@host:5432/database")
        return url
    if url in ("", "sqlite:///"):
        raise ValueError("the storage url names no file; write sqlite:///tribebot.db")
    if url.startswith("sqlite:///"):
        return url
    if "://" in url:
        raise ValueError(f"{url.split('://')[0]}:// is not a store Tribebot knows; write "
                         "sqlite:///path/to/file.db or postgresql://user@host/database")
    return f"sqlite:///{url}"


def _hide_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return url.replace(f":{parts.password}@", ":***@", 1)


class StorageSection(_Section):
    url: str = "sqlite:///tribebot.db"
    batch_size: int = Field(20_000, ge=1, le=100_000)
    batch_interval_ms: int = Field(50, ge=1, le=60_000)
    #: How long a stop waits for a store that does not take writes (locked, disk full)
    #: before keeping the unsaved rows beside it; keep it below the service manager's
    #: stop timeout (Docker: 10 s by default).
    stop_timeout_seconds: float = Field(15, ge=1, le=300)

    @field_validator("url")
    @classmethod
    def _store_url(cls, url: str) -> str:
        return check_store_url(url)


class PrivacySection(_Section):
    store_message_text: bool = False


class DiscordSection(_Section):
    enabled: bool = False
    token: SecretStr | None = None
    #: All shards in this process: "auto" (Discord's recommended count) or a number; the
    #: older spelling of ``shard_count`` without ``shard_ids``.
    shards: Literal["auto"] | int | None = None
    #: How many shards the bot has across every process, and which of them this one takes
    #: (all of them when ``shard_ids`` is left out).
    shard_count: StrictInt | None = Field(None, ge=1, le=100_000)
    shard_ids: tuple[StrictInt, ...] | None = None
    api_base_url: str = "https://discord.com/api/v10"
    moderator_role: str = ""
    prefix_commands: bool = False

    @field_validator("api_base_url")
    @classmethod
    def _api_url(cls, url: str) -> str:
        return check_api_url(url, path_end="/api/v10", example="https://discord.com/api/v10")

    @field_validator("shards", mode="before")
    @classmethod
    def _shards(cls, value: object) -> object:
        # one sentence for anything but "auto" or a whole number (``true`` is no count)
        if value is None or value == "auto" or (
                isinstance(value, int) and not isinstance(value, bool)):
            return value
        raise ValueError(f'expected "auto" or a number of shards from 1, got {value!r}')

    @model_validator(mode="after")
    def _shard_range(self) -> DiscordSection:
        problem = shard_problem(self.shards, self.shard_count, self.shard_ids)
        if problem:
            raise ValueError(problem)
        return self

    @property
    def sharded(self) -> bool:
        """This process takes a part of the bot's shards (others run the rest)."""
        return self.shard_ids is not None and self.shard_count is not None and (
            len(self.shard_ids) < self.shard_count)


def shard_problem(shards: str | int | None, count: int | None,
                  ids: tuple[int, ...] | None) -> str | None:
    """What is wrong with a shard range, as ``key: sentence``; None when it is fine."""
    if isinstance(shards, int) and shards < 1:
        return f'shards: expected "auto" or a number of shards from 1, got {shards!r}'
    if shards is not None and (count is not None or ids is not None):
        return ("shards: set either shards or shard_count (with shard_ids), not both; "
                "shards = N is the older way to write shard_count = N")
    if ids is None:
        return None
    if count is None:
        return ("shard_ids: needs shard_count, the number of shards across every process "
                "(like shard_count = 2 with shard_ids = [0] here and [1] in the other)")
    if not ids:
        return ("shard_ids: the list is empty; list the shards this process takes, like "
                "[0, 1], or leave shard_ids out to take all of them")
    for shard in ids:
        if not 0 <= shard < count:
            return (f"shard_ids: there is no shard {shard} with shard_count = {count}; "
                    f"shards are numbered 0 to {count - 1}")
    repeated = sorted({shard for shard in ids if ids.count(shard) > 1})
    if repeated:
        return f"shard_ids: shard {repeated[0]} is listed twice"
    return None


class TelegramWebhook(_Section):
    listen: str = "127.0.0.1"
    port: int = Field(8443, ge=1, le=65535)
    url: str = ""
    secret_token: SecretStr | None = None

    @field_validator("listen")
    @classmethod
    def _listen_address(cls, listen: str) -> str:
        try:
            ipaddress.ip_address(listen)
        except ValueError:
            if not _HOST_NAME.match(listen):
                raise ValueError(
                    f"{listen!r} is not an address to listen on; use 127.0.0.1 behind a "
                    "reverse proxy, 0.0.0.0 for every interface, or one of this machine's "
                    "addresses") from None
        return listen

    @field_validator("url")
    @classmethod
    def _public_url(cls, url: str) -> str:
        if not url:
            return url  # required only in webhook mode (checked with the mode)
        example = "https://bot.example.org/telegram"
        try:
            parts = urlsplit(url)
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            raise ValueError(f"{url!r} is not a web address; write it like {example}") from None
        if parts.scheme != "https" or not parts.hostname or " " in url:
            raise ValueError(f"{url!r}: Telegram calls webhooks only at an https:// address, "
                             f"like {example}")
        if port not in WEBHOOK_PORTS:
            raise ValueError(f"{url!r}: Telegram calls webhooks only on port 443, 80, 88 or "
                             f"8443, not {port}")
        if parts.query or parts.fragment or parts.username or parts.password:
            raise ValueError(f"{url!r} has a query, fragment or password; write it like "
                             f"{example}")
        return url

    @field_validator("secret_token")
    @classmethod
    def _secret_token(cls, token: SecretStr | None) -> SecretStr | None:
        if token is not None and not _SECRET_TOKEN.match(token.get_secret_value()):
            raise ValueError("Telegram accepts 1 to 256 characters A-Z, a-z, 0-9, _ and - "
                             "as a secret token")
        return token


class TelegramSection(_Section):
    enabled: bool = False
    token: SecretStr | None = None
    mode: Literal["polling", "webhook"] = "polling"
    api_base_url: str = "https://api.telegram.org/bot"
    webhook: TelegramWebhook = TelegramWebhook()

    @field_validator("api_base_url")
    @classmethod
    def _api_url(cls, url: str) -> str:
        return check_api_url(url, path_end="/bot", example="https://api.telegram.org/bot")


class BotSettings(_Section):
    """The bot's own sections; each cog's section is added from its declaration."""

    bot: BotSection = BotSection()
    storage: StorageSection = StorageSection()
    privacy: PrivacySection = PrivacySection()
    discord: DiscordSection = DiscordSection()
    telegram: TelegramSection = TelegramSection()


def _with_cog_sections() -> type[BotSettings]:
    """The config file's model: the bot's sections, then a section per cog that declares
    settings with file defaults (``[engagement]``, ``[journey]``, ``[welcome]``)."""
    fields: dict[str, Any] = {}
    for declaration in declarations():
        model = declaration.file_model
        if model is not None:
            fields[declaration.section] = (model, model())
    return create_model("Settings", __base__=BotSettings, __doc__=BotSettings.__doc__,
                        **fields)


Settings = _with_cog_sections()


class ConfigError(Exception):
    """One or more problems in a config file; ``problems`` holds one line each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def load_settings(path: Path | str | None, env: dict[str, str] | None = None) -> Settings:
    """Read, validate and complete the settings; raise ConfigError listing every problem."""
    env = dict(os.environ) if env is None else env
    label = Path(path).name if path else "config.toml"
    data: dict[str, Any] = {}
    if path is not None:
        try:
            text = Path(path).read_text("utf-8")
        except FileNotFoundError:
            raise ConfigError([f"{path}: file not found; copy config.example.toml to start"]
                              ) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError([f"{path}: cannot read the file ({exc})"]) from None
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError([f"{label}: not valid TOML: {exc}"]) from None
    for platform, var in TOKEN_ENV.items():
        if env.get(var):
            section = data.setdefault(platform, {})
            if isinstance(section, dict):
                section["token"] = env[var]
    problems = [
        f"[{platform}] token: missing while the platform is enabled; set it here "
        f"or in the environment variable {var}"
        for platform, var in TOKEN_ENV.items()
        if isinstance(data.get(platform), dict) and data[platform].get("enabled") is True
        and not data[platform].get("token")
    ]
    problems += _community_problems(data) + _webhook_problems(data)
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        problems = describe_errors(exc) + problems
    if problems:
        raise ConfigError([f"{label}: {line}" for line in problems])
    return settings


def _webhook_problems(data: dict[str, Any]) -> list[str]:
    """Webhook mode needs the public address (the other fields have defaults)."""
    section = data.get("telegram")
    if not isinstance(section, dict) or section.get("mode") != "webhook":
        return []
    hook = section.get("webhook")
    if isinstance(hook, dict) and hook.get("url"):
        return []
    return ['[telegram] webhook.url: missing while mode = "webhook"; set the public https:// '
            "address Telegram should call, like https://bot.example.org/telegram"]


def _community_problems(data: dict[str, Any]) -> list[str]:
    """Checks of cog settings that depend on the platform: a template in the file must be
    no longer than a post on the strictest platform it may be posted on (stored
    per-community values are checked by the cog's ``set`` command)."""
    telegram_only = (isinstance(data.get("telegram"), dict) and data["telegram"].get("enabled")
                     and not (isinstance(data.get("discord"), dict)
                              and data["discord"].get("enabled")))
    community = "telegram:" if telegram_only else "discord:"
    problems: list[str] = []
    for declaration in declarations():
        section = data.get(declaration.section)
        if isinstance(section, dict):
            problems += declaration.community_problems(section, community)
    return problems


_FRIENDLY = {
    "int_parsing": "expected a whole number",
    "int_type": "expected a whole number",
    "bool_parsing": "expected true or false",
    "bool_type": "expected true or false",
    "string_type": "expected text in quotes",
    "dict_type": "expected a table",
    "model_type": "expected a table like [section]",
    "tuple_type": "expected a list like [1, 2]",
    "list_type": "expected a list",
}


def describe_errors(exc: ValidationError) -> list[str]:
    """Turn pydantic errors into ``[section] key: problem`` lines a person can act on."""
    lines = []
    for err in exc.errors(include_url=False):
        loc = [str(p) for p in err["loc"] if not str(p).startswith(("function-", "literal["))]
        section, key = (loc[0], ".".join(loc[1:])) if loc else ("", "")
        where = f"[{section}] {key}".strip() if section else "(top level)"
        kind = err["type"]
        if kind == "extra_forbidden":
            allowed = _allowed_keys(loc[:-1])
            noun = "section" if len(loc) == 1 else "key"
            what = f"unknown {noun}"
            if allowed:
                what += f"; expected one of: {', '.join(allowed)}"
        elif kind in _FRIENDLY:
            what = f"{_FRIENDLY[kind]}, got {err.get('input')!r}"
        else:
            what = str(err["msg"]).removeprefix("Value error, ")
            named, sep, rest = what.partition(": ")
            if sep and not key and section and named in _allowed_keys(loc):
                where, what = f"[{section}] {named}", rest  # a check across keys
        lines.append(f"{where}: {what}")
    return lines


def _allowed_keys(path: list[str]) -> list[str]:
    model: Any = Settings
    for part in path:
        field = model.model_fields.get(part)
        if field is None or not isinstance(field.annotation, type):
            return []
        model = field.annotation
    if isinstance(model, type) and issubclass(model, BaseModel):
        return sorted(model.model_fields)
    return []
