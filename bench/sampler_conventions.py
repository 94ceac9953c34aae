"""How each reference convention was settled for fashion-tiny: the held-out rule of bench/sampler_defaults.py.

`sd15` and `dit256` take the references' conventions as they are. fashion-tiny is this project's own backbone, so
for each convention that has a choice on it, every option distils Fashion-MNIST at IPC 10 (seed 0) with the
shipped backbone and fusion module, and a ConvNet trained on the real TRAINING images (bench/backbone_quality.py,
cached) judges the 100 images: `agreement` = share recognised as their class, `spread` = mean pairwise distance
within a class. No test image and no student is used. Rule: among the options with agreement >= 0.95, the one with
the largest spread (more class-consistency than that only costs diversity); the reference's option when it is within
0.05 of that spread.
- D4M's scheduler (SD-1.5's own is PNDM): pndm, ddim, ddpm, euler.
- MGD3's timestep spacing (DiT's respacing is linspace): linspace, leading.
- D4M+EVLF's fine-tuning recipe (the authors' is DiffFit + EMA): full, difffit.
Conventions with no choice here are taken from the reference (24 guided steps of 50, text corruption per batch) or
do not apply (learned variance and 3-channel guidance need a denoiser that predicts its variance; fashion-tiny's
UNet does not). Writes figures/bench/sampler_conventions.json and .md.

    OMP_NUM_THREADS=1 python bench/sampler_conventions.py
"""
import argparse, importlib.util, sys
from pathlib import Path

CHOICES = [('d4m', 'scheduler', ('pndm', 'ddim', 'ddpm', 'euler'), 'pndm'),
           ('mgd3', 'timestep_spacing', ('linspace', 'leading'), 'linspace'),
           ('d4m+evlf', 'finetune_recipe', ('full', 'difffit'), 'difffit')]

def choose(rows:list, reference, tol:float=0.05, floor:float=0.95):
    "The rule: the largest spread among agreement >= floor; the reference's option when within `tol` of it."
    ok = [r for r in rows if r['agreement'] >= floor]
    if not ok: return None
    best = max(ok, key=lambda r: r['spread'])
    ref = [r for r in ok if r['value'] == reference]
    return reference if ref and ref[0]['spread'] >= best['spread'] - tol else best['value']

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--out', default='figures/bench/sampler_conventions'); ap.add_argument('--ipc', type=int, default=10)
    a = ap.parse_args(argv)
    spec = importlib.util.spec_from_file_location('bq', Path(__file__).parent/'backbone_quality.py')
    bq = importlib.util.module_from_spec(spec); spec.loader.exec_module(bq)
    from evlf.sampler import method_settings
    from evlf.core import save_json, versions
    net, ds, bb, work = bq.heldout_setup('evlf-conventions-')
    rows, chosen = [], {}
    for method, key, values, ref in CHOICES:
        mine = []
        for v in values:
            r = dict(method=method, setting=key, value=v, reference=v == ref,
                     **bq.distil_judged(net, ds, bb, method, work/f'{method}-{key}-{v}', a.ipc, **{key: v}))
            rows.append(r); mine.append(r); print(r, flush=True)
        chosen[key] = choose(mine, ref)
    res = dict(rows=rows, chosen=chosen, rule='largest spread among agreement >= 0.95; the reference option if within 0.05 of it',
               ipc=a.ipc, seed=0, backbone='fashion-tiny', defaults_now={m: method_settings(m, 'fashion-tiny') for m in ('d4m', 'mgd3', 'd4m+evlf')},
               versions=versions())
    save_json(res, Path(a.out + '.json'))
    lines = ['| method | setting | option | reference? | agreement | spread | seconds | chosen |', '|---|---|---|---|---|---|---|---|']
    lines += [f"| {r['method']} | {r['setting']} | {r['value']} | {'yes' if r['reference'] else ''} | {r['agreement']:.2f} | {r['spread']:.2f} | "
              f"{r['seconds']:.0f} | {'**yes**' if chosen[r['setting']] == r['value'] else ''} |" for r in rows]
    Path(a.out + '.md').write_text(f"fashion-tiny, IPC {a.ipc}, seed 0, judged by a ConvNet trained on the real training images (no test image, "
                                   f"no student). Rule: {res['rule']}.\n\n" + '\n'.join(lines) + '\n')
    print('chosen:', chosen, '-> wrote', a.out + '.json')
    return 0

if __name__ == '__main__': sys.exit(main())
