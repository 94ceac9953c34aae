"Nothing lost, nothing silently wrong: a user's folder is never touched, damaged cache entries are said and recomputed, kept records refused, one run makes each entry."
import json, os, shutil, signal, subprocess, sys, threading, time
from pathlib import Path
import pytest, torch
from evlf import eval as ev, fusion as fu
from evlf.cli import main
from evlf.core import cache_dir, entry_lock, Damaged
from evlf.data import load_real, DistilledWriter
from evlf.sampler import cached_set, cached_backbone

REPO = Path(__file__).resolve().parents[1]
KW = dict(num_inference_steps=2, finetune_steps=2, finetune_batch=4)
EV = dict(dataset='fashion-mnist:0,1,2', protocol='dc', seeds=[0, 1], epochs=2, eval_every=1.0, max_test=300, amp=False, progress=False)

@pytest.fixture(autouse=True)
def _env(tmp_path, monkeypatch):
    monkeypatch.setenv('EVLF_CACHE', str(tmp_path/'cache')); torch.set_num_threads(1)

@pytest.fixture(scope='module')
def fusion_dir(tmp_path_factory):
    bb = cached_backbone('tiny-sd15'); torch.manual_seed(0)
    d = tmp_path_factory.mktemp('fusion')/'tiny'
    fu.EVLFFusion(latent_channels=4, text_dim=bb.text.dim, width=16, heads=2, layers=1, grid=bb.latent_shape[1], proj_channels=8).save_pretrained(d)
    return d

@pytest.fixture(scope='module')
def real():
    return load_real('fashion-mnist:0,1,2', 'train', per_class=10, seed=0)

def tree(d): return sorted((p.relative_to(d).as_posix(), p.read_bytes() if p.is_file() else None) for p in Path(d).rglob('*'))
def pngs(d): return {p.relative_to(d).as_posix(): p.read_bytes() for p in sorted(Path(d).rglob('*.png'))}

# -- the data-loss case first: a folder of the user's -------------------------------------------------------------------
LEGACY = json.dumps({'method': 'random', 'params': {'ipc': 1}, 'seed': 0, 'classes': ['a']})  # an older evlf's manifest: no hashes

USER_FOLDERS = [(ow, m) for m in (None, '{"owner": "me"}', LEGACY) for ow in (True, False)]  # (--overwrite, the folder's manifest.json)

@pytest.mark.parametrize('overwrite,manifest', USER_FOLDERS)
def test_users_folder_is_never_touched(tmp_path, capsys, overwrite, manifest):
    user = tmp_path/'mine'; (user/'data').mkdir(parents=True)
    (user/'notes.txt').write_text('my notes'); (user/'data'/'a.csv').write_text('1,2')
    if manifest: (user/'manifest.json').write_text(manifest)
    before = tree(user)
    argv = ['distill', '--method', 'random', '--ipc', '1', '--out', str(user), '--quiet'] + (['--overwrite'] if overwrite else [])
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(user) in err and 'not empty' in err and 'None' not in err, err
    assert tree(user) == before  # nothing deleted, nothing written beside the user's files

def test_overwrite_deletes_only_what_evlf_wrote(tmp_path, capsys):
    out = tmp_path/'set'
    assert main(['distill', '--method', 'random', '--ipc', '1', '--out', str(out), '--quiet']) == 0
    (out/'notes.txt').write_text('mine'); (out/'000_T-shirt_top'/'mine.png').write_bytes(b'x')
    before = tree(out)
    assert main(['distill', '--method', 'random', '--ipc', '2', '--out', str(out), '--overwrite', '--quiet']) == 2
    assert 'files evlf did not write (000_T-shirt_top/mine.png, notes.txt)' in capsys.readouterr().err and tree(out) == before
    (out/'notes.txt').unlink(); (out/'000_T-shirt_top'/'mine.png').unlink()
    assert main(['distill', '--method', 'random', '--ipc', '2', '--out', str(out), '--quiet']) == 2
    assert "ipc: 1 there, 2 asked" in capsys.readouterr().err  # other parameters: says which
    assert main(['distill', '--method', 'random', '--ipc', '2', '--out', str(out), '--overwrite', '--quiet']) == 0
    assert len(pngs(out)) == 20

