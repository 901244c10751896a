"""Tribebot: turn a chat group into a community."""

__version__ = "0.1.0"
