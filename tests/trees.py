"Tiny image trees in the real datasets' layouts, shared by the tests."
from pathlib import Path
import numpy as np
from PIL import Image


def write_image(path:Path, size=(40, 48), rng=None, mode='RGB'):
    "A random `size` (width, height) image at `path`, its folders made."
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0) if rng is None else rng
    Image.fromarray(rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)).convert(mode).save(path)


def imagenet_tree(root:Path, wnids, n_train:int=2, n_val:int|None=None, size=(40, 48)):
    "`root/{train,val}/<wnid>/*.JPEG`, the full-ImageNet layout `evlf.data` reads for ImageNet-1K and its subsets."
    rng = np.random.default_rng(0)
    for split, n in (('train', n_train), ('val', n_train if n_val is None else n_val)):
        for w in wnids:
            for k in range(n): write_image(root/split/w/f'{w}_{k}.JPEG', size, rng)
