"""What an import says to the owner, in their language: the counts at the end, why
messages were left out, and what to fix when a file cannot be read."""

from __future__ import annotations

from collections.abc import Mapping

from bot.core.history import ImportProblem
from bot.core.text import RichText, plain
from bot.i18n import Catalog
from bot.importing.runner import ImportReport


def problem_text(problem: ImportProblem, tr: Catalog) -> RichText:
    v: Mapping[str, str | int] = problem.values
    match problem.code:
        case "not_an_export":
            return tr.gettext(
                "{file} is not a Telegram Desktop JSON export. In Telegram Desktop open the "
                "group, choose Export chat history, set the format to “Machine-readable JSON” "
                "and import the result.json it writes.", **v)
        case "chat_not_in_file":
            return tr.gettext("{file} is the export of {found}, not of {chat}.", **v)
        case "not_a_group":
            return tr.gettext("{chat} is not a group (Telegram calls it “{type}”); Tribebot "
                              "imports groups and supergroups.", **v)
        case "wrong_community":
            return tr.gettext(
                "The bot knows {chat} as {expected}, not {given} (for bots a supergroup's id "
                "starts with -100). Run the command again with --community {expected}.", **v)
        case "broken_json":
            return tr.gettext(
                "{file} breaks off or stops being valid JSON after message {after} (near byte "
                "{offset}: {detail}). Everything before it is imported and saved. Export the "
                "chat again, or repair the file, and run the same command: it goes on where "
                "it stopped.", **v)
        case "chat_ambiguous":
            return tr.gettext("More than one chat in {file} is called {chat}; choose one by "
                              "its id with --chat. Groups in the file: {chats}", **v)
        case "choose_chat":
            return tr.gettext(
                "{file} is the export of a whole account ({count} groups in it). Choose one "
                "with --chat ID or --chat NAME, or with --community. Groups: {chats}", **v)
        case "not_a_discord_export":
            return tr.gettext(
                "{file} is not a DiscordChatExporter JSON export (it needs guild, channel and "
                "messages). Export the channel in the JSON format and import that file.", **v)
        case "not_a_server":
            return tr.gettext("{file} is an export of direct messages, not of a server's "
                              "channel; Tribebot imports servers.", **v)
        case "mixed_servers":
            return tr.gettext("{file} is from the server “{server}” but {first} is from "
                              "“{first_server}”: import one server at a time.", **v)
        case "newest_first":
            return tr.gettext(
                "The export lists messages newest first (message {message} is older than the "
                "one before it). Export again with the oldest messages first "
                "(DiscordChatExporter's default) and import that file.", **v)
    return plain(str(problem))


def reason_label(reason: str, tr: Catalog) -> str:
    labels = {
        "unreadable": tr.phrase("no readable id, date or author"),
        "unsupported": tr.phrase("a kind of message the export cannot show"),
        "no_author": tr.phrase("no author (a deleted account)"),
        "own_post": tr.phrase("posted by this bot"),
        "command": tr.phrase("a /command (commands are not conversation)"),
        "empty": tr.phrase("no text and no attachment"),
        "service": tr.phrase("a service notice (pins, title changes, topics)"),
        "system": tr.phrase("a system notice (pins, boosts, threads)"),
        "joined_by_name": tr.phrase(
            "members added by an admin, whom Telegram names only by name, with no earlier "
            "message to learn their id from (their own messages still count)"),
        "left_by_name": tr.phrase(
            "members removed whom Telegram names only by name, with no earlier message to "
            "learn their id from"),
    }
    return labels.get(reason, reason)


def sent_label(kind: str, n: int, tr: Catalog) -> RichText:
    match kind:
        case "Post:welcome":
            return tr.ngettext("{n} welcome", "{n} welcomes", n)
        case "DirectMessage:welcome":
            return tr.ngettext("{n} welcome by direct message", "{n} welcomes by direct "
                               "message", n)
        case "Post:level_up":
            return tr.ngettext("{n} level-up announcement", "{n} level-up announcements", n)
        case "Post:first_response_alert":
            return tr.ngettext("{n} first-response alert", "{n} first-response alerts", n)
        case "SetRole":
            return tr.ngettext("{n} role change", "{n} role changes", n)
        case "DeleteMessage":
            return tr.ngettext("{n} welcome deletion", "{n} welcome deletions", n)
    return tr.ngettext("{n} other message", "{n} other messages", n)


def report_lines(report: ImportReport, tr: Catalog) -> list[RichText]:
    """The end of an import: what came in, what was there already, what was left out."""
    lines = [tr.gettext("Importing “{name}” ({community}):", name=report.name or "-",
                        community=report.community)]
    if report.first is not None and report.last is not None:
        lines.append(tr.gettext("History from {first} to {last} (UTC).",
                                first=report.first.strftime("%Y-%m-%d %H:%M"),
                                last=report.last.strftime("%Y-%m-%d %H:%M")))
    imported = (report.messages or report.reactions or report.counted or report.joins
                or report.leaves)
    if imported:
        lines += [
            tr.ngettext("{n} member took part ({new} new to the database).",
                        "{n} members took part ({new} new to the database).",
                        len(report.members), new=report.new_members),
            tr.ngettext("{n} message imported.", "{n} messages imported.", report.messages),
            tr.ngettext("{n} reaction imported from a named member (these earn the author "
                        "points).", "{n} reactions imported from named members (these earn "
                        "the author points).", report.reactions),
            tr.ngettext("{n} reaction known only as a count (recorded, no points).",
                        "{n} reactions known only as counts (recorded, no points).",
                        report.counted),
            tr.ngettext("{n} join imported", "{n} joins imported", report.joins)
            + tr.ngettext(", {n} leave.", ", {n} leaves.", report.leaves),
        ]
    elif report.problem is None and not report.stopped_early:
        lines.append(tr.gettext("Nothing new: the database holds everything in this export "
                                "already."))
    if report.already:
        lines.append(tr.gettext(
            "Already in the database, so not imported again: {messages} messages, "
            "{reactions} reactions, {joins} joins and leaves.",
            messages=report.already.get("messages", 0),
            reactions=report.already.get("reactions", 0),
            joins=report.already.get("joins", 0)))
    for reason, count in sorted(report.skipped.items(), key=lambda item: -item[1]):
        examples = ", ".join(report.examples.get(reason, []))
        lines.append(tr.ngettext("{n} message left out: {reason} (message ids: {examples}).",
                                 "{n} messages left out: {reason} (message ids, for example: "
                                 "{examples}).", count, reason=reason_label(reason, tr),
                                 examples=examples))
    if report.would_have_sent:
        lines.append(tr.gettext("Nothing was posted to the platform. Live, the bot would "
                                "have sent:"))
        for kind, count in sorted(report.would_have_sent.items()):
            lines.append(plain("  ") + sent_label(kind, count, tr))
    else:
        lines.append(tr.gettext("Nothing was posted to the platform."))
    settled = report.settled.get("welcomes", 0) + report.settled.get("alerts", 0)
    if settled:
        lines.append(tr.ngettext(
            "{n} welcome or newcomer alert the history left waiting was settled without "
            "posting.", "{n} welcomes or newcomer alerts the history left waiting were "
            "settled without posting.", settled))
    if report.stopped_early:
        lines.append(tr.gettext("Stopped early: everything up to here is saved; run the same "
                                "command again to go on."))
    return lines
