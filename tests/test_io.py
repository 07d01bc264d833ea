"""load_ecg's dispatch (extension and content sniffing), uploads, and input that is not an ECG.

Format-specific reading and round trips are in test_io_wfdb.py and test_io_formats.py.
"""
from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from pydicom.data import get_testdata_file

from beatnet_core import ECGFormatError, load_ecg
from beatnet_core.ecg import LEADS
from beatnet_core.io import load as load_module

DICOM_ECG = Path(get_testdata_file("waveform_ecg.dcm"))


def _png_bytes() -> bytes:
    """A real 1x1 PNG image, built by hand (no imaging library needed)."""
    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))
    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b""))


@pytest.fixture(scope="module")
def ludb1(data_dir):
    return load_ecg(data_dir / "ludb" / "data" / "1.hea")


class _Upload:
    """Stands in for Streamlit's UploadedFile: a .name and a .getvalue()."""

    def __init__(self, name: str, data: bytes):
        self.name, self._data = name, data

    def getvalue(self) -> bytes:
        return self._data


# --- dispatch: the content decides when the extension is missing or wrong ------------------

@pytest.mark.parametrize("upload_name", ["ecg", "ecg.bin", "ecg.dat", "ecg.csv"])
def test_dicom_recognised_by_content_whatever_its_name(upload_name):
    ecg = load_ecg(DICOM_ECG.read_bytes(), name=upload_name)
    assert ecg.meta["format"] == "DICOM" and ecg.meta["source"] == upload_name


def test_npy_and_edf_recognised_by_content(ludb1, tmp_path):
    np.save(tmp_path / "signal.npy", ludb1.signal)
    ecg = load_ecg((tmp_path / "signal.npy").read_bytes(), fs=500, name="signal.csv")
    assert ecg.meta["format"] == "NPY"
    np.testing.assert_array_equal(ecg.signal, ludb1.signal)

    from pyedflib import highlevel
    path = tmp_path / "ecg.edf"
    headers = highlevel.make_signal_headers(list(LEADS), dimension="mV", sample_frequency=500,
                                            physical_min=-10, physical_max=10)
    highlevel.write_edf(str(path), np.ascontiguousarray(ludb1.signal.T, np.float64), headers)
    assert load_ecg(path.read_bytes(), name="export").meta["format"] == "EDF"


def test_csv_recognised_by_its_header_row_without_extension(ludb1):
    text = "# fs=500\n" + ",".join(LEADS) + "\n" + "\n".join(
        ",".join(f"{v:.4f}" for v in row) for row in ludb1.signal)
    assert load_ecg(text.encode(), name="export").meta["format"] == "CSV"


def test_wfdb_header_uploaded_without_extension(data_dir, ludb1):
    folder = data_dir / "ludb" / "data"
    uploads = {"1": (folder / "1.hea").read_bytes(), "1.dat": (folder / "1.dat").read_bytes()}
    ecg = load_ecg(uploads)
    np.testing.assert_array_equal(ecg.signal, ludb1.signal)


def test_wfdb_header_on_disk_without_extension_asks_for_rename(data_dir, tmp_path):
    (tmp_path / "1.dat").write_bytes((data_dir / "ludb" / "data" / "1.dat").read_bytes())
    (tmp_path / "header.txt").write_bytes((data_dir / "ludb" / "data" / "1.hea").read_bytes())
    with pytest.raises(ECGFormatError, match=r"header\.txt.*rename it to 1\.hea"):
        load_ecg(tmp_path / "header.txt")


def test_upload_forms_are_equivalent(data_dir):
    folder = data_dir / "mitdb"
    files = {n: (folder / n).read_bytes() for n in ("100.hea", "100.dat")}
    reference = load_ecg(folder / "100.hea").signal
    for upload in (files, list(files.items()), [_Upload(n, b) for n, b in files.items()]):
        np.testing.assert_array_equal(load_ecg(upload).signal, reference)
    # a single UploadedFile-like object on its own
    assert load_ecg(_Upload("ecg.dcm", DICOM_ECG.read_bytes())).meta["format"] == "DICOM"


# --- files that are not ECGs ----------------------------------------------------------------

@pytest.mark.parametrize("upload_name", ["scan.png", "ecg.hea", "ecg.csv", "ecg.edf", "ecg"])
def test_png_image_is_refused_by_name(upload_name):
    with pytest.raises(ECGFormatError, match=rf"^{upload_name}: this is a PNG image, not an ECG"):
        load_ecg(_png_bytes(), name=upload_name)


