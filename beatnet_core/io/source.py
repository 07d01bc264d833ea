"""Where a record's bytes come from: a path on disk, or uploaded file bytes.

Readers never care which: they ask the :class:`Source` for the bytes of a
file, or for a local directory holding the record (WFDB needs one). Uploaded
bytes are only ever put in a private, memory-backed temporary directory that
is removed as soon as the reader is done.
"""
from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from beatnet_core.ecg import ECGFormatError


@dataclass
class Source:
    """One record to read.

    Attributes
    ----------
    name : str
        The primary file name as the user knows it (used in every error message).
    path : Path or None
        The primary file on disk, or None for uploads.
    files : dict
        Upload contents by base file name (empty for files on disk).
    """

    name: str
    path: Path | None = None
    files: dict[str, bytes] = field(default_factory=dict)

    @property
    def suffix(self) -> str:
        return Path(self.name).suffix.lower()

    @property
    def stem(self) -> str:
        return Path(self.name).stem

    def read_bytes(self, filename: str | None = None) -> bytes:
        """Bytes of the primary file, or of a companion file (e.g. the ``.dat`` of a ``.hea``)."""
        filename = filename or Path(self.name).name
        if self.path is not None:
            p = self.path.parent / filename
            if not p.is_file():
                raise ECGFormatError(f"{self.name}: companion file {filename} not found next to it")
            return p.read_bytes()
        if filename not in self.files:
            raise ECGFormatError(f"{self.name}: file {filename} was not uploaded with it "
                                 f"(uploaded: {sorted(self.files)})")
        return self.files[filename]

    def head(self, n_bytes: int, filename: str | None = None) -> bytes:
        """The first ``n_bytes`` of the primary (or a companion) file, without reading it all."""
        filename = filename or Path(self.name).name
        if self.path is not None:
            with open(self.path.parent / filename, "rb") as fh:
                return fh.read(n_bytes)
        return self.read_bytes(filename)[:n_bytes]

    def size(self, filename: str | None = None) -> int:
        """Size in bytes of the primary (or a companion) file."""
        filename = filename or Path(self.name).name
        if self.path is not None:
            return (self.path.parent / filename).stat().st_size
        return len(self.read_bytes(filename))

    def has(self, filename: str) -> bool:
        if self.path is not None:
            return (self.path.parent / filename).is_file()
        return filename in self.files

    @contextmanager
    def local_dir(self) -> Iterator[Path]:
        """A directory holding the record's files, for libraries that only read paths."""
        if self.path is not None:
            yield self.path.parent
            return
        # /dev/shm is RAM-backed: uploads never touch a disk. mkdtemp makes the
        # directory 0700, so no other user can list or read it.
        base = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
        with tempfile.TemporaryDirectory(prefix="beatnet-", dir=base) as tmp:
            for fname, data in self.files.items():
                (Path(tmp) / Path(fname).name).write_bytes(data)
            yield Path(tmp)

    @contextmanager
    def local_path(self) -> Iterator[Path]:
        """A path on disk holding the primary file, for libraries that only open paths."""
        with self.local_dir() as folder:
            yield Path(folder) / Path(self.name).name
