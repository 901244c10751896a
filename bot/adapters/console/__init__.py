"""The console adapter: replays JSON Lines events through the real bot, offline."""
