"""What one `dc` student costs on a CPU, and which parts can go without changing its result.

The main job trains 15 ConvNet-3 students (IPC 10: 300 SGD steps on 100 images each), two side by side on one torch
thread each, as `evaluate_all` does. This trains two such students on the random IPC 10 subsets 0 and 1 under each
variant and reports the seconds per student and each student's test accuracy after the last epoch, which must be the
same bits under every variant (the variants only change when and in what chunks the test set is classified):

- `tests every 20%, chunks of 500`: the code before 2026-12-03 (five passes over the 10,000 test images);
- `tests every 20%, chunks of 64`: the same passes in smaller chunks (the logits are bit for bit the same);
- `tested once, chunks of 64`: one pass after the last epoch, as DC's own evaluator does.

    python bench/students_cpu.py [--epochs 300] [--out figures/bench/students_cpu.json]
"""
import argparse, time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
import torch
import evlf.eval as E
from evlf.core import versions, save_json
from evlf.data import distill_random, get_dataset, load_distilled

VARIANTS = {'tests every 20%, chunks of 500': (0.2, 500), 'tests every 20%, chunks of 64': (0.2, 64), 'tested once, chunks of 64': (1.0, 64)}

def students(sets:list, p, test:tuple, eval_every:float, chunk:int)->list:
    "Train one student (seed 0) per set, two side by side on one thread each; return (seconds, final accuracy) per student."
    def one(d):
        t = time.time()
        r = E.train_students(d.data, d.targets, test, p, [0], 'convnet3', 'fashion-mnist', 10, eval_every, amp=True, device='cpu', progress=False)[0]
        return time.time() - t, r['final'], len(r['history'])
    acc = E._accuracy
    E._accuracy = lambda *a, **k: acc(*a, **{**k, 'batch': chunk})
    try:
        with ThreadPoolExecutor(2) as ex: return list(ex.map(one, sets))
    finally: E._accuracy = acc

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--epochs', type=int, default=300)
    ap.add_argument('--out', default='figures/bench/students_cpu.json')
    a = ap.parse_args()
    torch.set_num_threads(1)
    te = get_dataset('fashion-mnist', 'test')
    sets = [load_distilled(distill_random('fashion-mnist', 10, seed=s)) for s in (0, 1)]
    p = E.get_protocol('dc', epochs=a.epochs)
    rows = []
    for name, (ev, chunk) in VARIANTS.items():
        for (sec, final, tests), s in zip(students(sets, p, (te.data, te.targets), ev, chunk), (0, 1)):
            rows.append(dict(variant=name, eval_every=ev, test_chunk=chunk, random_subset=s, seconds=sec, final=final, test_passes=tests))
            print(rows[-1], flush=True)
    base = {r['random_subset']: r for r in rows if r['variant'] == next(iter(VARIANTS))}
    same = all(r['final'] == base[r['random_subset']]['final'] for r in rows)
    mean = {v: sum(r['seconds'] for r in rows if r['variant'] == v)/2 for v in VARIANTS}
    print({v: f'{s:.1f} s per student ({mean[next(iter(VARIANTS))]/s:.2f}x)' for v, s in mean.items()}, 'final accuracies identical:', same)
    save_json(dict(command='python bench/students_cpu.py' + (f' --epochs {a.epochs}' if a.epochs != 300 else ''), rows=rows,
                   seconds_per_student=mean, finals_identical=same, threads=1, amp=True,
                   note='two students side by side (random IPC 10 subsets 0 and 1, seed 0), one torch thread each, bfloat16 autocast',
                   versions=versions()), Path(a.out))
