"""Welcoming newcomers and following their first steps."""
