"""The paper's Tables 1-5 (`nbs/05_eval.ipynb`): every `figures/params/05_eval-table*.yaml` through papermill, with its
dataset, protocol, methods and first net, but the hub backbone swapped for its tiny random-weight variant, a tiny fusion
module, sampler options of two steps, tiny folder datasets of each dataset's real layout, IPC 1, one seed, one epoch.

The runs execute the notebook as `make figures` does: under papermill it runs only its parameter, library (`#| export`) and
experiment (`#| eval: false`) cells (`evlf.core.check_param_names(..., skip_tests=True)`), so the user's dataset and root never
reach its own check cells (Fashion-MNIST students, `nbdev_test`'s job): the CIFAR and ImageNet-style runs here show it."""
import json, os, pickle
from pathlib import Path
import numpy as np, pytest, torch
from trees import write_image, imagenet_tree

pm = pytest.importorskip('papermill')
REPO = Path(__file__).resolve().parents[1]
NBS, PARAMS = REPO/'nbs', REPO/'figures'/'params'
TABLES = sorted(PARAMS.glob('05_eval-table*.yaml'))
TINY = {'sd15': 'tiny-sd15', 'dit256': 'tiny-dit256'}
OPTS = {'num_inference_steps': 2, 'finetune_steps': 2, 'finetune_batch': 4}
MAX_TEST = 4
# ImageNet-1K needs all 1000 class folders, and its images are read at the protocol's 224 px: with 1000 training images the
# ResNet-18 students and the ConvNet-3 teacher that labels their crops are ~20 TFLOP of CPU work (many minutes on one core).
SLOW_1K = not os.environ.get('EVLF_TEST_IMAGENET1K')
SLOW_1K_REASON = ('ImageNet-1K: 1000 classes at 224 px are minutes of student and teacher training on a CPU; '
                  'set EVLF_TEST_IMAGENET1K=1 to run it (its layout and parameters are checked by test_imagenet_1k_layout_and_params)')


def _img(path, rng): write_image(path, (12, 12), rng)


def _tiny_imagenet(root, wnids=('n01443537', 'n01629819', 'n01641577'), n_train=2):
    "Tiny-ImageNet's released layout (a few classes): wnids.txt, words.txt, train/<wnid>/images, val/images + val_annotations.txt."
    rng = np.random.default_rng(0); root.mkdir(parents=True)
    (root/'wnids.txt').write_text('\n'.join(wnids) + '\n')
    (root/'words.txt').write_text('n01443537\tgoldfish, Carassius auratus\nn01629819\tEuropean fire salamander\nn01641577\tbullfrog\n')
    ann = []
    for i, w in enumerate(wnids):
        for k in range(n_train): _img(root/'train'/w/'images'/f'{w}_{k}.JPEG', rng)
        _img(root/'val'/'images'/f'val_{i}.JPEG', rng); ann.append(f'val_{i}.JPEG\t{w}\t0\t0\t11\t11')
    (root/'val'/'val_annotations.txt').write_text('\n'.join(ann) + '\n')


def _cifar(root, name, n_train=2, n_test=1, k100=20):
    """torchvision's pickled CIFAR batches (`cifar-10-batches-py/`, `cifar-100-python/`) of random images; CIFAR-100 with `k100`
    classes (its layout and label keys; all 100 would only add per-class sampling time)."""
    rng = np.random.default_rng(0)
    k = 10 if name == 'cifar10' else k100
    c10 = name == 'cifar10'
    names = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'] if c10 else [f'class_{i}' for i in range(k)]
    batch = lambda n: {'data': rng.integers(0, 255, (n*k, 3072), dtype=np.uint8), 'labels' if c10 else 'fine_labels': [c for c in range(k) for _ in range(n)]}
    empty = lambda: {'data': np.zeros((0, 3072), np.uint8), 'labels': []}
    if c10:
        files = {'data_batch_1': batch(n_train), **{f'data_batch_{i}': empty() for i in range(2, 6)}, 'test_batch': batch(n_test),
                 'batches.meta': {'label_names': names}}
        folder = root/'cifar-10-batches-py'
    else:
        files, folder = {'train': batch(n_train), 'test': batch(n_test), 'meta': {'fine_label_names': names}}, root/'cifar-100-python'
    folder.mkdir(parents=True)
    for f, d in files.items(): (folder/f).write_bytes(pickle.dumps(d))


