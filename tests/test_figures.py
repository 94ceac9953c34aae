"Figure notebooks 06-10 through papermill with tiny settings; bad parameters; the params files and `make figures` runner."
import json, os, subprocess, sys
from pathlib import Path
import pytest, torch
from evlf.eval import NUMERICS
from evlf.report import main_job_cost, predicted_seconds, choose_design

pm = pytest.importorskip('papermill')
REPO = Path(__file__).resolve().parents[1]
NBS = REPO/'nbs'
OPTS = {'num_inference_steps': 2, 'finetune_steps': 2, 'finetune_batch': 4}
BASE = dict(dataset='fashion-mnist', backbone='tiny-sd15', real_per_class=12, options=OPTS)

@pytest.fixture(scope='module')
def env(tmp_path_factory):
    "A throw-away cache (shared by the notebooks, as in real use) and a tiny fusion module for the tiny-sd15 backbone."
    from evlf.backbone import tiny_backbone
    from evlf.fusion import EVLFFusion
    root = tmp_path_factory.mktemp('figs')
    old = os.environ.get('EVLF_CACHE'); os.environ['EVLF_CACHE'] = str(root/'cache')
    bb = tiny_backbone('sd15', seed=0); torch.manual_seed(0)
    f = EVLFFusion(latent_channels=4, text_dim=bb.text.dim, width=16, heads=2, layers=1, grid=bb.latent_shape[1], proj_channels=8)
    f.save_pretrained(root/'fusion')
    yield dict(root=root, fusion=str(root/'fusion'))
    if old is None: os.environ.pop('EVLF_CACHE', None)
    else: os.environ['EVLF_CACHE'] = old

def run(nb, out_nb, **params):
    return pm.execute_notebook(str(NBS/f'{nb}.ipynb'), str(out_nb), parameters=params, progress_bar=False, kernel_name='python3')

def outputs(folder, stem, exts=('png', 'pdf', 'json')):
    for e in exts: assert (Path(folder)/f'{stem}.{e}').stat().st_size > 0, f'{stem}.{e} missing'
    return json.loads((Path(folder)/f'{stem}.json').read_text())

def test_samples_and_gradcam(env, tmp_path):
    out = tmp_path/'figs'
    run('06_samples', tmp_path/'06.ipynb', **BASE, host='d4m', ipc=2, per_class=2, classes=[0, 5, 9], fusion_model=env['fusion'], out=str(out))
    rec = outputs(out, 'samples-fashion-mnist-d4m')
    assert rec['params']['host'] == 'd4m' and rec['data']['classes'] == ['T-shirt/top', 'Sandal', 'Ankle boot'] and rec['versions']['torch']
    run('10_gradcam', tmp_path/'10.ipynb', **BASE, host='d4m', ipc=2, n_images=3, epochs=2, max_test=300, fusion_model=env['fusion'], out=str(out))
    rec = outputs(out, 'gradcam-fashion-mnist-d4m')
    import numpy as np
    maps = np.load(out/rec['data']['maps_file'])  # the raw maps, beside the JSON in a compact binary file
    assert set(rec['data']['accuracy']) == {'random', 'd4m', 'd4m+evlf'} and maps['d4m'].shape == (3, 28, 28) and maps['d4m'].dtype == np.float32
    assert rec['data']['numerics'] == NUMERICS  # the students' arithmetic, recorded as in the tables
    # 10 reused 06's d4m / d4m+evlf sets from the cache
    assert rec['data']['distilled']['d4m+evlf'] == json.loads((out/'samples-fashion-mnist-d4m.json').read_text())['data']['distilled']['d4m+evlf']

def test_tsne(env, tmp_path):
    run('07_tsne', tmp_path/'07.ipynb', **BASE, host='d4m', ipc=2, real_points=8, extractor='pixels', perplexity=5.0, tsne_iter=250,
        fusion_model=env['fusion'], out=str(tmp_path))
    rec = outputs(tmp_path, 'tsne-fashion-mnist-d4m')
    assert rec['data']['extractor']['name'] == 'pixels' and len(rec['data']['points']['xy']) == 10*(8 + 2 + 2)

