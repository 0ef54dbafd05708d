"""The live stream (``/api/live``): every event of the log and transient messages (positions,
presence) to the sockets whose subscription covers them, resumable by event id, across
processes through Redis. socket.py is the endpoint, hub.py the fan-out, relay.py the Redis
side, connection.py one socket's sending, scopes.py and access.py who may hear what.
"""
