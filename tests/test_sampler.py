"Distillation (evlf.sampler, evlf.cli): every method end to end on tiny backbones, resume, bad input, the CLI, 2 processes."
import os, shutil, subprocess, sys, textwrap
from pathlib import Path
import pytest, torch
from evlf.data import ArrayImages, load_distilled
from evlf import sampler
from evlf.sampler import distill, method_names

REPO = Path(__file__).resolve().parents[1]
OPTS = dict(num_inference_steps=3, finetune_steps=2, finetune_batch=4, progress=False)

def tiny_ds(n=60, k=3, channels=1, size=12):
    g = torch.Generator().manual_seed(0)
    return ArrayImages((torch.rand(n, channels, size, size, generator=g)*255).to(torch.uint8), torch.arange(n) % k, ['cat', 'dog', 'ship'][:k])

def tiny_fusion(bb):
    from evlf.fusion import EVLFFusion
    torch.manual_seed(0)
    return EVLFFusion(latent_channels=4, text_dim=bb.text.dim, width=16, heads=2, layers=1, grid=bb.latent_shape[1], proj_channels=8).eval()

@pytest.fixture(autouse=True)
def _env(tmp_path, monkeypatch):
    monkeypatch.setenv('EVLF_CACHE', str(tmp_path/'cache')); torch.set_num_threads(1)

@pytest.fixture(scope='module')
def bbs():
    from evlf.backbone import tiny_backbone
    return {k: tiny_backbone(k, seed=0) for k in ('sd15', 'dit256')}

def files(d): return {str(f.relative_to(d)): f.read_bytes() for f in sorted(Path(d).rglob('*.png'))}

@pytest.mark.parametrize('kind', ['sd15', 'dit256'])
def test_every_method(tmp_path, bbs, kind):
    bb, ds = bbs[kind], tiny_ds()
    for m in method_names():
        kw = {'fusion_model': tiny_fusion(bb)} if m.endswith('evlf') else {}
        out = distill(ds, bb, m, 2, seed=3, out_dir=tmp_path/m, **OPTS, **kw)
        d = load_distilled(out)
        assert len(d) == 6 and d.data.shape[1:] == (1, 12, 12)  # the dataset's channels and resolution
        mf = d.manifest
        assert (mf['method'], mf['seed'], mf['ipc'], mf['channels'], mf['prompts']) == (m, 3, 2, 1, ds.prompts)
        if m != 'random': assert mf['params']['fusion'] == m.endswith('evlf') and mf['backbone'] == bb.name
    assert load_distilled(tmp_path/'d4m+evlf').manifest['params']['finetune'] is True

def test_common_random_numbers(tmp_path, bbs):
    "A host and host+EVLF of the same seed share all the method does not change: with a fusion module that returns its input (no fine-tuning) the files are equal."
    from evlf.fusion import EVLFFusion
    class Unchanged(EVLFFusion):
        def forward(self, latents, text): return latents
    ds = tiny_ds()
    for kind, host in (('sd15', 'd4m'), ('dit256', 'mgd3')):
        bb = bbs[kind]; torch.manual_seed(0)
        same = Unchanged(latent_channels=4, text_dim=bb.text.dim, width=16, heads=2, layers=1, grid=bb.latent_shape[1], proj_channels=8).eval()
        a = distill(ds, bb, host, 2, seed=3, out_dir=tmp_path/host, **OPTS)
        b = distill(ds, bb, f'{host}+evlf', 2, seed=3, out_dir=tmp_path/f'{host}+evlf', fusion_model=same, finetune=False, **OPTS)
        assert files(a) == files(b), kind
        c = distill(ds, bb, f'{host}+evlf', 2, seed=4, out_dir=tmp_path/f'{host}+evlf-s4', fusion_model=same, finetune=False, **OPTS)
        assert files(c) != files(b), kind  # another distillation seed: other prototypes and noise

def test_ablation_switches(tmp_path, bbs):
    bb, ds = bbs['sd15'], tiny_ds()
    a = distill(ds, bb, 'd4m', 2, out_dir=tmp_path/'ft', finetune=True, **OPTS)           # +FT only
    b = distill(ds, bb, 'd4m', 2, out_dir=tmp_path/'ca', fusion=True, fusion_model=tiny_fusion(bb), **OPTS)  # +CA only
    pa, pb = load_distilled(a).manifest['params'], load_distilled(b).manifest['params']
    assert (pa['finetune'], pa['fusion'], pb['finetune'], pb['fusion']) == (True, False, False, True)
    assert files(a) != files(b)

