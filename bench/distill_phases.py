"""Where the main job's distillation time goes, per phase, from a cold cache on this machine's CPU.

Distils what `papermill nbs/05_eval.ipynb out.ipynb -p ipc 10` distils (its default methods x distillation seeds,
through `evlf.sampler.cached_set` as the notebook does) into a fresh temporary cache, and charges every second to the
innermost phase running: VAE encoding of the real images, fusing them with the class text, k-means prototypes,
denoiser fine-tuning, the pipelines' denoising loops, VAE decoding, writing the PNGs, and the rest (fingerprints,
cache reads and writes, text encoding, Python). Writes figures/bench/distill_phases.json.

    python bench/distill_phases.py                       # the main job: d4m, d4m+evlf, mgd3, mgd3+evlf x seeds 0-2
    python bench/distill_phases.py --methods d4m --seeds 1 --out /tmp/phases   # a quick look
"""
import argparse, functools, os, sys, tempfile, time, platform
from collections import defaultdict
from pathlib import Path


class PhaseClock:
    "Seconds per phase, each charged to the innermost wrapped call running (exclusive time)."
    def __init__(self): self.seconds, self.calls, self.stack = defaultdict(float), defaultdict(int), []

    def wrap(self, phase, f):
        @functools.wraps(f)
        def timed(*args, **kwargs):
            self.stack.append(0.0); t = time.perf_counter()
            try: return f(*args, **kwargs)
            finally:
                dt = time.perf_counter() - t; inner = self.stack.pop()
                self.seconds[phase] += dt - inner; self.calls[phase] += 1
                if self.stack: self.stack[-1] += dt
        return timed


def patch_everywhere(clock, phase, owner, name):
    "Wrap `owner.name` and every evlf module's global bound to the same function."
    f = getattr(owner, name); g = clock.wrap(phase, f)
    setattr(owner, name, g)
    for mod in [m for k, m in list(sys.modules.items()) if k.startswith('evlf')]:
        if getattr(mod, name, None) is f: setattr(mod, name, g)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--methods', default='d4m,d4m+evlf,mgd3,mgd3+evlf', help="05_eval's default methods")
    ap.add_argument('--seeds', type=int, default=3, help="distillation seeds 0..n-1 (05_eval's default: 3)")
    ap.add_argument('--ipc', type=int, default=10)
    ap.add_argument('--out', default='figures/bench/distill_phases')
    a = ap.parse_args(argv)
    os.environ['EVLF_CACHE'] = tempfile.mkdtemp(prefix='evlf-phases-')  # cold: every stage runs once
    import torch
    import evlf.sampler as S, evlf.fusion as F
    from evlf.backbone import Backbone
    from evlf.data import DistilledWriter, load_real
    from evlf.core import save_json, versions
    clock = PhaseClock()
    for phase, owner, name in [('encode real images (VAE)', Backbone, 'encode_images'), ('fuse with the class text', S, '_fuse_class'),
                               ('k-means prototypes', S, 'prototypes'), ('fine-tune the denoiser', S, 'finetune_denoiser'),
                               ('denoise (D4M pipeline)', S.D4MPipeline, '__call__'), ('denoise (MGD3 pipeline)', S.MGD3Pipeline, '__call__'),
                               ('decode (VAE)', Backbone, 'decode_latents'), ('write PNGs', DistilledWriter, 'write')]:
        patch_everywhere(clock, phase, owner, name)
    per_set, t0 = {}, time.perf_counter()
    total = clock.wrap('other (fingerprints, cache I/O, text, Python)', lambda f: f())
    for d in range(a.seeds):
        for m in a.methods.split(','):
            t = time.perf_counter()
            total(lambda: S.cached_set(load_real('fashion-mnist'), 'fashion-tiny', m, a.ipc, seed=d))
            per_set[f'{m} seed {d}'] = round(time.perf_counter() - t, 2)
            print(f'{m} seed {d}: {per_set[f"{m} seed {d}"]:.1f} s', flush=True)
    wall = time.perf_counter() - t0
    phases = dict(sorted(((k, round(v, 2)) for k, v in clock.seconds.items()), key=lambda kv: -kv[1]))
    res = dict(command='python bench/distill_phases.py' + (' ' + ' '.join(argv) if argv else ''),
               methods=a.methods.split(','), distill_seeds=list(range(a.seeds)), ipc=a.ipc, backbone='fashion-tiny',
               wall_s=round(wall, 2), phases_s=phases, share={k: round(v/wall, 4) for k, v in phases.items()},
               calls=dict(clock.calls), per_set_s=per_set, torch_threads=F.DISTILL_THREADS, cpu_count=os.cpu_count(),
               cpu=platform.processor() or platform.machine(), load_average_end=os.getloadavg(), versions=versions())
    save_json(res, Path(a.out + '.json'))
    for k, v in phases.items(): print(f'{k:48s} {v:8.1f} s  {100*v/wall:5.1f}%')
    print(f'wall {wall:.1f} s; wrote {a.out}.json')
    return 0

if __name__ == '__main__': sys.exit(main(sys.argv[1:]))
