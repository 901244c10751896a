"""Per-community settings, declared once by the cog that reads them.

A cog lists its settings in one ``Declaration`` (type, default, limits). From it come
the config file's section (validated with the other sections), the value a community
reads (its own override, else the file's default, else the declared default) and the
checks of the cog's ``set`` command, so the file, the cog and the command never disagree.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Annotated, Any, Generic, Literal, Protocol, TypeVar, get_origin

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, create_model
from pydantic import model_validator as _model_validator

from bot.core.commands import CommandError

if TYPE_CHECKING:
    from bot.i18n import Catalog

log = logging.getLogger(__name__)

T = TypeVar("T")
#: A check of one value: raises ValueError (or a TemplateError-like error with ``message``
#: and ``values``, said in the community's language) with a sentence.
Check = Callable[[Any], None]
#: A check that needs the community (a template's length depends on its platform).
CommunityCheck = Callable[[Any, str], None]
#: A rule across settings of one cog (``message_points_min <= message_points_max``).
Rule = Callable[[Any], None]


@dataclass(frozen=True, slots=True, kw_only=True)
class Setting(Generic[T]):
    """One setting: its default and what a value must be. ``kind`` is the type when the
    default does not say it (``tuple[int, int, int]``)."""

    default: T
    kind: Any = None
    minimum: float | None = None
    maximum: float | None = None
    #: an exclusive lower bound (``first_response_hours`` must be more than 0)
    above: float | None = None
    max_length: int | None = None
    choices: tuple[str, ...] = ()
    check: Check | None = None
    check_in: CommunityCheck | None = None
    #: False: per community only, the config file has no default for it
    in_file: bool = True
    #: stored once per language (``welcome.template.he``)
    per_language: bool = False
    #: the value names channels (True: a list of them); ``engagement set`` resolves names
    channels: bool | None = None
    #: a good value, shown when one has the wrong shape (else the default is shown)
    example: Any = None

    @property
    def type(self) -> Any:
        return self.kind if self.kind is not None else type(self.default)

    def fits(self, value: Any) -> bool:
        """The value is of the setting's type (``tuple[int, ...]``: a tuple)."""
        return isinstance(value, get_origin(self.type) or self.type)

    def annotation(self) -> Any:
        base: Any = Literal.__getitem__(self.choices) if self.choices else self.type
        limits = {k: v for k, v in (("ge", self.minimum), ("le", self.maximum),
                                    ("gt", self.above), ("max_length", self.max_length))
                  if v is not None}
        extra: list[Any] = [Field(**limits)] if limits else []
        if self.check is not None:
            check = self.check

            def after(value: Any) -> Any:
                check(value)
                return value
            extra.append(AfterValidator(after))
        return Annotated[(base, *extra)] if extra else base


class SettingError(ValueError):
    """A value a setting does not take; ``message`` and ``values`` say why (a sentence to
    translate, as ``TemplateError`` does)."""

    def __init__(self, setting: str, message: str, **values: Any) -> None:
        self.key = setting
        self.message = message
        self.values = values
        super().__init__(f"{setting}: {message.format(**values) if values else message}")

    def describe(self, tr: Catalog) -> str:
        """The reason in the community's language (plain text)."""
        if not self.values:  # a finished sentence, braces and all: nothing to fill in
            return tr.phrase(self.message)
        return tr.gettext(self.message, **self.values).plain()


class UnknownSetting(SettingError):
    """The cog declares no setting of that name."""


def refusal(tr: Catalog, error: SettingError) -> CommandError:
    """What a ``set`` command answers for a value it refused (nothing was changed)."""
    if isinstance(error, UnknownSetting):
        return CommandError(tr.gettext("There is no setting “{key}”. Settings: {keys}.",
                                       **error.values))
    return CommandError(tr.gettext("{key} was not changed: {problem}", key=error.key,
                                   problem=error.describe(tr)))