# -- damaged cache entries: said, recomputed, and no wrong number reaches a table ----------------------------------------
def _edit(f:Path):
    if f.suffix == '.json':
        r = json.loads(f.read_text()); r['final'] = 0.99; f.write_text(json.dumps(r, indent=2))  # the hash is left as it was
    else:
        b = bytearray(f.read_bytes()); b[-3] ^= 0xFF; f.write_bytes(bytes(b))
def _truncate(f:Path): f.write_bytes(f.read_bytes()[:len(f.read_bytes())//2])
def _swap(f:Path, other:Path): f.write_bytes(other.read_bytes())

def _entries(c:Path, kind:str)->list:
    "The files of one kind of cache entry, sorted; the first is damaged and the second is what a swap copies onto it."
    return {'set image': lambda: sorted(c.glob('distilled/*-s0-*/001_*/*.png')) + sorted(c.glob('distilled/*-s0-*/002_*/*.png')),
            'latents': lambda: sorted((c/'latents').rglob('*.safetensors')),
            'fused latents': lambda: sorted((c/'fused').rglob('*.safetensors')),
            'fine-tuned denoiser': lambda: sorted((c/'finetune').rglob('*.safetensors')),
            'student record': lambda: sorted((c/'eval').rglob('seed*.json'))}[kind]()

_DROP = {'set image': (), 'student record': (), 'fine-tuned denoiser': ('distilled',),  # what else to remove so that the damaged entry is read
         'fused latents': ('distilled', 'finetune'), 'latents': ('distilled', 'finetune', 'fused')}

def test_damaged_cache_entries_are_recomputed(real, fusion_dir, capfd):
    run = lambda seed: cached_set(real, 'tiny-sd15', 'd4m+evlf', 2, seed=seed, fusion_model=fusion_dir, progress=False, **KW)
    table = lambda path: ev.evaluate(path, **EV)['final']  # the numbers a table is made of
    path = run(0); run(1)  # two of each entry, so that one can be swapped for the other
    ref_set, ref = pngs(path), table(path)
    c = cache_dir(create=False)
    for kind in _DROP:
        for damage in ('edit', 'truncate', 'swap'):
            files = _entries(c, kind)
            assert len(files) >= 2, (kind, files)
            f = files[0]
            {'edit': _edit, 'truncate': _truncate, 'swap': lambda f: _swap(f, files[-1] if kind == 'set image' else files[1])}[damage](f)
            for d in _DROP[kind]:
                for e in (c/d).glob('*-s0-*' if d == 'distilled' else '*'):
                    if d != 'distilled' or e.name == path.name: shutil.rmtree(e) if e.is_dir() else e.unlink()
            capfd.readouterr()
            assert run(0) == path and pngs(path) == ref_set, (kind, damage)
            assert table(path) == ref, (kind, damage)
            said = capfd.readouterr().err
            assert f.name in said and ('recomputing' in said or 'again' in said), (kind, damage, said)

def test_damaged_kept_record_is_refused(tmp_path, real):
    kept = tmp_path/'figures'/'students'
    ref = ev.evaluate(_random_set(tmp_path, real), cache=kept, **EV)['final']
    f = sorted(kept.rglob('seed0.json'))[0]
    good = f.read_bytes()
    for damage, msg in ((_edit, 'differs from its hash'), (_truncate, 'unreadable'), (lambda f: _swap(f, f.with_name('seed1.json')), 'belongs to another student')):
        damage(f)
        with pytest.raises(Damaged, match=f'{msg}.*restore it \\(git checkout -- '): ev.evaluate(_random_set(tmp_path, real), cache=kept, **EV)
        f.write_bytes(good)
    assert ev.evaluate(_random_set(tmp_path, real), cache=kept, **EV)['final'] == ref

def _random_set(tmp_path, real):
    return cached_set(real, 'tiny-sd15', 'random', 2, seed=0, progress=False)

def test_damaged_fusion_module_is_retrained(monkeypatch, capfd):
    made = []
    def quick_fit(preset, dataset, out_dir=None, seed=0, **kw):
        bb = cached_backbone('tiny-sd15'); torch.manual_seed(seed); made.append(seed)
        f = fu.EVLFFusion(latent_channels=4, text_dim=bb.text.dim, width=16, heads=2, layers=1, grid=bb.latent_shape[1], proj_channels=8)
        f.training_record = {'seed': seed}
        return f
    monkeypatch.setattr(fu, 'fit_fusion', quick_fit)
    d = fu.fusion_seed_module('fashion-tiny', seed=1, progress=False)
    w = d/'diffusion_pytorch_model.safetensors'
    ref = w.read_bytes()
    assert fu.fusion_seed_module('fashion-tiny', seed=1, progress=False) == d and made == [1]  # read back
    for damage in (_edit, _truncate):
        damage(w)
        with pytest.raises(Damaged, match='diffusion_pytorch_model.safetensors: differs'): fu.load_fusion(d)  # never loaded as is
        capfd.readouterr()
        assert fu.fusion_seed_module('fashion-tiny', seed=1, progress=False) == d and w.read_bytes() == ref
        assert 'recomputing' in capfd.readouterr().err
    assert made == [1, 1, 1]

# -- one run makes each entry ---------------------------------------------------------------------------------------
def test_second_run_waits_and_reuses(real, monkeypatch):
    write, written = DistilledWriter.write, []
    def slow(self, label, images): written.append(label); time.sleep(0.3); write(self, label, images)
    monkeypatch.setattr(DistilledWriter, 'write', slow)
    run = lambda out: out.append(cached_set(real, 'tiny-sd15', 'd4m', 2, seed=0, progress=False, **KW))
    outs = []
    a = threading.Thread(target=run, args=(outs,)); a.start()
    while not written: time.sleep(0.01)
    b = threading.Thread(target=run, args=(outs,)); b.start(); a.join(); b.join()
    assert written == [0, 1, 2] and len(outs) == 2 and outs[0] == outs[1]  # distilled once, read back by the second
    trained, train = [], ev.train_students
    monkeypatch.setattr(ev, 'train_students', lambda *a, **k: trained.append(a[4]) or train(*a, **k))
    res = []
    ts = [threading.Thread(target=lambda: res.append(ev.evaluate(outs[0], **{**EV, 'seeds': [0]}))) for _ in range(2)]
    for t in ts: t.start()
    for t in ts: t.join()
    assert trained == [[0]] and res[0]['final'] == res[1]['final']

LOCKER = '''
import sys, time
from evlf.core import entry_lock
with entry_lock(sys.argv[1]):
    print('held', flush=True); time.sleep(60)
'''

def test_lock_of_a_killed_run_is_taken_over(tmp_path):
    env = {**os.environ, 'PYTHONPATH': os.pathsep.join([str(REPO), os.environ.get('PYTHONPATH', '')])}
    p = subprocess.Popen([sys.executable, '-c', LOCKER, str(tmp_path/'entry')], stdout=subprocess.PIPE, text=True, env=env)
    assert p.stdout.readline().strip() == 'held'
    got = threading.Event()
    def take():
        with entry_lock(tmp_path/'entry'): got.set()
    t = threading.Thread(target=take, daemon=True); t.start()
    assert not got.wait(0.5)  # held by the other run: this one waits
    p.send_signal(signal.SIGKILL); p.wait()
    assert got.wait(5)  # killed: its lock is taken over at once

def test_files_keep_the_users_umask(tmp_path):
    code = ('import sys; from pathlib import Path; import torch; from evlf.data import DistilledWriter; '
            "w = DistilledWriter(sys.argv[1], ['a'], dict(method='random', params={'ipc': 1}, seed=0, ipc=1, channels=1)); w.write(0, torch.rand(1, 1, 4, 4))")
    env = {**os.environ, 'PYTHONPATH': os.pathsep.join([str(REPO), os.environ.get('PYTHONPATH', '')])}
    subprocess.run(f'umask 002 && {sys.executable} -c "{code}" {tmp_path/"s"}', shell=True, check=True, env=env)
    modes = {p.relative_to(tmp_path).as_posix(): p.stat().st_mode & 0o777 for p in (tmp_path/'s').rglob('*')}
    assert modes == {'s/manifest.json': 0o664, 's/000_a': 0o775, 's/000_a/00000.png': 0o664, 's/000_a/.evlf-sha256.json': 0o664}, modes