# Fake CIFAR files have no official md5: torchvision's integrity check, patched in the notebook's kernel only (IPython startup file).
_CIFAR_STARTUP = ("import os, torchvision.datasets.cifar as _cifar\n"
                  "_cifar.check_integrity = lambda fpath, md5=None: os.path.isfile(fpath)  # tests/test_tables.py: fake CIFAR batches\n")


@pytest.fixture(scope='module')
def table_nb()->Path:
    "05_eval itself: under papermill its test cells are skipped (they would train Fashion-MNIST students and see no user parameter)."
    return NBS/'05_eval.ipynb'


def make_dataset(name, root:Path, monkeypatch)->Path:
    "A tiny folder dataset of `name`'s layout under `root`; returns the `root=` to pass."
    from evlf.data import SUBSETS, imagenet_classes
    if name in SUBSETS: imagenet_tree(root, SUBSETS[name], n_train=2, n_val=1, size=(12, 12))
    elif name == 'imagenet-1k': imagenet_tree(root, list(imagenet_classes()), n_train=1, n_val=1, size=(12, 12))
    elif name == 'tiny-imagenet': _tiny_imagenet(root)
    elif name in ('cifar10', 'cifar100'):
        _cifar(root, name)
        startup = root.parent/'ipython'/'profile_default'/'startup'; startup.mkdir(parents=True)
        (startup/'00-fake-cifar.py').write_text(_CIFAR_STARTUP); monkeypatch.setenv('IPYTHONDIR', str(root.parent/'ipython'))
    else: raise ValueError(f'no tiny layout for {name}')
    return root


@pytest.fixture(scope='module')
def fusion(tmp_path_factory):
    "A tiny fusion module per tiny backbone, saved to a folder (the notebook's `fusion_model`)."
    from evlf.backbone import tiny_backbone
    from evlf.fusion import EVLFFusion
    root, out = tmp_path_factory.mktemp('fusion'), {}
    for kind in ('sd15', 'dit256'):
        bb = tiny_backbone(kind, seed=0); torch.manual_seed(0)
        f = EVLFFusion(latent_channels=bb.latent_shape[0], text_dim=bb.text.dim, width=16, heads=2, layers=1, grid=bb.latent_shape[1], proj_channels=8)
        f.save_pretrained(root/kind); out[f'tiny-{kind}'] = str(root/kind)
    return out


def table_params(f:Path)->dict:
    "The first run `make figures` plans for params file `f` (its first IPC and net), through the real runner."
    from evlf.cli import figure_runs
    plan = [p for nb, n, p in figure_runs(PARAMS, NBS, only=f.stem) if n.startswith(f.stem)]
    assert plan and all(nb.stem == '05_eval' for nb, _, _ in figure_runs(PARAMS, NBS, only=f.stem))
    return plan[0]


def test_every_table_file_is_here():
    assert len(TABLES) >= 11
    datasets = {table_params(f)['dataset'] for f in TABLES}
    assert datasets == {'imagewoof', 'imagenette', 'imageidc', 'cifar10', 'cifar100', 'tiny-imagenet', 'imagenet-1k'}


@pytest.mark.parametrize('f', [pytest.param(f, id=f.stem.removeprefix('05_eval-'),
                                            marks=[pytest.mark.skipif(SLOW_1K, reason=SLOW_1K_REASON)] if 'imagenet-1k' in f.stem else [])
                               for f in TABLES])
