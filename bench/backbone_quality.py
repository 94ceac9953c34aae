"""Quality of the shipped fashion-tiny backbone (issue 3), on the real Fashion-MNIST test set.

A small ConvNet trained on real Fashion-MNIST train (cached) classifies
  1. the 10,000 test originals and their VAE reconstructions (target: within 2 points),
  2. `n_per_class` samples per class prompt, 50 DDIM steps + classifier-free guidance (target: >= 85% as the prompted class).
Writes figures/bench/backbone_quality.json (numbers, params, versions, training seconds from the weights' record) and
figures/bench/backbone_samples.png (one row per class). Run from the repo root:
  OMP_NUM_THREADS=1 python bench/backbone_quality.py [--guidance 4] [--n-per-class 100] [--stage all|classifier|recon --vae DIR]
"""
import argparse, time, sys
from pathlib import Path
import numpy as np, torch, torch.nn as nn, torch.nn.functional as F

from evlf.core import seed_everything, cache_dir, save_json, load_json, versions
from evlf.data import get_dataset
from evlf.backbone import load_backbone, tiny_backbone, generate, WEIGHTS_DIR

def convnet():
    "A small ConvNet for 28x28 grey images (about 91% on Fashion-MNIST test after 3 epochs)."
    blk = lambda i, o: [nn.Conv2d(i, o, 3, padding=1), nn.BatchNorm2d(o), nn.ReLU(), nn.MaxPool2d(2)]
    return nn.Sequential(*blk(1, 16), *blk(16, 32), *blk(32, 64), nn.Flatten(), nn.Dropout(0.2), nn.Linear(64*9, 10))

