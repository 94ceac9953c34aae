"Students, protocols and evaluate: shapes, bad input, resume from cached seeds, a tiny run that learns, papermill's early failure."
import json, os, subprocess, sys
from pathlib import Path
import pytest, torch
from evlf.eval import (NETS, get_net, get_protocol, evaluate, train_students, eval_epochs, dsa_augment)
from evlf.experiment import check_params
from evlf.data import get_dataset, ArrayImages, distill_random

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize('name', NETS)
@pytest.mark.parametrize('channels', [1, 3])
@pytest.mark.parametrize('size', [28, 32, 64])
def test_net_shapes(name, channels, size):
    if name == 'convnet6' and size < 64:  # a 1x1 map at its 6th instance norm: refused (see test_convnet_too_deep)
        with pytest.raises(ValueError, match=f"net='convnet6' is not valid for {size} px images"): get_net(name, channels, 7, size)
        return
    m = get_net(name, channels, 7, size).eval()
    with torch.inference_mode(): assert m(torch.rand(2, channels, size, size)).shape == (2, 7)


@pytest.mark.parametrize('kw,msg', [(dict(name='vgg11'), "net='vgg11' is not valid"), (dict(channels=0), 'channels=0'),
                                    (dict(num_classes=1), 'num_classes=1'), (dict(image_size='32'), "image_size='32'")])
def test_get_net_bad(kw, msg):
    with pytest.raises(ValueError, match=msg): get_net(**{**dict(name='convnet3', channels=1, num_classes=10, image_size=28), **kw})


def test_convnet_too_deep():
    "ConvNet-6 on 28 px: the 6th block's instance norm sees 1x1 maps, so the net's output does not depend on its input."
    from evlf.eval import ConvNet, InstanceNorm
    torch.manual_seed(0); x = InstanceNorm(8)(torch.randn(5, 8, 1, 1))
    assert torch.allclose(x, x[:1].expand_as(x), atol=1e-4)  # the same for every image
    with pytest.raises(ValueError, match=r'needs >= 64 px\); accepted at 28 px: convnet3, resnetap10, resnet18'): ConvNet(1, 10, 28, depth=6)
    assert ConvNet(1, 10, 28, depth=5)[-1].in_features == 128  # the deepest that fits 28 px: 1x1 after its last pool


@pytest.mark.parametrize('kw,msg', [(dict(ipc=0), 'ipc=0'), (dict(ipc=-3), 'ipc=-3'), (dict(ipc='ten'), "ipc='ten'"),
                                    (dict(methods=['random', 'dm4']), "method='dm4'"), (dict(protocol='idc'), "protocol='idc'"),
                                    (dict(dataset='mnist'), "dataset='mnist'"), (dict(net='vgg'), "net='vgg'"), (dict(methods='random'), 'methods='),
                                    (dict(backbone='sd14'), "backbone='sd14'"), (dict(net='convnet6'), "net='convnet6' is not valid for 28 px"),
                                    (dict(dataset='cifar10', net='convnet6'), "net='convnet6' is not valid for 32 px"),
                                    (dict(distill_seeds=-1), 'distill_seeds=-1'), (dict(distill_seeds='one'), "distill_seeds='one'"),
                                    (dict(distill_seeds=[1, 1]), 'it repeats'), (dict(distill_seeds=0), 'distill_seeds=0'),
                                    (dict(methods=['random', 'mgd3+evlf']), "lacks 'mgd3'"),
                                    (dict(backbone='fashion-half', dataset='fashion-mnist:2,3'), r'classes \[2\], which its UNet was trained on'),
                                    (dict(dataset='fashion-mnist:3,3'), 'it repeats a class'), (dict(dataset='fashion-mnist:10'), 'classes 0..9 only')])
def test_check_params_bad(kw, msg):
    p = dict(dataset='fashion-mnist', ipc=10, methods=['random'], seeds=3, protocol='dc', net='convnet3')
    with pytest.raises(ValueError, match=msg): check_params(**{**p, **kw})


@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    return distill_random('fashion-mnist', 1, seed=0, out_dir=tmp_path_factory.mktemp('d')/'random')


@pytest.mark.parametrize('kw,err,msg', [(dict(protocol='idc'), ValueError, "protocol='idc'"), (dict(dataset='mnist'), ValueError, "dataset='mnist'"),
                                        (dict(net='vgg'), ValueError, "net='vgg'"), (dict(seeds=0), ValueError, 'seeds=0'),
                                        (dict(seeds=[-1]), ValueError, r'seeds=\[-1\] is not valid'), (dict(epochs=0), ValueError, 'epochs=0'),
                                        (dict(eval_every=0), ValueError, 'eval_every=0')])
