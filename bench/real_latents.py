"""Whether the one cache of real latents moved anything: hashes of `encode_real_set`'s tensors and of `encode_class`'s
latents on the shipped backbones, whether a class's rows of the one equal the other, and D4M's and MGD3's IPC 10 sets of
seed 0 on `fashion-tiny`, distilled again in an empty cache and compared file by file with the kept sets
(`figures/sets`, made before the change).

    python bench/real_latents.py --out figures/bench/real_latents.json [--before OLD.json]

About 15 min on 2 cores. With `--before` (the same script's output from an earlier commit) the record says which
tensor hashes are equal.
"""
import argparse, hashlib, json, os, subprocess, tempfile, time
from pathlib import Path
os.environ['EVLF_CACHE'] = tempfile.mkdtemp()
import torch
from evlf.data import get_dataset, load_real
from evlf.backbone import named_backbone
from evlf import fusion, sampler
from evlf.core import save_json, versions
ap = argparse.ArgumentParser(description='whether the one cache of real latents moved anything')
ap.add_argument('--out', required=True); ap.add_argument('--before', default=None)
a = ap.parse_args()
h = lambda t: hashlib.sha256(t.contiguous().numpy().tobytes()).hexdigest()[:16]
out = {}
t0 = time.time()
for preset, dsn in (('fashion-tiny', 'fashion-mnist'), ('fashion-half', 'fashion-mnist:0,1,2,8,9')):
    bb = named_backbone(preset)
    ds = get_dataset(dsn, 'train')
    d = fusion.encode_real_set(bb, ds, progress=False)
    out[f'ers-{preset}'] = {k: h(v) for k, v in d.items()}
    d2 = fusion.encode_real_set(bb, ds, progress=False)  # read back from cache
    assert all(torch.equal(d[k], d2[k]) for k in d)
    for c in (0, len(ds.classes) - 1):
        z = sampler.encode_class(ds, bb, c)
        out[f'ec-{preset}-{c}'] = h(z)
        out[f'ec-eq-ers-{preset}-{c}'] = bool(torch.equal(z, d['latents'][d['labels'] == c]))
print('encode', time.time() - t0, flush=True)
ds = load_real('fashion-mnist')
kept = Path(__file__).resolve().parents[1]/'figures'/'sets'
for m in ('d4m', 'mgd3'):
    p = sampler.cached_set(ds, 'fashion-tiny', m, 10, seed=0, progress=False)
    k = kept/p.name
    files = lambda d: {str(f.relative_to(d)): hashlib.sha256(f.read_bytes()).hexdigest() for f in sorted(d.rglob('*.png'))}
    out[f'set-{m}'] = dict(name=p.name, equal_kept=k.exists() and files(p) == files(k), n=len(files(p)))
    print(m, out[f'set-{m}'], time.time() - t0, flush=True)
commit = subprocess.run(['git', 'rev-parse', 'HEAD'], capture_output=True, text=True).stdout.strip()
dirty = bool(subprocess.run(['git', 'status', '--porcelain', '--untracked-files=no'], capture_output=True, text=True).stdout)
rec = dict(params=vars(a), commit=commit, uncommitted_changes=dirty, seconds=round(time.time() - t0), hashes=out, versions=versions())
if a.before:
    old = json.loads(Path(a.before).read_text())
    old = old.get('hashes', old)
    rec['before'] = dict(hashes={k: v for k, v in old.items() if not k.startswith('set-')},
                         equal={k: old[k] == out[k] for k in old if not k.startswith('set-') and k in out})
save_json(rec, a.out)
print(json.dumps(rec, indent=1))
