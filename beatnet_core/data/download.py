"""Download the official PTB-XL release from PhysioNet, resumably and verified.

PhysioNet publishes every file of PTB-XL v1.0.3 (Wagner et al. 2020,
https://physionet.org/content/ptb-xl/1.0.3/, CC BY 4.0) together with
``SHA256SUMS.txt``, one ``<sha256> <path>`` line per file. :func:`download_ptbxl`
fetches that list first, then every file on it:

- a file already present with the right hash is skipped, so a second run
  only fetches what is missing;
- a file is written to ``<name>.part`` and renamed only once its SHA-256
  matches; an interrupted transfer leaves the ``.part`` and the next attempt
  (or run) asks the server for the rest with an HTTP ``Range`` request;
- a file whose hash does not match is deleted (its bytes cannot be trusted,
  resuming from them cannot fix it) and reported by name in a
  :class:`ChecksumMismatchError` after the other files are done.

Only the standard library's :mod:`urllib` is used.

Examples
--------
>>> download_ptbxl("~/data/ptb-xl", records="500")  # doctest: +SKIP
"""
from __future__ import annotations

import hashlib
import http.client
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from tqdm.auto import tqdm

PTBXL_BASE_URL = "https://physionet.org/files/ptb-xl/1.0.3/"
CHECKSUM_FILE = "SHA256SUMS.txt"
USER_AGENT = "beatnet-data-download/0.1 (urllib)"
_CHUNK_BYTES = 1 << 16
#: HTTP statuses worth retrying: timeouts, rate limits and server-side failures.
_RETRY_STATUS = {408, 425, 429, 500, 502, 503, 504}
#: First pause before a retry (seconds); doubled each attempt, at most 30 s.
_BACKOFF_S = 0.5


class DownloadError(RuntimeError):
    """A download failed; the message names the file(s) and what to do."""


class ChecksumMismatchError(DownloadError):
    """Downloaded bytes do not match ``SHA256SUMS.txt``.

    Attributes
    ----------
    mismatches : list of (path, expected, actual)
    """

    def __init__(self, mismatches: list[tuple[str, str, str]]):
        self.mismatches = list(mismatches)
        lines = [f"  {path}: expected sha256 {exp}, got {act}" for path, exp, act in self.mismatches]
        super().__init__(f"{len(self.mismatches)} file(s) failed SHA-256 verification and were deleted "
                         f"(run again to fetch them anew):\n" + "\n".join(lines))


@dataclass
class DownloadReport:
    """What :func:`download_ptbxl` did, file by file (paths relative to the target directory)."""

    directory: Path
    downloaded: list[str] = field(default_factory=list)
    resumed: list[str] = field(default_factory=list)
    already_present: list[str] = field(default_factory=list)
    bytes_fetched: int = 0

    def __str__(self) -> str:
        return (f"{self.directory}: {len(self.downloaded)} downloaded ({len(self.resumed)} resumed), "
                f"{len(self.already_present)} already present and verified, "
                f"{self.bytes_fetched / 2**20:.1f} MiB fetched")


def parse_checksums(text: str) -> dict[str, str]:
    """Parse ``SHA256SUMS.txt`` (``sha256sum`` output) into relative path -> hex digest.

    Paths that could escape the target directory (absolute, ``..``) are refused.

    Examples
    --------
    >>> parse_checksums("ab" * 32 + "  records100/00000/00001_lr.hea\\n")
    {'records100/00000/00001_lr.hea': 'abababababababababababababababababababababababababababababababab'}
    """
    sums: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = line.strip().split(maxsplit=1)
        digest = parts[0].lower()
        if len(parts) != 2 or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise DownloadError(f"{CHECKSUM_FILE} line {number} is not '<sha256> <path>': {line[:100]!r}")
        path = parts[1].strip().lstrip("*")  # '*' marks binary mode in sha256sum output
        pure = PurePosixPath(path)
        if pure.is_absolute() or ".." in pure.parts or "\\" in path or not pure.parts:
            raise DownloadError(f"{CHECKSUM_FILE} line {number}: refusing unsafe path {path!r}")
        sums[str(pure)] = digest
    if not sums:
        raise DownloadError(f"{CHECKSUM_FILE} lists no files")
    return sums


def select_files(checksums: dict[str, str], records: str = "both") -> dict[str, str]:
    """Keep the metadata plus ``records100/`` (``"100"``), ``records500/`` (``"500"``) or both.

    >>> sorted(select_files({"a.csv": "0", "records100/x": "1", "records500/y": "2"}, "100"))
    ['a.csv', 'records100/x']
    """
    skip = {"both": (), "100": ("records500/",), "500": ("records100/",)}
    if records not in skip:
        raise ValueError(f"records must be '100', '500' or 'both', got {records!r}")
    return {p: h for p, h in checksums.items() if not p.startswith(skip[records])}


