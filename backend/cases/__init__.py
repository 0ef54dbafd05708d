"""Cases (诉求, 事件, 任务): one workflow for residents' requests, incident reports and tasks.

The pure workflow: ``levels`` (the five levels and what a code says about them), ``states``
(statuses, actions, a case's state, a command), ``allowed`` (which actions each status
allows), ``timing`` (time limits, due times, the reopen window), ``actions`` (what each action
does), ``workflow`` (``transition`` and ``submit``), ``policy`` (who may do what, and whose eyes
see a contact phone) and ``tracking`` (anonymous requests' codes).

Around it, with I/O: ``service`` (create, read, move), ``placement`` (the grid, or the smallest
area, a point belongs to), ``targets`` and ``departments`` (whom a case may be dispatched to),
``anonymous`` (requests without signing in), ``public`` (what others may see), ``listing``,
``photos``, ``nearby`` and the ``scheduler`` of overdue cases; each ``*_routes`` is HTTP.
"""
