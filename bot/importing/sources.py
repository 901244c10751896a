"""Export files as one stream of records for one community, in time order."""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Protocol

from bot.adapters.discord.history import DiscordExport, DiscordHistory
from bot.adapters.telegram.history import TelegramExport, TelegramHistory
from bot.core.events import CommunityJoined
from bot.core.history import ImportProblem, Record
from bot.core.ids import native_part


class Source(Protocol):
    """What the runner needs of an export."""

    community: str
    name: str
    #: bytes of all files together, for the progress bar
    size: int

    @property
    def bytes_read(self) -> int: ...

    def learn_bots(self, members: Iterable[str]) -> None:
        """Members the store knows to be bots (before ``records``)."""

    def records(self) -> Iterator[Record]: ...

    def opening(self, at: datetime) -> CommunityJoined: ...


class TelegramSource:
    def __init__(self, path: Path, *, chat: str | None = None, community: str | None = None,
                 bots: Iterable[int] = (), own_bot: int | None = None) -> None:
        self.export = TelegramExport(path, chat=chat, community=community)
        self.community = self.export.info.community
        self.name = self.export.info.name
        self.size = self.export.size
        self._bots = set(bots)
        self._own_bot = own_bot
        self._history: TelegramHistory | None = None

    @property
    def bytes_read(self) -> int:
        return self.export.bytes_read

    def learn_bots(self, members: Iterable[str]) -> None:
        for member in members:
            native = native_part(member)
            if native.isdigit():
                self._bots.add(int(native))

    def _translator(self) -> TelegramHistory:
        if self._history is None:
            self._history = TelegramHistory(self.export.info, bots=frozenset(self._bots),
                                            own_bot=self._own_bot)
        return self._history

    def records(self) -> Iterator[Record]:
        history = self._translator()
        for raw in self.export.messages():
            yield history.translate(raw)

    def opening(self, at: datetime) -> CommunityJoined:
        return self._translator().opening(at)


class DiscordSource:
    """Several channel files of one server, merged by time (each file is in order)."""

    def __init__(self, paths: Sequence[Path]) -> None:
        unique = list(dict.fromkeys(p.resolve() for p in paths))
        self.exports = [DiscordExport(p) for p in unique]
        first = self.exports[0]
        for other in self.exports[1:]:
            if other.guild != first.guild:
                raise ImportProblem("mixed_servers", file=other.path.name,
                                    server=other.guild_name, first=first.path.name,
                                    first_server=first.guild_name)
        self.community = first.community
        self.name = first.guild_name
        self.size = sum(e.size for e in self.exports)
        self._history = DiscordHistory(first.guild, first.guild_name)

    @property
    def bytes_read(self) -> int:
        return sum(e.bytes_read for e in self.exports)

    def learn_bots(self, members: Iterable[str]) -> None:
        """The export marks bots itself."""

    def records(self) -> Iterator[Record]:
        streams = [self._file(export) for export in self.exports]
        yield from heapq.merge(*streams, key=lambda record: record.at)

    def _file(self, export: DiscordExport) -> Iterator[Record]:
        history, channel = self._history, export.channel
        for raw in export.messages():
            yield history.translate(raw, channel)

    def opening(self, at: datetime) -> CommunityJoined:
        return self._history.opening(at)
