"Bad input and end-to-end runs of the backbone interface on tiny random hub components (offline, fast)."
import json, pytest, torch
from evlf.backbone import (load_backbone, tiny_backbone, TINY_KINDS, PRESETS, WEIGHTS_DIR, fashion_tiny_configs,
                           minilm_text_encoder, TextEncoding)

@pytest.fixture(scope='module', params=TINY_KINDS)
def bb(request): return tiny_backbone(request.param, seed=0)

def test_end_to_end(bb):
    x = torch.rand(3, 1, 28, 28)
    z = bb.encode_images(x)
    assert z.shape == (3, *bb.latent_shape)
    t = torch.tensor([10, 500, 999])
    zt = bb.scheduler.add_noise(z*bb.scaling_factor, torch.randn_like(z), t)
    cond = ['a', 'b', 'c'] if bb.conditioning == 'text' else [1, 2, 3]
    eps = bb.predict_noise(zt, t, cond)
    assert eps.shape == z.shape and torch.isfinite(eps).all()
    assert bb.predict_noise(zt, t, bb.null_condition(3)).shape == z.shape
    img = bb.decode_latents(z)
    assert img.shape == (3, bb.channels, bb.image_size, bb.image_size) and img.min() >= 0 and img.max() <= 1
    assert bb.decode_latents(z, size=28).shape[-1] == 28

def test_same_seed_same_weights():
    a, b = tiny_backbone('sd15', seed=1), tiny_backbone('sd15', seed=1)
    z = torch.randn(2, *a.latent_shape)
    assert torch.equal(a.decode_latents(z), b.decode_latents(z))

def test_text_encoding_shapes(bb):
    enc = bb.text.encode(['Trouser', 'Bag'])
    assert isinstance(enc, TextEncoding)
    assert enc.tokens.shape == (2, bb.text.max_length, bb.text.dim) and enc.pooled.shape == (2, bb.text.dim)
    assert torch.allclose(bb.text.encode(['Bag']).pooled[0], enc.pooled[1], atol=1e-6)

def test_null_condition(bb):
    c = bb.null_condition(4)
    if bb.conditioning == 'label': assert c.tolist() == [1000]*4
    else: assert c.shape == (4, bb.text.max_length, bb.text.dim)

def test_unknown_preset():
    with pytest.raises(ValueError, match="name='sd21' is not valid; accepted: 'fashion-tiny', 'sd15', 'dit256'"): load_backbone('sd21')
    with pytest.raises(ValueError, match="kind='sdxl'"): tiny_backbone('sdxl')

@pytest.mark.parametrize('name', ['sd15', 'dit256'])
def test_offline_hub_error_names_hub_id(name, monkeypatch):
    monkeypatch.setenv('HF_HUB_OFFLINE', '1')
    with pytest.raises(OSError, match=PRESETS[name]['repo'].split('/')[0]) as e: load_backbone(name)
    assert 'Go online' in str(e.value) and 'weights=' in str(e.value)

def _save_hub_layout(bb, d):
    bb.vae.save_pretrained(d/'vae'); bb.denoiser.save_pretrained(d/('unet' if bb.conditioning == 'text' else 'transformer'))
    bb.scheduler.save_pretrained(d/'scheduler')
    if bb.conditioning == 'text': bb.text.model.save_pretrained(d/'text_encoder'); bb.text.tokenizer.save_pretrained(d/'tokenizer')
    return d

def test_hub_layout_with_wrong_shapes_is_refused(tmp_path):
    "Real loading code on a local folder: tiny sd15 weights have a 4x8x8 latent, the preset expects 4x64x64."
    d = _save_hub_layout(tiny_backbone('sd15'), tmp_path)
    with pytest.raises(ValueError, match=r'latent shape \(4, 8, 8\).*expects latent shape \(4, 64, 64\)'): load_backbone('sd15', weights=d)

def test_fashion_tiny_wrong_latent_refused(tmp_path):
    from diffusers import AutoencoderKL, UNet2DConditionModel, DDPMScheduler
    cfg = fashion_tiny_configs()
    AutoencoderKL(**dict(cfg['vae'], latent_channels=8)).save_pretrained(tmp_path/'vae')
    UNet2DConditionModel(**dict(cfg['unet'], in_channels=8, out_channels=8, sample_size=16)).save_pretrained(tmp_path/'unet')
    DDPMScheduler(**cfg['scheduler']).save_pretrained(tmp_path/'scheduler')
    with pytest.raises(ValueError, match=r'latent shape \(8, 16, 16\).*expects latent shape \(4, 8, 8\)'):
        load_backbone('fashion-tiny', weights=tmp_path)

def test_fashion_tiny_missing_weights(tmp_path):
    with pytest.raises(FileNotFoundError, match='retrain True'): load_backbone('fashion-tiny', weights=tmp_path)

def test_wrong_prompt_count():
    bb = tiny_backbone('sd15')
    z = torch.randn(3, *bb.latent_shape)
    with pytest.raises(ValueError, match='prompts has 2 entries but the batch has 3'): bb.predict_noise(z, 10, ['a', 'b'])
    with pytest.raises(ValueError, match='prompts has 2 entries but the batch has 3'): bb.condition(prompts=['a', 'b'], batch=3)
    with pytest.raises(ValueError, match='list of strings'): bb.condition(prompts='a tench')
    with pytest.raises(ValueError, match='the condition has 2 entries but the batch has 3'): bb.predict_noise(z, 10, bb.null_condition(2))
    dit = tiny_backbone('dit256')
    with pytest.raises(ValueError, match='labels has 1 entries but the batch has 3'): dit.predict_noise(z, 10, [5])
    with pytest.raises(ValueError, match='pass labels='): dit.condition(prompts=['a'])

def test_bad_images_and_latents():
    bb = tiny_backbone('dit256')
    with pytest.raises(ValueError, match=r'x must be a float tensor \[B, C, H, W\]'): bb.encode_images(torch.zeros(3, 28, 28))
    with pytest.raises(ValueError, match=r'z must be latents \[B, 4, 8, 8\]'): bb.decode_latents(torch.zeros(2, 4, 16, 16))

def test_fashion_half_shares_the_vae_and_keeps_its_split(tmp_path):
    "fashion-half is fashion-tiny's VAE (same weights, same scaling factor) with a UNet of the source classes; its record holds the split rule's result."
    half, tiny = load_backbone('fashion-half', device='cpu'), load_backbone('fashion-tiny', device='cpu')
    assert all(torch.equal(a, b) for a, b in zip(half.vae.parameters(), tiny.vae.parameters())) and half.scaling_factor == tiny.scaling_factor
    assert not all(torch.equal(a, b) for a, b in zip(half.denoiser.parameters(), tiny.denoiser.parameters()))
    rec = half.record
    assert rec['source'] == list(PRESETS['fashion-half']['source']) == [0, 1, 2, 8, 9] and rec['target'] == [3, 4, 5, 6, 7]
    assert rec['split']['n_splits'] == 252 and rec['split']['rank'] == 126 and not rec['split']['given']  # the median of all balanced splits
    with pytest.raises(FileNotFoundError, match='retrain_half True'): load_backbone('fashion-half', weights=tmp_path)
