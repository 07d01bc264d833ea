"""Training data: PTB-XL loading, benchmark label sets, splits and the PTB-XL download.

Everything follows the PTB-XL benchmark (Strodthoff et al., IEEE JBHI 2021;
https://github.com/helme/ecg_ptbxl_benchmarking) on the PTB-XL dataset
(Wagner et al., Scientific Data 2020)::

    load_ptbxl(data_dir, task) -> PTBXLDataset    # conditioned signals, labels, folds, age/sex
    split_indices(strat_fold) -> Split            # folds 1-8 / 9 / 10
    fold_rotation(test_fold) -> folds             # cross-validation: validation = the fold before the test fold
    stratified_fraction(labels, train_idx, f)     # nested label-stratified subsets
    task_labels(scp_codes, statements, task)      # label names + multi-hot matrix
    describe_label(code)                          # 'IMI' -> 'inferior myocardial infarction'
    download_ptbxl(to)                            # the official release from PhysioNet
"""
from beatnet_core.data.download import PTBXL_BASE_URL, ChecksumMismatchError, DownloadError, download_ptbxl
from beatnet_core.data.labels import (SUPERCLASSES, TASKS, describe_label, has_label, parse_scp_codes,
                                      read_scp_statements, task_labels)
from beatnet_core.data.ptbxl import (PTBXLDataset, Split, default_cache_dir, fold_rotation, load_ptbxl,
                                     read_database, split_indices, stratified_fraction)

__all__ = [
    "PTBXLDataset", "Split", "load_ptbxl", "read_database", "split_indices", "fold_rotation",
    "stratified_fraction",
    "default_cache_dir", "TASKS", "SUPERCLASSES", "task_labels", "has_label", "parse_scp_codes",
    "read_scp_statements", "describe_label", "download_ptbxl", "DownloadError", "ChecksumMismatchError",
    "PTBXL_BASE_URL",
]
