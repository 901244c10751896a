"""Members' control over their own data."""
