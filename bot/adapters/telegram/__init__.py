"""The Telegram adapter: python-telegram-bot's Application wired to the bot's port."""
