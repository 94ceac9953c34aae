"""GPU throughput of evlf's samplers at full size, with random-initialised weights (no download).

Cases (fp16, 50 steps):
- D4M host: SD-1.5 UNet at 512 px (latents 4x64x64), img2img from prototypes, strength 0.7, guidance 8, SD-1.5's PNDM.
- MGD3 host: DiT-XL/2 at 256 px (latents 4x32x32), from noise, DiT's respaced steps and learned variance, guidance 4
  on 3 channels, mode guidance 0.1 for the 24 steps with index > stop_t = 25 (the reference's conventions).
For each: images/s of `D4MPipeline` / `MGD3Pipeline` with the whole batch in one call, against the reference code's way
(the same pipeline called once per image), and the share of a class's time spent in the EVLF fusion module
(fusing the class's real latents, 1300 per ImageNet class, before k-means and sampling).
Reference (one H200, bare denoising loop): DiT-XL/2 0.72 img/s at batch 1, 14.7 at batch 50; SD-1.5 img2img
1.0 at batch 1, 4.5 at batch 32.

    python bench/sampler_gpu.py            # on a CUDA machine; writes figures/bench/sampler_gpu.json
    python bench/sampler_gpu.py --tiny     # the same code with tiny models on the CPU (a smoke test, numbers meaningless)
"""
import argparse, json, sys, time
from pathlib import Path
import torch

def _sync(dev):
    if dev.type == 'cuda': torch.cuda.synchronize()

def _timed(fn, dev, repeat=1):
    "Seconds per call of `fn` (after one warm-up call)."
    fn(); _sync(dev); t = time.perf_counter()
    for _ in range(repeat): fn()
    _sync(dev); return (time.perf_counter() - t)/repeat

