"""evlf's `dc` students against DC's own evaluator (VICO-UoE/DatasetCondensation, `utils.evaluate_synset`) on the same inputs.

For each random real IPC 10 subset of Fashion-MNIST (subset seeds 0..n-1, `evlf.data.random_subset`; seed s also
initialises the student), three students start from the same weights and see the same batches in the same order
(evlf's per-student generator, seeded 10_000 + s), all in float32 on one thread, tested once after training on the
10,000 test images:
  evlf   `evlf.eval.train_students` under `dc`: 300 epochs, rate x0.1 after the 150th, SGD momentum kept;
  evlf@dc-schedule  the same code with DC's epochs and rate drop (301 epochs, x0.1 after the 152nd), momentum kept;
  DC     DC's `evaluate_synset` itself, imported from a checkout of DC's repository (its commit is recorded): it trains
         Epoch+1 = 301 epochs, lowers the rate after the 152nd and restarts SGD there (momentum buffers dropped).
DC's DataLoader(shuffle=True) is given a sampler that draws evlf's permutations; nothing else in DC's code is touched.
Run from the repo root: `python bench/dc_reference.py --dc-repo PATH [--sets 6]` (PATH: a checkout of
https://github.com/VICO-UoE/DatasetCondensation). Each set is written to figures/bench/dc_reference/ when done (a rerun
skips finished sets); then figures/bench/dc_reference.json with the paired differences and their 95% t-intervals."""
import argparse, subprocess, sys, threading, time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
import numpy as np, torch
from evlf.core import cpu_threads, load_json, save_json, versions
from evlf.data import get_dataset, random_subset
from evlf.eval import get_protocol, normalizer, train_students, _init_net, _INIT_LOCK
from evlf.report import t_interval, verdict

ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
ap.add_argument('--dc-repo', required=True, help="a checkout of DC's repository (its utils.py and networks.py are imported)")
ap.add_argument('--sets', type=int, default=6, help='random IPC 10 subsets (seeds 0..sets-1)')
ap.add_argument('--out', default='figures/bench/dc_reference', help='per-set records')
ap.add_argument('--json', default='figures/bench/dc_reference.json', help='the summary')
ap.add_argument('--epochs', type=int, default=300, help="DC's epoch_eval_train (evlf's `dc` epochs); other values only to try the script")
a = ap.parse_args()
repo = Path(a.dc_repo).resolve()
if not (repo/'utils.py').is_file() or not (repo/'networks.py').is_file(): sys.exit(f'--dc-repo {repo}: no utils.py and networks.py there')
commit = subprocess.run(['git', '-C', str(repo), 'rev-parse', 'HEAD'], capture_output=True, text=True).stdout.strip() or None
sys.path.insert(0, str(repo))
import utils as dc  # DC's evaluator, unchanged

IPC, DC_EPOCHS = 10, a.epochs
DC_DROP = DC_EPOCHS//2 + 2  # DC: range(Epoch+1) epochs, lr x0.1 after index Epoch//2+1, i.e. after the 152nd of 301
out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
tr, te = get_dataset('fashion-mnist', 'train'), get_dataset('fashion-mnist', 'test')
mean, std = normalizer('fashion-mnist', 1, 'cpu')
norm = lambda x8: (x8.float()/255 - mean)/std
DL, local = torch.utils.data.DataLoader, threading.local()
test = DL(torch.utils.data.TensorDataset(norm(te.data), te.targets), batch_size=256, shuffle=False)

class _Perms(torch.utils.data.Sampler):
    "One fresh permutation of the set per pass, drawn from `g` as evlf's students draw theirs."
    def __init__(self, n, g): self.n, self.g = n, g
    def __iter__(self): return iter(torch.randperm(self.n, generator=self.g).tolist())
    def __len__(self): return self.n

def _loader(ds, batch_size=1, shuffle=False, **kw):
    "What DC's code gets for `torch.utils.data.DataLoader`: shuffling draws the calling thread's student's permutations."
    return DL(ds, batch_size=batch_size, sampler=_Perms(len(ds), local.g) if shuffle else None, **kw)
torch.utils.data.DataLoader = _loader

