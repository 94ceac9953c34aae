"""The fusion pass over real latents on a CPU: seconds per batch size, and whether the fused latents change with it.

`fuse_latents` fuses every real latent of a class (6,000 per Fashion-MNIST class) before k-means, and D4M+EVLF fuses
the latents it fine-tunes on: about a third of the main job's distillation time. This times the shipped `fashion-tiny`
module on class `--label`'s real latents at each `--batches` size and thread count, after one warm-up, alternated
`--repeats` times, and compares every output with the first bit for bit.

    python bench/fusion_cpu.py [--label 0] [--batches 512 256 128 64] [--threads 2 1] [--repeats 2] [--out figures/bench/fusion_cpu.json]
"""
import argparse, time
from pathlib import Path
import torch
from evlf.core import versions, save_json
from evlf.backbone import load_backbone
from evlf.data import load_real
from evlf.sampler import get_fusion, encode_class
from evlf.fusion import fuse_latents

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--label', type=int, default=0)
    ap.add_argument('--batches', type=int, nargs='+', default=[512, 256, 128, 64])
    ap.add_argument('--threads', type=int, nargs='+', default=[2, 1])
    ap.add_argument('--repeats', type=int, default=2)
    ap.add_argument('--out', default='figures/bench/fusion_cpu.json')
    a = ap.parse_args()
    bb, ds = load_backbone('fashion-tiny', device='cpu'), load_real('fashion-mnist')
    fusion, z = get_fusion(None, bb), encode_class(ds, bb, a.label)
    tok, labels = bb.text.encode([ds.prompts[a.label]]).tokens, torch.zeros(len(z), dtype=torch.long)
    fuse_latents(fusion, z[:256], labels[:256], tok)  # warm-up
    rows, ref = [], None
    for r in range(a.repeats):
        for th in a.threads:
            torch.set_num_threads(th)
            for bs in a.batches:
                t = time.time(); out = fuse_latents(fusion, z, labels, tok, batch_size=bs); s = time.time() - t
                ref = out if ref is None else ref
                rows.append(dict(repeat=r, threads=th, batch_size=bs, seconds=s, identical=bool(torch.equal(out, ref))))
                print(rows[-1], flush=True)
    best = {f'{th} threads': {str(bs): min(q['seconds'] for q in rows if (q['threads'], q['batch_size']) == (th, bs)) for bs in a.batches}
            for th in a.threads}
    print({k: {b: round(s, 2) for b, s in v.items()} for k, v in best.items()}, '; identical:', all(q['identical'] for q in rows))
    save_json(dict(command='python bench/fusion_cpu.py ' + ' '.join(f"--{k} {' '.join(map(str, v)) if isinstance(v, list) else v}" for k, v in vars(a).items() if k != 'out'),
                   latents=len(z), latent_shape=list(z.shape[1:]), rows=rows, best=best, identical=all(q['identical'] for q in rows),
                   note='seconds to fuse one class; the minimum over repeats; identical: bit for bit the first output', versions=versions()), Path(a.out))