def test_resume_equals_uninterrupted(tmp_path, bbs, monkeypatch):
    bb, ds, f = bbs['sd15'], tiny_ds(), tiny_fusion(bbs['sd15'])
    run = lambda out: distill(ds, bb, 'd4m+evlf', 2, seed=1, out_dir=out, fusion_model=f, batch_size=1, **OPTS)
    ref = files(run(tmp_path/'ref'))
    write, calls = sampler.DistilledWriter.write, []
    def dying(self, label, images):
        if calls: raise KeyboardInterrupt('killed')   # killed while sampling the second class
        calls.append(label); write(self, label, images)
    monkeypatch.setattr(sampler.DistilledWriter, 'write', dying)
    with pytest.raises(KeyboardInterrupt): run(tmp_path/'cut')
    monkeypatch.setattr(sampler.DistilledWriter, 'write', write)
    assert len(files(tmp_path/'cut')) == 2
    written = []
    monkeypatch.setattr(sampler.DistilledWriter, 'write', lambda self, label, images: written.append(label) or write(self, label, images))
    run(tmp_path/'cut')
    assert written == [1, 2] and files(tmp_path/'cut') == ref  # skipped class 0, same files

def BAD_DISTILL(bbs, tmp_path)->list:
    "Bad input to `distill`: (a call that must fail, the exception, what it says); each is refused before a class is distilled."
    bb, ds = bbs['sd15'], tiny_ds()
    blocker = tmp_path/'file'; blocker.write_text('')
    d = lambda *a, **k: (lambda: distill(*a, **k))
    out = [(d(ds, bb, 'd4m', ipc, out_dir=tmp_path/'x'), ValueError, msg)
           for ipc, msg in ((0, 'ipc=0'), (-2, 'ipc=-2'), (1.5, 'ipc=1.5'), ('3', "ipc='3'"), (21, 'more than class'))]
    return out + [
        (d(ds, bb, 'diffusion', 2, out_dir=tmp_path/'x'), ValueError, "method='diffusion'.*accepted"),
        (d(ds, bb, 'd4m', 2, out_dir=tmp_path/'x', strenght=0.5), ValueError, 'strenght'),
        (d(ds, bb, 'mgd3', 2, out_dir=tmp_path/'x', stop_t=-2), ValueError, 'stop_t=-2'),
        # the reference conventions' settings: an unknown name, or a DiT-only convention on a UNet, before any work
        (d(ds, bb, 'd4m', 2, out_dir=tmp_path/'x', scheduler='lms'), ValueError, "scheduler='lms' is not valid; accepted: 'pndm'"),
        (d(ds, bbs['dit256'], 'mgd3', 2, out_dir=tmp_path/'x', variance_type='learned'), ValueError, "variance_type='learned' is not valid"),
        (d(ds, bb, 'd4m+evlf', 2, out_dir=tmp_path/'x', finetune_recipe='lora'), ValueError, "finetune_recipe='lora' is not valid; accepted: 'full', 'difffit'"),
        (d(ds, bb, 'mgd3', 2, out_dir=tmp_path/'x', cfg_channels=3), ValueError, 'cfg_channels=3'),
        (d(ds, bb, 'mgd3', 2, out_dir=tmp_path/'x', variance_type='learned_range'), ValueError, "variance_type='learned_range' needs a denoiser"),
        (d(ds, bbs['dit256'], 'mgd3', 2, out_dir=tmp_path/'x', cfg_channels=5), ValueError, 'cfg_channels=5'),
        (d(ds, bb, 'd4m', 2, out_dir=blocker/'sub'), ValueError, "out_dir=.*is a file, so it cannot hold a folder"),
        (d(ds, 'nope', 'd4m', 2, out_dir=tmp_path/'z'), ValueError, "backbone='nope' is not valid; accepted: .*'fashion-half'"),
        (d(ds, bb, 'd4m+evlf', 2, out_dir=tmp_path/'y'), FileNotFoundError, 'no fusion module')]

def test_bad_input_before_sampling(tmp_path, bbs, monkeypatch):
    monkeypatch.setattr(sampler.DistilledWriter, 'write', lambda *a, **k: pytest.fail('a class was distilled'))
    for call, exc, msg in BAD_DISTILL(bbs, tmp_path):
        with pytest.raises(exc, match=msg): call()
    assert not list((tmp_path/'x').rglob('*.png')) and not (tmp_path/'z').exists()  # refused before the folder is made

