"""WFDB reading on the shared PhysioNet records: LUDB, MIT-BIH, PTB-XL (raw layout and the
Challenge .hea + .mat pairs), round trips through wfdb.wrsamp, uploads, and broken records."""
from __future__ import annotations

import shutil
import time
from pathlib import Path

import numpy as np
import pytest
import wfdb

from beatnet_core import ECGFormatError, load_ecg
from beatnet_core.ecg import LEADS, canonical_lead_name


def _reference_mv(header: Path) -> dict[str, np.ndarray]:
    """wfdb's own physical reading of a record, by canonical lead name."""
    record = wfdb.rdrecord(str(header.with_suffix("")))
    return {canonical_lead_name(n): record.p_signal[:, i] for i, n in enumerate(record.sig_name)}


def _copy_record(src_header: Path, folder: Path, name: str | None = None) -> Path:
    """Copy a record's header and signal files into ``folder`` (optionally renaming the record)."""
    for f in src_header.parent.glob(src_header.stem + ".*"):
        if f.suffix in (".hea", ".dat", ".mat"):
            shutil.copy(f, folder / f.name)
    if name is None:
        return folder / src_header.name
    text = (folder / src_header.name).read_text().replace(src_header.stem, name)
    for f in folder.glob(src_header.stem + ".*"):
        f.rename(folder / (name + f.suffix))
    (folder / (name + ".hea")).write_text(text)
    return folder / (name + ".hea")


def _files(header: Path) -> dict[str, bytes]:
    return {f.name: f.read_bytes() for f in header.parent.glob(header.stem + ".*")
            if f.suffix in (".hea", ".dat", ".mat")}


@pytest.mark.parametrize("relative,fs,n_samples,leads", [
    ("ludb/data/1.hea", 500, 5000, LEADS),
    ("ptbxl/records500/00000/00001_hr.hea", 500, 5000, LEADS),
    ("ptbxl/records100/00000/00001_lr.hea", 100, 1000, LEADS),
    ("cinc2021_ptbxl/HR06000.hea", 500, 5000, LEADS),
    ("mitdb/100.hea", 360, 650000, ("II", "V5")),
])
def test_shared_records_read_in_mv_matching_wfdb(data_dir, relative, fs, n_samples, leads):
    header = data_dir / relative
    ecg = load_ecg(header)
    assert ecg.fs == fs and ecg.signal.shape == (n_samples, 12) and ecg.signal.dtype == np.float32
    assert ecg.available_leads == list(leads) and ecg.meta["units"] == "mV"
    for name, values in _reference_mv(header).items():
        np.testing.assert_allclose(ecg.lead(name), values, atol=1e-6)


def test_challenge_records_carry_dx_age_and_sex(data_dir):
    headers = sorted((data_dir / "cinc2021_ptbxl").glob("HR*.hea"))
    assert len(headers) == 10
    for header in headers:
        ecg = load_ecg(header)
        assert ecg.lead_mask.all() and ecg.duration_s == 10.0
        assert ecg.meta["snomed_codes"] and len(ecg.meta["diagnoses"]) == len(ecg.meta["snomed_codes"])
    first = load_ecg(headers[0])
    assert first.meta["age"] == 59 and first.meta["sex"] == "F"
    assert first.meta["diagnoses"] == ["T-wave abnormal", "sinus rhythm"]


def test_mitbih_holter_records_load_in_linear_time(data_dir):
    """Six 30-min records (650,000 samples each); a quadratic path would take minutes."""
    start = time.perf_counter()
    for header in sorted((data_dir / "mitdb").glob("*.hea")):
        ecg = load_ecg(header)
        assert ecg.n_samples == 650000 and ecg.fs == 360 and ecg.lead_mask.sum() == 2
        assert ecg.meta["age"] and ecg.meta["sex"] in ("M", "F")
    assert time.perf_counter() - start < 10


