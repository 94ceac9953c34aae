"""Whether a distilled set's bytes depend on the caller's torch thread count, with and without `evlf.fusion.DISTILL_THREADS`.

A set made by the caller at the machine's own thread count (2 here) is the reference. The same set is then made with the
caller at each of `--threads`, once with the samplers' pin (`DISTILL_THREADS`, every computation on 2 threads) and once
without it (`DISTILL_THREADS = None`, the caller's count), and its image files are compared byte for byte with the
reference. A probe of the VAE decoder on random latents names the first module whose float output moves with the count.
The real latents are cached (`EVLF_CACHE`), so only the first set encodes them.

    python bench/distill_threads.py [--method d4m] [--seed 1] [--ipc 10] [--threads 1 3] [--out figures/bench/distill_threads.json]
"""
import argparse, filecmp, shutil, tempfile, time
from pathlib import Path
import torch
import evlf.sampler as S
import evlf.fusion as F
from evlf.core import versions, save_json
from evlf.data import load_real

def make_set(method:str, ipc:int, seed:int, threads:int, pinned:bool, out:Path)->tuple:
    "The set's folder made with the caller on `threads` threads, pinned or not, and its seconds."
    shutil.rmtree(out, ignore_errors=True)
    pin, before = F.DISTILL_THREADS, torch.get_num_threads()
    F.DISTILL_THREADS = pin if pinned else None
    torch.set_num_threads(threads)
    t = time.time()
    try: S.distill(load_real('fashion-mnist'), 'fashion-tiny', method, ipc, seed=seed, out_dir=out, progress=False)
    finally: torch.set_num_threads(before); F.DISTILL_THREADS = pin
    return out, time.time() - t

def differing(a:Path, b:Path)->list:
    "The image files of set `a` whose bytes differ in set `b`."
    files = sorted(p.relative_to(a) for p in a.rglob('*.png'))
    return [str(f) for f in files if not filecmp.cmp(a/f, b/f, shallow=False)]

def first_moving_module(threads:int, ref:int=2)->str|None:
    "The first module call of the VAE decoder (in execution order) whose output on 10 random latents differs at `threads` from `ref` threads."
    bb = S.cached_backbone('fashion-tiny')
    lat = torch.randn(10, *bb.latent_shape, generator=torch.Generator().manual_seed(0))
    def run(n):
        rec, before = [], torch.get_num_threads()
        hooks = [m.register_forward_hook(lambda mod, i, o, name=name: rec.append((name, o.detach().clone())))
                 for name, m in bb.vae.decoder.named_modules() if name and not list(m.children())]
        torch.set_num_threads(n)
        try:
            with torch.no_grad(): bb.decode_latents(lat, size=28)
        finally:
            torch.set_num_threads(before)
            for h in hooks: h.remove()
        return rec
    a, b = run(ref), run(threads)
    return next((k for (k, x), (_, y) in zip(a, b) if not torch.equal(x, y)), None)

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--method', default='d4m')
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--ipc', type=int, default=10)
    ap.add_argument('--threads', type=int, nargs='+', default=[1, 3])
    ap.add_argument('--out', default='figures/bench/distill_threads.json')
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    ref, secs = make_set(a.method, a.ipc, a.seed, 2, True, tmp/'ref')
    n = len(list(ref.rglob('*.png')))
    print(f'reference: caller on 2 threads, {n} images, {secs:.0f} s', flush=True)
    rows = []
    for th in a.threads:
        row = dict(threads=th, decoder_first_moving_module=first_moving_module(th))
        for pinned in (False, True):
            out, secs = make_set(a.method, a.ipc, a.seed, th, pinned, tmp/f't{th}-{pinned}')
            row['pinned' if pinned else 'unpinned'] = dict(differing=differing(ref, out), seconds=round(secs, 1))
        rows.append(row)
        print(row, flush=True)
    save_json(dict(params=vars(a), images=n, reference_threads=2, distill_threads=F.DISTILL_THREADS, rows=rows, versions=versions(),
                   command='python bench/distill_threads.py ' + ' '.join(f'--{k} {v}' if not isinstance(v, list) else f'--{k} ' + ' '.join(map(str, v))
                                                                         for k, v in vars(a).items())), a.out)
    shutil.rmtree(tmp, ignore_errors=True)
    print('wrote', a.out)
