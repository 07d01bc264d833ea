"""Reading ECG files: one reader per format, chosen by :func:`load_ecg`.

- :mod:`~beatnet_core.io.load`: ``load_ecg`` (paths, bytes, uploads; picks the reader by content
  signature, then by extension; upload size limit).
- :mod:`~beatnet_core.io.source`: where the bytes come from (a path, or uploads).
- :mod:`~beatnet_core.io.sniff`: recognising a format from a file's first bytes.
- One reader per format, each ``read_<fmt>(src, fs) -> ECG`` ending in
  :func:`beatnet_core.ecg.make_ecg`: :mod:`~beatnet_core.io.wfdb` (WFDB incl. the
  PhysioNet Challenge's ``.hea`` + ``.mat``), :mod:`~beatnet_core.io.csv`,
  :mod:`~beatnet_core.io.npy`, :mod:`~beatnet_core.io.edf` (EDF/EDF+/BDF),
  :mod:`~beatnet_core.io.dicom` (DICOM ECG waveforms).
- :mod:`~beatnet_core.io.common`: units, sex and age helpers the readers share.
"""
from beatnet_core.io.load import MAX_UPLOAD_BYTES, load_ecg

__all__ = ["load_ecg", "MAX_UPLOAD_BYTES"]