@pytest.mark.parametrize("relative", ["ludb/data/1.hea", "mitdb/100.hea", "cinc2021_ptbxl/HR06003.hea"])
def test_upload_of_header_and_signal_file_equals_reading_the_path(data_dir, relative):
    header = data_dir / relative
    uploaded = load_ecg(_files(header))
    np.testing.assert_array_equal(uploaded.signal, load_ecg(header).signal)
    assert uploaded.meta["source"] == header.name


def test_record_named_by_its_data_file_or_without_extension(data_dir):
    reference = load_ecg(data_dir / "ludb" / "data" / "1.hea").signal
    np.testing.assert_array_equal(load_ecg(data_dir / "ludb" / "data" / "1.dat").signal, reference)
    np.testing.assert_array_equal(load_ecg(str(data_dir / "ludb" / "data" / "1")).signal, reference)


@pytest.mark.parametrize("fmt,bits", [("16", 16), ("212", 12)])
def test_wrsamp_round_trip(data_dir, tmp_path, fmt, bits):
    original = wfdb.rdrecord(str(data_dir / "ludb" / "data" / "1"))
    wfdb.wrsamp("rt", fs=original.fs, units=["mV"] * 12, sig_name=original.sig_name,
                p_signal=original.p_signal, fmt=[fmt] * 12, comments=original.comments,
                write_dir=str(tmp_path))
    gains = np.array(wfdb.rdheader(str(tmp_path / "rt")).adc_gain)
    ecg = load_ecg(tmp_path / "rt.hea")
    assert ecg.fs == original.fs and ecg.meta["age"] == 51
    for i, name in enumerate(original.sig_name):
        # within half a quantisation step (plus float32 rounding)
        error = np.abs(ecg.lead(name) - original.p_signal[:, i]).max()
        assert error <= 0.5 / gains[i] + 1e-5, (name, error)
    # and the same through an upload
    np.testing.assert_array_equal(load_ecg(_files(tmp_path / "rt.hea")).signal, ecg.signal)


def test_wrsamp_round_trip_in_microvolts(data_dir, tmp_path):
    original = wfdb.rdrecord(str(data_dir / "ptbxl" / "records100" / "00000" / "00001_lr"))
    wfdb.wrsamp("uv", fs=original.fs, units=["uV"] * 12, sig_name=original.sig_name,
                p_signal=original.p_signal * 1000, fmt=["16"] * 12, write_dir=str(tmp_path))
    ecg = load_ecg(tmp_path / "uv.hea")
    np.testing.assert_allclose(ecg.signal, original.p_signal.astype(np.float32), atol=1e-4)


# --- broken records --------------------------------------------------------------------------

def test_data_file_uploaded_without_its_header(data_dir):
    data = (data_dir / "mitdb" / "100.dat").read_bytes()
    with pytest.raises(ECGFormatError, match=r"^100\.dat: WFDB header 100\.hea is missing"):
        load_ecg(data, name="100.dat")


def test_header_without_its_signal_file(data_dir, tmp_path):
    shutil.copy(data_dir / "ludb" / "data" / "1.hea", tmp_path / "1.hea")
    with pytest.raises(ECGFormatError, match=r"1\.hea: its signal file 1\.dat is missing"):
        load_ecg(tmp_path / "1.hea")
    with pytest.raises(ECGFormatError, match=r"1\.hea: its signal file 1\.dat is missing"):
        load_ecg((tmp_path / "1.hea").read_bytes(), name="1.hea")


def test_header_naming_a_different_data_file(data_dir):
    folder = data_dir / "ludb" / "data"
    uploads = {"1.hea": (folder / "1.hea").read_bytes(), "2.dat": (folder / "2.dat").read_bytes()}
    with pytest.raises(ECGFormatError, match=r"1\.hea: its signal file 1\.dat is missing "
                                             r"\(uploaded: 1\.hea, 2\.dat\)"):
        load_ecg(uploads)


def test_data_file_of_another_record_is_caught_by_the_checksums(data_dir):
    folder = data_dir / "ludb" / "data"  # same size and format: only the checksums tell them apart
    uploads = {"1.hea": (folder / "1.hea").read_bytes(), "1.dat": (folder / "2.dat").read_bytes()}
    with pytest.raises(ECGFormatError, match=r"1\.hea: the data in 1\.dat does not match the header's "
                                             r"checksums.*another record"):
        load_ecg(uploads)


