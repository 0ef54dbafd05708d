"""The event log: every change others must hear about, in commit order (the outbox).

Event ids are the live stream's cursor: a reader that has seen every event up to id N and asks
for "after N" gets exactly what it missed. That holds only if ids become visible in order, so
ids are not the database's sequence (on PostgreSQL, concurrent transactions commit their
sequence values out of order) but are taken from one clock row as a transaction's last step:
the row lock makes the next writer wait until this one commits.
"""
