"""Platform-neutral core: ids, events, actions, the bus and the cog contract.

Nothing in this package may import a chat platform library.
"""