@dataclass(frozen=True)
class Declaration:
    """A cog's settings, stored as ``section.key``; ``rules`` check settings together."""

    section: str
    settings: Mapping[str, Setting[Any]]
    rules: Sequence[Rule] = field(default=())

    def __getitem__(self, key: str) -> Setting[Any]:
        return self.settings[key]

    def __contains__(self, key: object) -> bool:
        return key in self.settings

    @property
    def names(self) -> list[str]:
        return list(self.settings)

    @cached_property
    def model(self) -> type[BaseModel]:
        """Every setting's value, checked: what a community reads (its policy)."""
        return self._build(self.settings, f"{self.section.title()}Settings", self.rules)

    @cached_property
    def file_model(self) -> type[BaseModel] | None:
        """The config file's section, or None when the file holds none of them."""
        inside = {k: s for k, s in self.settings.items() if s.in_file}
        if not inside:
            return None
        if len(inside) == len(self.settings):
            return self.model
        return self._build(inside, f"{self.section.title()}Section", ())  # rules may name
        # settings the file does not hold: they are checked with every value

    def _build(self, settings: Mapping[str, Setting[Any]], name: str,
               rules: Sequence[Rule]) -> type[BaseModel]:
        def check_rules(values: Any) -> Any:
            for rule in rules:
                rule(values)
            return values
        validators = {"_rules": _model_validator(mode="after")(check_rules)} if rules else {}
        fields: dict[str, Any] = {k: (s.annotation(), s.default) for k, s in settings.items()}
        return create_model(  # type: ignore[call-overload, no-any-return]
            name, __config__=ConfigDict(extra="forbid", frozen=True),
            __doc__=f"The {self.section} settings (declared in the cog).",
            __validators__=validators, **fields)

    def community_problems(self, section: Mapping[str, Any], community: str) -> list[str]:
        """Checks of the file's values that need a platform (``community`` is its prefix,
        e.g. ``discord:``), as ``[section] key: problem`` lines."""
        problems = []
        for key, setting in self.settings.items():
            value = section.get(key)
            if setting.check_in is None or not setting.in_file or value is None:
                continue
            if not setting.fits(value):
                continue  # the type error is reported by the model
            try:
                setting.check_in(value, community)
            except ValueError as exc:
                problems.append(f"[{self.section}] {key}: {exc}")
        return problems


class SettingStore(Protocol):
    """Where communities keep their overrides (``bot.communities.Communities``)."""

    def get(self, community: str, key: str, default: Any = None) -> Any: ...
    def set(self, community: str, key: str, value: Any) -> None: ...
    def overrides(self, community: str, prefix: str) -> dict[str, Any]: ...
    def language(self, community: str) -> str: ...
    def revision(self, community: str) -> int: ...


def phrase(message: str) -> str:
    """Mark a sentence for translation; it is translated when said (``describe``)."""
    return message


_WHOLE = phrase("must be a whole number, not {value}")
_NUMBER = phrase("must be a number, not {value}")
_TRUTH = phrase("must be true or false, not {value}")
_LIKE = phrase("must be like {example}, not {value}")
#: pydantic's error types -> a sentence; values come from the error (``ge``, ``le`` …)
_MESSAGES = {
    "int_parsing": _WHOLE, "int_type": _WHOLE, "int_from_float": _WHOLE,
    "float_parsing": _NUMBER, "float_type": _NUMBER,
    "bool_parsing": _TRUTH, "bool_type": _TRUTH,
    "string_type": phrase("must be text, not {value}"),
    "dict_type": _LIKE, "tuple_type": _LIKE, "list_type": _LIKE,
    "too_short": _LIKE, "too_long": _LIKE, "missing": _LIKE,
    "string_too_long": phrase("must be at most {max_length} characters long"),
    "greater_than_equal": phrase("must be at least {ge}, not {value}"),
    "less_than_equal": phrase("must be at most {le}, not {value}"),
    "greater_than": phrase("must be more than {gt}, not {value}"),
    "literal_error": phrase("must be one of {expected}, not {value}"),
}


