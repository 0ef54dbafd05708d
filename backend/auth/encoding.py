import base64


def b64encode(data: bytes) -> str:
    """URL-safe base64 without padding, as tokens and hashes carry it."""
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
