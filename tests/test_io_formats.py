"""CSV, NPY, EDF and DICOM readers: real records written with each format's own library and read
back (round trips), bytes uploads, the formats' conventions, and their broken files."""
from __future__ import annotations

import io
import time
from datetime import datetime

import numpy as np
import pandas as pd
import pydicom
import pytest
from pydicom.data import get_testdata_file
from pyedflib import highlevel

from beatnet_core import ECGFormatError, load_ecg
from beatnet_core.ecg import LEADS

DICOM_ECG = get_testdata_file("waveform_ecg.dcm")


@pytest.fixture(scope="module")
def ludb1(data_dir):
    """LUDB record 1: 12 leads, 500 Hz, 10 s, in mV."""
    return load_ecg(data_dir / "ludb" / "data" / "1.hea")


@pytest.fixture(scope="module")
def ptbxl_lr(data_dir):
    """PTB-XL record 1 at 100 Hz, in mV."""
    return load_ecg(data_dir / "ptbxl" / "records100" / "00000" / "00001_lr.hea")


@pytest.fixture(scope="module")
def mitdb100(data_dir):
    """MIT-BIH 100: 30 min, 360 Hz, leads II (MLII) and V5."""
    return load_ecg(data_dir / "mitdb" / "100.hea")


def _npy_bytes(array) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=True)
    return buffer.getvalue()


def _table(ecg, leads=LEADS) -> pd.DataFrame:
    return pd.DataFrame({name: ecg.lead(name).astype(np.float64) for name in leads})


# --- CSV -----------------------------------------------------------------------------------

def test_csv_round_trip_with_fs_comment(ludb1, tmp_path):
    path = tmp_path / "ludb1.csv"
    path.write_text("# fs=500\n# recorded at rest\n" + _table(ludb1).to_csv(index=False))
    ecg = load_ecg(path)
    assert ecg.fs == 500 and ecg.meta["fs_from"] == "comment"
    assert ecg.meta["comments"] == ["fs=500", "recorded at rest"]
    np.testing.assert_allclose(ecg.signal, ludb1.signal, atol=1e-6)
    np.testing.assert_array_equal(load_ecg(path.read_bytes(), name="ludb1.csv").signal, ecg.signal)


@pytest.mark.parametrize("column,per_second,delimiter", [
    ("time", 1.0, ","), ("t", 1.0, ";"), ("time_s", 1.0, "\t"), ("time_ms", 1000.0, ","),
    ("Time (ms)", 1000.0, ";"),
])
def test_csv_sampling_rate_from_time_column(ptbxl_lr, column, per_second, delimiter):
    table = _table(ptbxl_lr)
    table.insert(0, column, np.round(np.arange(len(table)) / 100 * per_second, 6))
    ecg = load_ecg(table.to_csv(index=False, sep=delimiter).encode(), name="ptbxl.csv")
    assert ecg.fs == 100 and ecg.meta["fs_from"] == "time column"
    np.testing.assert_allclose(ecg.signal, ptbxl_lr.signal, atol=1e-6)


def test_csv_rounded_time_stamps_give_the_exact_rate(mitdb100):
    """360 Hz time stamps rounded to whole milliseconds are uneven by up to half a sample."""
    part = mitdb100.window(0, 20)
    table = _table(part, ("II", "V5"))
    table.insert(0, "time_ms", np.round(np.arange(len(table)) / 0.360))
    assert load_ecg(table.to_csv(index=False).encode(), name="x.csv").fs == 360


@pytest.mark.parametrize("comment", ["# fs: 500 Hz", "# sampling_rate: 500 Hz", "# Sampling rate = 500",
                                     "# sample_rate=0.5 kHz"])
def test_csv_fs_comment_spellings(ludb1, comment):
    text = comment + "\n" + _table(ludb1).to_csv(index=False)
    assert load_ecg(text.encode(), name="x.csv").fs == 500


def test_csv_fs_from_argument_when_the_file_has_none(ludb1):
    ecg = load_ecg(_table(ludb1).to_csv(index=False).encode(), fs=500, name="x.csv")
    assert ecg.fs == 500 and ecg.meta["fs_from"] == "argument"


def test_csv_microvolts_comment_converts_to_mv(ludb1):
    text = "# fs=500\n# units: uV\n" + (_table(ludb1) * 1000).to_csv(index=False, float_format="%.3f")
    ecg = load_ecg(text.encode(), name="uv.csv")
    np.testing.assert_allclose(ecg.signal, ludb1.signal, atol=1e-6)


