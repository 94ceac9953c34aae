"""Whether `torch.compile` makes a student's step faster on a CPU: ConvNet-3 under `dc` at IPC 10 (one SGD step on 100
Fashion-MNIST-sized images, one torch thread), eager (what `train_students` runs) against the same network compiled with
inductor, and compiled on channels-last tensors, in bfloat16 autocast where the CPU computes it natively and in float32;
each against one forward+backward of ConvNet-3's middle convolution timed in the same run (`student_step.py`'s
reference). Compiled kernels sum in another order, so the weights after the same steps are compared by their largest
difference, not bit for bit.

    python bench/student_compile.py [--steps 30] [--out figures/bench/student_compile.json]

A measurement, not a change: `train_students` still runs eagerly. Compiling needs a C++ compiler (inductor's CPU
backend); without one the compiled variants are reported as not run.
"""
import argparse, shutil, statistics, time
from pathlib import Path
import torch, torch.nn.functional as F
from evlf.core import versions, save_json, native_bf16
from evlf.eval import _init_net, _Looped, _optimizer, get_protocol, normalizer
import sys; sys.path.insert(0, str(Path(__file__).parent))
from student_step import conv_reference, step_flops

VARIANTS = ('eager', 'compiled', 'compiled channels-last')

def student(amp:bool, variant:str, steps:int):
    "Median seconds per step, seconds of the first (compiling) step, and the weights after `steps + 4` steps."
    p, g = get_protocol('dc'), torch.Generator().manual_seed(0)
    x, y = torch.rand(100, 1, 28, 28, generator=g), torch.arange(100) % 10
    norm = normalizer('fashion-mnist', 1, 'cpu')
    net = _init_net('convnet3', 0, 1, 10, 28)
    cl = variant.endswith('channels-last')
    if cl: net = net.to(memory_format=torch.channels_last)
    opt, _ = _optimizer(_Looped([net], 'cpu'), p)
    fwd = net if variant == 'eager' else torch.compile(net)
    xb = (x - norm[0])/norm[1]
    if cl: xb = xb.contiguous(memory_format=torch.channels_last)
    onehot = F.one_hot(y, 10).float()
    def one():
        with torch.autocast('cpu', dtype=torch.bfloat16, enabled=amp): out = fwd(xb)
        loss = -(onehot*F.log_softmax(out.float(), -1)).sum(-1).mean()
        opt.zero_grad(set_to_none=True); loss.backward(); opt.step()
    t = time.perf_counter(); one(); first = time.perf_counter() - t
    for _ in range(3): one()
    ts = []
    for _ in range(steps):
        t = time.perf_counter(); one(); ts.append(time.perf_counter() - t)
    return dict(step_s=statistics.median(ts), first_step_s=first), [q.detach().clone() for q in net.parameters()]

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--steps', type=int, default=30)
    ap.add_argument('--out', default='figures/bench/student_compile.json')
    a = ap.parse_args()
    torch.set_num_threads(1)
    compiler = shutil.which('c++') or shutil.which('g++') or shutil.which('clang++')
    fl, amps = step_flops(), ([True] if native_bf16('cpu') else []) + [False]
    rows = []
    for amp in amps:
        k = 'bfloat16' if amp else 'float32'
        ref, base = conv_reference(a.steps, amp), None
        for v in VARIANTS:
            if v != 'eager' and not compiler:
                rows.append(dict(precision=k, variant=v, ran=False, why='no C++ compiler')); continue
            r, w = student(amp, v, a.steps)
            base = base or (r['step_s'], w)
            r.update(precision=k, variant=v, ran=True, middle_conv_s=ref, ratio_to_middle_conv=r['step_s']/ref,
                     gflops=(fl['forward'] + fl['backward'])/r['step_s']/1e9, speedup=base[0]/r['step_s'],
                     max_weight_diff=max((u - q).abs().max().item() for u, q in zip(base[1], w)))
            rows.append(r)
            print(f"{k} {v}: {r['step_s']*1e3:.1f} ms/step ({r['gflops']:.0f} GFLOP/s, {r['ratio_to_middle_conv']:.2f} x the middle"
                  f" conv's {ref*1e3:.1f} ms), {r['speedup']:.2f} x eager; first step {r['first_step_s']:.1f} s;"
                  f" weights after {a.steps + 4} steps differ from eager's by at most {r['max_weight_diff']:.1e}", flush=True)
    save_json(dict(command='python bench/student_compile.py' + (f' --steps {a.steps}' if a.steps != 30 else ''), threads=1,
                   native_bf16=native_bf16('cpu'), compiler=compiler, flops=fl, rows=rows, versions=versions()), a.out)
    print('wrote', a.out)
