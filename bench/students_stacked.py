"""Students trained one at a time against the same students stacked into one model (vmap: grouped convolutions), on a CPU.

The main job's students are all ConvNet-3 under one protocol, each on its own distilled set, so they can be stacked on a
leading axis and trained as one model (evlf.eval's `_Stacked`, the same arithmetic per student up to kernel rounding). This
measures whether that is faster here: seconds per student per SGD step (IPC 10: 100 images, bfloat16 autocast, one torch
thread), looped and stacked, alternated so that a busy machine slows both alike.

    python bench/students_stacked.py [--students 2 4] [--steps 15] [--out figures/bench/students_stacked.json]
"""
import argparse, json, time
from pathlib import Path
import torch, torch.nn.functional as F
from evlf.core import versions, save_json
from evlf.eval import _init_net, _Stacked, _Looped

def per_step(cls, S:int, steps:int, n:int=100)->float:
    "Seconds per student per SGD step of `S` ConvNet-3 students, looped or stacked (3 warm-up steps not timed)."
    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(S, n, 1, 28, 28, generator=g), torch.randint(0, 10, (S, n), generator=g)
    model = cls([_init_net('convnet3', s, 1, 10, 28) for s in range(S)], 'cpu')
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    for i in range(steps + 3):
        if i == 3: t = time.time()
        with torch.autocast('cpu', dtype=torch.bfloat16): out = model(x)
        loss = F.cross_entropy(out.float().flatten(0, 1), y.flatten())*S
        opt.zero_grad(); loss.backward(); opt.step()
    return (time.time() - t)/steps/S

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--students', type=int, nargs='+', default=[2, 4])
    ap.add_argument('--steps', type=int, default=15)
    ap.add_argument('--repeats', type=int, default=2)
    ap.add_argument('--out', default='figures/bench/students_stacked.json')
    a = ap.parse_args()
    torch.set_num_threads(1)
    rows = []
    for S in a.students:
        for r in range(a.repeats):
            for cls in (_Looped, _Stacked):
                rows.append(dict(students=S, repeat=r, variant='stacked (vmap)' if cls is _Stacked else 'one at a time', s_per_student_step=per_step(cls, S, a.steps)))
                print(rows[-1], flush=True)
    res = {}
    for S in a.students:
        lo = min(q['s_per_student_step'] for q in rows if q['students'] == S and q['variant'] == 'one at a time')
        st = min(q['s_per_student_step'] for q in rows if q['students'] == S and q['variant'] != 'one at a time')
        res[S] = dict(one_at_a_time=lo, stacked=st, speedup=lo/st)
    print({S: f"stacked is {v['speedup']:.2f}x the speed of one at a time" for S, v in res.items()})
    save_json(dict(command='python bench/students_stacked.py ' + ' '.join(f'--{k} {v}' for k, v in vars(a).items() if k != 'out'),
                   rows=rows, best=res, threads=1, note='one torch thread; the minimum over repeats of each variant', versions=versions()), Path(a.out))
