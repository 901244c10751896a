"""A tiny Discord on 127.0.0.1: the REST API and one gateway websocket, enough for the
real discord.py client to log in, identify, receive guilds and events, and answer.

It speaks uncompressed JSON text frames (discord.py accepts them even when it asked for
zlib-stream) and records every REST call so tests can check what the bot sent.

Start-up can be staged like a big bot's: READY can be held back (``hold_ready``, then
``release_ready()``), and guilds can be ``lazy``: listed in READY as unavailable, their
GUILD_CREATE sent only when the test calls ``make_available`` (Discord streams a big
bot's guilds for minutes). discord.py fires ``on_ready`` only ``guild_ready_timeout``
after the last GUILD_CREATE; a test gives it a long one to act inside that window.
``timeline`` records gateway dispatches and REST calls in the order they happened.

Sharding is Discord's: ``/gateway/bot`` recommends ``shard_count`` shards, each
connection says in IDENTIFY which shard it is (``[id, count]``, ``[0, 1]`` when it does
not say), and a guild belongs to shard ``(guild_id >> 22) % count``: READY and
GUILD_CREATE on a connection list only its guilds, and a dispatch goes to the connection
of the guild it is about. Connections can come from several bot processes.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from tests.e2e.discord.payloads import APP_ID, BOT, GUILD, MONA, Json, snowflake

TOKEN = "fake-discord-token"


def _json(data: Any, status: int = 200) -> web.Response:
    """discord.py parses a body as JSON only for exactly ``application/json``."""
    return web.Response(body=json.dumps(data).encode(), status=status,
                        content_type="application/json")


@dataclass(frozen=True, slots=True)
class Call:
    method: str
    path: str
    body: Json = field(default_factory=dict)
    files: tuple[str, ...] = ()


def shard_of(guild_id: int, count: int) -> int:
    return (guild_id >> 22) % count


def guild_of(event: str, data: Json) -> int | None:
    """The guild a dispatch is about: ``guild_id``, or the guild itself for GUILD_*."""
    if data.get("guild_id") is not None:
        return int(data["guild_id"])
    if event.startswith("GUILD_") and "id" in data:
        return int(data["id"])
    return None


class FakeDiscord:
    def __init__(self, guilds: list[Json], *, hold_ready: bool = False,
                 lazy: tuple[int, ...] = (), shard_count: int = 1) -> None:
        self.guilds = guilds
        self.shard_count = shard_count
        self.lazy = set(lazy)
        self._release = asyncio.Event()
        if not hold_ready:
            self._release.set()
        #: set once READY and the GUILD_CREATE of every guild that is not lazy were sent
        self.started = asyncio.Event()
        #: "> EVENT" for a gateway dispatch, "METHOD /path" for a REST call, in order
        self.timeline: list[str] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self.calls: list[Call] = []
        self.invites: dict[int, list[Json]] = {}
        self.attachments: dict[str, bytes] = {}
        #: names of the attachments the bot downloaded, in order
        self.downloads: list[str] = []
        #: Users whose direct messages are closed: sending to them is refused (50007).
        self.closed_dms: set[int] = set()
        #: Users for whom even opening a DM channel is refused (also 50007).
        self.refused_dm_channels: set[int] = set()
        #: the last IDENTIFY, and every one by shard id
        self.identify: Json | None = None
        self.identified: dict[int, Json] = {}
        #: shard ids whose READY and (not lazy) GUILD_CREATEs were sent
        self.ready_shards: set[int] = set()
        self.gateway_queries = 0
        #: the open gateway connection of each shard: (shard id, shard count) -> socket
        self._sockets: dict[tuple[int, int], web.WebSocketResponse] = {}
        self._seq = itertools.count(1)
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.port = 0
        app = web.Application()
        app.router.add_get("/gateway", self._gateway)
        app.router.add_get("/attachments/{name}", self._attachment)
        app.router.add_route("*", "/api/v10/{tail:.*}", self._rest)
        self._app = app

    # -- lifecycle ---------------------------------------------------------------------
    async def start(self) -> None:
        self._runner = web.AppRunner(self._app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for ws in list(self._sockets.values()):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v10"

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    # -- gateway -----------------------------------------------------------------------
    async def dispatch(self, event: str, data: Json, *, shard: tuple[int, int] | None = None
                       ) -> None:
        """Send a gateway event on the connection of the shard its guild belongs to (or
        on ``shard``); an event of no guild goes to the first connection."""
        ws = self._socket(shard or self._shard_for(guild_of(event, data)))
        self.timeline.append(f"> {event}")
        await ws.send_str(json.dumps({"op": 0, "t": event, "s": next(self._seq), "d": data}))

    def _shard_for(self, guild: int | None) -> tuple[int, int] | None:
        if guild is None or not self._sockets:
            return None
        count = next(iter(self._sockets))[1]
        return shard_of(guild, count), count

    def _socket(self, shard: tuple[int, int] | None) -> web.WebSocketResponse:
        assert self._sockets, "the bot is not connected"
        if shard is None:
            return next(iter(self._sockets.values()))
        ws = self._sockets.get(shard)
        assert ws is not None, f"no connection identified as shard {list(shard)}"
        return ws

    def guilds_of(self, shard: tuple[int, int]) -> list[Json]:
        return [g for g in self.guilds if shard_of(int(g["id"]), shard[1]) == shard[0]]

    def release_ready(self) -> None:
        """Send the READY that ``hold_ready`` kept back."""
        self._release.set()

    async def make_available(self, guild_id: int) -> None:
        """A lazy guild's GUILD_CREATE, as Discord sends it some time after READY."""
        self.lazy.discard(guild_id)
        data = next(g for g in self.guilds if int(g["id"]) == guild_id)
        await self.dispatch("GUILD_CREATE", data)

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        shard: tuple[int, int] | None = None
        await ws.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": 45_000}}))
        async for frame in ws:
            payload = json.loads(frame.data)
            if payload["op"] == 1:
                await ws.send_str(json.dumps({"op": 11}))
            elif payload["op"] == 2:
                self.identify = payload["d"]
                number, count = payload["d"].get("shard") or (0, 1)
                shard = (int(number), int(count))
                self.identified[shard[0]] = payload["d"]
                self._sockets[shard] = ws
                task = asyncio.create_task(self._ready(shard))  # frames are read meanwhile
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
        if shard is not None and self._sockets.get(shard) is ws:
            del self._sockets[shard]
        return ws

    async def _ready(self, shard: tuple[int, int]) -> None:
        await self._release.wait()
        guilds = self.guilds_of(shard)
        await self.dispatch("READY", {
            "v": 10, "user": BOT, "session_id": f"session-{shard[0]}",
            "resume_gateway_url": self.url("/gateway"),
            "guilds": [{"id": g["id"], "unavailable": True} for g in guilds],
            "application": {"id": str(APP_ID), "flags": 0}, "private_channels": [],
            "shard": list(shard),
        }, shard=shard)
        for data in guilds:
            if int(data["id"]) not in self.lazy:
                await self.dispatch("GUILD_CREATE", data, shard=shard)
        self.ready_shards.add(shard[0])
        self.started.set()

    # -- REST --------------------------------------------------------------------------
    def sent(self, method: str, pattern: str) -> list[Call]:
        """Recorded calls whose path fully matches ``pattern`` (a regular expression)."""
        return [c for c in self.calls if c.method == method and re.fullmatch(pattern, c.path)]

    async def wait_for(self, method: str, pattern: str, count: int = 1,
                       within: float = 5.0) -> list[Call]:
        deadline = asyncio.get_running_loop().time() + within
        while len(found := self.sent(method, pattern)) < count:
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"no {method} {pattern} after {within} s; "
                                     f"calls: {[(c.method, c.path) for c in self.calls]}")
            await asyncio.sleep(0.01)
        return found

    async def _attachment(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in self.attachments:
            return web.Response(status=404)
        self.downloads.append(name)
        return web.Response(body=self.attachments[name])

    async def _read(self, request: web.Request) -> tuple[Json, tuple[str, ...]]:
        if request.content_type.startswith("multipart/"):
            form = await request.post()
            files = tuple(v.filename for k, v in form.items()
                          if k.startswith("files[") and isinstance(v, web.FileField))
            return json.loads(str(form.get("payload_json") or "{}")), files
        if request.can_read_body:
            return await request.json(), ()
        return {}, ()

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["tail"]
        body, files = await self._read(request)
        call = Call(request.method, path, body, files)
        self.calls.append(call)
        self.timeline.append(f"{request.method} {path}")
        route = f"{request.method} {path}"
        for pattern, handler in self._routes():
            match = re.fullmatch(pattern, route)
            if match:
                return await handler(call, *match.groups())
        return _json({"message": f"fake: no route {route}", "code": 0}, status=404)

    def _routes(self) -> list[tuple[str, Any]]:
        return [
            (r"GET /gateway/bot", self._gateway_bot),
            (r"GET /users/@me", self._me),
            (r"GET /oauth2/applications/@me", self._application),
            (r"PUT /applications/(\d+)/commands", self._bulk_commands),
            (r"GET /guilds/(\d+)/invites", self._invites),
            (r"POST /channels/(\d+)/invites", self._create_invite),
            (r"POST /channels/(\d+)/messages", self._create_message),
            (r"DELETE /channels/(\d+)/messages/(\d+)", self._no_content),
            (r"POST /users/@me/channels", self._open_dm),
            (r"(?:PUT|DELETE) /guilds/(\d+)/members/(\d+)/roles/(\d+)", self._no_content),
            (r"POST /interactions/(\d+)/([^/]+)/callback", self._callback),
            (r"POST /webhooks/(\d+)/([^/]+)", self._followup),
        ]

    async def _gateway_bot(self, call: Call) -> web.Response:
        self.gateway_queries += 1
        return _json({
            "url": f"ws://127.0.0.1:{self.port}/gateway", "shards": self.shard_count,
            "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 0,
                                    "max_concurrency": 1}})

    async def _me(self, call: Call) -> web.Response:
        return _json(BOT)

    async def _application(self, call: Call) -> web.Response:
        return _json({
            "id": str(APP_ID), "name": "Tribebot", "description": "", "icon": None,
            "bot_public": True, "bot_require_code_grant": False, "owner": MONA,
            "verify_key": "0" * 64, "flags": 0})

    async def _bulk_commands(self, call: Call, app: str) -> web.Response:
        body: list[Json] = call.body  # type: ignore[assignment]
        return _json([
            {**c, "id": str(7000 + n), "application_id": app, "version": "1",
             "guild_id": None} for n, c in enumerate(body)])

    async def _invites(self, call: Call, guild: str) -> web.Response:
        return _json(self.invites.get(int(guild), []))

    async def _create_invite(self, call: Call, channel: str) -> web.Response:
        """A new invite made by the bot, listed for its guild from now on."""
        code = f"bot{next(self._ids)}"
        made = {"code": code, "type": 0, "guild": {"id": str(GUILD), "name": "Tribe"},
                "channel": {"id": channel, "name": "general", "type": 0}, "inviter": BOT,
                "uses": 0, "max_uses": 0, "max_age": 0, "temporary": False,
                "created_at": datetime.now(UTC).isoformat()}
        self.invites.setdefault(GUILD, []).append(made)
        return _json(made)

    def _message(self, channel: str, body: Json) -> Json:
        now = datetime.now(UTC)
        return {"id": str(snowflake(now, next(self._ids))), "channel_id": channel,
                "author": BOT, "content": body.get("content") or "",
                "timestamp": now.isoformat(), "edited_timestamp": None, "tts": False,
                "mention_everyone": False, "mentions": [], "mention_roles": [],
                "attachments": [], "embeds": body.get("embeds") or [], "pinned": False,
                "type": 0}

    async def _create_message(self, call: Call, channel: str) -> web.Response:
        recipient = int(channel) - DM_CHANNEL_BASE
        if recipient in self.closed_dms:
            return _json(
                {"message": "Cannot send messages to this user", "code": 50007}, status=403)
        return _json(self._message(channel, call.body))

    async def _open_dm(self, call: Call) -> web.Response:
        recipient = int(call.body["recipient_id"])
        if recipient in self.refused_dm_channels:
            return _json({"message": "Cannot send messages to this user", "code": 50007},
                         status=403)
        who = {"id": str(recipient), "username": f"user{recipient}", "discriminator": "0",
               "avatar": None, "global_name": None}
        return _json({"id": str(DM_CHANNEL_BASE + recipient), "type": 1,
                                  "recipients": [who], "last_message_id": None})

    async def _no_content(self, call: Call, *ids: str) -> web.Response:
        return web.Response(status=204)

    async def _callback(self, call: Call, interaction: str, token: str) -> web.Response:
        flags = int((call.body.get("data") or {}).get("flags") or 0)
        return _json({"interaction": {
            "id": interaction, "type": 2, "response_message_ephemeral": bool(flags & 64),
            "response_message_loading": call.body.get("type") == 5}})

    async def _followup(self, call: Call, app: str, token: str) -> web.Response:
        return _json(self._message(str(GUILD), call.body))


#: Direct-message channel ids are this plus the recipient's user id.
DM_CHANNEL_BASE = 10**12