def train_classifier(epochs=3, seed=0, batch_size=128):
    "Train (or load from cache) the ConvNet on real Fashion-MNIST train."
    from safetensors.torch import save_file, load_file
    path = cache_dir('bench')/f'fmnist_convnet_e{epochs}_s{seed}.safetensors'
    net = convnet()
    if path.exists():
        net.load_state_dict(load_file(path)); rec = load_json(path.with_suffix('.json'))
        return net.eval(), rec
    g = seed_everything(seed); tr = get_dataset('fashion-mnist', 'train')
    x, y = tr.images(), tr.targets
    opt = torch.optim.Adam(net.parameters(), 2e-3); sched = torch.optim.lr_scheduler.OneCycleLR(opt, 2e-3, total_steps=epochs*(len(x)//batch_size))
    t0 = time.time(); net.train()
    for ep in range(epochs):
        perm = torch.randperm(len(x), generator=g)
        for i in range(len(x)//batch_size):
            idx = perm[i*batch_size:(i+1)*batch_size]; xb = x[idx]
            flip = torch.rand(len(xb), generator=g) < 0.5; xb[flip] = xb[flip].flip(-1)
            loss = F.cross_entropy(net(xb), y[idx]); opt.zero_grad(); loss.backward(); opt.step(); sched.step()
        print(f'classifier epoch {ep+1}/{epochs} loss {loss.item():.3f} {time.time()-t0:.0f}s', flush=True)
    rec = dict(epochs=epochs, seed=seed, batch_size=batch_size, seconds=round(time.time() - t0, 1))
    save_file(net.state_dict(), path); save_json(rec, path.with_suffix('.json'))
    return net.eval(), rec

@torch.no_grad()
def predict(net, x, bs=1000): return torch.cat([net(b).argmax(1) for b in x.split(bs)])

def heldout_setup(prefix:str):
    "What the held-out rule needs: the classifier trained on real TRAINING images, Fashion-MNIST train, fashion-tiny, a work folder."
    import tempfile
    net, _ = train_classifier()
    return net, get_dataset('fashion-mnist', 'train'), load_backbone('fashion-tiny', device='cpu'), Path(tempfile.mkdtemp(prefix=prefix))

def distil_judged(net, ds, bb, method:str, out, ipc:int=10, **kw)->dict:
    "Distil `method` with `kw` into `out` (seed 0), then judge it: agreement (share recognised as their class), spread, seconds."
    from evlf.sampler import distill
    from evlf.data import load_distilled
    t = time.perf_counter()
    distill(ds, bb, method, ipc, seed=0, out_dir=out, progress=False, **kw)
    s = time.perf_counter() - t
    d = load_distilled(out)
    x, y = d.images(), d.targets
    agree = (predict(net, x) == y).float().mean().item()
    spread = torch.stack([torch.pdist(x[y == c].flatten(1)).mean() for c in range(len(d.classes))]).mean().item()
    return dict(agreement=round(agree, 3), spread=round(spread, 3), seconds=round(s, 1))

def sample_grid(imgs, classes, path, n_cols=10):
    n_cols = min(n_cols, min(len(i) for i in imgs))
    import matplotlib; matplotlib.use('Agg'); import matplotlib.pyplot as plt
    fig, axs = plt.subplots(len(classes), n_cols, figsize=(n_cols*0.8 + 1.2, len(classes)*0.8), squeeze=False)
    for r, c in enumerate(classes):
        for j in range(n_cols):
            ax = axs[r, j]; ax.imshow(imgs[r][j, 0].numpy(), cmap='gray', vmin=0, vmax=1); ax.set_xticks([]); ax.set_yticks([])
            for s in ax.spines.values(): s.set_visible(False)
        axs[r, 0].set_ylabel(c, rotation=0, ha='right', va='center', fontsize=9)
    fig.suptitle('fashion-tiny samples (DDIM 50 steps, CFG), one row per class prompt', fontsize=9)
    fig.tight_layout(); fig.savefig(path, dpi=110); fig.savefig(Path(path).with_suffix('.pdf')); plt.close(fig)

def reconstruction(bb, net, x, y):
    "Classifier accuracy and PSNR on VAE reconstructions of `x`, cached by the VAE's weights."
    import hashlib
    w = hashlib.sha256(b''.join(p.detach().numpy().tobytes() for p in bb.vae.parameters())).hexdigest()[:16]
    path = cache_dir('bench')/f'recon_{w}.json'
    if path.exists(): r = load_json(path); return r['acc'], r['psnr'], r['seconds']
    t0 = time.time(); rec = bb.decode_latents(bb.encode_images(x), size=28); t = time.time() - t0
    acc = (predict(net, rec) == y).float().mean().item(); psnr = float(10*np.log10(1/F.mse_loss(rec, x).item()))
    save_json(dict(acc=acc, psnr=psnr, seconds=round(t, 1)), path)
    return acc, psnr, t

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--guidance', type=float, default=4.0); ap.add_argument('--steps', type=int, default=50)
    ap.add_argument('--n-per-class', type=int, default=100); ap.add_argument('--epochs', type=int, default=3)
    ap.add_argument('--seed', type=int, default=0); ap.add_argument('--stage', default='all', choices=['all', 'classifier', 'recon'])
    ap.add_argument('--vae', default=None, help='--stage recon: a VAE folder')
    ap.add_argument('--weights', default=None); ap.add_argument('--out', default='figures/bench')
    a = ap.parse_args(argv)
    torch.set_num_threads(1)
    net, crec = train_classifier(a.epochs, a.seed)
    te = get_dataset('fashion-mnist', 'test'); x, y = te.images(), te.targets
    acc_orig = (predict(net, x) == y).float().mean().item()
    print(f'classifier accuracy on test originals: {acc_orig:.4f}', flush=True)
    if a.stage == 'classifier': return
    if a.stage == 'recon': # the VAE alone, from a folder (e.g. the VAE stage of fit_fashion_tiny), while the UNet trains
        from diffusers import AutoencoderKL
        bb = tiny_backbone('fashion-tiny'); bb.vae = AutoencoderKL.from_pretrained(a.vae).eval()
    else: bb = load_backbone('fashion-tiny', device='cpu', weights=a.weights)
    acc_rec, psnr, t_rec = reconstruction(bb, net, x, y)
    print(f'on VAE reconstructions: {acc_rec:.4f} (PSNR {psnr:.2f} dB) {t_rec:.0f}s', flush=True)
    from evlf.data import resize  # what a 28 -> 32 -> 28 resizing (instead of fashion-tiny's lossless padding) would cost by itself
    rt = resize(resize(x, bb.image_size), x.shape[-1])
    acc_rt, psnr_rt = (predict(net, rt) == y).float().mean().item(), float(10*np.log10(1/F.mse_loss(rt, x).item()))
    print(f'on the resize round trip alone ({x.shape[-1]} -> {bb.image_size} -> {x.shape[-1]}, no VAE): {acc_rt:.4f} (PSNR {psnr_rt:.2f} dB)', flush=True)
    if a.stage == 'recon': return
    prompts = [p for p in te.prompts for _ in range(a.n_per_class)]
    t0 = time.time(); imgs = generate(bb, prompts, a.steps, a.guidance, seed=a.seed, size=28, batch_size=500); t_gen = time.time() - t0
    target = torch.arange(len(te.prompts)).repeat_interleave(a.n_per_class)
    hit = predict(net, imgs) == target
    per_class = {c: hit[target == i].float().mean().item() for i, c in enumerate(te.classes)}
    acc_gen = hit.float().mean().item()
    print(f'generated samples classified as their prompt: {acc_gen:.4f} {t_gen:.0f}s', per_class, flush=True)
    out = Path(a.out); out.mkdir(exist_ok=True)
    sample_grid([imgs[target == i][:10] for i in range(len(te.classes))], te.classes, out/'backbone_samples.png')
    wrec = load_json(Path(a.weights or WEIGHTS_DIR/'fashion-tiny')/'record.json')
    res = dict(
        command='OMP_NUM_THREADS=1 python bench/backbone_quality.py ' + ' '.join(sys.argv[1:] if argv is None else argv),
        classifier=dict(arch='ConvNet 16-32-64 + BN + maxpool, 3x3 convs', trained_on='Fashion-MNIST train (real, 60k), random flips', **crec),
        accuracy_test_originals=acc_orig, accuracy_test_reconstructions=acc_rec, reconstruction_gap_points=100*(acc_orig - acc_rec),
        reconstruction_psnr_db=psnr, accuracy_test_resize_round_trip=acc_rt, resize_round_trip_psnr_db=psnr_rt,
        resize_round_trip_note=f'bilinear antialiased 28 -> 32 -> 28 without the VAE: what resizing would cost; the backbone fits images by {bb.fit!r}',
        image_fit=bb.fit, reconstruction_target='gap <= 2 points', reconstruction_target_met=100*(acc_orig - acc_rec) <= 2,
        generation_accuracy=acc_gen, generation_accuracy_per_class=per_class, generation_target='>= 0.85', generation_target_met=acc_gen >= 0.85,
        params=dict(num_inference_steps=a.steps, scheduler='DDIMScheduler.from_config(DDPM config)', guidance_scale=a.guidance,
                    n_per_class=a.n_per_class, seed=a.seed, weights=str(a.weights or 'shipped')),
        seconds=dict(vae_training=wrec['vae']['seconds'], unet_training=wrec['unet']['seconds'], latent_encoding=wrec.get('encode_seconds'),
                     classifier_training=crec['seconds'], reconstruct_10k=round(t_rec, 1), generate=round(t_gen, 1)),
        weights_record=dict(vae_steps=wrec['vae']['steps'], unet_steps=wrec['unet']['steps'], threads=wrec.get('threads'),
                            vae_final_loss=wrec['vae']['final_loss'], unet_final_loss=wrec['unet']['final_loss']),
        versions=versions())
    save_json(res, out/'backbone_quality.json')
    return res

if __name__ == '__main__': main()
