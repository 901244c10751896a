"""Platform adapters: the only code that knows a chat platform; each sees the bot only
through ``bot.core.port.BotPort``."""
