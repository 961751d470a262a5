"""File storage behind a small interface: a local folder under instance/ by default."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import current_app


class LocalStorage:
    """Keep files in one folder, named by generated keys that never come from users."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        """Use the folder as the store."""
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        # Keys are ours (hex plus a known suffix), but refuse anything that could leave the root.
        if not key or "/" in key or "\\" in key or key.startswith("."):
            raise ValueError("invalid storage key")
        return self.root / key[:2] / key

    def new_key(self, extension: str) -> str:
        """Return an unguessable key for a new file."""
        return secrets.token_hex(16) + extension

    def save(self, key: str, data: bytes) -> None:
        """Write the file completely or not at all (write, flush to disk, then rename)."""
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".part")
        try:
            with open(partial, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(partial, path)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise

    def load(self, key: str) -> bytes:
        """Return a file's bytes."""
        return self._path(key).read_bytes()

    def delete(self, key: str) -> None:
        """Remove a file if it is there."""
        self._path(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        """Tell whether a file is stored under the key."""
        return self._path(key).is_file()


def get_storage() -> LocalStorage:
    """Return the configured store."""
    return LocalStorage(current_app.config["STORAGE_DIR"])
