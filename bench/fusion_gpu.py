"""GPU benchmark of EVLF fusion training at SD-1.5 scale: VAE encoding + one fusion training micro-step, images/s.

SD-1.5-sized AutoencoderKL (random weights; the SD-1.5 VAE config), 256 and 512 px, batch 16, fp16 autocast,
the 'code' fusion module (d=256, 4 heads, 2 blocks) with CLIP-shaped text (77 x 768) and its projector, AdamW,
gradient accumulation 2, clip 1.0 -- the loop of `evlf.fusion.train_fusion`, with the VAE encoding inside the timed
loop (train_fusion itself reads cached latents, so its own steps are faster than this).
Reference (issue 4): one H200 did about 590 (256 px) and 140 (512 px) images/s including VAE encoding.

    python bench/fusion_gpu.py                      # on a CUDA machine; writes figures/bench/fusion_gpu.json
    python bench/fusion_gpu.py --smoke              # a CPU smoke test of the code path (tiny sizes, no timing claim)
"""
import argparse, json, sys, time
from pathlib import Path
import torch

SD15_VAE = dict(in_channels=3, out_channels=3, latent_channels=4, layers_per_block=2, norm_num_groups=32, act_fn='silu',
                block_out_channels=[128, 256, 512, 512], sample_size=512,
                down_block_types=['DownEncoderBlock2D']*4, up_block_types=['UpDecoderBlock2D']*4)

def bench(size, batch, iters, warmup, device, mp):
    from accelerate import Accelerator
    from diffusers import AutoencoderKL
    from evlf.fusion import EVLFFusion, Objective, corrupt_text, lambda2_at
    torch.manual_seed(0)
    acc = Accelerator(mixed_precision=mp, cpu=device == 'cpu')
    vae = AutoencoderKL(**SD15_VAE).to(acc.device, torch.float16 if mp == 'fp16' else torch.float32).eval().requires_grad_(False)
    fusion = EVLFFusion(latent_channels=4, text_dim=768, grid=size//8, variant='code')
    proj = [p for k, p in fusion.named_parameters() if k.startswith('latent_projector.')]
    rest = [p for k, p in fusion.named_parameters() if not k.startswith('latent_projector.')]
    opt = torch.optim.AdamW([{'params': rest, 'lr': 3e-4}, {'params': proj, 'lr': 1e-4}], weight_decay=1e-2)
    obj, opt = acc.prepare(Objective(fusion).train(), opt)
    g = torch.Generator(acc.device).manual_seed(0)
    tok, pooled = torch.randn(10, 77, 768, device=acc.device), torch.randn(10, 768, device=acc.device)
    x = torch.rand(batch, 3, size, size, device=acc.device, dtype=vae.dtype)
    y = torch.arange(batch, device=acc.device) % 10
    sync = torch.cuda.synchronize if acc.device.type == 'cuda' else (lambda: None)
    def step(k, encode=True, z=None):
        if encode:
            with torch.no_grad(): z = vae.encode(x*2 - 1).latent_dist.mean.float()
        with acc.autocast(): loss, nce, mse = obj(z, corrupt_text(tok[y], generator=g), pooled[y], y, 0.1, lambda2_at(k, 1000), 0.07, 'code')
        acc.backward(loss/2)
        if k % 2 == 1: acc.clip_grad_norm_(obj.parameters(), 1.0); opt.step(); opt.zero_grad(set_to_none=True)
        return z
    out = {}
    for name, enc in (('encode+fusion_step', True), ('fusion_step_only', False)):
        with torch.no_grad(): z0 = vae.encode(x*2 - 1).latent_dist.mean.float()
        for k in range(warmup): step(k, enc, z0)
        sync(); t = time.perf_counter()
        for k in range(iters): step(k, enc, z0)
        sync(); dt = time.perf_counter() - t
        out[name] = batch*iters/dt
    with torch.no_grad():
        for _ in range(warmup): vae.encode(x*2 - 1)
        sync(); t = time.perf_counter()
        for _ in range(iters): vae.encode(x*2 - 1).latent_dist.mean
        sync(); out['encode_only'] = batch*iters/(time.perf_counter() - t)
    out = {k: round(v, 1) for k, v in out.items()}
    out['fusion_parameters'] = fusion.num_fusion_parameters()
    out['peak_gpu_mem_gib'] = round(torch.cuda.max_memory_allocated()/2**30, 2) if acc.device.type == 'cuda' else None
    return out

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--sizes', type=int, nargs='+', default=[256, 512])
    ap.add_argument('--batch', type=int, default=16)
    ap.add_argument('--iters', type=int, default=30)
    ap.add_argument('--warmup', type=int, default=5)
    ap.add_argument('--out', default='figures/bench/fusion_gpu.json')
    ap.add_argument('--smoke', action='store_true', help='run on the CPU at tiny sizes to check the code path (no timing claim)')
    a = ap.parse_args(argv)
    if a.smoke: a.sizes, a.batch, a.iters, a.warmup, a.out = [32], 2, 2, 1, None
    elif not torch.cuda.is_available():
        sys.exit('fusion_gpu.py needs a CUDA GPU (none found here). Run it on a GPU machine: python bench/fusion_gpu.py; '
                 'or check the code path on the CPU with --smoke.')
    from evlf.core import versions, save_json
    dev, mp = ('cpu', 'no') if a.smoke else ('cuda', 'fp16')
    res = {str(s): bench(s, a.batch, a.iters, a.warmup, dev, mp) for s in a.sizes}
    rec = dict(results_images_per_s=res, params=dict(batch=a.batch, iters=a.iters, warmup=a.warmup, mixed_precision=mp, vae='SD-1.5 AutoencoderKL config, random init',
               fusion='code variant, d=256, 4 heads, 2 blocks, text 77x768', grad_accum=2),
               device=torch.cuda.get_device_name() if dev == 'cuda' else 'cpu (smoke test, not a benchmark)', versions=versions())
    print(json.dumps(rec['results_images_per_s'], indent=1), rec['device'])
    if a.out: save_json(rec, a.out); print('wrote', a.out)

if __name__ == '__main__': main()