def test_table(f, fusion, table_nb, tmp_path, monkeypatch):
    p = table_params(f)
    monkeypatch.setenv('EVLF_CACHE', str(tmp_path/'cache'))
    root = make_dataset(p['dataset'], tmp_path/'data', monkeypatch)
    backbone, out = TINY[p['backbone']], tmp_path/'tables'
    params = {**p, 'backbone': backbone, 'ipc': 1, 'seeds': 1, 'distill_seeds': 1, 'epochs': 1, 'max_test': MAX_TEST, 'options': OPTS,
              'fusion_model': fusion[backbone], 'root': str(root), 'out': str(out), 'students': str(tmp_path/'students')}
    pm.execute_notebook(str(table_nb), str(tmp_path/'05_eval.ipynb'), parameters=params, progress_bar=False, kernel_name='python3')
    stem = f"table_{p['dataset']}_ipc1_{p['protocol']}_{p['net']}"
    for ext in ('md', 'json', 'png', 'pdf'): assert (out/f'{stem}.{ext}').stat().st_size > 0, f'{stem}.{ext} missing'
    rec = json.loads((out/f'{stem}.json').read_text())
    assert rec['params']['protocol'] == rec['protocol']['name'] == p['protocol'] and rec['params']['net'] == p['net']
    assert rec['params']['backbone'] == backbone and rec['params']['root'] == str(root) and rec['params']['options'] == OPTS
    assert list(rec['results']) == p['methods']
    for r in rec['results'].values():
        assert (r['protocol'], r['net'], r['epochs'], r['dataset']) == (p['protocol'], p['net'], 1, p['dataset'])
        assert r['n_test'] <= MAX_TEST and r['distill_seeds'] == [0] and len(r['final'][0]) == 1 and 0 <= r['final'][0][0] <= 1
        run = r['runs'][0]
        assert Path(run['folder']).parent == tmp_path/'students' and (Path(run['folder'])/'seed0.json').exists()  # kept where `students` says
    md = (out/f'{stem}.md').read_text()
    for m in p['methods']: assert f'| {m} |' in md
    hosts = {m.removesuffix('+evlf') for m in p['methods'] if m.endswith('+evlf')}
    assert set(rec['paired']) == hosts and all(q['n'] == 1 and q['ci'] is None for q in rec['paired'].values())  # one set: no interval
    assert f"{p['protocol']}/{p['net']}/1ep" in md


def test_imagenet_1k_layout_and_params(tmp_path, fusion):
    "ImageNet-1K's tiny tree (all 1000 wnid folders) loads, and its tables' parameters pass the notebook's checks with the tiny settings."
    from evlf.data import get_dataset
    from evlf.experiment import check_params
    root = make_dataset('imagenet-1k', tmp_path/'data', None)
    tr, te = get_dataset('imagenet-1k', 'train', root=root), get_dataset('imagenet-1k', 'test', root=root)
    assert len(tr.classes) == len(te.classes) == 1000 and len(tr) == len(te) == 1000 and tr.image_size == 224
    for f in TABLES:
        if 'imagenet-1k' not in f.stem: continue
        p = table_params(f); bb = TINY[p['backbone']]
        q = check_params(p['dataset'], 1, p['methods'], 1, p['protocol'], p['net'], 1, bb, root=root, options=OPTS,
                         fusion_model=fusion[bb], max_test=MAX_TEST)
        assert (q['backbone'], q['root'], q['max_test'], q['fusion_model']) == (bb, str(root), MAX_TEST, fusion[bb])


@pytest.mark.parametrize('kw,msg', [(dict(root='/no/such/data'), "root='/no/such/data' is not valid"),
                                    (dict(options={'steps': 2}), 'unknown option(s) steps'),
                                    (dict(options=[2]), 'options=[2] is not valid'),
                                    (dict(fusion_model='/no/fusion'), "fusion_model='/no/fusion' is not valid"),
                                    (dict(max_test=0), 'max_test=0 is not valid'),
                                    (dict(students=3), 'students=3 is not valid'),
                                    (dict(backbone='tiny-sd14'), "backbone='tiny-sd14' is not valid")])
def test_check_params_new_parameters(kw, msg):
    from evlf.experiment import check_params
    p = dict(dataset='imagewoof', ipc=1, methods=['random', 'd4m', 'd4m+evlf'], seeds=1, protocol='hard', net='resnetap10', backbone='tiny-sd15')
    with pytest.raises(ValueError) as e: check_params(**{**p, **kw})
    assert msg in str(e.value)


def test_bad_table_parameter_fails_first(tmp_path):
    "A bad new parameter fails in the notebook's first cells, before any work: papermill raises and no table is written."
    out = tmp_path/'tables'
    p = {**table_params(TABLES[0]), 'backbone': 'tiny-sd15', 'root': str(tmp_path/'nowhere'), 'out': str(out)}
    with pytest.raises(pm.PapermillExecutionError) as e:
        pm.execute_notebook(str(NBS/'05_eval.ipynb'), str(tmp_path/'bad.ipynb'), parameters=p, progress_bar=False, kernel_name='python3')
    assert f"root='{tmp_path/'nowhere'}' is not valid" in str(e.value), str(e.value)[-2000:]
    assert not out.exists()