def test_evaluate_bad(tiny, kw, err, msg):
    with pytest.raises(err, match=msg): evaluate(tiny, **{**dict(dataset='fashion-mnist', protocol='dc', cache=False, progress=False), **kw})


def test_evaluate_bad_data(tmp_path):
    with pytest.raises(FileNotFoundError, match='does not exist'): evaluate(tmp_path/'nope', cache=False)
    (tmp_path/'empty').mkdir()
    with pytest.raises(FileNotFoundError, match='no manifest.json'): evaluate(tmp_path/'empty', cache=False)
    with pytest.raises(ValueError, match='must be a distilled folder'): evaluate(torch.zeros(3), cache=False)


def test_evaluate_resumes(tiny, tmp_path):
    kw = dict(dataset='fashion-mnist', protocol='dc', epochs=1, eval_every=1.0, cache=tmp_path, max_test=200, progress=False)
    r1 = evaluate(tiny, seeds=1, **kw)
    assert r1['cached_seeds'] == [] and r1['protocol'] == 'dc' and r1['n_test'] == 200
    r2 = evaluate(tiny, seeds=2, **kw)
    assert r2['cached_seeds'] == [0] and r2['final'][0] == r1['final'][0]
    folder = Path(r2['folder']); (folder/'seed1.json').unlink()  # as if killed while training seed 1
    r3 = evaluate(tiny, seeds=[0, 1], **kw)
    assert r3['cached_seeds'] == [0] and r3['final'] == r2['final']  # same seed, same result
    assert evaluate(tiny, seeds=1, **{**kw, 'epochs': 2})['cached_seeds'] == []  # another setting, another cache entry
    rec = json.loads((folder/'seed0.json').read_text())
    assert {'final', 'best', 'history', 'recipe', 'versions'} <= set(rec)


def test_tiny_training_learns():
    tr, te = get_dataset('fashion-mnist', 'train'), get_dataset('fashion-mnist', 'test')
    def two(ds, n):
        i = torch.cat([torch.nonzero(ds.targets == c)[:n, 0] for c in (0, 7)])  # T-shirts vs sneakers
        return ds.data[i], (ds.targets[i] == 7).long()
    (x, y), test = two(tr, 10), two(te, 200)
    r = train_students(x, y, test, get_protocol('dc', epochs=5), seeds=[0], eval_every=1.0, device='cpu', progress=False)
    assert r[0]['final'] > 0.75, r  # chance is 0.5
    d = train_students(x, y, test, get_protocol('dsa', epochs=3), seeds=[0], eval_every=1.0, device='cpu', progress=False)
    assert 0 <= d[0]['final'] <= 1


def test_eval_epochs_and_dsa():
    assert eval_epochs(300, 0.05) == list(range(15, 301, 15))
    x = torch.rand(4, 3, 32, 32)
    assert torch.equal(dsa_augment(x, torch.Generator().manual_seed(0)), dsa_augment(x, torch.Generator().manual_seed(0)))


BAD_PARAMS = [(['-p', 'ipc', 'ten'], "ipc='ten' is not valid"), (['-p', 'protocol', 'idc'], "protocol='idc' is not valid"),
                                      (['-p', 'ipcs', '50'], "'ipcs' is not a parameter of this notebook (misspelt?); accepted: dataset, backbone, ipc, methods"),
                                      (['-p', 'distill_seeds', '0'], 'distill_seeds=0 is not valid'), (['-y', 'distill_seeds: [2, 2]'], 'it repeats [2]'),
                                      (['-y', "methods: ['random', 'd4m+evlf']"], "paired=True compares each +evlf method with its host, but methods=['random', 'd4m+evlf'] lacks 'd4m'"),
                                      (['-p', 'ipc', '1000000000'], 'ipc=1000000000 is not valid: class 0 (T-shirt/top) of fashion-mnist has 6000 training images')]  # (papermill arguments, what the error says)


@pytest.mark.parametrize('args,msg', BAD_PARAMS)
def test_papermill_bad_params_fail_early(tmp_path, args, msg):
    "A bad value or a misspelt name (papermill itself only warns) fails in the first cells: non-zero exit, the message, nothing written."
    r = subprocess.run([sys.executable, '-m', 'papermill', str(REPO/'nbs'/'05_eval.ipynb'), str(tmp_path/'out.ipynb'), *args,
                        '-p', 'out', str(tmp_path/'figures'), '--cwd', str(REPO/'nbs')], capture_output=True, text=True, timeout=300,
                       env={**os.environ, 'PYTHONPATH': os.pathsep.join([str(REPO), os.environ.get('PYTHONPATH', '')])})
    assert r.returncode != 0 and msg in r.stdout + r.stderr, r.stderr[-3000:]
    assert not (tmp_path/'figures').exists()


