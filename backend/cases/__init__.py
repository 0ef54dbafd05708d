"""Cases (诉求, 事件, 任务): one workflow for residents' requests, incident reports and tasks.

Pure logic so far, no tables and no routes: ``levels`` (the five levels and what a code says
about them), ``states`` (statuses, actions, a case's state, a command), ``allowed`` (which
actions each status allows), ``timing`` (time limits, due times, the reopen window),
``actions`` (what each action does), ``workflow`` (``transition`` and ``submit``) and ``policy``
(who may do what, and whose eyes see a contact phone).
"""