def test_lambda_sweep(env, tmp_path):
    run('08_lambda_sweep', tmp_path/'08.ipynb', **BASE, lambdas=[0.0, 0.1], ipcs=[2], seeds=1, distill_seeds=2, epochs=2, fusion_max_steps=2,
        fusion_options={'width': 16, 'heads': 2, 'batch_size': 8}, coverage_real=10, coverage_k=2, extractor='pixels', max_test=200,
        out=str(tmp_path))
    rec = outputs(tmp_path, 'lambda_sweep-fashion-mnist-d4m')
    d = rec['data']
    assert len(d['summary']) == 3 and set(d['fusion_modules']) == {'0 seed0', '0 seed1', '0.1 seed0', '0.1 seed1'}
    assert len(set(d['fusion_modules'].values())) == 4 and d['coverage']['real_total'] == 100  # one module per lambda1 and seed
    assert sorted(d['distilled']) == [f'{m} ipc2 dseed{s}' for m in ('d4m', 'd4m+evlf lambda1 0', 'd4m+evlf lambda1 0.1') for s in (0, 1)]
    c = d['paired']['2']['0.1']  # paired by distillation seed: against the host alone and against lambda1 = 0
    assert c['vs host']['n'] == c['vs lambda1 0']['n'] == 2 and 'vs lambda1 0' not in d['paired']['2']['0']
    assert [q['distill_seed'] for q in c['vs lambda1 0']['per_distill_seed']] == [0, 1] and '| 2 | 0.1 |' in d['markdown']
    assert {r['distill_seed'] for r in d['runs']} == {0, 1} and all(s['final_lo'] <= s['final_mean'] <= s['final_hi'] for s in d['summary'])
    assert 0 <= d['best_coverage']['2']['greedy'] <= d['best_coverage']['2']['upper'] <= 1
    assert all(0 <= s['coverage'] <= 1 for s in d['summary']) and d['numerics'] == NUMERICS

def test_ablation(env, tmp_path):
    run('09_ablation', tmp_path/'09.ipynb', **BASE, ipcs=[2], seeds=1, distill_seeds=2, epochs=2, max_test=200, fusion_model=env['fusion'], out=str(tmp_path),
        students=str(tmp_path/'students'), kept_sets=str(tmp_path/'sets'))
    rec = outputs(tmp_path, 'ablation-fashion-mnist-d4m', ('png', 'pdf', 'json', 'md'))
    md = (tmp_path/'ablation-fashion-mnist-d4m.md').read_text()
    for row in ('| D4M |', '| +FT only |', '| +CA only |', '| +CA, FT on plain |', '| D4M+EVLF (both) |', '| **FT on fused - FT on plain** |', 'another setting'):
        assert row in md, row
    d = rec['data']
    assert len(d['runs']) == 10 and d['numerics'] == NUMERICS and d['central'] == ['D4M+EVLF (both)', '+CA, FT on plain']
    c = d['paired']['2']['FT on fused - FT on plain']
    assert c['n'] == 2 and len(c['ci']) == 2 and [q['distill_seed'] for q in c['per_distill_seed']] == [0, 1]
    assert len(d['paired']['2']) == 5 and len(d['pooled']['D4M ipc2']['final_ci95']) == 2
    assert len(list((tmp_path/'students').glob('*/seed0.json'))) == 10  # one record per variant and set, kept where `students` says
    kept = sorted((tmp_path/'sets').iterdir())  # every generated set kept where `kept_sets` says, under its cache name
    assert len(kept) == 10 and {p.name for p in kept} == {Path(p).name for p in d['distilled'].values()}

def test_unseen_classes(env, tmp_path):
    """A half backbone distils the classes its UNet has not seen (the view is implied by the backbone alone): every set,
    the random baseline and the students' test split hold those five classes only."""
    from evlf.fusion import EVLFFusion
    from evlf.data import load_distilled
    torch.manual_seed(0)
    EVLFFusion(latent_channels=4, text_dim=384, width=16, heads=2, layers=1, grid=8, proj_channels=8).save_pretrained(tmp_path/'fusion')
    run('09_ablation', tmp_path/'09.ipynb', dataset='fashion-mnist', backbone='tiny-fashion-half', real_per_class=12, options=OPTS, host='d4m',
        ipcs=[1], seeds=1, epochs=2, max_test=200, fusion_model=str(tmp_path/'fusion'), out=str(tmp_path))
    rec = outputs(tmp_path, 'ablation-fashion-mnist_3_4_5_6_7-d4m')
    assert rec['params']['dataset'] == 'fashion-mnist:3,4,5,6,7' and len(rec['data']['distilled']) == 5  # host, +FT, +CA, +CA with FT on plain, both
    for path in rec['data']['distilled'].values():
        assert load_distilled(path).classes == ['Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker']
    from evlf.eval import evaluate
    ev = evaluate(next(iter(rec['data']['distilled'].values())), dataset='fashion-mnist:3,4,5,6,7', seeds=1, epochs=1, max_test=50, cache=False, progress=False)
    assert ev['classes'] == 5 and ev['n_test'] == 50

