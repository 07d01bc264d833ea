import numpy as np
import pytest

from beatnet_core import ECGFormatError, load_ecg
from beatnet_core.ecg import LEADS, canonical_lead_name, make_ecg
from beatnet_core.signal import condition


@pytest.mark.parametrize("alias,canon", [("i", "I"), ("avr", "aVR"), ("AVR", "aVR"), ("MLII", "II"),
                                         ("Lead II", "II"), ("V5", "V5"), ("lead_v3", "V3")])
def test_aliases(alias, canon):
    assert canonical_lead_name(alias) == canon


def test_unknown_and_inverted_leads_are_not_mapped():
    assert canonical_lead_name("-aVR") is None
    assert canonical_lead_name("X") is None


def test_wfdb_ludb_reads_mv_and_meta(data_dir):
    ecg = load_ecg(data_dir / "ludb" / "data" / "1.hea")
    assert ecg.fs == 500 and ecg.signal.shape == (5000, 12) and ecg.signal.dtype == np.float32
    assert ecg.leads == list(LEADS) and ecg.lead_mask.all()
    assert ecg.meta["age"] == 51 and ecg.meta["sex"] == "F"
    assert any("bradycardia" in d.lower() for d in ecg.meta["diagnoses"])
    # QRS amplitudes of a real adult ECG are a few mV, not ADC units
    assert 0.3 < np.ptp(ecg.lead("II")) < 10


def test_limb_leads_derived_from_i_and_ii(data_dir):
    full = load_ecg(data_dir / "ptbxl" / "records500" / "00000" / "00001_hr.hea")
    keep = [LEADS.index(n) for n in ("I", "II", "V1", "V2", "V3", "V4", "V5", "V6")]
    part = make_ecg(full.signal[:, keep], full.fs, [LEADS[k] for k in keep], source="part")
    assert part.lead_mask.all()
    assert sorted(part.meta["derived_leads"]) == ["III", "aVF", "aVL", "aVR"]
    # PTB-XL's recorded limb leads obey Einthoven/Goldberger up to rounding
    for name in ("III", "aVR", "aVL", "aVF"):
        assert np.abs(part.lead(name) - full.lead(name)).max() < 0.02


def test_absent_and_flat_leads_are_masked_not_silently_zero(data_dir):
    mit = load_ecg(data_dir / "mitdb" / "100.hea")
    assert mit.available_leads == ["II", "V5"]
    assert mit.meta["masked_leads"]["V1"] == "absent"
    sig = load_ecg(data_dir / "ludb" / "data" / "2.hea").signal.copy()
    sig[:, 7] = 0.0
    sig[:, 8] = np.nan
    ecg = make_ecg(sig, 500, LEADS, source="x")
    assert not ecg.lead_mask[7] and not ecg.lead_mask[8]
    assert ecg.meta["masked_leads"] == {"V2": "flat", "V3": "all NaN"}


def test_all_flat_is_refused():
    with pytest.raises(ECGFormatError, match="flat"):
        make_ecg(np.zeros((5000, 12)), 500, LEADS, source="zeros.csv")


def test_condition_reproduces_the_shared_ptbxl_subset(data_dir):
    """Records in both the raw 500 Hz layout and the subset: our conditioning matches theirs."""
    subset = np.load(data_dir / "ptbxl" / "ptbxl_subset_250hz.npz", allow_pickle=False)
    ids = list(subset["ecg_id"])
    checked = 0
    for ecg_id in [i for i in ids if i <= 500][:5]:
        ecg = load_ecg(data_dir / "ptbxl" / "records500" / "00000" / f"{ecg_id:05d}_hr.hea")
        ref = subset["signals"][ids.index(ecg_id)].astype(np.float32)
        ours = condition(ecg)
        assert ours.shape == ref.shape == (2500, 12)
        # the subset is stored as float16: agreement to its rounding (~2e-3 at |z| ~ 4)
        assert np.abs(ours - ref).max() < 0.01
        checked += 1
    assert checked == 5


def test_quality_flags_on_a_real_record(data_dir):
    from beatnet_core.signal import quality_flags

    ecg = load_ecg(data_dir / "ludb" / "data" / "3.hea")
    assert not any(quality_flags(ecg).values())
    sig = ecg.signal.copy()
    rng = np.random.default_rng(0)
    sig[:, 6] += rng.normal(0, 3 * sig[:, 6].std(), sig.shape[0])                 # EMG-like noise on V1
    hi = np.percentile(sig[:, 7], 80)
    sig[:, 7] = np.minimum(sig[:, 7], hi)                                           # amplifier saturation on V2
    bad = make_ecg(sig, ecg.fs, LEADS, source="x")
    flags = quality_flags(bad)
    assert flags["V1"] == ["noisy"] and "clipped" in flags["V2"]
    assert not flags["II"]
