"""The weekly summary for owners: is the group becoming a community?"""
