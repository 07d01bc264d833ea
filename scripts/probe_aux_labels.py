"""Probe: does auxiliary subdiagnostic supervision help the superdiagnostic AUC? (exploration; removed after)

    python scripts/probe_aux_labels.py beatnet|inception1d SEED [bf16|fp32]

Trains on the 5 superdiagnostic labels plus the subdiagnostic statements not among them (model
selection on the validation AUC of all of them), scores the 5 superdiagnostic outputs; appends to
/tmp/probe/results.jsonl.
"""
import sys, json
import numpy as np
from pathlib import Path
from beatnet_core.train import TrainConfig, load_task, train, load_run, make_inputs, predict_scores
from beatnet_core.metrics import macro_auc
from sklearn.metrics import roc_auc_score

model = sys.argv[1]; seed = int(sys.argv[2]); prec = sys.argv[3] if len(sys.argv) > 3 else "bf16"
data = "../shared/data/ptbxl"
sup = load_task(data, "superdiagnostic", 10, progress=False)
sub = load_task(data, "subdiagnostic", 10, progress=False)
pos = {e: i for i, e in enumerate(sub.ecg_id)}
keep = [j for j, n in enumerate(sub.label_names) if n not in sup.label_names]
aux = np.zeros((len(sup), len(keep)), sup.labels.dtype)
for i, e in enumerate(sup.ecg_id):
    if e in pos:
        aux[i] = sub.labels[pos[e]][keep]
n_main = len(sup.label_names)
sup.labels = np.concatenate([sup.labels, aux], axis=1)
sup.label_names = list(sup.label_names) + [sub.label_names[j] for j in keep]
print("labels", len(sup.label_names), flush=True)
cfg = TrainConfig(model=model, task="superdiagnostic", epochs=20, seed=seed, threads=1, precision=prec)
out = Path(f"/tmp/probe/{model}_aux_seed{seed}")
s = train(cfg, data, out, progress=True, dataset=sup)
m, _ = load_run(out)
m.eval()
inputs = make_inputs(m, sup, progress=False)
split = sup.split()
sc = predict_scores(m, inputs, split.test)
yt = sup.labels[split.test][:, :n_main]
va = predict_scores(m, inputs, split.val)
res = {"model": model, "seed": seed, "val5": macro_auc(sup.labels[split.val][:, :n_main], va[:, :n_main]),
       "test5": macro_auc(yt, sc[:, :n_main]),
       "per_class": {n: roc_auc_score(yt[:, j], sc[:, j]) for j, n in enumerate(sup.label_names[:n_main])},
       "best_epoch": s["best_epoch"], "seconds": s["train_seconds"]}
print(json.dumps(res))
with open("/tmp/probe/results.jsonl", "a") as f:
    f.write(json.dumps(res) + "\n")
