"""Student arithmetic in float32 against bfloat16 autocast on this machine's CPU: what `amp=None` decides from.

ConvNet-3 on 28 px images (Fashion-MNIST's shape, random pixels): seconds to test `--test` images (batches of 500, as
`evaluate` does) and to take `--steps` SGD steps on batches of 256, each precision timed after one warm-up, alternated
`--repeats` times so that a busy machine slows both alike. Writes the CPU's capability and `evlf.core.native_bf16`.

    python bench/students_precision.py [--test 2000] [--steps 3] [--repeats 2] [--out figures/bench/students_precision.json]
"""
import argparse, time
from pathlib import Path
import torch, torch.nn.functional as F
from evlf.core import versions, save_json, native_bf16
from evlf.eval import _init_net, _Looped, _accuracy, normalizer

def test_seconds(model, x, y, norm, amp:bool)->float:
    t = time.time(); _accuracy(model, x, y, norm, amp=amp); return time.time() - t

def train_seconds(net, steps:int, amp:bool)->float:
    g = torch.Generator().manual_seed(0)
    xb, yb = torch.randn(256, 1, 28, 28, generator=g), torch.randint(0, 10, (256,), generator=g)
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    for i in range(steps + 1):
        if i == 1: t = time.time()
        with torch.autocast('cpu', dtype=torch.bfloat16, enabled=amp): out = net(xb)
        loss = F.cross_entropy(out.float(), yb)
        opt.zero_grad(); loss.backward(); opt.step()
    return time.time() - t

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--test', type=int, default=2000)
    ap.add_argument('--steps', type=int, default=3)
    ap.add_argument('--repeats', type=int, default=2)
    ap.add_argument('--out', default='figures/bench/students_precision.json')
    a = ap.parse_args()
    g = torch.Generator().manual_seed(0)
    x, y = torch.randint(0, 256, (a.test, 1, 28, 28), dtype=torch.uint8, generator=g), torch.randint(0, 10, (a.test,), generator=g)
    net, norm = _init_net('convnet3', 0, 1, 10, 28), normalizer('fashion-mnist', 1, torch.device('cpu'))
    model = _Looped([net], torch.device('cpu'))
    _accuracy(model, x[:500], y[:500], norm)  # warm-up
    rows = []
    for r in range(a.repeats):
        for amp in (False, True):
            rows.append(dict(repeat=r, precision='bfloat16 autocast' if amp else 'float32',
                             test_s=test_seconds(model, x, y, norm, amp), train_s=train_seconds(net, a.steps, amp)))
            print(rows[-1], flush=True)
    best = {p: {k: min(q[k] for q in rows if q['precision'] == p) for k in ('test_s', 'train_s')} for p in ('float32', 'bfloat16 autocast')}
    ratio = {k: best['bfloat16 autocast'][k]/best['float32'][k] for k in ('test_s', 'train_s')}
    print(f"native_bf16: {native_bf16('cpu')}; bfloat16 takes {ratio['test_s']:.2f}x float32's time to test, {ratio['train_s']:.2f}x to train")
    save_json(dict(command='python bench/students_precision.py ' + ' '.join(f'--{k} {v}' for k, v in vars(a).items() if k != 'out'),
                   cpu_capability=torch.backends.cpu.get_cpu_capability(), native_bf16=native_bf16('cpu'), threads=torch.get_num_threads(),
                   rows=rows, best=best, bf16_over_fp32=ratio, note='seconds; the minimum over repeats; 1 student', versions=versions()), Path(a.out))