def test_unseen_quality(env, tmp_path):
    "13_unseen end to end on random weights: every arm drawn with the same noise, rates with intervals, paired differences, the record."
    from evlf.fusion import EVLFFusion
    torch.manual_seed(0)
    EVLFFusion(latent_channels=4, text_dim=384, width=16, heads=2, layers=1, grid=8, proj_channels=8).save_pretrained(tmp_path/'fusion')
    run('13_unseen', tmp_path/'13.ipynb', backbone='tiny-fashion-half', reference='tiny-fashion-tiny', recipes=['difffit', 'full'], n_per_class=3,
        num_inference_steps=2, classifier_epochs=1, classifier_per_class=20, fusion_model=str(tmp_path/'fusion'), real_per_class=8,
        options={'finetune_steps': 2, 'finetune_batch': 4}, show_per_class=2, out=str(tmp_path))
    rec = outputs(tmp_path, 'unseen-tiny-fashion-half', ('png', 'pdf', 'json', 'md'))
    d = rec['data']
    assert rec['params']['target'] == [3, 4, 5, 6, 7] and rec['params']['source'] == [0, 1, 2, 8, 9]
    assert list(d['arms']) == ['source classes', 'target classes', 'target, fine-tuned difffit on plain', 'target, fine-tuned difffit on fused',
                               'target, fine-tuned full on plain', 'target, fine-tuned full on fused', 'target, tiny-fashion-tiny (has seen them)']
    assert all(len(h) == 15 for h in d['per_image'].values()) and all(a['ci95'][0] <= a['recognised'] <= a['ci95'][1] for a in d['arms'].values())
    assert [(x['a'], x['b']) for x in d['differences']][-2] == ('target, fine-tuned full on fused', 'target, fine-tuned full on plain')
    for x in d['differences']:  # arms alike on every image are said to be, not 'not resolved'
        same = d['per_image'][x['a']] == d['per_image'][x['b']]
        assert (x['verdict'] == 'identical on every image') == same and x['verdict'] in ('identical on every image', 'higher', 'lower', 'not resolved at this n')

@pytest.mark.parametrize('params,msg', [(dict(backbone='fashion-tiny'), "backbone='fashion-tiny' is not valid: it has seen every class"),
                                        (dict(reference='fashion-half'), "reference='fashion-half' is not valid"),
                                        (dict(recipes=['difffit', 'difffit']), 'it repeats a recipe'), (dict(recipes=['lora']), "recipes[0]='lora'"),
                                        (dict(options={'fusion': True}), 'what this notebook varies'), (dict(n_per_class=0), 'n_per_class=0'),
                                        (dict(options={'finetune_stepz': 3}), 'unknown option(s) finetune_stepz')])
def test_unseen_bad_parameters(tmp_path, params, msg):
    with pytest.raises(pm.PapermillExecutionError) as e: run('13_unseen', tmp_path/'bad.ipynb', out=str(tmp_path/'figs'), **params)
    assert msg in str(e.value), str(e.value)[-2000:]
    assert not (tmp_path/'figs').exists() or not any((tmp_path/'figs').iterdir())

def test_variance(env, tmp_path):
    "11_variance end to end on a tiny backbone: components of both hosts' paired differences, and every design priced from the measured main job."
    timing = REPO/'figures'/'bench'/'main_job_timing.json'
    run('11_variance', tmp_path/'11.ipynb', **BASE, ipcs=[2], designs_ipc=2, distill_seeds=2, seeds=2, fusion_seeds=1, epochs=2, max_test=200,
        fusion_model=env['fusion'], out=str(tmp_path), students=str(tmp_path/'students'), timing=str(timing), max_distill_seeds=3, max_seeds=2)
    rec = outputs(tmp_path, 'variance-fashion-mnist', ('png', 'pdf', 'json', 'md'))
    d = rec['data']
    assert set(d['components']) == {'ipc2-d4m', 'ipc2-mgd3'}
    cm = main_job_cost(json.loads(timing.read_text()))
    assert [(q['distill_seeds'], q['seeds']) for q in d['designs']] == [(2, 1), (2, 2), (3, 1), (3, 2)]
    for q in d['designs']: assert q['predicted_s'] == pytest.approx(predicted_seconds(cm, q['distill_seeds'], q['seeds']))
    assert d['choice'] == choose_design(d['designs'], 1200, 1.5)
    for c in d['components'].values():
        assert c['paired']['n'] == 2 and c['paired']['within_sd'] is not None and c['fusion'] is None
        assert [q['students'] for q in c['paired']['per_distill_seed']] == [2, 2]  # two students a set, paired by seed
    assert list((tmp_path/'students').glob('*/seed1.json'))  # kept where `students` says