def test_csv_semicolons_with_decimal_commas_and_pandas_index(ptbxl_lr):
    text = "# fs=100\n" + _table(ptbxl_lr).to_csv(sep=";", decimal=",")  # index column kept
    ecg = load_ecg(text.encode("utf-8-sig"), name="excel.csv")  # with a BOM, as Excel writes
    np.testing.assert_allclose(ecg.signal, ptbxl_lr.signal, atol=1e-6)


def test_csv_lead_aliases_and_fewer_leads(ludb1):
    table = _table(ludb1, ("I", "II", "V1")).rename(columns={"I": "Lead I", "II": "lead_ii", "V1": "v1"})
    ecg = load_ecg(("# fs=500\n" + table.to_csv(index=False)).encode(), name="three.csv")
    assert ecg.available_leads == ["I", "II", "III", "aVR", "aVL", "aVF", "V1"]
    assert sorted(ecg.meta["derived_leads"]) == ["III", "aVF", "aVL", "aVR"]


def test_csv_holter_recording_reads_in_linear_time(mitdb100, tmp_path):
    path = tmp_path / "holter.csv"
    table = _table(mitdb100, ("II", "V5"))
    table.insert(0, "time_s", np.arange(len(table)) / 360)
    table.to_csv(path, index=False, float_format="%.5f")
    start = time.perf_counter()
    ecg = load_ecg(path)
    assert time.perf_counter() - start < 10
    assert ecg.fs == 360 and ecg.n_samples == 650000
    np.testing.assert_allclose(ecg.lead("II"), mitdb100.lead("II"), atol=1e-5)


def test_csv_of_text_is_refused():
    text = "I,II,III\nnormal,sinus,rhythm\nno,ST,change\n"
    with pytest.raises(ECGFormatError, match=r"report\.csv: column 'I' holds text \('normal'"):
        load_ecg(text.encode(), fs=500, name="report.csv")


def test_csv_unknown_lead_names_are_refused(ludb1):
    table = _table(ludb1, ("I", "II")).rename(columns={"II": "pressure"})
    with pytest.raises(ECGFormatError, match=r"x\.csv: unknown lead name\(s\) \['pressure'\]"):
        load_ecg(table.to_csv(index=False).encode(), fs=500, name="x.csv")


def test_csv_without_header_row_is_refused(ludb1):
    with pytest.raises(ECGFormatError, match=r"x\.csv: the first row holds numbers, not lead names"):
        load_ecg(_table(ludb1).to_csv(index=False, header=False).encode(), fs=500, name="x.csv")


def test_csv_truncated_last_line_is_refused(ludb1):
    text = "# fs=500\n" + _table(ludb1).to_csv(index=False)
    cut = text[: text.rindex(",", 0, len(text) - 40)]  # mid-row, as an interrupted upload ends
    with pytest.raises(ECGFormatError, match=r"x\.csv: the last line has \d+ of 12 values; .*truncated"):
        load_ecg(cut.encode(), name="x.csv")


def test_csv_without_sampling_rate_is_refused(ludb1):
    with pytest.raises(ECGFormatError, match=r"x\.csv: sampling rate missing; pass fs="):
        load_ecg(_table(ludb1).to_csv(index=False).encode(), name="x.csv")


def test_csv_uneven_time_column_is_refused(ptbxl_lr):
    table = _table(ptbxl_lr)
    t = np.arange(len(table)) / 100
    t[500:] += 0.5  # a 0.5 s gap
    table.insert(0, "time", t)
    with pytest.raises(ECGFormatError, match=r"x\.csv: the time column is not evenly spaced"):
        load_ecg(table.to_csv(index=False).encode(), name="x.csv")


def test_csv_comment_and_time_column_that_disagree_are_refused(ptbxl_lr):
    table = _table(ptbxl_lr)
    table.insert(0, "time", np.arange(len(table)) / 100)
    with pytest.raises(ECGFormatError, match=r"comment says fs=500 Hz but the time column implies 100 Hz"):
        load_ecg(("# fs=500\n" + table.to_csv(index=False)).encode(), name="x.csv")


def test_csv_all_nan_is_refused():
    """Synthetic: no real record is all gaps."""
    text = "# fs=500\nI,II\n" + "NaN,\n" * 2000
    with pytest.raises(ECGFormatError, match=r"gaps\.csv: every lead is flat, NaN or absent"):
        load_ecg(text.encode(), name="gaps.csv")


