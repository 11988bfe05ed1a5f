"""The one way a file leaves this tool: written whole or not at all.

Every file the tool writes for people and their tools (the feed, Datasette's
files, the HTML report, the metrics textfile, the demo's outputs) goes through
`write_atomically`: a temporary file in the same directory, flushed and fsynced,
given the mode the old file had (0644 for a new one), then renamed over the
target. A reader sees the old file or the new one, never half of either; a crash
leaves no partial file behind. Pure I/O, no layer.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

NEW_FILE_MODE = 0o644


class FileWriteError(OSError):
    """The file could not be written; the message names it and why."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"cannot write {path}: {reason}")
        self.path = path
        self.reason = reason


def write_atomically(path: Path, data: bytes | str, *, skip_unchanged: bool = False) -> bool:
    """Replace `path` with `data` (text is UTF-8); return whether it was written.

    `skip_unchanged`: a file that already holds exactly `data` is left alone
    (its modification time too), so readers that poll it see nothing new."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    try:
        if skip_unchanged and path.is_file() and path.read_bytes() == raw:
            return False
        mode = path.stat().st_mode & 0o777 if path.exists() else NEW_FILE_MODE
        handle, temporary = tempfile.mkstemp(
            dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
        )
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(raw)
                stream.flush()
                os.fsync(stream.fileno())
            Path(temporary).chmod(mode)
            Path(temporary).replace(path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise FileWriteError(path, str(exc.strerror or exc)) from exc
    return True