def test_mechanism(env, tmp_path):
    "12_mechanism end to end on a tiny backbone: the shift split adds up, every host's prototypes move, every set is judged."
    run('12_mechanism', tmp_path/'12.ipynb', **BASE, ipc=2, extractor='pixels', classifier_per_class=20, fusion_model=env['fusion'], out=str(tmp_path))
    d = outputs(tmp_path, 'mechanism-fashion-mnist-tiny-sd15', ('png', 'pdf', 'json', 'md'))['data']
    assert abs(d['shift']['constant_share'] + d['shift']['per_image_share'] - 1) < 1e-9 and d['shift']['relative_shift'] > 0
    assert set(d['prototypes_mean']) == {'d4m', 'mgd3'} and all(v['reseed'] >= 0 for v in d['prototypes_mean'].values())
    assert [s['set'] for s in d['samples']] == ['d4m', 'd4m + fine-tuning only', 'd4m + fused prototypes only', 'd4m+evlf', 'mgd3', 'mgd3+evlf']
    assert all(0 <= s['class_agreement'] <= 1 and s['images'] == 20 for s in d['samples'])

@pytest.mark.parametrize('nb,params,msg', [
    ('12_mechanism', dict(extractor='inception'), "extractor='inception' is not valid"),
    ('12_mechanism', dict(reseed=0), 'reseed=0 is not valid'),
    ('11_variance', dict(seeds=1), 'seeds=1 is not valid'),
    ('11_variance', dict(distill_seeds=[0]), 'the between-set part needs two sets'),
    ('11_variance', dict(distill_seeds=[1, 1]), 'it repeats [1]'),
    ('11_variance', dict(designs_ipc=50), 'designs_ipc=50 is not valid; accepted: one of ipcs=[10]'),
    ('11_variance', dict(hosts=['d4m', 'dm4']), "hosts[1]='dm4' is not valid"),
    ('06_samples', dict(host='dm4'), "host='dm4' is not valid; accepted: 'd4m', 'mgd3'"),
    ('06_samples', dict(per_class=11), 'per_class=11 is not valid; accepted: an integer >= 1 <= 10'),
    ('07_tsne', dict(extractor='inception'), "extractor='inception' is not valid"),
    ('08_lambda_sweep', dict(lambdas=[0.1, -1]), 'lambdas[1]=-1 is not valid'),
    ('08_lambda_sweep', dict(students=3), 'students=3 is not valid'),
    ('08_lambda_sweep', dict(distill_seeds=0), 'distill_seeds=0 is not valid'),
    ('09_ablation', dict(options={'finetune': True}), 'fusion and finetune are what this notebook varies'),
    ('09_ablation', dict(kept_sets=3), 'kept_sets=3 is not valid'),
    ('09_ablation', dict(variants='centre'), "variants='centre' is not valid; accepted: 'all', 'central'"),
    ('10_gradcam', dict(protocol='soft'), "protocol='soft' is not valid"),
    ('06_samples', dict(hosts='d4m'), "'hosts' is not a parameter of this notebook (misspelt?); accepted: dataset, backbone, host"),
    ('07_tsne', dict(perplexty=5.0), "'perplexty' is not a parameter"),
    ('08_lambda_sweep', dict(ipc=10), "'ipc' is not a parameter of this notebook (misspelt?); accepted: dataset, backbone, host, lambdas, ipcs"),
    ('09_ablation', dict(ipc=10, nets=['convnet3']), "'ipc', 'nets' are not parameters"),
    ('10_gradcam', dict(class_idx=3), "'class_idx' is not a parameter"),
    ('09_ablation', dict(backbone='tiny-fashion-half', dataset='fashion-mnist:0,3'), 'to distil classes [0], which its UNet was trained on'),
    ('12_mechanism', dict(backbone='fashion-half', dataset='cifar10'), "dataset='cifar10' is not valid for backbone='fashion-half'"),
    ('06_samples', dict(dataset='fashion-mnist:3,3'), "dataset='3,3' is not valid: it repeats a class"),
    ('07_tsne', dict(dataset='fashion-mnist:'), "dataset='' is not valid; accepted: a non-empty list of class indices"),
    ('11_variance', dict(dataset='fashion-mnist:4,11'), 'the dataset has classes 0..9 only'),
])
def test_bad_parameters_fail_first(tmp_path, nb, params, msg):
    out = tmp_path/'figs'
    with pytest.raises(pm.PapermillExecutionError) as e: run(nb, tmp_path/'bad.ipynb', out=str(out), **params)
    assert msg in str(e.value), str(e.value)[-2000:]
    assert not out.exists() or not any(out.iterdir())  # nothing written

