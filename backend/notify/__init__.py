"""Notifications: Web Push to the installed app, text messages to those without it, and the
notice list in the app, all made from the event log by one sender (sender.py)."""
