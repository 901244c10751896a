"""Platform-neutral features. A cog never imports a chat platform library."""