def _models(tiny):
    from diffusers import UNet2DConditionModel, DiTTransformer2DModel, DDPMScheduler
    from evlf.fusion import EVLFFusion
    if tiny:
        unet = UNet2DConditionModel(sample_size=8, block_out_channels=(16, 32), down_block_types=('CrossAttnDownBlock2D', 'DownBlock2D'),
                                    up_block_types=('UpBlock2D', 'CrossAttnUpBlock2D'), cross_attention_dim=32, layers_per_block=1,
                                    attention_head_dim=4, norm_num_groups=8)
        dit = DiTTransformer2DModel(num_attention_heads=2, attention_head_dim=8, in_channels=4, out_channels=8, num_layers=2,
                                    sample_size=8, patch_size=2, num_embeds_ada_norm=1000)
        sd_lat, dit_lat, text = 8, 8, (77, 32)
        fus = lambda g: EVLFFusion(latent_channels=4, text_dim=32, width=16, heads=2, layers=1, grid=g, proj_channels=8)
    else:
        unet = UNet2DConditionModel(sample_size=64, cross_attention_dim=768)   # SD-1.5's config: 320/640/1280/1280, 2 layers, 8 heads
        dit = DiTTransformer2DModel(num_attention_heads=16, attention_head_dim=72, in_channels=4, out_channels=8, num_layers=28,
                                    sample_size=32, patch_size=2, num_embeds_ada_norm=1000)                  # DiT-XL/2 256
        sd_lat, dit_lat, text = 64, 32, (77, 768)
        fus = lambda g: EVLFFusion(latent_channels=4, text_dim=768, width=256, heads=4, layers=2, grid=g)   # the code variant
    from diffusers import PNDMScheduler
    from evlf.backbone import SD15_SCHEDULER
    sched = PNDMScheduler(**SD15_SCHEDULER)  # SD-1.5's own
    return unet, dit, sched, sd_lat, dit_lat, text, fus

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--tiny', action='store_true', help='tiny models on the CPU: checks the script, numbers meaningless')
    ap.add_argument('--steps', type=int, default=50); ap.add_argument('--loop-images', type=int, default=4, help='images timed one at a time')
    ap.add_argument('--sd-batch', type=int, default=32); ap.add_argument('--dit-batch', type=int, default=50)
    ap.add_argument('--class-images', type=int, default=1300, help='real images per class fused by EVLF')
    ap.add_argument('--out', default='figures/bench/sampler_gpu.json')
    a = ap.parse_args(argv)
    if not a.tiny and not torch.cuda.is_available():
        print('bench/sampler_gpu.py needs a CUDA GPU (none found): run it on a GPU machine, or with --tiny for a CPU smoke test.', file=sys.stderr)
        return 2
    from evlf.sampler import D4MPipeline, MGD3Pipeline, image_generators
    from evlf.core import save_json, versions
    from evlf.sampler import host_scheduler, mgd3_scheduler
    from diffusers import DDPMScheduler
    dev = torch.device('cpu' if a.tiny else 'cuda'); dt = torch.float32 if a.tiny else torch.float16
    if a.tiny: a.steps, a.sd_batch, a.dit_batch, a.loop_images, a.class_images = 3, 4, 4, 2, 64
    unet, dit, sched, sd_lat, dit_lat, (L, D), fus = _models(a.tiny)
    from evlf.backbone import DIT_SCHEDULER
    dit_sched = DDPMScheduler(**DIT_SCHEDULER)
    res = dict(device=torch.cuda.get_device_name() if dev.type == 'cuda' else 'cpu (--tiny)', dtype=str(dt), steps=a.steps, cases={})
    g = torch.Generator().manual_seed(0)
    text = torch.randn(1, L, D, generator=g).to(dev, dt); null = torch.randn(1, L, D, generator=g).to(dev, dt)

    def case(name, pipe, lat, batch, kw, fusion):
        pipe.set_progress_bar_config(disable=True)
        x = torch.randn(batch, 4, lat, lat, generator=g).to(dev, dt)
        gens = image_generators(0, 0, batch)
        t_batch = _timed(lambda: pipe(x, generator=gens, **kw), dev)
        n = min(a.loop_images, batch)
        t_loop = _timed(lambda: [pipe(x[i:i+1], generator=gens[i:i+1], **kw) for i in range(n)], dev)
        z = torch.randn(a.class_images, 4, lat, lat, generator=g).to(dev, dt)
        fusion = fusion.to(dev, dt).eval()
        with torch.no_grad(): t_fuse = _timed(lambda: [fusion(z[i:i+256], text) for i in range(0, len(z), 256)], dev)
        ips_b, ips_1 = batch/t_batch, n/t_loop
        r = dict(batch=batch, images_per_s_batched=round(ips_b, 3), images_per_s_one_at_a_time=round(ips_1, 3), speedup=round(ips_b/ips_1, 2),
                 fusion_s_per_class=round(t_fuse, 3), class_images_fused=a.class_images,
                 fusion_share_ipc10=round(t_fuse/(t_fuse + 10/ips_b), 4), fusion_share_ipc50=round(t_fuse/(t_fuse + 50/ips_b), 4),
                 fusion_params_M=round(sum(p.numel() for p in fusion.parameters())/1e6, 2))
        res['cases'][name] = r; print(name, json.dumps(r), flush=True)
        pipe.to('cpu'); fusion.to('cpu')
        if dev.type == 'cuda': torch.cuda.empty_cache()

    unet = unet.to(dev, dt).eval()
    case('d4m_sd15_512', D4MPipeline(unet, host_scheduler('pndm', sched.config)), sd_lat, a.sd_batch,
         dict(prompt_embeds=text, negative_prompt_embeds=null, strength=0.7, guidance_scale=8.0, num_inference_steps=a.steps), fus(sd_lat))
    del unet
    dit = dit.to(dev, dt).eval()
    case('mgd3_dit_xl2_256', MGD3Pipeline(dit, mgd3_scheduler(dit_sched.config)), dit_lat, a.dit_batch,
         dict(class_labels=1, guidance_scale=4.0, mode_guidance=0.1, stop_t=min(25, a.steps - 2), cfg_channels=3, num_inference_steps=a.steps), fus(dit_lat))
    res['reference_h200_bare_loop'] = dict(dit_b1=0.72, dit_b50=14.7, sd15_img2img_b1=1.0, sd15_img2img_b32=4.5)
    res['versions'] = versions()
    if not a.tiny: save_json(res, Path(a.out)); print('wrote', a.out)
    return 0

if __name__ == '__main__': sys.exit(main())
