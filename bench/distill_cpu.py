"""Seconds to distil Fashion-MNIST with the fashion-tiny backbone, IPC 10, for each method, on this machine's CPU.

One-off stages, cached and shared by the methods, are timed apart: encoding the 60k real training images with the
VAE (`encode_s`) and fusing them with their class text through the EVLF module (`fuse_s`, +EVLF methods only). Each
method then runs from those caches; D4M+EVLF's time includes its denoiser fine-tuning (cold cache). A cold run of
a method costs encode_s (+ fuse_s for +EVLF) + its seconds. Writes figures/bench/distill_cpu.json and figures/bench/distill_cpu.md.

    python bench/distill_cpu.py                      # the shipped fashion-tiny weights and fusion module
    python bench/distill_cpu.py --random-weights     # the same architectures with random weights (same cost, before the weights exist)
"""
import argparse, os, sys, tempfile, time, platform
from pathlib import Path

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--ipc', type=int, default=10); ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--methods', default='random,d4m,d4m+evlf,mgd3,mgd3+evlf')
    ap.add_argument('--threads', type=int, default=None, help='torch threads (default: evlf.fusion.DISTILL_THREADS, 2)')
    ap.add_argument('--random-weights', action='store_true', help='random fashion-tiny weights and fusion (a dry run)')
    ap.add_argument('--out', default='figures/bench/distill_cpu')
    a = ap.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix='evlf-bench-'))
    os.environ['EVLF_CACHE'] = str(work/'cache')   # cold caches: the numbers include every step once
    import torch
    from evlf.backbone import load_backbone, tiny_backbone
    from evlf.data import get_dataset
    import evlf.sampler, evlf.fusion
    from evlf.sampler import distill, method_settings, encode_class, fused_class, get_fusion
    if a.threads: evlf.fusion.DISTILL_THREADS = a.threads  # the samplers pin their own count; this run measures another
    torch.set_num_threads(evlf.fusion.DISTILL_THREADS)
    from evlf.core import save_json, versions
    ds = get_dataset('fashion-mnist', 'train')
    if a.random_weights:
        from evlf.fusion import EVLFFusion
        bb = tiny_backbone('fashion-tiny'); torch.manual_seed(0)
        # the shipped module's architecture (code variant, d = 256, 4 heads, 2 blocks): the timings do not depend on the weights
        extra = dict(fusion_model=EVLFFusion(latent_channels=4, text_dim=bb.text.dim, grid=bb.latent_shape[1], variant='code').eval())
    else: bb, extra = load_backbone('fashion-tiny', device='cpu'), {}
    t = time.perf_counter()
    for c in range(len(ds.classes)): encode_class(ds, bb, c)
    res = dict(backbone=bb.name, random_weights=a.random_weights, ipc=a.ipc, seed=a.seed, encode_s=round(time.perf_counter() - t, 2),
               encoded_images=len(ds), torch_threads=torch.get_num_threads(), cpu=platform.processor() or platform.machine(),
               cpu_count=os.cpu_count(), load_average_start=os.getloadavg(), methods={})
    print(f"encode {len(ds)} images: {res['encode_s']} s", flush=True)
    fusion = get_fusion(extra.get('fusion_model'), bb)
    t = time.perf_counter()
    for c in range(len(ds.classes)): fused_class(ds, bb, c, fusion)
    res['fuse_s'] = round(time.perf_counter() - t, 2); res['fusion_params'] = sum(p.numel() for p in fusion.parameters())
    print(f"fuse {len(ds)} latents: {res['fuse_s']} s", flush=True)
    for m in a.methods.split(','):
        kw = extra if m.endswith('evlf') else {}
        t = time.perf_counter()
        out = distill(ds, bb, m, a.ipc, seed=a.seed, out_dir=work/m, progress=False, **kw)
        s = time.perf_counter() - t
        p = {k: v for k, v in method_settings(m, bb.name).items() if k != 'fusion_model'}
        res['methods'][m] = dict(seconds=round(s, 2), images=a.ipc*len(ds.classes), params=p)
        print(f'{m}: {s:.1f} s', flush=True)
    res['load_average_end'] = os.getloadavg(); res['versions'] = versions()
    save_json(res, Path(a.out + '.json'))
    rows = [f"| {m} | {r['seconds']:.1f} | {r['params'].get('num_inference_steps', '-')} | {r['params'].get('finetune_steps', '-') if r['params'].get('finetune') else '-'} |"
            for m, r in res['methods'].items()]
    Path(a.out + '.md').write_text(
        f"Seconds to distil Fashion-MNIST (fashion-tiny{' architecture, random weights' if a.random_weights else ''}, IPC {a.ipc}, seed {a.seed}) on {res['cpu_count']} CPU cores "
        f"(load average {res['load_average_start'][0]:.1f} at the start: the machine was shared), "
        f"{res['torch_threads']} torch threads. One-off, cached and shared: encoding the {len(ds)} real images {res['encode_s']:.1f} s, "
        f"fusing them with the class text (EVLF methods) {res['fuse_s']:.1f} s.\n\n"
        "| method | seconds | steps | fine-tune steps |\n|---|---|---|---|\n" + '\n'.join(rows) + '\n')
    print('wrote', a.out + '.json')
    return 0

if __name__ == '__main__': sys.exit(main())