def test_params_files_and_runner(tmp_path):
    from evlf.cli import figure_runs
    from evlf.experiment import check_params
    from evlf.core import check_seeds
    plan = figure_runs(REPO/'figures'/'params', NBS)
    names = {n for _, n, _ in plan}
    for nb in ('06_samples', '07_tsne', '08_lambda_sweep', '09_ablation', '10_gradcam', '11_variance', '12_mechanism'): assert nb in names
    fm = [p for nb, n, p in plan if n.startswith('05_eval-fashion-mnist')]
    assert sorted((p['ipc'], p['net']) for p in fm) == [(1, 'convnet3'), (10, 'convnet3'), (10, 'convnet3'), (10, 'convnet3'), (10, 'resnetap10'),
                                                        (50, 'convnet3')]  # IPC 10 three times: 3 sets, 10 sets, the DiT column
    assert len({p['out'] for p in fm}) == 6 and all(len(check_seeds('distill_seeds', p['distill_seeds'])) >= 3 for p in fm)
    assert [p.get('fusion_seeds', 'shipped') for p in fm if p['ipc'] == 1] == ['distill']  # one table varies the fusion module's seed
    for nb, n, p in plan:
        if nb.stem == '05_eval':
            check_params(p['dataset'], p['ipc'], p['methods'], p['seeds'], p['protocol'], p['net'], p.get('epochs'), p['backbone'],
                         distill_seeds=p.get('distill_seeds', 3), fusion_seeds=p.get('fusion_seeds', 'shipped'))
    (tmp_path/'p').mkdir(); (tmp_path/'p'/'07_tsne.yaml').write_text('lambda1: 0.1\n')
    with pytest.raises(ValueError, match=r"\['lambda1'\] are not parameters of 07_tsne"): figure_runs(tmp_path/'p', NBS)
    r = subprocess.run([sys.executable, '-m', 'evlf.cli', 'figures', '--dry-run', '--only', '06_samples'], cwd=REPO, capture_output=True, text=True)
    assert r.returncode == 0 and '== 06_samples: papermill' in r.stdout, r.stderr

def test_runner_writes_the_summary_table(tmp_path):
    "After a run of an `ipcs` x `nets` params file, `summary.md` lists every (net, IPC) it asks for, run or not."
    from evlf.cli import write_summaries
    from evlf.core import save_json
    out = tmp_path/'tables'
    (tmp_path/'p').mkdir()
    (tmp_path/'p'/'05_eval-x.yaml').write_text(f'dataset: fashion-mnist\nipcs: [1, 10]\nnets: [convnet3, resnetap10]\nout: {out}\n')
    res = {m: dict(final=[v/100], best=[v/100], final_mean=v, final_std=0.0, best_mean=v, best_std=0.0, numerics=2, seconds_per_student=1.0)
           for m, v in (('d4m', 60.0), ('d4m+evlf', 61.0))}
    save_json(dict(params=dict(net='resnetap10', ipc=10), protocol=dict(name='dc'), results=res, versions={}), out/'ipc10-netresnetap10'/'table_x.json')
    write_summaries(tmp_path/'p', NBS, {'05_eval-x-ipc10-netresnetap10'})
    md = (out/'summary.md').read_text()
    assert md.count('not run') == 3*2 and '| resnetap10 | 10 | 60.0 +- 0.0 | **61.0 +- 0.0** |' in md, md
    (out/'summary.md').unlink(); write_summaries(tmp_path/'p', NBS, {'07_tsne'})  # nothing of this file ran: no summary
    assert not (out/'summary.md').exists()

