"""Seconds to distil Fashion-MNIST with the fashion-tiny backbone, IPC 10, for each method, on this machine's CPU.

The real training images are encoded once (60k through the tiny VAE; cached, timed separately as `encode_s`); each
method then runs from a warm latent cache and, for D4M+EVLF, a cold fine-tuning cache (its time includes the
fine-tuning). Writes figures/distill_cpu.json and figures/distill_cpu.md.

    python bench/distill_cpu.py                      # the shipped fashion-tiny weights and fusion module
    python bench/distill_cpu.py --random-weights     # the same architecture with random weights (dry run)
"""
import argparse, os, sys, tempfile, time, platform
from pathlib import Path

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--ipc', type=int, default=10); ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--methods', default='random,d4m,d4m+evlf,mgd3,mgd3+evlf')
    ap.add_argument('--threads', type=int, default=None, help='torch threads (default: torch\'s choice)')
    ap.add_argument('--random-weights', action='store_true', help='random fashion-tiny weights and fusion (a dry run)')
    ap.add_argument('--out', default='figures/distill_cpu')
    a = ap.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix='evlf-bench-'))
    os.environ['EVLF_CACHE'] = str(work/'cache')   # cold caches: the numbers include every step once
    import torch
    if a.threads: torch.set_num_threads(a.threads)
    from evlf.backbone import load_backbone, tiny_backbone
    from evlf.data import get_dataset
    from evlf.sampler import distill, distill_params, encode_class
    from evlf.core import save_json, versions
    ds = get_dataset('fashion-mnist', 'train')
    if a.random_weights:
        from evlf.fusion import EVLFFusion
        bb = tiny_backbone('fashion-tiny'); torch.manual_seed(0)
        extra = dict(fusion_model=EVLFFusion(latent_channels=4, text_dim=bb.text.dim, width=64, heads=4, layers=2, grid=bb.latent_shape[1]).eval())
    else: bb, extra = load_backbone('fashion-tiny', device='cpu'), {}
    t = time.perf_counter()
    for c in range(len(ds.classes)): encode_class(ds, bb, c)
    res = dict(backbone=bb.name, random_weights=a.random_weights, ipc=a.ipc, seed=a.seed, encode_s=round(time.perf_counter() - t, 2),
               encoded_images=len(ds), torch_threads=torch.get_num_threads(), cpu=platform.processor() or platform.machine(),
               cpu_count=os.cpu_count(), methods={})
    print(f"encode {len(ds)} images: {res['encode_s']} s", flush=True)
    for m in a.methods.split(','):
        kw = extra if m.endswith('evlf') else {}
        t = time.perf_counter()
        out = distill(ds, bb, m, a.ipc, seed=a.seed, out_dir=work/m, progress=False, **kw)
        s = time.perf_counter() - t
        p = {k: v for k, v in distill_params(m, bb.name).items() if k != 'fusion_model'}
        res['methods'][m] = dict(seconds=round(s, 2), images=a.ipc*len(ds.classes), params=p)
        print(f'{m}: {s:.1f} s', flush=True)
    res['versions'] = versions()
    if not a.random_weights:
        save_json(res, Path(a.out + '.json'))
        rows = [f"| {m} | {r['seconds']:.1f} | {r['params'].get('num_inference_steps', '-')} | {r['params'].get('finetune_steps', '-') if r['params'].get('finetune') else '-'} |"
                for m, r in res['methods'].items()]
        Path(a.out + '.md').write_text(
            f"Seconds to distil Fashion-MNIST (fashion-tiny, IPC {a.ipc}, seed {a.seed}) on {res['cpu_count']} CPU cores, "
            f"{res['torch_threads']} torch threads; encoding the {len(ds)} real images once (cached): {res['encode_s']:.1f} s.\n\n"
            "| method | seconds | steps | fine-tune steps |\n|---|---|---|---|\n" + '\n'.join(rows) + '\n')
        print('wrote', a.out + '.json')
    return 0

if __name__ == '__main__': sys.exit(main())
