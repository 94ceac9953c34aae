"""Protocol sanity for evlf.eval (issue 6): the `dc` protocol on a random real subset of Fashion-MNIST, IPC 10, ConvNet-3.

One student per subset seed (seed s picks the subset with `evlf.data.random_subset`, the rule of every random subset
in evlf, and initialises the student), as DC's random baseline varies both; DC (Zhao et al. 2021) reports 73.8 +- 0.7. Run from the repo root: `python bench/eval_sanity_random.py [threads]`.
Each seed is written to figures/bench/eval_sanity/ when done (a rerun skips finished seeds); then the summary."""
import json, os, sys, time
from pathlib import Path
import numpy as np, torch
from evlf.eval import get_protocol, train_students
from evlf.data import get_dataset, random_subset
from evlf.core import save_json, versions

torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
out = Path('figures/bench/eval_sanity'); out.mkdir(parents=True, exist_ok=True)
tr, te = get_dataset('fashion-mnist', 'train'), get_dataset('fashion-mnist', 'test')
for s in range(3):
    f = out/f'random_ipc10_seed{s}.json'
    if f.exists(): continue
    idx = torch.cat([random_subset(tr, c, 10, seed=s) for c in range(10)])
    t = time.time()
    r = train_students(tr.data[idx], tr.targets[idx], (te.data, te.targets), get_protocol('dc'), seeds=[s], eval_every=0.2,
                       device='cpu', stack=False, progress=False)[0]
    r.update(wall=time.time() - t, protocol='dc', net='convnet3', ipc=10, subset_seed=s, threads=torch.get_num_threads(), eval_every=0.2)
    save_json(r, f); print(s, r['final'], r['best'], r['wall'], flush=True)
recs = [json.loads((out/f'random_ipc10_seed{s}.json').read_text()) for s in range(3)]
fin, best = np.array([r['final'] for r in recs])*100, np.array([r['best'] for r in recs])*100
summary = dict(command='python bench/eval_sanity_random.py', protocol='dc', net='convnet3', dataset='fashion-mnist', ipc=10,
               final=fin.tolist(), best=best.tolist(), final_mean=fin.mean(), final_std=fin.std(), best_mean=best.mean(), best_std=best.std(),
               best_note='best of the test evaluations every 20% of the epochs (60, 120, ..., 300), the papers convention',
               published='73.8 +- 0.7 (DC, ConvNet-3, random real images)', seconds_per_student=[r['wall'] for r in recs], versions=versions())
save_json(summary, out/'summary.json'); print(json.dumps(summary, indent=1))
