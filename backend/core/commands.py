"""What the feature commands (``wangge import``, ``wangge import people``) share."""

from __future__ import annotations


def column_mapping(
    pairs: list[str], hint: str = "canonical=source, e.g. code=网格编码"
) -> dict[str, str]:
    """``--map canonical=column`` options as a mapping (the layer and the people import)."""
    out = {}
    for pair in pairs:
        canonical, sep, source = pair.partition("=")
        if not sep:
            raise SystemExit(f"--map takes {hint}, not {pair!r}")
        out[canonical.strip()] = source.strip()
    return out