def test_truncated_data_file_on_disk(data_dir, tmp_path):
    header = _copy_record(data_dir / "ludb" / "data" / "1.hea", tmp_path)
    data = (tmp_path / "1.dat").read_bytes()
    (tmp_path / "1.dat").write_bytes(data[: len(data) // 2])
    with pytest.raises(ECGFormatError, match=r"1\.hea: header says 5000 samples, but 1\.dat holds only 2500"):
        load_ecg(header)


def test_truncated_data_file_upload_format_212(data_dir):
    files = _files(data_dir / "mitdb" / "100.hea")
    files["100.dat"] = files["100.dat"][:300_001]
    with pytest.raises(ECGFormatError, match=r"100\.hea: header says 650000 samples, but 100\.dat holds "
                                             r"only 100000 .*truncated"):
        load_ecg(files)


def test_truncated_challenge_mat_file(data_dir):
    files = _files(data_dir / "cinc2021_ptbxl" / "HR06000.hea")
    files["HR06000.mat"] = files["HR06000.mat"][:5000]
    with pytest.raises(ECGFormatError, match=r"HR06000\.hea: header says 5000 samples, but HR06000\.mat "
                                             r"holds only"):
        load_ecg(files)


def test_header_sample_count_larger_than_the_data(data_dir, tmp_path):
    header = _copy_record(data_dir / "ptbxl" / "records500" / "00000" / "00001_hr.hea", tmp_path)
    header.write_text(header.read_text().replace("00001_hr 12 500 5000", "00001_hr 12 500 6000", 1))
    with pytest.raises(ECGFormatError, match=r"00001_hr\.hea: header says 6000 samples, but 00001_hr\.dat "
                                             r"holds only 5000"):
        load_ecg(header)
    with pytest.raises(ECGFormatError, match="header says 6000 samples"):
        load_ecg(_files(header))


def test_header_declaring_more_signals_than_it_describes(data_dir, tmp_path):
    header = _copy_record(data_dir / "mitdb" / "100.hea", tmp_path)
    lines = header.read_text().splitlines()
    header.write_text("\n".join([lines[0], lines[1]]) + "\n")  # "100 2 ..." but one signal line
    with pytest.raises(ECGFormatError, match=r"100\.hea: header declares 2 signals but describes 1"):
        load_ecg(header)


def test_header_that_is_not_a_header(tmp_path):
    (tmp_path / "x.hea").write_text("this is a shopping list\neggs\n")
    with pytest.raises(ECGFormatError, match=r"x\.hea: not a valid WFDB header"):
        load_ecg(tmp_path / "x.hea")


def test_sampling_rate_below_minimum(data_dir, tmp_path):
    header = _copy_record(data_dir / "ludb" / "data" / "1.hea", tmp_path)
    header.write_text(header.read_text().replace("1 12 500 5000", "1 12 40 5000", 1))
    with pytest.raises(ECGFormatError, match=r"1\.hea: sampling rate 40 Hz is below the minimum of 50 Hz"):
        load_ecg(header)


def test_record_shorter_than_minimum_duration(data_dir, tmp_path):
    original = wfdb.rdrecord(str(data_dir / "ludb" / "data" / "1"), sampto=1000)  # 2 s
    wfdb.wrsamp("short", fs=original.fs, units=["mV"] * 12, sig_name=original.sig_name,
                p_signal=original.p_signal, fmt=["16"] * 12, write_dir=str(tmp_path))
    with pytest.raises(ECGFormatError, match=r"short\.hea: record is 2\.00 s long; at least 2\.5 s"):
        load_ecg(tmp_path / "short.hea")


def test_unknown_lead_names_in_a_header(data_dir, tmp_path):
    header = _copy_record(data_dir / "mitdb" / "100.hea", tmp_path)
    header.write_text(header.read_text().replace(" V5", " ABP"))
    with pytest.raises(ECGFormatError, match=r"100\.hea: unknown lead name\(s\) \['ABP'\]"):
        load_ecg(header)