def test_refuses_other_parameters(tmp_path, bbs):
    bb, ds = bbs['sd15'], tiny_ds()
    distill(ds, bb, 'd4m', 1, seed=0, out_dir=tmp_path/'s', **OPTS)
    for kw in (dict(seed=1), dict(ipc=2), dict(guidance_scale=2.0)):
        args = dict(dict(seed=0, ipc=1), **kw)
        with pytest.raises(FileExistsError, match='other parameters'):
            distill(ds, bb, 'd4m', args.pop('ipc'), out_dir=tmp_path/'s', **args, **{k: v for k, v in OPTS.items()})
    distill(ds, bb, 'd4m', 2, seed=1, out_dir=tmp_path/'s', overwrite=True, **OPTS)
    assert load_distilled(tmp_path/'s').manifest['seed'] == 1 and len(load_distilled(tmp_path/'s')) == 6

def _env_sub(tmp_path):
    return {**os.environ, 'EVLF_CACHE': str(tmp_path/'cache'), 'OMP_NUM_THREADS': '1', 'HF_HUB_OFFLINE': '1',
            'PYTHONPATH': os.pathsep.join([str(REPO), os.environ.get('PYTHONPATH', '')])}

def _evlf():
    return shutil.which('evlf') or str(Path(sys.executable).parent/'evlf')

def test_cli(tmp_path):
    env = _env_sub(tmp_path)
    r = subprocess.run([sys.executable, _evlf(), 'distill', '--dataset', 'fashion-mnist', '--method', 'random', '--ipc', '2',
                        '--seed', '0', '--out', str(tmp_path/'r'), '--quiet'], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    d = load_distilled(tmp_path/'r'); assert len(d) == 20 and d.data.shape[1:] == (1, 28, 28)
    r = subprocess.run([sys.executable, _evlf(), 'distill', '--method', 'd4m', '--ipc', '0', '--out', str(tmp_path/'z')],
                       capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 2 and 'ipc=0' in r.stderr and 'Traceback' not in r.stderr

SCRIPT = '''
import sys, torch
from evlf.data import ArrayImages
from evlf.sampler import distill
def run(out, fusion):
    g = torch.Generator().manual_seed(0)
    ds = ArrayImages((torch.rand(40, 1, 12, 12, generator=g)*255).to(torch.uint8), torch.arange(40) % 8, list('abcdefgh'))
    return distill(ds, 'tiny-sd15', 'd4m+evlf', 2, seed=0, out_dir=out, fusion_model=fusion,
                   num_inference_steps=3, finetune_steps=2, finetune_batch=4, progress=False)
if __name__ == '__main__':
    run(sys.argv[1], sys.argv[2])
    from accelerate import PartialState
    sys.stdout.write(f'PROCESSES {PartialState().num_processes}\\n'); sys.stdout.flush()  # one write: the two processes' lines cannot interleave
'''

def test_killed_then_resumed_on_two_processes(tmp_path, bbs):
    "Killed (SIGKILL) part-way, then finished under `accelerate launch --num_processes 2` (CPU): same files as one uninterrupted run."
    import time, signal, importlib.util
    tiny_fusion(bbs['sd15']).save_pretrained(tmp_path/'fusion')
    (tmp_path/'run.py').write_text(SCRIPT); env = _env_sub(tmp_path)
    spec = importlib.util.spec_from_file_location('run', tmp_path/'run.py'); mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
    one = files(mod.run(tmp_path/'one', tmp_path/'fusion')); assert len(one) == 16       # reference: uninterrupted, in this process
    args = [str(tmp_path/'run.py'), str(tmp_path/'cut'), str(tmp_path/'fusion')]
    proc = subprocess.Popen([sys.executable, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    t0 = time.time()
    while not list((tmp_path/'cut').glob('0*')) and time.time() - t0 < 120: time.sleep(0.01)
    proc.send_signal(signal.SIGKILL); proc.wait()
    assert 0 < len(files(tmp_path/'cut')) < 16   # killed part-way
    # on a machine without GPUs, `--multi_gpu` makes accelerate start torchrun processes that talk over gloo
    r = subprocess.run([sys.executable, '-m', 'accelerate.commands.launch', '--multi_gpu', '--num_processes', '2', '--num_machines', '1',
                        '--mixed_precision', 'no', '--dynamo_backend', 'no', '--main_process_port', '29533', *args],
                       capture_output=True, text=True, env=env, timeout=240)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.count('PROCESSES 2') == 2, r.stdout
    assert files(tmp_path/'cut') == one and not list((tmp_path/'cut').glob('.*.tmp'))