def test_committed_student_records():
    "`figures/students/<key>/seedK.json`: each committed record is whole, names its seed, and uses today's student arithmetic."
    folder = REPO/'figures'/'students'
    recs = sorted(folder.glob('*/seed*.json')) if folder.exists() else []
    for f in recs:
        r = json.loads(f.read_text()); meta = json.loads((f.parent/'meta.json').read_text())
        assert f.name == f"seed{r['seed']}.json" and 0 <= r['final'] <= 1 and 0 <= r['best'] <= 1, f
        assert r['numerics'] == meta['numerics'] == NUMERICS, f'{f}: numerics {r["numerics"]}, not {NUMERICS}: stale, delete it'
        assert r['versions']['torch'] and r['history'][-1][1] == r['final'], f
        assert meta['source'].startswith('$EVLF_CACHE/'), f"{f.parent}: meta.json's source should be relative to $EVLF_CACHE, not a machine's path"

def test_skip_test_cells_ends_its_cell():
    "`skip_test_cells` acts from the next cell on: a check in its own cell would run under papermill, against a record the run just replaced."
    for f in sorted(NBS.glob('*.ipynb')):
        for c in json.loads(f.read_text())['cells']:
            src = ''.join(c['source']).strip()
            if c['cell_type'] == 'code' and 'under_papermill(globals()): skip_test_cells()' in src:
                assert 'skip_test_cells()' in src.splitlines()[-1], f'{f.name}: code after skip_test_cells() in its cell'

def test_ablation_killed_then_resumed(env, tmp_path, monkeypatch):
    "09_ablation killed (SIGKILL) mid-run, then run again: the finished fine-tunes, sets and students are read back, not made again."
    import signal, time, yaml
    cache, students, kept, out = tmp_path/'cache', tmp_path/'students', tmp_path/'sets', tmp_path/'figs'
    params = dict(**BASE, ipcs=[2], seeds=1, distill_seeds=2, epochs=2, max_test=200, fusion_model=env['fusion'], out=str(out),
                  students=str(students), kept_sets=str(kept))
    (tmp_path/'p.yaml').write_text(yaml.safe_dump(params))
    p = subprocess.Popen([sys.executable, '-m', 'papermill', str(NBS/'09_ablation.ipynb'), str(tmp_path/'a.ipynb'), '-f', str(tmp_path/'p.yaml'),
                          '--no-progress-bar'], env={**os.environ, 'EVLF_CACHE': str(cache)}, start_new_session=True,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t = time.time()
    while not list(students.glob('*/seed0.json')) and p.poll() is None and time.time() - t < 900: time.sleep(0.2)
    os.killpg(p.pid, signal.SIGKILL); p.wait()
    assert not (out/'ablation-fashion-mnist-d4m.json').exists()  # killed part-way: the first set's students are training
    made = lambda: {f: (f.name != 'meta.json' and f.stat().st_mtime_ns, f.read_bytes())  # a students folder's meta.json is rewritten, the same
                    for d in (students, kept, cache/'finetune', cache/'distilled') if d.exists()
                    for f in d.rglob('*') if f.is_file() and '.tmp' not in str(f) and not f.name.endswith('.lock')}
    before = made()
    assert any(kept.rglob('*.png')) and any((cache/'finetune').rglob('*.safetensors')) and list(students.glob('*/seed0.json'))
    monkeypatch.setenv('EVLF_CACHE', str(cache))
    run('09_ablation', tmp_path/'b.ipynb', **params)
    after = made()
    assert {f: after.get(f) for f in before} == before  # nothing finished was made again
    d = outputs(out, 'ablation-fashion-mnist-d4m')['data']
    assert len(d['runs']) == 10 and len(list(students.glob('*/seed0.json'))) == 10 and len([q for q in kept.iterdir() if not q.name.startswith('.')]) == 10
    # variants='central': the central comparison's two rows alone read back the same sets and students, and give the same difference
    run('09_ablation', tmp_path/'c.ipynb', **{**params, 'variants': 'central', 'out': str(tmp_path/'central')})
    c = outputs(tmp_path/'central', 'ablation-fashion-mnist-d4m')['data']
    assert list(c['paired']['2']) == ['FT on fused - FT on plain'] and len(c['runs']) == 4 and made() == after
    assert c['paired']['2']['FT on fused - FT on plain'] == d['paired']['2']['FT on fused - FT on plain']
