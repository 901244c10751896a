"""Community-wide settings that moderators change with commands."""
