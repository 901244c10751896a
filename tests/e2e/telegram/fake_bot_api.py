"""A small fake Telegram Bot API server on 127.0.0.1 for offline end-to-end tests.

It speaks enough of the real protocol for python-telegram-bot's Application: getMe,
getUpdates (a queue the test fills, answered within a fraction of a second), sending
and deleting messages, command menus, getChatMember, and files as the real API serves
them: getFile (refusing unknown ids and files over 20 MB) then a download from
``/file/bot<token>/<file_path>`` that serves only paths getFile handed out. Every call is
recorded.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

TOKEN = "123456:TEST-token"
BOT_USER = {"id": 999, "is_bot": True, "first_name": "Tribe", "username": "TribeBot",
            "can_join_groups": True, "can_read_all_group_messages": False,
            "supports_inline_queries": False}
#: Parameters that are plain strings even when they look like JSON ("5").
TEXT_PARAMETERS = {"text", "caption", "parse_mode", "url", "secret_token", "description"}
LONG_POLL_HOLD = 0.2
#: The Bot API lets bots download files up to this size (getFile refuses bigger ones).
DOWNLOAD_LIMIT = 20 * 1024 * 1024


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float = field(default_factory=time.monotonic)


class FakeBotApi:
    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.calls: list[Call] = []
        #: (chat id, user id) of administrators, answered by getChatMember.
        self.admins: set[tuple[int, int]] = set()
        #: Users who never started the bot: sending them a message is Forbidden.
        self.closed_dms: set[int] = set()
        #: method -> error answers to give before succeeding (one per call).
        self.failures: dict[str, list[dict[str, Any]]] = {}
        self._updates: list[dict[str, Any]] = []
        self._next_update = 1
        self._next_message = 5000
        self._arrived = asyncio.Event()
        self._runner: web.AppRunner | None = None
        #: file_id -> bytes of files members sent; file_path -> file_id once getFile ran
        self.files: dict[str, bytes] = {}
        self._paths: dict[str, str] = {}
        #: file paths downloaded, in order
        self.downloads: list[str] = []
        self.port = 0

    # -- test side ---------------------------------------------------------------------
    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._dispatch)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    def push(self, update: Mapping[str, Any]) -> int:
        """Queue an update for getUpdates; returns its update_id."""
        update_id = self._next_update
        self._next_update += 1
        self._updates.append({"update_id": update_id, **update})
        self._arrived.set()
        return update_id

    def add_file(self, data: bytes) -> str:
        """A file a member sent; returns the file_id Telegram would put in the message."""
        file_id = f"file-{len(self.files) + 1}"
        self.files[file_id] = data
        return file_id

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def sent(self) -> list[dict[str, Any]]:
        """Parameters of every message and photo sent, in order."""
        return [c.params for c in self.calls if c.method in ("sendMessage", "sendPhoto")]

    # -- server side -------------------------------------------------------------------
    async def _dispatch(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.match_info["method"]
        params = await _params(request)
        self.calls.append(Call(method, params))
        queued = self.failures.get(method)
        if queued:
            answer = queued.pop(0)
            return web.json_response(answer, status=answer.get("error_code", 400))
        handler = getattr(self, f"_{method}", None)
        if handler is None:
            return web.json_response({"ok": True, "result": True})
        return await handler(params)

    async def _getMe(self, _params: dict[str, Any]) -> web.Response:
        return _ok(BOT_USER)

    async def _getUpdates(self, params: dict[str, Any]) -> web.Response:
        offset = int(params.get("offset") or 0)
        self._updates = [u for u in self._updates if u["update_id"] >= offset]
        if not self._updates and float(params.get("timeout") or 0) > 0:
            self._arrived.clear()
            hold = min(float(params["timeout"]), LONG_POLL_HOLD)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), hold)
        limit = int(params.get("limit") or 100)
        return _ok(self._updates[:limit])

    async def _sendMessage(self, params: dict[str, Any]) -> web.Response:
        chat = int(params["chat_id"])
        if chat in self.closed_dms:
            return _error(403, "Forbidden: bot can't initiate conversation with a user")
        return _ok(self._message(chat, params, text=params["text"]))

    async def _sendPhoto(self, params: dict[str, Any]) -> web.Response:
        chat = int(params["chat_id"])
        if chat in self.closed_dms:
            return _error(403, "Forbidden: bot can't initiate conversation with a user")
        photo = [{"file_id": "photo-1", "file_unique_id": "u1", "width": 10, "height": 10}]
        extra: dict[str, Any] = {"photo": photo}
        if params.get("caption"):
            extra["caption"] = params["caption"]
        return _ok(self._message(chat, params, **extra))

    async def _getFile(self, params: dict[str, Any]) -> web.Response:
        file_id = str(params.get("file_id") or "")
        data = self.files.get(file_id)
        if data is None:
            return _error(400, "Bad Request: invalid file_id")
        if len(data) > DOWNLOAD_LIMIT:
            return _error(400, "Bad Request: file is too big")
        path = f"documents/{file_id}"
        self._paths[path] = file_id
        return _ok({"file_id": file_id, "file_unique_id": f"u-{file_id}",
                    "file_size": len(data), "file_path": path})

    async def _download(self, request: web.Request) -> web.Response:
        path = request.match_info["path"]
        if request.match_info["token"] != self.token or path not in self._paths:
            return _error(404, "Not Found")
        self.downloads.append(path)
        return web.Response(body=self.files[self._paths[path]],
                            content_type="application/octet-stream")

    async def _getChatMember(self, params: dict[str, Any]) -> web.Response:
        chat, user_id = int(params["chat_id"]), int(params["user_id"])
        user = {"id": user_id, "is_bot": False, "first_name": f"User {user_id}"}
        if (chat, user_id) in self.admins:
            return _ok(administrator(user))
        return _ok({"status": "member", "user": user})

    async def _createChatInviteLink(self, params: dict[str, Any]) -> web.Response:
        link = {"invite_link": f"https://t.me/+fake{len(self.calls)}", "creator": BOT_USER,
                "creates_join_request": False, "is_primary": False, "is_revoked": False}
        if params.get("name"):
            link["name"] = str(params["name"])
        return _ok(link)

    def _message(self, chat: int, params: dict[str, Any], **content: Any) -> dict[str, Any]:
        self._next_message += 1
        kind = "private" if chat > 0 else "supergroup"
        message = {"message_id": self._next_message, "date": int(time.time()),
                   "chat": {"id": chat, "type": kind}, "from": BOT_USER, **content}
        if params.get("message_thread_id"):
            message["message_thread_id"] = int(params["message_thread_id"])
        return message


def administrator(user: Mapping[str, Any]) -> dict[str, Any]:
    """A ChatMemberAdministrator with every field the Bot API always sends."""
    rights = ("can_manage_chat", "can_delete_messages", "can_manage_video_chats",
              "can_restrict_members", "can_promote_members", "can_change_info",
              "can_invite_users", "can_post_stories", "can_edit_stories", "can_delete_stories")
    return {"status": "administrator", "user": dict(user), "can_be_edited": False,
            "is_anonymous": False, **dict.fromkeys(rights, True)}


async def _params(request: web.Request) -> dict[str, Any]:
    """python-telegram-bot posts form fields whose values are JSON (strings stay raw)."""
    form = await request.post()
    params: dict[str, Any] = {}
    for key, value in form.items():
        if not isinstance(value, str):
            params[key] = value.filename  # an uploaded file
            continue
        if key in TEXT_PARAMETERS:
            params[key] = value
            continue
        try:
            params[key] = json.loads(value)
        except json.JSONDecodeError:
            params[key] = value
    return params


def _ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def _error(code: int, description: str) -> web.Response:
    return web.json_response({"ok": False, "error_code": code, "description": description},
                             status=code)