def test_csv_column_without_a_name_is_refused(ludb1):
    text = "# fs=500\n" + _table(ludb1, ("I", "II", "V1")).to_csv(index=False).replace("I,II,V1", "I,,V1", 1)
    with pytest.raises(ECGFormatError, match=r"x\.csv: column 2 has no name"):
        load_ecg(text.encode(), name="x.csv")


def test_csv_space_separated_is_refused_with_a_hint(ludb1):
    with pytest.raises(ECGFormatError, match="commas, semicolons or tabs"):
        load_ecg(_table(ludb1).to_csv(index=False, sep=" ").encode(), fs=500, name="x.txt")


# --- NPY -----------------------------------------------------------------------------------

@pytest.mark.parametrize("transpose", [False, True])
def test_npy_round_trip(data_dir, tmp_path, transpose):
    ptbxl = load_ecg(data_dir / "ptbxl" / "records500" / "00000" / "00001_hr.hea")
    array = ptbxl.signal.T if transpose else ptbxl.signal
    np.save(tmp_path / "ptbxl.npy", array)
    ecg = load_ecg(tmp_path / "ptbxl.npy", fs=500)
    assert ecg.fs == 500 and ecg.meta.get("transposed", False) == transpose
    np.testing.assert_array_equal(ecg.signal, ptbxl.signal)
    np.testing.assert_array_equal(load_ecg((tmp_path / "ptbxl.npy").read_bytes(), fs=500,
                                           name="ptbxl.npy").signal, ecg.signal)


def test_npy_pickled_object_array_is_refused(ludb1):
    objects = np.array([ludb1.signal, "note"], dtype=object)
    with pytest.raises(ECGFormatError, match=r"evil\.npy: holds pickled Python objects, which are never loaded"):
        load_ecg(_npy_bytes(objects), fs=500, name="evil.npy")


def test_npy_without_sampling_rate_is_refused(ludb1):
    with pytest.raises(ECGFormatError, match=r"x\.npy: sampling rate missing; pass fs="):
        load_ecg(_npy_bytes(ludb1.signal), name="x.npy")


def test_npy_sampling_rate_below_minimum_is_refused(ludb1):
    with pytest.raises(ECGFormatError, match=r"x\.npy: sampling rate 25 Hz is below the minimum of 50 Hz"):
        load_ecg(_npy_bytes(ludb1.signal), fs=25, name="x.npy")


def test_npy_shorter_than_minimum_duration_is_refused(ludb1):
    with pytest.raises(ECGFormatError, match=r"x\.npy: record is 2\.00 s long"):
        load_ecg(_npy_bytes(ludb1.signal[:1000]), fs=500, name="x.npy")


@pytest.mark.parametrize("shape_of,problem", [
    (lambda s: s[:, 0], r"array of shape \(5000,\); a 2-D"),
    (lambda s: s[None], r"array of shape \(1, 5000, 12\); a 2-D"),
    (lambda s: s[:, :8], r"array of shape \(5000, 8\); a \.npy ECG must hold the 12 standard leads"),
])
def test_npy_wrong_shapes_are_refused(ludb1, shape_of, problem):
    with pytest.raises(ECGFormatError, match=problem):
        load_ecg(_npy_bytes(shape_of(ludb1.signal)), fs=500, name="x.npy")


def test_npy_truncated_file_is_refused(ludb1):
    data = _npy_bytes(ludb1.signal)
    with pytest.raises(ECGFormatError, match=r"x\.npy: the header announces .* only \d+ bytes follow; "
                                             "file truncated"):
        load_ecg(data[:-1000], fs=500, name="x.npy")


def test_npy_all_flat_is_refused():
    """Synthetic: a flat-lined recording (electrodes off)."""
    with pytest.raises(ECGFormatError, match=r"flat\.npy: every lead is flat"):
        load_ecg(_npy_bytes(np.full((5000, 12), 0.2, np.float32)), fs=500, name="flat.npy")


def test_npy_text_array_is_refused():
    with pytest.raises(ECGFormatError, match=r"x\.npy: holds <U\d+ values, not numbers"):
        load_ecg(_npy_bytes(np.array([["a"] * 12] * 3000)), fs=500, name="x.npy")


# --- EDF -----------------------------------------------------------------------------------

def _write_edf(path, columns: dict[str, np.ndarray], rates: dict[str, float], dimension="uV",
               scale=1000.0, **header):
    """Write channels with pyedflib's high-level writer (physical range from the data)."""
    signals, headers = [], []
    for label, values in columns.items():
        values = np.asarray(values, np.float64) * scale
        pad = 0.1 * (values.max() - values.min()) + 1
        headers.append(highlevel.make_signal_header(
            label, dimension=dimension, sample_frequency=rates[label],
            physical_min=round(values.min() - pad), physical_max=round(values.max() + pad)))
        signals.append(values)
    highlevel.write_edf(str(path), signals, headers, highlevel.make_header(**header))
    return headers


