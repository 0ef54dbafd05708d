"""Health: whether this process can do its work now (``/api/health``, writing a table of its
own), and the server's settings the field app needs (``/api/config``)."""
