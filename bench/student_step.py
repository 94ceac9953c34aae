"""Where a student's step goes on a CPU: ConvNet-3 under `dc` at IPC 10 (one SGD step on 100 Fashion-MNIST-sized images),
one torch thread, per op (torch.profiler), against one forward+backward of ConvNet-3's own middle convolution
(128 -> 128 channels, 3x3, 16x16, batch 100) in the same precision, timed in the same run. bfloat16 autocast is
measured where the CPU computes it natively (`evlf.core.native_bf16`: AVX-512 BF16 or AMX); elsewhere it is emulated,
some 25 times slower than float32, and students run in float32 (`amp=None`), so only float32 is measured.

    python bench/student_step.py [--steps 30] [--out figures/bench/student_step.json]

It trains with `evlf.eval`'s own pieces (`_init_net`, `_Looped`, `_optimizer`, the protocol's loss) so that what it times
is what `train_students` runs per step; the test pass (10,000 images, `_accuracy`) is timed on its own. The step is
timed twice in one run, today's code and the code before the 2x2 pool's backward stopped padding even sizes (`old`,
swapped in for that run only): both train the same student to the same bits, which the run checks.
"""
import argparse, statistics, time
from collections import defaultdict
from contextlib import contextmanager
import torch, torch.nn.functional as F
from evlf.core import versions, save_json, native_bf16
from evlf.eval import _init_net, _Looped, _optimizer, _accuracy, get_protocol, normalizer, _Pool2x2

def _padded_backward(ctx, g):
    "The 2x2 pool's backward before 2026-12-06: spread by repetition, then always padded (a full copy on even sizes)."
    (h, w), gx = ctx.size, (g*0.25).repeat_interleave(2, -1).repeat_interleave(2, -2)
    return F.pad(gx, (0, w - gx.shape[-1], 0, h - gx.shape[-2]))

@contextmanager
def old_code():
    "Run the block with the code before the pool's backward skipped its padding."
    new = _Pool2x2.backward
    _Pool2x2.backward = staticmethod(_padded_backward)
    try: yield
    finally: _Pool2x2.backward = new

def conv_reference(steps:int, amp:bool, cin:int=128, size:int=16, input_grad:bool=True)->float:
    "Median seconds of one forward+backward (bf16 autocast or float32) of a cin->128 3x3 conv on [100, cin, size, size]."
    conv = torch.nn.Conv2d(cin, 128, 3, padding=1)
    x = torch.randn(100, cin, size, size, requires_grad=input_grad)
    ts = []
    for i in range(steps + 3):
        t = time.perf_counter()
        with torch.autocast('cpu', dtype=torch.bfloat16, enabled=amp): y = conv(x)
        y.float().sum().backward()
        if i >= 3: ts.append(time.perf_counter() - t)
    return statistics.median(ts)

def step_flops(n:int=100)->dict:
    "Convolution FLOPs of one ConvNet-3 step at 28 px (padded to 32): forward, and backward (weight and input gradients; none for the images)."
    f = [2*n*128*32*32*1*9, 2*n*128*16*16*128*9, 2*n*128*8*8*128*9]
    return dict(forward=sum(f), backward=f[0] + 2*(f[1] + f[2]), middle_conv_fwd_bwd=3*f[1])

