"""A small fake Telegram Bot API server on 127.0.0.1 for offline end-to-end tests.

It speaks enough of the real protocol for python-telegram-bot's Application: getMe,
getUpdates (a queue the test fills, answered within a fraction of a second), sending
and deleting messages, photos and documents, command menus, getChatMember,
getChatMemberCount, and files as the real API serves them: getFile (refusing
unknown ids and files over 20 MB) then a download from
``/file/bot<token>/<file_path>`` that serves only paths getFile handed out. Every
call is recorded, uploads with their bytes.

It refuses what the real Bot API refuses (the descriptions are Telegram's): a sendPhoto
whose upload is not an image (``IMAGE_PROCESS_FAILED``) or has impossible dimensions
(``PHOTO_INVALID_DIMENSIONS``), an upload in the wrong multipart field, a file given as
a string that is neither a file_id nor a URL (a local path: PTB sends it only when the
file does not exist), an empty file, a caption over 1,024 characters, an unknown
parse_mode.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import io
import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from aiohttp import web
from PIL import Image, UnidentifiedImageError

TOKEN = "123456:TEST-token"
BOT_USER = {"id": 999, "is_bot": True, "first_name": "Tribe", "username": "TribeBot",
            "can_join_groups": True, "can_read_all_group_messages": False,
            "supports_inline_queries": False}
#: Parameters that are plain strings even when they look like JSON ("5").
TEXT_PARAMETERS = {"text", "caption", "parse_mode", "url", "secret_token", "description"}
LONG_POLL_HOLD = 0.2
CAPTION_LIMIT = 1024
DOCUMENT_LIMIT = 50_000_000
PARSE_MODES = {"HTML", "Markdown", "MarkdownV2"}
#: Formats Telegram makes a photo of.
IMAGE_FORMATS = {"JPEG", "PNG", "WEBP", "GIF", "BMP"}


@dataclass(frozen=True)
class Upload:
    """A file part of a multipart request."""

    field: str
    filename: str
    content_type: str
    data: bytes
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
        #: chat id -> member count (getChatMemberCount); other chats are "not found".
        self.member_counts: dict[int, int] = {}
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
        """Parameters of every message, photo and document sent, in order."""
        return [c.params for c in self.calls
                if c.method in ("sendMessage", "sendPhoto", "sendDocument")]

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
        if params.get("parse_mode") == "HTML" and (problem := html_problem(params["text"])):
            return _error(400, f"Bad Request: can't parse entities: {problem}")
        chat = int(params["chat_id"])
        if chat in self.closed_dms:
            return _error(403, "Forbidden: bot can't initiate conversation with a user")
        return _ok(self._message(chat, params, text=params["text"]))

    async def _sendPhoto(self, params: dict[str, Any]) -> web.Response:
        refused = _refuse_file(params, "photo")
        if refused is not None:
            return refused
        chat = int(params["chat_id"])
        if chat in self.closed_dms:
            return _error(403, "Forbidden: bot can't initiate conversation with a user")
        upload = params["photo"]
        width = height = 10
        if isinstance(upload, Upload):
            try:
                with Image.open(io.BytesIO(upload.data)) as image:
                    kind, (width, height) = image.format, image.size
            except (UnidentifiedImageError, OSError, ValueError):
                kind = None
            if kind not in IMAGE_FORMATS:
                return _error(400, "Bad Request: IMAGE_PROCESS_FAILED")
            if width + height > 10_000 or max(width, height) > 20 * min(width, height):
                return _error(400, "Bad Request: PHOTO_INVALID_DIMENSIONS")
        photo = [{"file_id": f"photo-{len(self.calls)}", "file_unique_id": "u1",
                  "width": width, "height": height}]
        extra: dict[str, Any] = {"photo": photo}
        if params.get("caption"):
            extra["caption"] = params["caption"]
        return _ok(self._message(chat, params, **extra))

    async def _sendDocument(self, params: dict[str, Any]) -> web.Response:
        refused = _refuse_file(params, "document")
        if refused is not None:
            return refused
        chat = int(params["chat_id"])
        if chat in self.closed_dms:
            return _error(403, "Forbidden: bot can't initiate conversation with a user")
        upload = params["document"]
        document: dict[str, Any] = {"file_id": f"document-{len(self.calls)}",
                                    "file_unique_id": "d1"}
        if isinstance(upload, Upload):
            document.update(file_name=upload.filename, mime_type=upload.content_type,
                            file_size=len(upload.data))
        extra: dict[str, Any] = {"document": document}
        if params.get("caption"):
            extra["caption"] = params["caption"]
        return _ok(self._message(chat, params, **extra))

    async def _getChatMemberCount(self, params: dict[str, Any]) -> web.Response:
        chat = int(params["chat_id"])
        if chat not in self.member_counts:
            return _error(400, "Bad Request: chat not found")
        return _ok(self.member_counts[chat])

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


def _refuse_file(params: dict[str, Any], field: str) -> web.Response | None:
    """What Telegram answers to a malformed sendPhoto/sendDocument, or None."""
    if "chat_id" not in params:
        return _error(400, "Bad Request: chat_id is empty")
    strays = [k for k, v in params.items() if isinstance(v, Upload) and k != field]
    value = params.get(field)
    if value is None or strays:
        return _error(400, f"Bad Request: there is no {field} in the request")
    if isinstance(value, Upload):
        if not value.data:
            return _error(400, "Bad Request: file must be non-empty")
        if len(value.data) > DOCUMENT_LIMIT:
            return _error(413, "Request Entity Too Large")
    elif not (FILE_ID.fullmatch(str(value)) or str(value).startswith(("http://", "https://"))):
        return _error(400, "Bad Request: wrong file identifier/HTTP URL specified")
    mode = params.get("parse_mode")
    if mode is not None and mode not in PARSE_MODES:
        return _error(400, "Bad Request: unsupported parse_mode")
    caption = str(params.get("caption") or "")
    if mode == "HTML" and (problem := html_problem(caption)):
        return _error(400, f"Bad Request: can't parse entities: {problem}")
    shown = html.unescape(re.sub(r"<[^>]+>", "", caption)) if mode == "HTML" else caption
    if len(shown.encode("utf-16-le")) // 2 > CAPTION_LIMIT:
        return _error(400, "Bad Request: message caption is too long")
    return None


#: The tags Telegram's HTML parse mode knows.
HTML_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span",
             "tg-spoiler", "a", "tg-emoji", "code", "pre", "blockquote"}


class _Entities(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.open: list[str] = []
        self.problem = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in HTML_TAGS:
            self.problem = self.problem or f"Unsupported start tag \"{tag}\""
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open.pop() != tag:
            self.problem = self.problem or f"Unexpected end tag \"{tag}\""

    def handle_entityref(self, name: str) -> None:
        if name not in ("lt", "gt", "amp", "quot"):
            self.problem = self.problem or f"Unsupported entity \"{name}\""


def html_problem(text: str) -> str:
    """Why Telegram's HTML parse mode would refuse ``text`` ("" when it would not)."""
    if re.search(r"&(?![a-zA-Z]+;|#\d+;|#x[0-9a-fA-F]+;)", text) or re.search(r"<(?![a-z/])",
                                                                            text):
        return "Can't find end of the entity"
    parser = _Entities()
    parser.feed(text)
    parser.close()
    if not parser.problem and parser.open:
        return f"Can't find end tag corresponding to start tag \"{parser.open[-1]}\""
    return parser.problem


#: What a Bot API file_id looks like (no dots, slashes or spaces, unlike a path).
FILE_ID = re.compile(r"[A-Za-z0-9_-]{20,}")


async def _params(request: web.Request) -> dict[str, Any]:
    """python-telegram-bot posts form fields whose values are JSON (strings stay raw);
    a file is a multipart part of its own, kept as an Upload."""
    params: dict[str, Any] = {}
    form = await request.post()
    for key, value in form.items():
        if not isinstance(value, str):
            params[key] = Upload(key, value.filename, value.content_type, value.file.read())
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
