"Tests of evlf.fusion that notebooks test badly: the authors' checkpoint format, resume, NaN stops, several processes."
import os, subprocess, sys, textwrap, hashlib
from pathlib import Path
import pytest, torch, torch.nn as nn, torch.nn.functional as F
from evlf.fusion import EVLFFusion, train_fusion, load_fusion, info_nce, corrupt_text

torch.set_num_threads(1)
TINY = dict(width=32, heads=2, progress=False)


# ---- the authors' module, written here from the description of their code (not from evlf) ----
class RefCrossAttnLayer(nn.Module):
    fused = False  # the authors call attn(x, kv, kv), need_weights=True: explicit softmax; True -> PyTorch's fused SDPA path
    def __init__(self, d=256, heads=4, dropout=0.1):
        super().__init__()
        self.attn = nn.MultiheadAttention(d, heads, dropout=dropout, batch_first=True)
        self.norm1, self.norm2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.ffn = nn.Sequential(nn.Linear(d, 2*d), nn.ReLU(), nn.Dropout(dropout), nn.Linear(2*d, d), nn.Dropout(dropout))
    def forward(self, x, kv):
        a, _ = self.attn(x, kv, kv, need_weights=False) if self.fused else self.attn(x, kv, kv)
        x = self.norm1(x + a)
        return self.norm2(x + self.ffn(x))

class RefFusion(nn.Module):
    def __init__(self, c=4, text_dim=768, d=256, heads=4, n_layers=2, n_tokens=32*32):
        super().__init__()
        self.latent_proj = nn.Conv2d(c, d, 1)
        self.text_proj = nn.Linear(text_dim, d)
        self.pos_embed = nn.Parameter(torch.randn(1, n_tokens, d))
        self.cross_attn_layers = nn.ModuleList([RefCrossAttnLayer(d, heads) for _ in range(n_layers)])
        self.out_proj = nn.Conv2d(d, c, 1)
    def forward(self, z, e):
        b, c, h, w = z.shape
        x = self.latent_proj(z).flatten(2).transpose(1, 2) + self.pos_embed
        kv = torch.cat([x, self.text_proj(e)], dim=1)
        for layer in self.cross_attn_layers: x = layer(x, kv)
        return self.out_proj(x.transpose(1, 2).reshape(b, -1, h, w))

class RefProjector(nn.Module):
    def __init__(self, c=4, text_dim=768):
        super().__init__()
        self.conv_down = nn.Conv2d(c, 64, 4, stride=4)
        self.fc = nn.Sequential(nn.Linear(64*4*4, text_dim), nn.LayerNorm(text_dim))
    def forward(self, z): return self.fc(F.adaptive_avg_pool2d(self.conv_down(z), 4).flatten(1))


def _official(path, grid=32, text_dim=768, seed=0):
    torch.manual_seed(seed)
    ref, proj = RefFusion(text_dim=text_dim, n_tokens=grid*grid).eval(), RefProjector(text_dim=text_dim).eval()
    torch.save({'fusion_module': ref.state_dict(), 'latent_projector': proj.state_dict(),
                'sym_nce_loss': {}, 'epoch': 3, 'avg_loss': torch.tensor(0.42)}, path)
    return ref, proj


@pytest.mark.parametrize('grid', [32, 8])
def test_from_official_matches_reference(tmp_path, grid):
    ref, proj = _official(tmp_path/'ca.pth', grid=grid)
    m = EVLFFusion.from_official(tmp_path/'ca.pth')
    assert (m.config.variant, m.config.grid, m.config.width, m.config.layers, m.config.text_dim) == ('code', grid, 256, 2, 768)
    g = torch.Generator().manual_seed(1)
    z, e = torch.randn(3, 4, grid, grid, generator=g), torch.randn(3, 77, 768, generator=g)
    with torch.no_grad():
        want, got = ref(z, e), m(z, e)  # the authors' call: the same up to float rounding of the attention path
        assert (want - got).abs().max() < 1e-5 and torch.equal(proj(want), m.project(want))
        RefCrossAttnLayer.fused = True  # the same attention kernel: bit for bit
        try: assert torch.equal(ref(z, e), got)
        finally: RefCrossAttnLayer.fused = False
    if grid == 32: assert abs(m.num_fusion_parameters() - 1.52e6) < 0.01e6


def test_official_grid_mismatch_and_bad_file(tmp_path):
    _official(tmp_path/'ca.pth', grid=8)
    m = EVLFFusion.from_official(tmp_path/'ca.pth')
    with pytest.raises(ValueError, match='latents: expected shape \\[B, 4, 8, 8\\].*does not match grid 32'):
        m(torch.randn(1, 4, 32, 32), torch.randn(1, 77, 768))
    torch.save([1, 2], tmp_path/'list.pth')
    with pytest.raises(ValueError, match='is not an EVLF checkpoint'): EVLFFusion.from_official(tmp_path/'list.pth')