def test_edf_round_trip_in_microvolts_with_patient_meta(ludb1, tmp_path):
    path = tmp_path / "ludb1.edf"
    labels = [f"ECG {name}" for name in LEADS]
    headers = _write_edf(path, {label: ludb1.lead(name) for label, name in zip(labels, LEADS)},
                         dict.fromkeys(labels, 500), sex="Female", birthdate=datetime(1966, 5, 2),
                         startdate=datetime(2017, 9, 1, 10, 0, 0), patientname="Jane Doe")
    ecg = load_ecg(path)
    assert ecg.fs == 500 and ecg.lead_mask.all() and ecg.meta["format"] == "EDF"
    assert ecg.meta["sex"] == "F" and ecg.meta["age"] == 51
    assert "Jane" not in repr(ecg.meta)  # the patient's name is not copied
    for i, name in enumerate(LEADS):
        # 16-bit quantisation of the physical range, in mV
        step = (headers[i]["physical_max"] - headers[i]["physical_min"]) / 65535 / 1000
        assert np.abs(ecg.lead(name) - ludb1.lead(name)).max() <= step, name
    np.testing.assert_array_equal(load_ecg(path.read_bytes(), name="ludb1.edf").signal, ecg.signal)


def test_edf_mixed_rates_keep_the_common_rate_and_skip_other_channels(ludb1, tmp_path):
    path = tmp_path / "mixed.edf"
    columns = {name: ludb1.lead(name) for name in LEADS[:11]}
    columns["V6"] = ludb1.lead("V6")[::2]      # 250 Hz
    columns["Resp"] = ludb1.lead("V6")[::20]   # not an ECG channel, 25 Hz
    rates = {**dict.fromkeys(LEADS[:11], 500), "V6": 250, "Resp": 25}
    _write_edf(path, columns, rates, dimension="mV", scale=1.0,
               startdate=datetime(2020, 1, 1))
    ecg = load_ecg(path)
    assert ecg.fs == 500 and ecg.available_leads == list(LEADS[:11])
    assert ecg.meta["skipped_channels"] == {"V6": "sampled at 250 Hz, the other leads at 500 Hz",
                                            "Resp": "not an ECG lead"}
    assert ecg.meta["masked_leads"] == {"V6": "absent"}


def test_edf_plus_annotations_are_kept_not_read_as_signals(ludb1, tmp_path):
    path = tmp_path / "annotated.edf"
    signal_headers = highlevel.make_signal_headers(list(LEADS), dimension="mV", sample_frequency=500,
                                                   physical_min=-10, physical_max=10)
    header = highlevel.make_header(startdate=datetime(2020, 1, 1))
    header["annotations"] = [[1.5, 0, "PVC"], [4.0, 2.0, "artefact"]]
    highlevel.write_edf(str(path), np.ascontiguousarray(ludb1.signal.T, np.float64), signal_headers, header)
    ecg = load_ecg(path)
    assert ecg.meta["annotations"] == [(1.5, 0.0, "PVC"), (4.0, 2.0, "artefact")]
    assert ecg.meta["source_leads"] == list(LEADS)


def test_edf_holter_recording(mitdb100, tmp_path):
    path = tmp_path / "holter.edf"
    holter = mitdb100.window(0, 1800)  # whole seconds: EDF pads its last 1 s data record
    _write_edf(path, {"ECG II": holter.lead("II"), "ECG V5": holter.lead("V5")},
               {"ECG II": 360, "ECG V5": 360}, startdate=datetime(2020, 1, 1))
    start = time.perf_counter()
    ecg = load_ecg(path)
    assert time.perf_counter() - start < 10
    assert ecg.fs == 360 and ecg.n_samples == 648000 and ecg.available_leads == ["II", "V5"]
    np.testing.assert_allclose(ecg.lead("II"), holter.lead("II"), atol=1e-3)