def _shown(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _problem(key: str, setting: Setting[Any], value: Any, exc: ValidationError
             ) -> SettingError:
    """The first problem pydantic found, as one short sentence to translate."""
    err = exc.errors(include_url=False)[0]
    kind, ctx = err["type"], err.get("ctx") or {}
    cause = ctx.get("error")
    if kind == "value_error" and cause is not None and hasattr(cause, "message"):
        return SettingError(key, cause.message, **getattr(cause, "values", {}))
    template = _MESSAGES.get(kind)
    if template is None:
        return SettingError(key, str(err["msg"]).removeprefix("Value error, "))
    values = {k: f"{v:g}" if isinstance(v, float) else str(v) for k, v in ctx.items()
              if isinstance(v, int | float | str)}
    inside = len([p for p in err["loc"] if not str(p).startswith("function-")]) > 1
    if template is _LIKE or inside:  # the shape of a list or table: show a good one
        template = _LIKE
        values = {"example": _shown(setting.example if setting.example is not None
                                    else setting.default)}
    return SettingError(key, template, **{"value": _shown(value if inside or template is _LIKE
                                                          else err.get("input")), **values})


class CommunitySettings:
    """The one accessor of a cog's settings for every community: reads (typed, with the
    fallbacks), checks and changes them. Values are kept in memory: they are read per
    event."""

    def __init__(self, declaration: Declaration, store: SettingStore,
                 defaults: BaseModel | None = None) -> None:
        self.declaration = declaration
        self._store = store
        self._defaults = self._base(defaults)
        #: community -> (the store's revision it was read at, the values)
        self._values: dict[str, tuple[int, Any]] = {}

    def _base(self, defaults: BaseModel | None) -> dict[str, Any]:
        base = {k: s.default for k, s in self.declaration.settings.items()}
        if defaults is not None:
            base.update(defaults.model_dump())
        return base

    @property
    def section(self) -> str:
        return self.declaration.section

    def default(self, key: str) -> Any:
        """The config file's value, else the declared default."""
        return self._defaults[key]

    def values(self, community: str) -> Any:
        """Every setting of the community, checked together (the cog's policy). Stored
        values that no longer pass (a limit tightened since) give way to the defaults."""
        revision = self._store.revision(community)
        cached = self._values.get(community)
        if cached is not None and cached[0] == revision:
            return cached[1]
        model = self.declaration.model
        stored = {k: v for k, v in self._store.overrides(community, self.section).items()
                  if k in self.declaration}
        try:
            values = model.model_validate({**self._defaults, **stored})
        except ValidationError:
            log.exception("stored %s settings of %s are invalid; using defaults",
                          self.section, community)
            values = model.model_validate(self._defaults)
        self._values[community] = (revision, values)
        return values

    def get(self, community: str, key: str) -> Any:
        setting = self.declaration[key]
        if setting.per_language:
            language = self._store.language(community)
            return self._store.get(community, self._key(key, language), self._defaults[key])
        return getattr(self.values(community), key)

    def _key(self, key: str, language: str | None = None) -> str:
        return f"{self.section}.{key}" + (f".{language}" if language else "")

    def parse(self, key: str, raw: str) -> Any:
        """A value as typed after the command: JSON when it parses, a list split on commas,
        else the text itself."""
        text = raw.strip()
        if get_origin(self.known(key).type) in (tuple, list) and not text.startswith("["):
            return [part.strip() for part in text.split(",") if part.strip()]
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return text

    def known(self, key: str) -> Setting[Any]:
        if key not in self.declaration:
            raise UnknownSetting(key, "There is no setting “{key}”. Settings: {keys}.",
                                 key=key, keys=", ".join(sorted(self.declaration.names)))
        return self.declaration[key]

    def check(self, community: str, key: str, value: Any) -> Any:
        """The value as it would be stored, or SettingError saying why it cannot be."""
        setting = self.known(key)
        try:
            current = self.values(community).model_dump()
            checked = self.declaration.model.model_validate({**current, key: value})
            if setting.check_in is not None:
                setting.check_in(getattr(checked, key), community)
        except ValidationError as exc:
            raise _problem(key, setting, value, exc) from None
        except ValueError as exc:
            message = getattr(exc, "message", None)
            if message is not None:
                raise SettingError(key, message, **getattr(exc, "values", {})) from None
            raise SettingError(key, str(exc)) from None
        result = getattr(checked, key)
        return list(result) if isinstance(result, tuple) else result

    def change(self, community: str, key: str, value: Any) -> Any:
        """Check and store a community's value; returns what was stored."""
        stored = self.check(community, key, value)
        setting = self.declaration[key]
        language = self._store.language(community) if setting.per_language else None
        self._store.set(community, self._key(key, language), stored)
        return stored