def bad_outputs(blocker:Path)->list:
    "Output locations under a file: (papermill arguments, environment, what the error says)."
    return [(['-p', 'out', str(blocker)], {}, f"out='{blocker}' is not valid: {blocker} is a file, not a folder"),
            (['-p', 'students', str(blocker/'kept')], {}, f"students='{blocker/'kept'}' is not valid"),
            ([], {'EVLF_CACHE': str(blocker/'cache')}, f"EVLF_CACHE='{blocker/'cache'}' is not valid")]

def test_papermill_outputs_checked_before_work(tmp_path):
    "An output location that cannot be written (the table's folder, the kept students, the cache) fails in the check cell, not after the students."
    blocker = tmp_path/'file'; blocker.write_text('')
    env = {**os.environ, 'PYTHONPATH': os.pathsep.join([str(REPO), os.environ.get('PYTHONPATH', '')])}
    for args, extra, msg in bad_outputs(blocker):
        r = subprocess.run([sys.executable, '-m', 'papermill', str(REPO/'nbs'/'05_eval.ipynb'), str(tmp_path/'out.ipynb'), *args, '--cwd', str(REPO/'nbs')],
                           capture_output=True, text=True, timeout=300, env={**env, **extra})
        assert r.returncode != 0 and msg in r.stdout + r.stderr and 'distillation:' not in r.stderr, (args, r.stderr[-3000:])


def test_papermill_random_only(tmp_path):
    """The experiment cells end to end with the smallest settings (the random baseline, 1 seed, 1 epoch): they talk on the terminal
    (papermill's stderr, no --log-output), and the notebook's test cells are skipped under papermill."""
    env = {**os.environ, 'EVLF_CACHE': str(tmp_path/'cache'), 'PYTHONPATH': os.pathsep.join([str(REPO), os.environ.get('PYTHONPATH', '')])}
    args = ['-p', 'ipc', '1', '-p', 'seeds', '1', '-p', 'distill_seeds', '2', '-p', 'epochs', '1', '-p', 'out', str(tmp_path/'figures'), '-y', "methods: ['random']"]
    r = subprocess.run([sys.executable, '-m', 'papermill', str(REPO/'nbs'/'05_eval.ipynb'), str(tmp_path/'out.ipynb'), *args, '--cwd', str(REPO/'nbs')],
                       capture_output=True, text=True, timeout=1200, env=env)  # a guard against a hang, not a speed test: the CPU may be shared
    assert r.returncode == 0, r.stderr[-3000:]
    stem = tmp_path/'figures'/'table_fashion-mnist_ipc1_dc_convnet3'
    for ext in ('.md', '.json', '.png', '.pdf'): assert stem.with_suffix(ext).exists()
    rec = json.loads(stem.with_suffix('.json').read_text())
    res = rec['results']['random']
    assert list(rec['results']) == ['random'] and res['epochs'] == 1 and res['distill_seeds'] == [0, 1] and len(res['final_ci95']) == 2 and 'versions' in rec
    assert [q['distill_seed'] for q in res['runs']] == [0, 1] and res['runs'][0]['final'] != res['runs'][1]['final']  # two sets, two different subsets
    assert '| random |' in stem.with_suffix('.md').read_text() and rec['paired'] == {}
    for line in ('[05_eval] distillation: 2 sets (random x seeds [0, 1])', '[05_eval] distillation: 1/2 done (random seed 0, ', '[05_eval] students: 2 (2 sets x 1 seeds)',
                 '[05_eval] students: 1/2 done (random set ', f'table {stem}.md (and .json), chart {stem}.png (and .pdf)'):
        assert line in r.stderr, (line, r.stderr[-3000:])
    import nbformat
    cells = nbformat.read(tmp_path/'out.ipynb', as_version=4).cells
    shown = [c for c in cells if c.cell_type == 'code' and c.source.startswith('from evlf.report import show_table, show_figure')]
    assert len(shown) == 1 and shown[0].outputs == []  # a test cell: skipped under papermill (it would show the committed table)


def test_backbones_are_the_presets():
    "`evlf.backbone.BACKBONES` (defined once, from the presets) lists the presets and their tiny variants; evlf.eval keeps no copy."
    import evlf.eval
    from evlf.backbone import BACKBONES, PRESETS, TINY_KINDS
    assert set(BACKBONES) == set(PRESETS) | {f'tiny-{k}' for k in TINY_KINDS} and not hasattr(evlf.eval, 'BACKBONES')
