"""What the shipped fashion-tiny fusion modules do, on Fashion-MNIST test images, and how fast they train on this CPU.

For each variant ('code', 'paper'): the fused latent's MSE to the input latent relative to the latent variance, and
the nearest class-text readout accuracy from the projected fused latent (P, cosine to the pooled MiniLM class texts),
before training (a fresh module of the same config, seed 0) and after (the shipped weights); plus the class read back
when each latent is fused with ANOTHER class's text (follows text / follows image). Training throughput: images/s of
`train_fusion` (the paper's loop, batch 16, accumulation 2) on the cached train latents, `--steps` micro-batches.

    python bench/fusion_quality.py            # writes figures/bench/fusion_quality.json and figures/bench/fusion_quality.{png,pdf}
"""
import argparse, json, tempfile, time
import torch

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--steps', type=int, default=200, help='micro-batches timed per variant for the throughput')
    ap.add_argument('--n-test', type=int, default=10000, help='test images used (every k-th of the 10,000)')
    ap.add_argument('--threads', type=int, default=1, help='torch CPU threads (1 is fastest on a busy 2-core machine)')
    ap.add_argument('--out', default='figures/bench/fusion_quality')
    ap.add_argument('--vae', default=None, help="a fashion-tiny VAE folder (only the VAE and MiniLM are needed; default: load_backbone('fashion-tiny'))")
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    from evlf.core import versions, save_json, save_figure, load_json
    from evlf.backbone import load_backbone, WEIGHTS_DIR
    from evlf.data import get_dataset
    from evlf.fusion import EVLFFusion, encode_real_set, fusion_quality, load_fusion, train_fusion
    if a.vae:
        from diffusers import AutoencoderKL
        from evlf.backbone import tiny_backbone
        bb = tiny_backbone('fashion-tiny'); bb.vae = AutoencoderKL.from_pretrained(a.vae).eval()
    else: bb = load_backbone('fashion-tiny')
    from evlf.core import fingerprint
    fp = fingerprint(bb.vae)
    test = encode_real_set(bb, get_dataset('fashion-mnist', 'test'), flip=False)
    sel = torch.arange(0, len(test['labels']), max(1, len(test['labels']) // a.n_test))[:a.n_test]
    test = {**test, 'latents': test['latents'][sel], 'labels': test['labels'][sel]}
    train = encode_real_set(bb, get_dataset('fashion-mnist', 'train'))
    res = {}
    for v in ('code', 'paper'):
        trained = load_fusion('fashion-tiny', v, device='cpu')
        torch.manual_seed(0); fresh = EVLFFusion(**{k: trained.config[k] for k in ('latent_channels', 'text_dim', 'width', 'heads', 'layers', 'grid', 'dropout', 'variant')})
        with tempfile.TemporaryDirectory() as d:
            f = train_fusion(train, d, variant=v, max_steps=a.steps, progress=False)
        rec = load_json(WEIGHTS_DIR/'fashion-tiny'/f'fusion-{v}'/'training_record.json')
        if rec.get('vae_fingerprint') != fp: raise SystemExit(f'the shipped {v} module was trained on latents of another VAE ({rec.get("vae_fingerprint")} != {fp}): retrain it')
        res[v] = dict(before=fusion_quality(fresh, test), after=fusion_quality(trained, test),
                      train_images_per_s=round(f.training_record['done']['images_per_s_this_call'], 1),
                      shipped_training=rec['done'], fusion_parameters=trained.num_fusion_parameters())
        print(v, json.dumps(res[v], indent=1), flush=True)
    params = dict(vae_fingerprint=fp, test_images=len(test['labels']), throughput_micro_batches=a.steps, threads=a.threads, batch_size=16, grad_accum=2,
                  backbone='fashion-tiny', text='MiniLM all-MiniLM-L6-v2 token states (16 x 384), pooled = masked mean',
                  cpu=f'{torch.get_num_threads()} torch thread(s) on a shared 2-core machine')
    save_json(dict(params=params, results=res, versions=versions()), a.out + '.json')
    import matplotlib; matplotlib.use('Agg')
    import matplotlib.pyplot as plt, seaborn as sns, pandas as pd
    rows = [dict(variant=v, when=w, metric=m, value=res[v][w][k]) for v in res for w in ('before', 'after')
            for m, k in (('class readout acc.', 'retrieval_acc'), ('relative MSE', 'rel_mse'))]
    g = sns.catplot(pd.DataFrame(rows), x='variant', y='value', hue='when', col='metric', kind='bar', sharey=False, height=3, aspect=1.1)
    g.axes[0, 0].axhline(0.1, ls=':', c='gray'); g.axes[0, 0].set_ylim(0, 1)
    save_figure(g.figure, a.out + '_fig', params, data=res)
    print('wrote', a.out + '.json', a.out + '_fig.{png,pdf,json}')

if __name__ == '__main__': main()
