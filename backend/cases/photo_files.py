"""Photo files on disk, for cases and task items alike: written whole or not at all."""

from __future__ import annotations

from pathlib import Path


def write_files(folder: Path, files: dict[str, bytes]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        # Written aside then renamed: a reader never gets half a file.
        tmp = folder / f"{name}.part"
        tmp.write_bytes(content)
        tmp.replace(folder / name)


def remove_files(folder: Path, names: list[str]) -> None:
    for name in names:
        (folder / name).unlink(missing_ok=True)
