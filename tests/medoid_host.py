"A host from outside evlf, as a user would write it: D4M's img2img started from class medoids (one module, no edit to evlf)."
import dataclasses
import torch
from evlf.sampler import Host, HostConfig, UNSET, register_host, prototypes, D4MPipeline, host_scheduler


@dataclasses.dataclass
class MedoidConfig(HostConfig):
    "The medoid host's settings (left UNSET: the defaults below)."
    strength:float = UNSET  # how far each medoid is noised before it is denoised (> 0)
    guidance_scale:float = UNSET  # classifier-free guidance weight (>= 0)
    num_inference_steps:int = UNSET  # denoising steps of the whole schedule (>= 1)


@register_host
class MedoidHost(Host):
    "Img2img (DDIM) from the real latents nearest the class's k-means centres."
    name, config = 'medoid', MedoidConfig
    defaults = {None: dict(strength=0.5, guidance_scale=3.0, num_inference_steps=50)}

    def initial_latents(self, z, ipc, seed, p):
        centres = prototypes(z, ipc, seed, 'kmeans')
        return z[torch.cdist(centres.flatten(1), z.flatten(1)).argmin(1)]

    def pipeline(self, denoiser, bb, p):
        kw = {k: p[k] for k in ('strength', 'guidance_scale', 'num_inference_steps')}
        return D4MPipeline(denoiser, host_scheduler('ddim', bb.scheduler.config)), kw