def dc_net(seed):
    "DC's ConvNet (its `get_network`) holding evlf's initial weights for `seed`."
    with _INIT_LOCK: net = dc.get_network('ConvNet', 1, 10, (28, 28))  # it reseeds the global RNG from the clock
    sd, init = net.state_dict(), _init_net('convnet3', seed, 1, 10, 28).state_dict()
    assert [v.shape for v in sd.values()] == [v.shape for v in init.values()], 'DC ConvNet and evlf ConvNet-3 differ in shape'
    net.load_state_dict(dict(zip(sd.keys(), init.values())))
    return net

def dc_student(x8, y, seed):
    "DC's evaluate_synset on the normalised images, from evlf's initial weights for `seed`, with evlf's batch order."
    net, local.g = dc_net(seed), torch.Generator().manual_seed(10_000 + seed)
    args = argparse.Namespace(lr_net=0.01, epoch_eval_train=DC_EPOCHS, batch_train=256, device='cpu', dsa=False, dc_aug_param=None)
    return float(dc.evaluate_synset(0, net, norm(x8), y, test, args)[2])

def evlf_student(x8, y, seed, protocol):
    return train_students(x8, y, (te.data, te.targets), protocol, [seed], eval_every=1.0, device='cpu', amp=False, stack=False,
                          progress=False)[0]['final']

dcp = get_protocol('dc', epochs=None if DC_EPOCHS == 300 else DC_EPOCHS)
ARMS = {'evlf': lambda x8, y, s: evlf_student(x8, y, s, dcp),
        'evlf@dc-schedule': lambda x8, y, s: evlf_student(x8, y, s, replace(dcp, epochs=DC_EPOCHS + 1, milestones=(DC_DROP/(DC_EPOCHS + 1),))),
        'dc': dc_student}
todo = [s for s in range(a.sets) if not (out/f'random_ipc{IPC}_seed{s}.json').exists()]
with cpu_threads(1), ThreadPoolExecutor(2) as ex:  # one thread per student, two at a time
    jobs = {}
    for s in todo:
        idx = torch.cat([random_subset(tr, c, IPC, seed=s) for c in range(10)])
        jobs[s] = (time.time(), {k: ex.submit(f, tr.data[idx], tr.targets[idx], s) for k, f in ARMS.items()})
    for s, (t, js) in jobs.items():
        r = {k: j.result() for k, j in js.items()}
        # wall: seconds from the set's submission to its last student, queueing behind earlier sets included
        rec = dict(subset_seed=s, student_seed=s, ipc=IPC, final=r, wall=time.time() - t, threads_per_student=1, precision='float32')
        save_json(rec, out/f'random_ipc{IPC}_seed{s}.json'); print(s, r, flush=True)

recs = [load_json(out/f'random_ipc{IPC}_seed{s}.json') for s in range(a.sets)]
acc = {k: np.array([r['final'][k] for r in recs])*100 for k in ('evlf', 'evlf@dc-schedule', 'dc')}
def paired(a_, b_):
    d = acc[a_] - acc[b_]
    m, lo, hi = t_interval(d)
    same = int((np.rint(acc[a_]*100) == np.rint(acc[b_]*100)).sum())  # the same number of the 10,000 test images right
    return dict(per_set=d.tolist(), mean=m, lo=lo, hi=hi, verdict='identical on every set' if same == len(d) else verdict(lo, hi),
                sets_identical=same, max_abs=float(np.abs(d).max()))
summary = dict(command=f'python bench/dc_reference.py --dc-repo PATH --sets {a.sets}' + (f' --epochs {DC_EPOCHS}' if DC_EPOCHS != 300 else ''), dc_repo='VICO-UoE/DatasetCondensation', dc_commit=commit,
               dataset='fashion-mnist', ipc=IPC, sets=a.sets, dc_epochs=DC_EPOCHS, protocol='dc', net='convnet3', precision='float32',
               accuracy={k: v.tolist() for k, v in acc.items()}, mean={k: float(v.mean()) for k, v in acc.items()},
               differences={'dc - evlf': paired('dc', 'evlf'), 'dc - evlf@dc-schedule': paired('dc', 'evlf@dc-schedule'),
                            'evlf@dc-schedule - evlf': paired('evlf@dc-schedule', 'evlf')},
               note=('same subset, initial weights and batch order in every arm; differences in points of final test accuracy, '
                     '95% t-interval over the subsets; the verdict words are evlf.report.verdict (helps: first arm higher)'),
               versions=versions())
save_json(summary, a.json); print({k: (round(v['mean'], 2), v['lo'] and round(v['lo'], 2), v['hi'] and round(v['hi'], 2)) for k, v in summary['differences'].items()})
