"Anyone's sets: the same images in every layout give the same students, and a set behind a committed table is re-evaluated as kept."
import json, re
from pathlib import Path
import pytest, torch
from PIL import Image
from evlf.data import get_dataset, random_subset, distill_random, load_distilled
from evlf.eval import normalizer
from evlf.sets import read_set, evaluate_sets, export_set

REPO = Path(__file__).resolve().parents[1]
QUICK = dict(dataset='fashion-mnist', protocol='dc', seeds=2, epochs=2, max_test=300, cache=False, workers=1, progress=False)


def _jpeg_folder(root: Path) -> Path:
    "Class-name folders of 64 px colour JPEGs, written by hand as another tool would."
    tr = get_dataset('fashion-mnist')
    for c, name in enumerate(tr.classes):
        d = root/re.sub(r'\W+', ' ', name).strip().title(); d.mkdir(parents=True)
        for j, i in enumerate(random_subset(tr, c, 2, 7)):
            Image.fromarray(tr.data[i, 0].numpy()).resize((64, 64)).convert('RGB').save(d/f'img{j}.jpg', quality=90)
    return root


def test_every_layout_same_numbers(tmp_path):
    "The hand-written JPEG folder, then the same decoded images as DC's .pt and as a datasets folder: the same per-seed accuracies."
    import datasets
    folder = _jpeg_folder(tmp_path/'jpegs')
    s = read_set(folder)
    m, sd = normalizer('fashion-mnist', 1, 'cpu')
    torch.save({'data': [[(s.data.float()/255 - m)/sd, s.targets]]}, tmp_path/'set.pt')
    feats = datasets.Features({'image': datasets.Image(), 'label': datasets.ClassLabel(names=list(s.classes))})
    datasets.Dataset.from_dict({'image': [Image.fromarray(a[0].numpy()) for a in s.data], 'label': s.targets.tolist()},
                               features=feats).save_to_disk(str(tmp_path/'hf'))
    rec = evaluate_sets([folder, tmp_path/'set.pt', tmp_path/'hf'], baseline='random', **QUICK)
    finals = [v['result']['final'] for v in rec['data']['sets'].values()]
    assert finals[0] == finals[1] == finals[2], finals
    assert [v['layout'] for v in rec['data']['sets'].values()] == ['imagefolder', 'pt', 'datasets']
    assert all(p['mean'] == 0 and p['paired'] for p in rec['data']['pairs'])
    assert rec['data']['sets']['jpegs']['vs_random']['n'] == 2


def test_export_roundtrip_every_layout(tmp_path):
    src = distill_random('fashion-mnist', ipc=1, seed=2, out_dir=tmp_path/'rand')
    out = export_set(src, tmp_path/'exp')
    ref = load_distilled(src)
    for sub in ('imagefolder', 'dc.pt', 'hf'):
        r = read_set(out/sub)
        assert torch.equal(r.data, ref.data) and torch.equal(r.targets, ref.targets), sub


@pytest.mark.parametrize('bad,says', [
    ('empty', 'holds no class folders'),
    ('no-class', "class folder 'hat' is no class"),
    ('truncated', 'cannot read image'),
    ('labels', 'run from 0 to 10; accepted: 0 to 9'),
])
def test_bad_sets_refused_before_training(bad, says, tmp_path, monkeypatch):
    "A bad set stops evaluate_sets before any student, naming what is wrong; nothing is written."
    import evlf.sets
    monkeypatch.setattr(evlf.sets, 'evaluate', lambda *a, **k: pytest.fail('a student was trained'))
    p = tmp_path/'set'
    if bad == 'empty': p.mkdir()
    if bad in ('no-class', 'truncated'):
        _jpeg_folder(p)
        if bad == 'no-class': (p/'hat').mkdir(); Image.new('L', (8, 8)).save(p/'hat'/'0.png')
        else: f = next((p/'Dress').glob('*.jpg')); f.write_bytes(f.read_bytes()[:100])
    if bad == 'labels':
        p = tmp_path/'set.pt'; torch.save({'images': torch.zeros(20, 1, 28, 28, dtype=torch.uint8), 'labels': torch.arange(20) % 11}, p)
    with pytest.raises((ValueError, FileNotFoundError), match=re.escape(says)):
        evaluate_sets([p], out=tmp_path/'out', **QUICK)
    assert not (tmp_path/'out').exists()