def student(amp:bool, steps:int, profile:bool, test:bool=True):
    "Median seconds per step of one `dc` student, and (profile) self CPU seconds per op and per phase, per step; its weights after."
    p = get_protocol('dc')
    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(100, 1, 28, 28, generator=g), torch.arange(100) % 10
    norm = normalizer('fashion-mnist', 1, 'cpu')
    model = _Looped([_init_net('convnet3', 0, 1, 10, 28)], 'cpu')
    opt, _ = _optimizer(model, p)
    onehot = F.one_hot(y, 10).float()
    def one():
        with torch.autograd.profiler.record_function('phase: forward'):
            xb = ((x - norm[0])/norm[1])[None]
            with torch.autocast('cpu', dtype=torch.bfloat16, enabled=amp): out = model(xb)
            loss = -(onehot[None]*F.log_softmax(out.float(), -1)).sum(-1).mean(-1).sum()
        with torch.autograd.profiler.record_function('phase: backward'):
            opt.zero_grad(set_to_none=True); loss.backward()
        with torch.autograd.profiler.record_function('phase: optimizer'): opt.step()
    for _ in range(3): one()
    ts = []
    for _ in range(steps):
        t = time.perf_counter(); one(); ts.append(time.perf_counter() - t)
    ops, phases = {}, {}
    if profile:
        with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
            for _ in range(10): one()
        per = defaultdict(float)
        for e in prof.key_averages():
            if e.key.startswith('phase: '): phases[e.key[7:]] = e.cpu_time_total/1e6/10
            else: per[e.key] += e.self_cpu_time_total/1e6/10
        ops = dict(sorted(((k, v) for k, v in per.items() if v > 0), key=lambda kv: -kv[1])[:25])
    weights = [p.detach().clone() for p in model.parameters()]
    res = dict(step_s=statistics.median(ts), steps=steps, phases_s=phases, ops_self_s=ops)
    if test:
        xt, yt = (torch.rand(10_000, 1, 28, 28, generator=g)*255).to(torch.uint8), torch.arange(10_000) % 10
        t = time.perf_counter(); _accuracy(model, xt, yt, norm, amp=amp); res['test_pass_s'] = time.perf_counter() - t
    return res, weights

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--steps', type=int, default=30)
    ap.add_argument('--out', default='figures/bench/student_step.json')
    a = ap.parse_args()
    torch.set_num_threads(1)
    fl, amps = step_flops(), ([True] if native_bf16('cpu') else []) + [False]
    if not native_bf16('cpu'): print('this CPU has no native bfloat16: float32 only (students run in float32 here)')
    ref = {('bfloat16' if amp else 'float32'): conv_reference(a.steps, amp) for amp in amps}
    runs, old, same = {}, {}, {}
    for amp in amps:
        k = 'bfloat16' if amp else 'float32'
        with old_code(): old[k], w_old = student(amp, a.steps, True, test=False)
        runs[k], w_new = student(amp, a.steps, True)
        same[k] = all(torch.equal(u, v) for u, v in zip(w_old, w_new))
        for r in (old[k], runs[k]): r['gflops'], r['ratio_to_middle_conv'] = (fl['forward'] + fl['backward'])/r['step_s']/1e9, r['step_s']/ref[k]
        print(f"{k}: old code {old[k]['step_s']*1e3:.1f} ms/step ({old[k]['gflops']:.0f} GFLOP/s), new {runs[k]['step_s']*1e3:.1f} ms/step: "
              f"{old[k]['step_s']/runs[k]['step_s']:.2f} x faster; the same weights after {a.steps + 13} steps: {same[k]}")
    for k, r in runs.items():
        print(f"{k}: {r['step_s']*1e3:.1f} ms/step ({r['gflops']:.0f} GFLOP/s), {r['ratio_to_middle_conv']:.2f} x the middle conv's "
              f"forward+backward; phases {', '.join(f'{p} {s*1e3:.1f} ms' for p, s in r['phases_s'].items())}; test pass {r['test_pass_s']:.1f} s")
        for op, s in list(r['ops_self_s'].items())[:8]: print(f'   {op:40s} {s*1e3:7.2f} ms')
    for k, s in ref.items(): print(f"middle conv {k} forward+backward: {s*1e3:.1f} ms ({fl['middle_conv_fwd_bwd']/s/1e9:.0f} GFLOP/s)")
    print(f"a step holds {(fl['forward'] + fl['backward'])/fl['middle_conv_fwd_bwd']:.2f} times its FLOPs")
    save_json(dict(command='python bench/student_step.py' + (f' --steps {a.steps}' if a.steps != 30 else ''), threads=1, native_bf16=native_bf16('cpu'),
                   middle_conv_s=ref, flops=fl, runs=runs, old=old,
                   speedup={k: old[k]['step_s']/runs[k]['step_s'] for k in runs}, same_weights=same, versions=versions()), a.out)
    print('wrote', a.out)
