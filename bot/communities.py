"""Per-community settings: owner defaults from the config file, overrides in the database.

Kept in memory (they are read on every event) and written through to the store. A cog
reads and changes its own settings through its declaration's accessor
(``bot.core.settings.CommunitySettings``), which stores them here as ``section.key``;
language, time zone and the community's channels have their own methods.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.config import Settings, validate_language, validate_timezone
from bot.i18n import Catalog, catalog
from bot.ownership import Ownership
from storage.store import Repository


@dataclass(slots=True)
class _DayWindow:
    start: float
    end: float
    day: str


class Communities:
    def __init__(self, settings: Settings, repository: Repository,
                 ownership: Ownership | None = None) -> None:
        self._settings = settings
        self._repository = repository
        #: which of the store's communities this process serves (see ``bot.ownership``);
        #: all of them unless the runtime says otherwise
        self.ownership = ownership or Ownership()
        self._overrides: dict[str, dict[str, Any]] = {}
        self._seasons: dict[str, int] = {}
        self._known: set[str] = set()
        self._names: dict[str, str] = {}
        self._zones: dict[str, ZoneInfo] = {}
        self._windows: dict[str, _DayWindow] = {}
        #: community -> how often its settings changed (cogs keep their values until then)
        self._revisions: dict[str, int] = {}

    async def load(self) -> None:
        # another process keeps (and changes) the settings of the communities it owns
        self._overrides = {community: values for community, values
                           in (await self._repository.all_settings()).items()
                           if self.ownership.owns(community)}
        for row in await self._repository.communities():
            self._known.add(row.id)
            self._seasons[row.id] = row.season
            self._names[row.id] = row.name

    # -- membership of the store -------------------------------------------------------
    def is_known(self, community: str) -> bool:
        return community in self._known

    def mark_known(self, community: str) -> None:
        self._known.add(community)

    def all(self) -> list[str]:
        return sorted(self._known)

    def owns(self, community: str) -> bool:
        return self.ownership.owns(community)

    def owned(self) -> list[str]:
        """The communities this process serves: the ones whose state it keeps and for
        which it posts on its own (summaries, content, pending welcomes)."""
        return [c for c in sorted(self._known) if self.ownership.owns(c)]

    def name(self, community: str) -> str:
        return self._names.get(community) or community.split(":", 1)[1]

    def set_name(self, community: str, name: str) -> None:
        if name:
            self._names[community] = name

    # -- settings ----------------------------------------------------------------------
    def get(self, community: str, key: str, default: Any = None) -> Any:
        return self._overrides.get(community, {}).get(key, default)

    def overrides(self, community: str, prefix: str) -> dict[str, Any]:
        """Overrides under ``prefix.`` (e.g. ``engagement.``), prefix removed."""
        items = self._overrides.get(community, {}).items()
        return {k[len(prefix) + 1:]: v for k, v in items if k.startswith(prefix + ".")}

    def revision(self, community: str) -> int:
        return self._revisions.get(community, 0)

    def set(self, community: str, key: str, value: Any) -> None:
        self._overrides.setdefault(community, {})[key] = value
        self._revisions[community] = self.revision(community) + 1
        self._repository.set_setting(community, key, value)
        if key == "timezone":
            self._zones.pop(community, None)
            self._windows.pop(community, None)

    def clear(self, community: str, key: str) -> None:
        self._overrides.get(community, {}).pop(key, None)
        self._revisions[community] = self.revision(community) + 1
        self._repository.clear_setting(community, key)

    def language(self, community: str) -> str:
        return str(self.get(community, "language", self._settings.bot.language))

    def set_language(self, community: str, code: str) -> None:
        self.set(community, "language", validate_language(code))

    def catalog(self, community: str) -> Catalog:
        return catalog(self.language(community))

    def timezone(self, community: str) -> ZoneInfo:
        zone = self._zones.get(community)
        if zone is None:
            zone = ZoneInfo(self.get(community, "timezone", self._settings.bot.timezone))
            self._zones[community] = zone
        return zone

    def set_timezone(self, community: str, name: str) -> None:
        self.set(community, "timezone", validate_timezone(name))

    def local_day(self, community: str, at: datetime) -> str:
        """The community's calendar day at ``at`` (cached per day: it runs per event)."""
        ts = at.timestamp()
        window = self._windows.get(community)
        if window is not None and window.start <= ts < window.end:
            return window.day
        local = at.astimezone(self.timezone(community))
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        # aware + timedelta is wall-clock arithmetic: the next local midnight, DST or not
        end = (midnight + timedelta(days=1)).timestamp()
        day = local.date().isoformat()
        self._windows[community] = _DayWindow(midnight.timestamp(), end, day)
        return day

    # -- seasons -----------------------------------------------------------------------
    def season(self, community: str) -> int:
        return self._seasons.get(community, 1)

    def set_season(self, community: str, season: int) -> None:
        self._seasons[community] = season