def test_measured_run_reproduces_the_table():
    """The committed `evlf evaluate` run on exported fashion-half sets: each student is the table's (the same images and
    settings, so the same record key) and its final accuracy is the kept record's to within 0.1 points (5 of the 5,000
    test images): the table's students ran on an AVX-512 CPU, these on an AVX2 one, whose float32 kernels differ."""
    rec = json.loads((REPO/'figures'/'evaluate'/'fashion-half-ipc10-mgd3-s0'/'evaluation.json').read_text())
    table = json.loads(next((REPO/'figures'/'tables'/'fashion-half'/'ipc10-netconvnet3').glob('table_*.json')).read_text())
    runs = {m: table['results'][m]['runs'][0]['folder'] for m in ('mgd3', 'mgd3+evlf', 'random')}
    kept = {m: json.loads((REPO/f/'seed0.json').read_text())['final'] for m, f in runs.items()}
    got = dict(zip(('mgd3', 'mgd3+evlf'), rec['data']['sets'].values()))
    assert [Path(g['result']['folders'][0]).name for g in got.values()] == [Path(runs[m]).name for m in got]  # same key
    assert Path(rec['data']['random']['pooled']['folders'][0]).name == Path(runs['random']).name
    finals = {**{m: g['result']['final'][0] for m, g in got.items()}, 'random': rec['data']['random']['pooled']['final'][0]}
    assert all(abs(finals[m] - kept[m]) <= 0.001 for m in kept), (finals, kept)
    assert rec['params']['seeds'] == [0] and rec['params']['amp'] is False and rec['params']['dataset'] == 'fashion-mnist:3,4,5,6,7'


def test_bench_readme_says_what_the_records_hold():
    "bench/README.md's numbers of the re-evaluation are the record's and the kept records'."
    rec = json.loads((REPO/'figures'/'evaluate'/'fashion-half-ipc10-mgd3-s0'/'evaluation.json').read_text())
    table = json.loads(next((REPO/'figures'/'tables'/'fashion-half'/'ipc10-netconvnet3').glob('table_*.json')).read_text())
    got = [v['result']['final'][0] for v in rec['data']['sets'].values()] + [rec['data']['random']['pooled']['final'][0]]
    kept = [json.loads((REPO/table['results'][m]['runs'][0]['folder']/'seed0.json').read_text())['final'] for m in ('mgd3', 'mgd3+evlf', 'random')]
    f = lambda v: ', '.join(f'{100*x:.2f}%' for x in v)
    text = ' '.join((REPO/'bench'/'README.md').read_text().split())
    assert f'final accuracies were {f(got)} against the kept {f(kept)}' in text


def test_main_table_reevaluated():
    """The committed `evlf evaluate` run on all 15 exported sets of the main table (bfloat16 students): each student has
    the table's record key and the kept final accuracy within 5 of the 10,000 test images; bench/README says so."""
    import numpy as np
    rec = json.loads((REPO/'figures'/'evaluate'/'fashion-mnist-ipc10-main'/'evaluation.json').read_text())
    table = json.loads(next((REPO/'figures'/'tables'/'fashion-mnist'/'ipc10-netconvnet3').glob('table_*.json')).read_text())
    here = {Path(v['result']['folders'][0]).name: v['result']['final'][0] for v in rec['data']['sets'].values()}
    assert len(here) == 15 and rec['params']['amp'] is True and rec['params']['seeds'] == [0]
    got, kept = {}, {}
    for m, r in table['results'].items():
        folders = [Path(run['folder']) for run in r['runs']]
        got[m] = np.array([here[f.name] for f in folders])  # a KeyError here: a student not keyed as the table's
        kept[m] = np.array([json.loads((REPO/f/'seed0.json').read_text())['final'] for f in folders])
    gap = np.concatenate([got[m] - kept[m] for m in got])*10_000
    assert np.abs(gap).max() <= 5.01 and round(float(np.abs(gap).mean()), 1) == 2.7
    paired = {h: 100*float(np.mean(got[f'{h}+evlf'] - got[h])) for h in ('d4m', 'mgd3')}
    text = ' '.join((REPO/'bench'/'README.md').read_text().split())
    assert (f"within 5 of the 10,000 test images (2.7 on average); the paired differences are {paired['d4m']:+.2f} (D4M+EVLF - D4M)"
            f" and {paired['mgd3']:+.2f} (MGD3+EVLF - MGD3) points against the table's {table['paired']['d4m']['mean']:+.2f} and"
            f" {table['paired']['mgd3']['mean']:+.2f}.") in text