def test_edf_truncated_file_is_refused(ludb1, tmp_path):
    path = tmp_path / "cut.edf"
    _write_edf(path, {name: ludb1.lead(name) for name in LEADS}, dict.fromkeys(LEADS, 500),
               startdate=datetime(2020, 1, 1))
    data = path.read_bytes()
    with pytest.raises(ECGFormatError, match=r"^cut\.edf: not a readable EDF/EDF\+ file"):
        load_ecg(data[: len(data) // 2], name="cut.edf")


def test_edf_without_ecg_leads_is_refused(ludb1, tmp_path):
    path = tmp_path / "psg.edf"
    _write_edf(path, {"EEG Fpz-Cz": ludb1.lead("I"), "ECG": ludb1.lead("II")},
               {"EEG Fpz-Cz": 500, "ECG": 500}, startdate=datetime(2020, 1, 1))
    with pytest.raises(ECGFormatError, match=r"psg\.edf: no channel is a known ECG lead .*'EEG Fpz-Cz', 'ECG'"):
        load_ecg(path)


def test_edf_lead_in_non_voltage_units_is_refused(ludb1, tmp_path):
    path = tmp_path / "bpm.edf"
    _write_edf(path, {"II": ludb1.lead("II")}, {"II": 500}, dimension="bpm", startdate=datetime(2020, 1, 1))
    with pytest.raises(ECGFormatError, match=r"bpm\.edf: channel 'II' is in 'bpm', not a voltage"):
        load_ecg(path)


# --- DICOM ---------------------------------------------------------------------------------

def test_dicom_real_waveform_reads_rhythm_strip_in_mv():
    ecg = load_ecg(DICOM_ECG)
    dataset = pydicom.dcmread(DICOM_ECG)
    reference_uv = dataset.waveform_array(0)  # pydicom's own scaling (uV), group 0 = RHYTHM
    assert ecg.fs == 1000 and ecg.n_samples == 10000 and ecg.lead_mask.all()
    np.testing.assert_allclose(ecg.signal, reference_uv / 1000, atol=1e-6)
    assert ecg.meta["waveform_group"] == "RHYTHM"
    assert ecg.meta["age"] == 42 and ecg.meta["sex"] == "F"
    assert ecg.meta["diagnoses"] == ["RITMO SINUSALE", "ECG NORMALE"]
    assert ecg.meta["measurements"]["QRS Duration"] == (75.0, "ms")
    assert ecg.meta["channel_labels"][0] == "Lead I (Einthoven)"


def test_dicom_upload(tmp_path):
    with open(DICOM_ECG, "rb") as fh:
        data = fh.read()
    np.testing.assert_array_equal(load_ecg(data, name="ecg.dcm").signal, load_ecg(DICOM_ECG).signal)


def test_dicom_round_trip_with_a_real_ludb_record(ludb1, tmp_path):
    """The real DICOM file with LUDB record 1 put in its rhythm group, saved and read back."""
    dataset = pydicom.dcmread(DICOM_ECG)
    group = dataset.WaveformSequence[0]
    sensitivity_uv = float(group.ChannelDefinitionSequence[0].ChannelSensitivity)
    counts = np.round(ludb1.signal.astype(np.float64) * 1000 / sensitivity_uv).astype("<i2")
    group.WaveformData = counts.tobytes()
    group.NumberOfWaveformSamples = counts.shape[0]
    group.SamplingFrequency = 500
    dataset.PatientAge, dataset.PatientSex = "051Y", "M"
    dataset.save_as(tmp_path / "ludb1.dcm")
    ecg = load_ecg(tmp_path / "ludb1.dcm")
    assert ecg.fs == 500 and ecg.meta["age"] == 51 and ecg.meta["sex"] == "M"
    np.testing.assert_allclose(ecg.signal, ludb1.signal, atol=sensitivity_uv / 2000 + 1e-6)


def test_dicom_truncated_waveform_data_is_refused(tmp_path):
    dataset = pydicom.dcmread(DICOM_ECG)
    group = dataset.WaveformSequence[0]
    group.WaveformData = group.WaveformData[: len(group.WaveformData) // 2]
    dataset.save_as(tmp_path / "cut.dcm")
    with pytest.raises(ECGFormatError, match=r"cut\.dcm: waveform data holds 120000 bytes, but 10000 "
                                             r"samples x 12 channels need 240000; file truncated"):
        load_ecg(tmp_path / "cut.dcm")


def test_dicom_truncated_file_is_refused():
    with open(DICOM_ECG, "rb") as fh:
        data = fh.read()
    with pytest.raises(ECGFormatError, match=r"^cut\.dcm: not a readable DICOM file"):
        load_ecg(data[: len(data) // 2], name="cut.dcm")


def test_dicom_image_without_waveform_is_refused():
    with pytest.raises(ECGFormatError, match=r"CT_small\.dcm: DICOM file without a waveform \(modality/class: "
                                             r"CT\); not an ECG"):
        load_ecg(get_testdata_file("CT_small.dcm"))