def test_save_load_and_grid_refusal(tmp_path):
    m = EVLFFusion(text_dim=384, grid=8, variant='paper', layers=1).eval()
    m.save_pretrained(tmp_path)
    assert 'norm2' not in ' '.join(m.state_dict())  # the paper's form has no FFN
    m2 = EVLFFusion.from_pretrained(tmp_path)
    assert m2.config.variant == 'paper'
    with pytest.raises(ValueError, match='checkpoint grid 8 .* does not match grid 64'): EVLFFusion.from_pretrained(tmp_path, grid=64)
    with pytest.raises(ValueError, match='text: expected token states \\[B, L, 384\\]'): m2(torch.randn(2, 4, 8, 8), torch.randn(2, 384))


def _data(n=128, k=10, seed=0, flipped=True):
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % k
    d = dict(latents=torch.randn(n, 4, 8, 8, generator=g), labels=y, tokens=torch.randn(k, 16, 384, generator=g),
             pooled=torch.randn(k, 384, generator=g))
    if flipped: d['flipped'] = d['latents'].flip(-1) + 0.01
    return d

def _sha(p): return hashlib.sha1(Path(p).read_bytes()).hexdigest()


def test_resume_equals_uninterrupted(tmp_path):
    a = train_fusion(_data(), tmp_path/'a', epochs=2, **TINY)
    train_fusion(_data(), tmp_path/'b', epochs=2, **TINY)
    import shutil; shutil.rmtree(tmp_path/'b'/'checkpoints'/'epoch-2')  # as if killed during epoch 2
    b = train_fusion(_data(), tmp_path/'b', epochs=2, **TINY)
    assert b.training_record['done']['resumed_from'].endswith('epoch-1')
    for (k, v), (_, w) in zip(a.state_dict().items(), b.state_dict().items()): assert torch.equal(v, w), k
    assert sorted(p.name for p in (tmp_path/'b'/'checkpoints').iterdir()) == ['epoch-1', 'epoch-2']


def test_nan_stops_and_keeps_last_checkpoint(tmp_path):
    train_fusion(_data(), tmp_path, epochs=1, **TINY)
    ck = tmp_path/'checkpoints'/'epoch-1'/'diffusion_pytorch_model.safetensors'; before = _sha(ck)
    bad = _data(); bad['latents'][:] = float('nan'); bad['flipped'][:] = float('nan')
    with pytest.raises(FloatingPointError) as e: train_fusion(bad, tmp_path, epochs=2, **TINY)
    msg = str(e.value)
    for s in ('at step 8', 'epoch 2', 'infonce=', 'mse=nan', 'lambda2=', 'epoch-1 (kept)', 'Hint'): assert s in msg, (s, msg)
    assert _sha(ck) == before and not (tmp_path/'checkpoints'/'epoch-2').exists()


@pytest.mark.parametrize('kw, match', [(dict(lambda1=-0.1), 'lambda1=-0.1'), (dict(lambda2=(0.05, 11)), 'lambda2=11'),
                                       (dict(lambda2=0.5), 'lambda2=0.5 is not valid; accepted: a pair'),
                                       (dict(tau=0.0), 'tau=0.0'), (dict(tau=float('nan')), 'tau=nan'),
                                       (dict(variant='late'), "variant='late'"), (dict(batch_size=0), 'batch_size=0')])
def test_bad_params_refused_before_training(tmp_path, kw, match):
    with pytest.raises(ValueError, match=match): train_fusion(_data(), tmp_path/'out', **kw)
    assert not (tmp_path/'out').exists()


def test_bad_data_shapes(tmp_path):
    d = _data(); d['pooled'] = torch.randn(10, 768)
    with pytest.raises(ValueError, match=r"data\['pooled'\]: expected shape \[10, 384\]"): train_fusion(d, tmp_path)
    d = _data(); d['labels'] = d['labels'] + 5
    with pytest.raises(ValueError, match='expected classes in \\[0, 9\\]'): train_fusion(d, tmp_path)


