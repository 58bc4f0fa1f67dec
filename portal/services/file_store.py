"""Where uploaded files live: one small interface (put, open, delete by key) every file-keeping service uses.

The default keeps files in a local directory (UPLOAD_DIR, outside the web root: nothing is ever
served from it except through a view that checked who asks). Another backend (an object store, say)
replaces it by implementing the same three methods; callers never see paths.
"""
import os
import re
import tempfile
from pathlib import Path
from typing import BinaryIO, Protocol

from flask import current_app

from portal.services.errors import NotFound

KEY_RE = re.compile(r"^[0-9a-f]{32}\.[a-z0-9]{1,8}$")


class FileStore(Protocol):
    def put(self, key: str, data: bytes) -> None:
        """Keep `data` under `key`, all or nothing (a half-written file is never visible)."""

    def open(self, key: str) -> BinaryIO:
        """The stored bytes as a readable, seekable stream; NotFound when the key names nothing."""

    def delete(self, key: str) -> None:
        """Forget the key; one that names nothing is already gone."""


class LocalDirectoryStore:
    """Files in one directory; keys are checked against KEY_RE, so none can climb out of it."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        if not KEY_RE.match(key or ""):
            raise NotFound("No such file.")
        return self.root / key

    def put(self, key: str, data: bytes) -> None:
        target = self._path(key)
        self.root.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(dir=self.root, prefix=".upload-")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            os.replace(temp, target)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise

    def open(self, key: str) -> BinaryIO:
        try:
            return self._path(key).open("rb")
        except (FileNotFoundError, IsADirectoryError):
            raise NotFound("No such file.") from None

    def delete(self, key: str) -> None:
        try:
            self._path(key).unlink(missing_ok=True)
        except NotFound:
            return


def current() -> FileStore:
    """The store of the running app (read per call, so a test may point UPLOAD_DIR elsewhere)."""
    return LocalDirectoryStore(current_app.config["UPLOAD_DIR"])
