"""evlf's ResNetAP-10 students against IDC's own network (snu-mllab/Efficient-Dataset-Condensation, `models/resnet_ap.py`).

evlf's `_BlockAP` average-pools right after its first convolution, before the norm and ReLU; IDC's `BasicBlock` pools
after them (conv, norm, ReLU, pool). IDC also initialises its convolutions He-normal (fan-out), where evlf keeps
PyTorch's default. For each random real IPC 10 subset of Fashion-MNIST (seeds 0..n-1, `evlf.data.random_subset`; seed
s also initialises the student), two students are trained by the same loop (`evlf.eval.train_students`, the `dc`
protocol as in evlf's ResNetAP-10 table, bfloat16 autocast where native, tested once) on the same batches in the same
order: one is evlf's `resnetap10`, the other IDC's `ResNetAP(depth=10, norm_type='instance')` as IDC builds and
initialises it (under the same seed), loaded from a checkout of IDC's repository (its commit is recorded).
Run from the repo root: `python bench/resnetap_reference.py --idc-repo PATH [--sets 8]`. Each subset is written to
figures/bench/resnetap_reference/ when done (a rerun skips finished ones); then figures/bench/resnetap_reference.json."""
import argparse, importlib.util, subprocess, sys, threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
import numpy as np, torch
import evlf.eval as E
from evlf.core import cpu_threads, load_json, native_bf16, save_json, versions
from evlf.data import get_dataset, random_subset
from evlf.report import t_interval, verdict, n_to_resolve

ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
ap.add_argument('--idc-repo', required=True, help="a checkout of IDC's repository (its models/resnet_ap.py is imported)")
ap.add_argument('--sets', type=int, default=8, help='random IPC 10 subsets (seeds 0..sets-1)')
ap.add_argument('--epochs', type=int, default=None, help="the `dc` protocol's epochs (300); other values only to try the script")
ap.add_argument('--out', default='figures/bench/resnetap_reference', help='per-subset records')
ap.add_argument('--json', default='figures/bench/resnetap_reference.json', help='the summary')
a = ap.parse_args()
repo = Path(a.idc_repo).resolve()
if not (repo/'models'/'resnet_ap.py').is_file(): sys.exit(f'--idc-repo {repo}: no models/resnet_ap.py there')
commit = subprocess.run(['git', '-C', str(repo), 'rev-parse', 'HEAD'], capture_output=True, text=True).stdout.strip() or None
spec = importlib.util.spec_from_file_location('idc_resnet_ap', repo/'models'/'resnet_ap.py')
idc = importlib.util.module_from_spec(spec); spec.loader.exec_module(idc)  # IDC's network, unchanged

IPC, amp = 10, native_bf16('cpu')
out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
tr, te = get_dataset('fashion-mnist', 'train'), get_dataset('fashion-mnist', 'test')
local, evlf_init = threading.local(), E._init_net

def _init(name, seed, channels, num_classes, image_size):
    "evlf's initialisation, or, in a thread training IDC's arm, IDC's ResNetAP-10 built under the same seed."
    if getattr(local, 'arm', 'evlf') == 'evlf': return evlf_init(name, seed, channels, num_classes, image_size)
    with E._INIT_LOCK, torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return idc.ResNetAP('imagenet', 10, num_classes, norm_type='instance', size=image_size, nch=channels)
E._init_net = _init  # train_students looks it up at each call

def student(arm, x8, y, seed):
    local.arm = arm
    p = E.get_protocol('dc', epochs=a.epochs)
    return E.train_students(x8, y, (te.data, te.targets), p, [seed], net='resnetap10', eval_every=1.0, device='cpu', amp=amp,
                            stack=False, progress=False)[0]['final']

n_evlf = sum(p.numel() for p in evlf_init('resnetap10', 0, 1, 10, 28).parameters())
n_idc = sum(p.numel() for p in idc.ResNetAP('imagenet', 10, 10, norm_type='instance', size=28, nch=1).parameters())
assert n_evlf == n_idc, f'parameter counts differ: evlf {n_evlf}, IDC {n_idc}'
todo = [s for s in range(a.sets) if not (out/f'random_ipc{IPC}_seed{s}.json').exists()]
with cpu_threads(1), ThreadPoolExecutor(2) as ex:  # one thread per student, two at a time
    jobs = {}
    for s in todo:
        idx = torch.cat([random_subset(tr, c, IPC, seed=s) for c in range(10)])
        jobs[s] = {k: ex.submit(student, k, tr.data[idx], tr.targets[idx], s) for k in ('evlf', 'idc')}
    for s, js in jobs.items():
        r = {k: j.result() for k, j in js.items()}
        save_json(dict(subset_seed=s, student_seed=s, ipc=IPC, final=r, amp=amp, epochs=a.epochs or 300), out/f'random_ipc{IPC}_seed{s}.json')
        print(s, r, flush=True)

recs = [load_json(out/f'random_ipc{IPC}_seed{s}.json') for s in range(a.sets)]
acc = {k: np.array([r['final'][k] for r in recs])*100 for k in ('evlf', 'idc')}
d = acc['idc'] - acc['evlf']
m, lo, hi = t_interval(d)
summary = dict(command=f'python bench/resnetap_reference.py --idc-repo PATH --sets {a.sets}' + (f' --epochs {a.epochs}' if a.epochs else ''),
               idc_repo='snu-mllab/Efficient-Dataset-Condensation', idc_commit=commit, dataset='fashion-mnist', ipc=IPC, sets=a.sets,
               protocol='dc', epochs=a.epochs or 300, amp=amp, parameters=n_evlf, accuracy={k: v.tolist() for k, v in acc.items()},
               mean={k: float(v.mean()) for k, v in acc.items()},
               difference=dict(name='idc - evlf', per_set=d.tolist(), mean=m, lo=lo, hi=hi, verdict=verdict(lo, hi),
                               n_to_resolve=n_to_resolve(d) if len(d) > 1 else None),
               note=('same subset, seed and batch order in both arms (evlf: its block order and PyTorch init; idc: conv-norm-ReLU-pool blocks, '
                     'He-normal init); points of final test accuracy, 95% t-interval over the subsets; verdict words of evlf.report.verdict '
                     '(helps: IDC higher)'),
               versions=versions())
save_json(summary, a.json); print(summary['mean'], summary['difference'])