def sha256_of(path: str | os.PathLike) -> str:
    """SHA-256 hex digest of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def download_ptbxl(to: str | os.PathLike, base_url: str = PTBXL_BASE_URL, *, records: str = "both",
                   workers: int = 4, timeout: float = 60.0, retries: int = 3,
                   progress: bool = True) -> DownloadReport:
    """Download (or complete) the PTB-XL release into ``to`` and verify every file.

    Parameters
    ----------
    to : str or PathLike
        Target directory; created if needed. It ends up in the official layout
        that :func:`beatnet_core.data.load_ptbxl` reads.
    base_url : str
        Release URL holding ``SHA256SUMS.txt`` and the files it lists.
    records : {"both", "500", "100"}
        Fetch both signal resolutions, or only ``records500/`` (about 2.7 GB)
        or ``records100/`` (about 0.6 GB) to save space; metadata files always.
    workers : int
        Files fetched at the same time.
    timeout : float
        Seconds before a stalled connection counts as failed.
    retries : int
        Further attempts per file after a network failure, each resuming
        from the bytes already received.
    progress : bool
        Show a progress bar.

    Returns
    -------
    DownloadReport

    Raises
    ------
    ChecksumMismatchError
        Some files did not match ``SHA256SUMS.txt`` (they are deleted; the
        rest are in place).
    DownloadError
        A file could not be fetched; its ``.part`` file is kept for resuming.

    Examples
    --------
    >>> report = download_ptbxl("~/data/ptb-xl", records="500")  # doctest: +SKIP
    >>> print(report)  # doctest: +SKIP
    """
    target = Path(to).expanduser()
    target.mkdir(parents=True, exist_ok=True)
    base_url = base_url if base_url.endswith("/") else base_url + "/"
    sums_text = _fetch_bytes(base_url + CHECKSUM_FILE, timeout, retries).decode("utf-8")
    checksums = select_files(parse_checksums(sums_text), records)
    (target / CHECKSUM_FILE).write_text(sums_text, encoding="utf-8")

    report = DownloadReport(directory=target)
    mismatches: list[tuple[str, str, str]] = []
    failures: list[str] = []

    def fetch(relpath: str) -> tuple[str, str, int]:
        url = base_url + urllib.parse.quote(relpath)
        return (relpath,) + download_file(url, target / relpath, checksums[relpath], name=relpath,
                                          timeout=timeout, retries=retries)

    bar = tqdm(total=len(checksums), desc="PTB-XL", unit="file", disable=not progress)
    pool = ThreadPoolExecutor(max_workers=max(1, workers))
    try:
        futures = {pool.submit(fetch, relpath): relpath for relpath in sorted(checksums)}
        for future in as_completed(futures):
            relpath = futures[future]
            try:
                _, outcome, n_bytes = future.result()
            except ChecksumMismatchError as exc:
                mismatches.extend(exc.mismatches)
            except DownloadError as exc:
                failures.append(str(exc))
            else:
                report.bytes_fetched += n_bytes
                if outcome == "present":
                    report.already_present.append(relpath)
                else:
                    report.downloaded.append(relpath)
                    if outcome == "resumed":
                        report.resumed.append(relpath)
            bar.update()
            bar.set_postfix_str(f"{report.bytes_fetched / 2**20:.1f} MiB", refresh=False)
    finally:
        # On Ctrl-C do not wait for tens of thousands of queued files; the
        # files in flight keep their .part for the next run.
        pool.shutdown(wait=True, cancel_futures=True)
        bar.close()
    if failures:
        raise DownloadError(f"{len(failures)} file(s) could not be downloaded; run again to resume:\n"
                            + "\n".join(f"  {f}" for f in sorted(failures)))
    if mismatches:
        raise ChecksumMismatchError(sorted(mismatches))
    return report


def download_file(url: str, dest: str | os.PathLike, sha256: str, *, name: str | None = None,
                  timeout: float = 60.0, retries: int = 3) -> tuple[str, int]:
    """Fetch one file to ``dest`` through ``dest.part``, resuming, and verify its SHA-256.

    Parameters
    ----------
    url : str
    dest : str or PathLike
    sha256 : str
        Expected hex digest.
    name : str, optional
        How messages name the file (default: its file name).
    timeout, retries
        As in :func:`download_ptbxl`.

    Returns
    -------
    (outcome, bytes_fetched)
        ``outcome`` is ``"present"`` (already there and verified),
        ``"downloaded"`` or ``"resumed"`` (completed from an earlier ``.part``).

    Raises
    ------
    ChecksumMismatchError
        The bytes do not match ``sha256``; nothing is left at ``dest`` or ``dest.part``.
    DownloadError
        The transfer failed ``retries + 1`` times; ``dest.part`` keeps what arrived.
    """
    dest = Path(dest)
    name = name or dest.name
    part = dest.with_name(dest.name + ".part")
    if dest.is_file():
        if sha256_of(dest) == sha256:
            return "present", 0
        # A stale or damaged copy (e.g. from another release): replace it.
        dest.unlink()
    dest.parent.mkdir(parents=True, exist_ok=True)
    resumed_from = part.stat().st_size if part.is_file() else 0
    fetched = _transfer(url, part, name, timeout, retries)
    actual = sha256_of(part)
    if actual != sha256 and resumed_from:
        # The earlier partial bytes may be the damaged ones: one clean attempt from zero.
        part.unlink()
        resumed_from = 0
        fetched += _transfer(url, part, name, timeout, retries)
        actual = sha256_of(part)
    if actual != sha256:
        part.unlink()
        raise ChecksumMismatchError([(name, sha256, actual)])
    os.replace(part, dest)
    return ("resumed" if resumed_from else "downloaded"), fetched


class _ShortTransfer(OSError):
    """The connection closed before Content-Length bytes arrived."""


def _transfer(url: str, part: Path, name: str, timeout: float, retries: int) -> int:
    """Append the rest of ``url`` to ``part`` (Range from its size), retrying; returns bytes received."""
    received = 0
    for attempt in range(retries + 1):
        offset = part.stat().st_size if part.is_file() else 0
        headers = {"User-Agent": USER_AGENT}
        if offset:
            headers["Range"] = f"bytes={offset}-"
        try:
            try:
                response = urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout)
            except urllib.error.HTTPError as exc:
                if exc.code == 416 and offset:
                    return received  # nothing beyond what .part holds: the caller verifies it
                raise
            with response:
                if offset and response.status == 206 and _range_start(response) == offset:
                    mode = "ab"
                else:  # the server sent the whole file (ignored the Range): start over
                    mode = "wb"
                got = 0
                with open(part, mode) as fh:
                    for chunk in iter(lambda: response.read(_CHUNK_BYTES), b""):
                        fh.write(chunk)
                        got += len(chunk)
                received += got
                # urllib's read() returns short, without an error, when a
                # connection drops mid-body; Content-Length tells.
                if response.length:  # bytes still owed per Content-Length (None when not sent)
                    raise _ShortTransfer(f"connection closed {response.length} bytes early")
            return received
        except urllib.error.HTTPError as exc:
            if exc.code not in _RETRY_STATUS or attempt == retries:
                raise DownloadError(f"{name}: HTTP {exc.code} {exc.reason} from {url}") from None
            last_error: Exception = exc
        except (urllib.error.URLError, http.client.HTTPException, OSError, TimeoutError) as exc:
            if attempt == retries:
                raise DownloadError(f"{name}: failed after {retries + 1} attempts ({exc}); "
                                    f"{part.stat().st_size if part.is_file() else 0} bytes kept in "
                                    f"{part} for the next run") from None
            last_error = exc
        time.sleep(min(30.0, _BACKOFF_S * 2 ** attempt))  # back off before retrying
    raise DownloadError(f"{name}: {last_error}")  # pragma: no cover (the loop returns or raises)


def _range_start(response) -> int | None:
    """First byte position of a 206 response's ``Content-Range: bytes a-b/n``."""
    value = response.headers.get("Content-Range", "")
    try:
        unit, rest = value.split(None, 1)
        return int(rest.split("-", 1)[0]) if unit.lower() == "bytes" else None
    except ValueError:
        return None


def _fetch_bytes(url: str, timeout: float, retries: int) -> bytes:
    """The whole body of a small file (the checksum list), with retries."""
    for attempt in range(retries + 1):
        try:
            request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.read()
        except urllib.error.HTTPError as exc:
            if exc.code not in _RETRY_STATUS or attempt == retries:
                raise DownloadError(f"{url}: HTTP {exc.code} {exc.reason}") from None
        except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
            if attempt == retries:
                raise DownloadError(f"{url}: could not be fetched ({exc})") from None
        time.sleep(min(30.0, _BACKOFF_S * 2 ** attempt))
    raise AssertionError("unreachable")