@pytest.mark.parametrize("upload_name,problem", [
    ("noise.dat", "WFDB header noise.hea is missing"),
    ("noise.hea", "not a valid WFDB header"),
    ("noise.csv", "not a text"),
    ("noise.npy", "not a NumPy .npy file"),
    ("noise.edf", "not a readable EDF"),
    ("noise.dcm", "not a readable DICOM file"),
    ("noise", "not a recognised ECG file"),
])
def test_random_bytes_are_refused_with_the_file_name(upload_name, problem):
    noise = np.random.default_rng(7).bytes(4096)
    with pytest.raises(ECGFormatError) as info:
        load_ecg(noise, name=upload_name)
    assert type(info.value) is ECGFormatError
    assert str(info.value).startswith(upload_name + ":") and problem in str(info.value)


def test_empty_file_is_refused(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(ECGFormatError, match=r"empty\.csv: the file is empty"):
        load_ecg(empty)
    with pytest.raises(ECGFormatError, match=r"^upload\.edf: the file is empty"):
        load_ecg(b"", name="upload.edf")


def test_unsupported_file_type_is_refused():
    with pytest.raises(ECGFormatError, match=r"notes\.docx: not a recognised ECG file.*accepted: WFDB"):
        load_ecg(b"Patient was seen on Monday.", name="notes.docx")


def test_missing_path_is_refused(tmp_path):
    with pytest.raises(ECGFormatError, match="no such file"):
        load_ecg(tmp_path / "nothing.hea")


# --- uploads: size, names, ambiguity ---------------------------------------------------------

def test_oversize_upload_is_refused_with_the_limit_in_the_message(data_dir):
    data = (data_dir / "mitdb" / "100.dat").read_bytes()  # 1.9 MB
    with pytest.raises(ECGFormatError, match=r"100\.dat.*upload is 1\.86 MB; the limit is 1 MB"):
        load_ecg({"100.dat": data}, max_bytes=2**20)


def test_default_upload_limit_is_max_upload_bytes(data_dir, monkeypatch):
    monkeypatch.setattr(load_module, "MAX_UPLOAD_BYTES", 2**20)
    files = {n: (data_dir / "mitdb" / n).read_bytes() for n in ("100.hea", "100.dat")}
    with pytest.raises(ECGFormatError, match="the limit is 1 MB"):
        load_ecg(files)
    assert load_ecg(files, max_bytes=4 * 2**20).n_samples == 650000  # a file path has no limit
    assert load_ecg(data_dir / "mitdb" / "100.hea").n_samples == 650000


def test_bytes_without_a_name_are_refused():
    with pytest.raises(ECGFormatError, match="need a file name"):
        load_ecg(b"I,II\n1,2\n")


@pytest.mark.parametrize("bad_name", ["..", "."])
def test_upload_names_that_point_outside_a_folder_are_refused(bad_name):
    with pytest.raises(ECGFormatError, match="not a usable file name"):
        load_ecg({bad_name: b"x"})


def test_several_unrelated_uploads_are_refused_not_half_read(ludb1, tmp_path):
    np.save(tmp_path / "signal.npy", ludb1.signal)
    data = (tmp_path / "signal.npy").read_bytes()
    with pytest.raises(ECGFormatError, match="several files uploaded"):
        load_ecg({"a.npy": data, "b.npy": data}, fs=500)
    assert load_ecg({"a.npy": data, "b.npy": data}, fs=500, name="b.npy").meta["source"] == "b.npy"


def test_two_wfdb_records_in_one_upload_are_refused(data_dir):
    folder = data_dir / "ludb" / "data"
    files = {n: (folder / n).read_bytes() for n in ("1.hea", "1.dat", "2.hea", "2.dat")}
    with pytest.raises(ECGFormatError, match="several WFDB headers"):
        load_ecg(files)
    assert load_ecg(files, name="2.hea").meta["source"] == "2.hea"


def test_upload_content_must_be_bytes():
    with pytest.raises(ECGFormatError, match="must be bytes"):
        load_ecg({"a.csv": "I,II\n1,2\n"})


def test_fs_argument_that_is_not_a_number_is_refused(data_dir):
    with pytest.raises(ECGFormatError, match="fs='fast' is not a sampling rate"):
        load_ecg(data_dir / "ludb" / "data" / "1.hea", fs="fast")


def test_fs_argument_is_ignored_but_noted_when_the_file_states_its_rate(data_dir):
    ecg = load_ecg(data_dir / "ludb" / "data" / "1.hea", fs=250)
    assert ecg.fs == 500 and ecg.meta["fs_argument_ignored"] == 250
