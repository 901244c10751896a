"""Points, levels, streaks and leaderboards that reward real participation."""
