"""Importing history: a Telegram Desktop or DiscordChatExporter export played through the
real bot on a simulated clock, posting nothing, so points, stages and the weekly summaries
come out as if the bot had been there.

``sources`` reads an export into records (the translators live beside each adapter),
``runner`` feeds them through the runtime in committed batches, ``words`` says what
happened in the owner's language, and ``command`` is what ``tribebot import`` runs.
"""
