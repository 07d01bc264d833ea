"""`beatnet data download ptbxl`: served from a loopback HTTP server holding real PTB-XL files.

The tree served is a small copy of the official PTB-XL layout built from the
shared real records (WFDB files and the csv files) with its own
SHA256SUMS.txt; no network beyond 127.0.0.1 is used.
"""
from __future__ import annotations

import hashlib
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from beatnet_core.cli import main
from beatnet_core.data import download as dl
from beatnet_core.data import load_ptbxl
from beatnet_core.data.download import (ChecksumMismatchError, DownloadError, download_ptbxl, parse_checksums,
                                        select_files)

RECORD_IDS = (1, 2, 3)


@pytest.fixture(scope="module")
def release_tree(data_dir, tmp_path_factory) -> Path:
    """A miniature PTB-XL release: 3 real records at both rates, the csv files, SHA256SUMS.txt."""
    src = data_dir / "ptbxl"
    root = tmp_path_factory.mktemp("release")
    for name in ("ptbxl_database.csv", "scp_statements.csv"):
        shutil.copy(src / name, root / name)
    for ecg_id in RECORD_IDS:
        for folder, suffix in (("records500", "hr"), ("records100", "lr")):
            for ext in (".hea", ".dat"):
                rel = Path(folder) / "00000" / f"{ecg_id:05d}_{suffix}{ext}"
                (root / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(src / rel, root / rel)
    lines = [f"{hashlib.sha256(p.read_bytes()).hexdigest()} {p.relative_to(root).as_posix()}"
             for p in sorted(root.rglob("*")) if p.is_file()]
    (root / "SHA256SUMS.txt").write_text("\n".join(lines) + "\n")
    return root


class _Handler(BaseHTTPRequestHandler):
    """Static files with HTTP Range support, plus switches to misbehave (set per test)."""

    root: Path
    requests: list                      # (path, Range header or None)
    corrupt: dict = {}                  # path -> bytes served instead of the file
    cut_once: set = set()               # paths whose next response is cut in half

    def do_GET(self):  # noqa: N802 (http.server's naming)
        path = self.path.lstrip("/")
        self.requests.append((path, self.headers.get("Range")))
        file = self.root / path
        if not file.is_file():
            self.send_error(404)
            return
        body = self.corrupt.get(path, file.read_bytes())
        start = 0
        if self.headers.get("Range"):
            start = int(self.headers["Range"].split("=")[1].split("-")[0])
            if start >= len(body):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(body)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        else:
            self.send_response(200)
        payload = body[start:]
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if path in self.cut_once:
            # A dropped connection: promise the whole body, send half, hang up.
            self.cut_once.discard(path)
            self.wfile.write(payload[: len(payload) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(payload)

    def log_message(self, *args):  # keep test output quiet
        pass


@pytest.fixture
def server(release_tree, monkeypatch):
    monkeypatch.setattr(dl, "_BACKOFF_S", 0.0)
    handler = type("Handler", (_Handler,), {"root": release_tree, "requests": [], "corrupt": {},
                                            "cut_once": set()})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield handler, f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()


def _expected(release_tree: Path) -> dict[str, str]:
    return parse_checksums((release_tree / "SHA256SUMS.txt").read_text())


def _file_requests(handler) -> list:
    return [r for r in handler.requests if r[0] != "SHA256SUMS.txt"]


def test_full_download_is_verified_and_loadable(server, release_tree, tmp_path):
    handler, url = server
    target = tmp_path / "ptb-xl"
    report = download_ptbxl(target, url, workers=3, progress=False)
    expected = _expected(release_tree)
    assert sorted(report.downloaded) == sorted(expected) and not report.already_present
    for rel, digest in expected.items():
        assert hashlib.sha256((target / rel).read_bytes()).hexdigest() == digest
    assert not list(target.rglob("*.part"))
    assert (target / "SHA256SUMS.txt").is_file()
    # The result is the official layout the loader reads.
    ds = load_ptbxl(target, "superdiagnostic", cache_dir=False, progress=False)
    assert ds.ecg_id.tolist() == list(RECORD_IDS) and set(ds.source) == {"records500"}

    # A second run verifies and skips every file.
    handler.requests.clear()
    again = download_ptbxl(target, url, progress=False)
    assert sorted(again.already_present) == sorted(expected) and not again.downloaded
    assert _file_requests(handler) == []


def test_records_option_fetches_one_rate(server, tmp_path):
    _, url = server
    report = download_ptbxl(tmp_path, url, records="100", workers=1, progress=False)
    assert any(p.startswith("records100/") for p in report.downloaded)
    assert not any(p.startswith("records500/") for p in report.downloaded)
    assert not (tmp_path / "records500").exists()


def test_resume_from_truncated_part_file(server, release_tree, tmp_path):
    handler, url = server
    rel = "records500/00000/00002_hr.dat"
    original = (release_tree / rel).read_bytes()
    part = tmp_path / (rel + ".part")
    part.parent.mkdir(parents=True)
    part.write_bytes(original[:10_000])  # what an interrupted earlier run left
    report = download_ptbxl(tmp_path, url, workers=2, progress=False)
    assert rel in report.resumed
    assert (rel, "bytes=10000-") in handler.requests
    assert (tmp_path / rel).read_bytes() == original and not part.exists()


def test_dropped_connection_is_retried_with_range(server, release_tree, tmp_path):
    handler, url = server
    rel = "records100/00000/00001_lr.dat"
    handler.cut_once.add(rel)
    download_ptbxl(tmp_path, url, workers=1, progress=False)
    calls = [r for r in handler.requests if r[0] == rel]
    size = (release_tree / rel).stat().st_size
    assert calls == [(rel, None), (rel, f"bytes={size // 2}-")]
    assert (tmp_path / rel).read_bytes() == (release_tree / rel).read_bytes()


def test_damaged_part_file_is_refetched_from_scratch(server, release_tree, tmp_path):
    _, url = server
    rel = "records500/00000/00003_hr.hea"
    part = tmp_path / (rel + ".part")
    part.parent.mkdir(parents=True)
    part.write_bytes(b"garbage")
    download_ptbxl(tmp_path, url, workers=1, progress=False)
    assert (tmp_path / rel).read_bytes() == (release_tree / rel).read_bytes()


def test_corrupted_file_fails_checksum_and_is_not_kept(server, release_tree, tmp_path):
    handler, url = server
    rel = "records500/00000/00001_hr.dat"
    bad = bytearray((release_tree / rel).read_bytes())
    bad[5000] ^= 0xFF  # one flipped byte
    handler.corrupt[rel] = bytes(bad)
    with pytest.raises(ChecksumMismatchError, match="00001_hr.dat") as info:
        download_ptbxl(tmp_path, url, workers=3, progress=False)
    assert [m[0] for m in info.value.mismatches] == [rel]
    assert not (tmp_path / rel).exists() and not (tmp_path / (rel + ".part")).exists()
    assert (tmp_path / "records500/00000/00002_hr.dat").is_file()  # the others completed
    # Once the server is right again, a re-run fetches only the missing file.
    handler.corrupt.clear()
    report = download_ptbxl(tmp_path, url, progress=False)
    assert report.downloaded == [rel]


def test_local_copy_with_wrong_hash_is_replaced(server, release_tree, tmp_path):
    _, url = server
    download_ptbxl(tmp_path, url, progress=False)
    rel = "scp_statements.csv"
    (tmp_path / rel).write_text("edited\n")
    report = download_ptbxl(tmp_path, url, progress=False)
    assert report.downloaded == [rel]
    assert (tmp_path / rel).read_bytes() == (release_tree / rel).read_bytes()


def test_missing_file_names_it(server, release_tree, tmp_path):
    _, url = server
    listing = (release_tree / "SHA256SUMS.txt").read_text()
    (release_tree / "SHA256SUMS.txt").write_text(listing + "0" * 64 + " records500/00000/99999_hr.dat\n")
    try:
        with pytest.raises(DownloadError, match="99999_hr.dat: HTTP 404"):
            download_ptbxl(tmp_path, url, progress=False)
    finally:
        (release_tree / "SHA256SUMS.txt").write_text(listing)


def test_checksum_list_parsing_refuses_unsafe_paths():
    digest = "a" * 64
    assert parse_checksums(f"{digest}  *records100/x.dat\n\n") == {"records100/x.dat": digest}
    for bad in (f"{digest} ../etc/passwd", f"{digest} /etc/passwd", "nothex records100/x.dat"):
        with pytest.raises(DownloadError):
            parse_checksums(bad)
    with pytest.raises(ValueError):
        select_files({"a": digest}, "250")


def test_cli_download(server, tmp_path, capsys):
    _, url = server
    assert main(["data", "download", "ptbxl", "--to", str(tmp_path), "--base-url", url, "--records", "500"]) == 0
    assert "downloaded" in capsys.readouterr().out
    assert (tmp_path / "records500/00000/00003_hr.dat").is_file()
