"""The cogs' commands as Discord slash commands.

Every core ``Command`` becomes an app command: one word -> a top-level command, more
words -> a subcommand of an ``app_commands.Group`` named by the first word. Options
become typed options (members as member pickers, channels as channel pickers, choices as
a fixed list), so Discord validates them before the bot sees them.

Moderator commands get Discord's ``default_member_permissions`` (Manage Server) where
Discord allows it (top-level commands and groups made only of moderator commands, and
only when no ``moderator_role`` is configured, since that role may lack the permission).
That only hides them in the UI: the core checks ``is_moderator`` on every invocation.

Syncing: the definitions are hashed; the hash is kept in a small file next to the
database (``.tribebot-discord-commands-<application id>.sha256``), and the tree is
synced to Discord on start-up only when the hash differs (Discord rate-limits syncs
and each one makes clients refetch the commands).
"""

from __future__ import annotations

import hashlib
import inspect
import json
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, Literal

import discord
from discord import app_commands

from bot.core.commands import Command, Option, OptionKind

#: What the adapter does with an invocation: the command and the option values by name.
Runner = Callable[[Command, discord.Interaction, dict[str, Any]], Awaitable[None]]

MODERATOR_PERMISSIONS = discord.Permissions(manage_guild=True)
DESCRIPTION_LIMIT = 100


def _annotation(option: Option) -> Any:
    match option.kind:
        case OptionKind.MEMBER:
            return discord.Member
        case OptionKind.CHANNEL:
            return discord.TextChannel
        case OptionKind.INTEGER:  # Discord's client refuses what is out of range
            return app_commands.Range[int, option.minimum, option.maximum]
        case OptionKind.FILE:
            return discord.Attachment
        case OptionKind.CHOICE if option.choices:
            return Literal[option.choices]  # type: ignore[valid-type]
        case _:
            return str


def _short(text: str) -> str:
    text = text or "…"
    return text if len(text) <= DESCRIPTION_LIMIT else text[: DESCRIPTION_LIMIT - 1] + "…"


def _callback(command: Command, run: Runner) -> Callable[..., Awaitable[None]]:
    """A callback whose signature declares the command's options, as discord.py reads it."""

    async def callback(interaction: discord.Interaction, **values: Any) -> None:
        await run(command, interaction, values)

    parameters = [inspect.Parameter("interaction", inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                    annotation=discord.Interaction)]
    for option in command.options:
        parameters.append(inspect.Parameter(
            option.name, inspect.Parameter.KEYWORD_ONLY, annotation=_annotation(option),
            default=inspect.Parameter.empty if option.required else None))
    callback.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    descriptions = {o.name: _short(o.description) for o in command.options}
    return app_commands.describe(**descriptions)(callback) if descriptions else callback


def app_command(
    command: Command, run: Runner, *, name: str, restrict: bool
) -> app_commands.Command[Any, ..., None]:
    callback = _callback(command, run)
    if restrict and command.moderator:
        callback = app_commands.default_permissions(MODERATOR_PERMISSIONS)(callback)
    built: app_commands.Command[Any, ..., None] = app_commands.Command(
        name=name, description=_short(command.description), callback=callback)
    built.guild_only = True
    return built


def build_commands(
    commands: Sequence[Command], run: Runner, *, moderator_role: str = ""
) -> list[app_commands.Command[Any, ..., None] | app_commands.Group]:
    """Top-level commands and groups for ``tree.add_command``."""
    restrict = not moderator_role
    out: list[app_commands.Command[Any, ..., None] | app_commands.Group] = []
    groups: dict[str, list[Command]] = {}
    for command in commands:
        if len(command.path) == 1:
            out.append(app_command(command, run, name=command.path[0], restrict=restrict))
        else:
            groups.setdefault(command.path[0], []).append(command)
    for word, members in groups.items():
        only_moderators = all(c.moderator for c in members)
        group = app_commands.Group(
            name=word, description=_short(f"/{word} …"), guild_only=True,
            default_permissions=MODERATOR_PERMISSIONS if restrict and only_moderators else None,
        )
        subgroups: dict[str, app_commands.Group] = {}
        for command in members:
            parent = group
            if len(command.path) == 3:
                sub = command.path[1]
                if sub not in subgroups:
                    subgroups[sub] = app_commands.Group(
                        name=sub, description=_short(f"/{word} {sub} …"), parent=group)
                parent = subgroups[sub]
            built = app_command(command, run, name=command.path[-1], restrict=False)
            parent.add_command(built)
        out.append(group)
    return out


def definitions_hash(tree: app_commands.CommandTree[Any]) -> str:
    """A stable hash of what Discord would be told; changes whenever a definition does."""
    payload = sorted((c.to_dict(tree) for c in tree.get_commands()), key=lambda d: d["name"])
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def hash_file(local_files: str, application_id: int) -> Path:
    """Where the hash of the last synced definitions lives: beside the bot's other local
    files (``BotPort.local_files``; a PostgreSQL URL is no folder)."""
    return Path(local_files).parent / f".tribebot-discord-commands-{application_id}.sha256"


def needs_sync(path: Path, digest: str) -> bool:
    try:
        return path.read_text("utf-8").strip() != digest
    except OSError:
        return True


def remember_sync(path: Path, digest: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(digest + "\n", "utf-8")