def test_info_nce_perfect_alignment_is_low():
    t = torch.randn(10, 32); y = torch.arange(10)
    assert info_nce(t, t, y, 0.07, 'code') < 0.01 < info_nce(torch.randn(10, 32), t, y, 0.07, 'code')
    yy = torch.tensor([0, 0, 1, 1])  # same-class rows are all positives: paper form -> 0 when classes are separated
    tt = torch.tensor([[1., 0], [1., 0], [0, 1.], [0, 1.]])
    assert info_nce(tt, tt, yy, 0.01, 'paper') < 1e-6
    assert abs(info_nce(tt, tt, yy, 0.01, 'code') - torch.log(torch.tensor(2.))) < 1e-5  # log of the MEAN over 2 positives


def test_load_fusion_missing_names_how_to_train(tmp_path):
    with pytest.raises(FileNotFoundError, match="fit_fusion\\('no-such-preset'"): load_fusion('no-such-preset')
    train_fusion(_data(), tmp_path, epochs=1, **TINY)
    assert load_fusion(tmp_path).config.width == 32


def test_two_processes(tmp_path):
    "train_fusion under torchrun with 2 CPU processes (what `accelerate launch --num_processes 2` sets up)."
    script = tmp_path/'run.py'
    script.write_text(textwrap.dedent(f'''
        import torch, sys; torch.set_num_threads(1)
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from test_fusion import _data
        from evlf.fusion import train_fusion
        f = train_fusion(_data(), {str(tmp_path/'out')!r}, epochs=1, width=32, heads=2, progress=False)
        import os
        if os.environ['RANK'] == '0': print('RECORD', f.training_record['num_processes'], f.training_record['done']['images_seen'])
    '''))
    env = {**os.environ, 'OMP_NUM_THREADS': '1'}
    r = subprocess.run([sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node', '2', '--master_port', '29517', str(script)],
                       capture_output=True, text=True, env=env, timeout=240)
    assert r.returncode == 0, r.stderr[-3000:]
    assert 'RECORD 2 128' in r.stdout, r.stdout[-2000:]
    assert (tmp_path/'out'/'training_record.json').exists() and (tmp_path/'out'/'checkpoints'/'epoch-1').exists()


def test_encode_real_set_caches(tmp_path, monkeypatch):
    "encode_real_set reads and fills encode_class's cache, class by class: mirror latents, class texts, a hit the second time."
    from evlf.backbone import tiny_backbone
    from evlf.data import ArrayImages
    from evlf.fusion import encode_real_set, encode_class
    monkeypatch.setenv('EVLF_CACHE', str(tmp_path))
    bb = tiny_backbone('dit256', seed=0)
    calls = []
    h = bb.vae.encoder.register_forward_pre_hook(lambda m, a: calls.append(len(a[0])))
    ds = ArrayImages(torch.randint(0, 256, (10, 3, 16, 16), dtype=torch.uint8), torch.arange(10) % 3, ['a', 'b', 'c'])
    z1 = encode_class(ds, bb, 1, batch_size=4)  # the samplers' call fills the cache the training set reads
    d = encode_real_set(bb, ds, batch_size=4, progress=False)
    assert calls == [3, 4, 4, 3, 3, 3] and d['latents'].shape == (10, *bb.latent_shape) and d['tokens'].shape[0] == 3
    assert torch.equal(d['latents'][d['labels'] == 1], z1) and torch.equal(d['labels'], torch.arange(10) % 3)
    d2 = encode_real_set(bb, ds, batch_size=4, progress=False)
    h.remove()
    assert len(calls) == 6 and all(torch.equal(d[k], d2[k]) for k in d)
    with torch.no_grad(): assert torch.allclose(d['flipped'][3], bb.encode_images(ds.images(torch.tensor([3])).flip(-1))[0], atol=1e-5)
    assert len(list(tmp_path.rglob('*.safetensors'))) == 6  # 3 classes and their mirrors, one file each


def test_one_latent_cache_moved_nothing():
    "The record of bench/real_latents.py: every tensor of the commit before, every kept set re-distilled, bit for bit."
    import json, re
    repo = Path(__file__).resolve().parents[1]
    rec = json.loads((repo/'figures'/'bench'/'real_latents.json').read_text())
    h, eq = rec['hashes'], rec['before']['equal']
    assert len(eq) == 10 and all(eq.values()), eq  # 2 presets x (encode_real_set's tensors + 2 classes + 2 row checks)
    assert [k for k in h if k.startswith('ec-eq-ers')] and all(v for k, v in h.items() if k.startswith('ec-eq-ers'))
    assert all(h[f'set-{m}']['equal_kept'] and h[f'set-{m}']['n'] == 100 for m in ('d4m', 'mgd3'))
    text = (repo/'bench'/'README.md').read_text()
    para = text[text.index('**One cache of real latents.**'):].split('\n\n')[0]
    assert f"{rec['seconds']} s" in para and rec['params']['before'].split('-')[-1].split('.')[0] in para
