"""The Wangge backend: a Litestar application cut by feature."""
