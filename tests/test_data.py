"Datasets and distilled folders: loaders on small trees built here, and every bad-input path."
import os, json
from pathlib import Path
import numpy as np, pytest, torch
from evlf.data import get_dataset, SUBSETS, DistilledWriter, load_distilled, FASHION_CLASSES, imagenet_classes


from trees import write_image as _img, imagenet_tree


@pytest.mark.parametrize('name', ['imagenette', 'imagewoof', 'imageidc'])
def test_imagenet_subsets(tmp_path, name):
    imagenet_tree(tmp_path, SUBSETS[name])
    ds = get_dataset(name, 'train', root=tmp_path, image_size=24)
    assert len(ds) == 20 and len(ds.classes) == 10
    assert ds.prompts == [imagenet_classes()[w] for w in SUBSETS[name]]
    x, y = ds[3]
    assert x.shape == (3, 24, 24) and 0 <= x.min() and x.max() <= 1 and y == 1
    assert ds.targets.tolist() == sorted(ds.targets.tolist())


def test_imagenette_uses_full_imagenet_names(tmp_path):
    imagenet_tree(tmp_path, SUBSETS['imagenette'], n_train=1)
    ds = get_dataset('imagenette', 'test', root=tmp_path)
    assert ds.prompts[0] == 'tench, Tinca tinca' and ds.classes[0] == 'tench'


def test_tiny_imagenet(tmp_path):
    wnids = ['n01443537', 'n01629819']
    (tmp_path/'wnids.txt').write_text('\n'.join(wnids))
    (tmp_path/'words.txt').write_text('n01443537\tgoldfish, Carassius auratus\nn01629819\tEuropean fire salamander, Salamandra salamandra\n')
    for w in wnids:
        for k in range(3): _img(tmp_path/'train'/w/'images'/f'{w}_{k}.JPEG', (64, 64))
    ann = []
    for k, w in enumerate(wnids * 2):
        _img(tmp_path/'val'/'images'/f'val_{k}.JPEG', (64, 64)); ann.append(f'val_{k}.JPEG\t{w}\t0\t0\t63\t63')
    (tmp_path/'val'/'val_annotations.txt').write_text('\n'.join(ann))
    tr, te = get_dataset('tiny-imagenet', 'train', root=tmp_path), get_dataset('tiny-imagenet', 'test', root=tmp_path)
    assert len(tr) == 6 and len(te) == 4 and tr.classes == ['goldfish', 'European fire salamander']
    assert tr[0][0].shape == (3, 64, 64) and sorted(te.targets.tolist()) == [0, 0, 1, 1]


@pytest.mark.parametrize('name,split,msg', [
    ('mnist', 'train', "name='mnist' is not valid; accepted: 'fashion-mnist', 'cifar10'"),
    ('fashion-mnist', 'val', "split='val' is not valid; accepted: 'train', 'test'"),
])
def test_unknown_name_or_split(name, split, msg):
    with pytest.raises(ValueError, match=msg.replace('(', r'\(').replace(')', r'\)')): get_dataset(name, split)


def test_missing_root_names_path(tmp_path):
    with pytest.raises(ValueError, match='needs root='): get_dataset('imagenette')
    with pytest.raises(FileNotFoundError, match=str(tmp_path/'nowhere'/'train')): get_dataset('imagenette', root=tmp_path/'nowhere')


def test_class_folder_without_images(tmp_path):
    imagenet_tree(tmp_path, SUBSETS['imageidc'], n_train=1)
    w = SUBSETS['imageidc'][4]
    for f in (tmp_path/'train'/w).iterdir(): f.unlink()
    with pytest.raises(FileNotFoundError, match=f'class folder .*{w} holds no images'): get_dataset('imageidc', root=tmp_path)


def test_corrupt_image_names_file(tmp_path):
    imagenet_tree(tmp_path, SUBSETS['imageidc'], n_train=1)
    bad = tmp_path/'train'/SUBSETS['imageidc'][0]/'zz_corrupt.JPEG'
    bad.write_bytes(b'\xff\xd8 truncated jpeg')
    ds = get_dataset('imageidc', root=tmp_path)
    i = [p for p, _ in ds.samples].index(bad)
    with pytest.raises(ValueError, match='cannot read image .*zz_corrupt.JPEG'): ds[i]


def test_fashion_mnist_offline():
    ds = get_dataset('fashion-mnist', 'train')
    assert len(ds) == 60_000 and ds.classes == FASHION_CLASSES and ds.prompts == FASHION_CLASSES
    assert ds.data.shape == (60_000, 1, 28, 28) and ds.data.dtype == torch.uint8
    assert get_dataset('fashion-mnist', 'test', image_size=32)[0][0].shape == (1, 32, 32)


def _manifest(**kw): return dict(method='random', params={'ipc': 2}, seed=0, ipc=2, channels=3, **kw)


def test_distilled_roundtrip_rgb_and_resume(tmp_path):
    classes = ['tench', 'goldfish', 'shark']
    w = DistilledWriter(tmp_path/'d', classes, _manifest())
    x = torch.rand(2, 3, 16, 16)
    w.write(0, x)
    assert w.missing() == [1, 2]
    w2 = DistilledWriter(tmp_path/'d', classes, _manifest())  # same parameters: resumes, keeps class 0
    assert w2.missing() == [1, 2]
    for c in (1, 2): w2.write(c, x)
    ds = load_distilled(tmp_path/'d')
    assert len(ds) == 6 and ds.classes == classes and ds.data.shape == (6, 3, 16, 16)
    assert torch.equal(ds.data[:2], (x*255).round().to(torch.uint8))
    m = json.loads((tmp_path/'d'/'manifest.json').read_text())
    assert m['method'] == 'random' and m['versions']['torch']


def test_distilled_refuses_other_parameters(tmp_path):
    DistilledWriter(tmp_path/'d', ['a', 'b'], _manifest()).write(0, torch.rand(2, 3, 8, 8))
    with pytest.raises(FileExistsError, match='other parameters'):
        DistilledWriter(tmp_path/'d', ['a', 'b'], _manifest() | {'seed': 3})
    w = DistilledWriter(tmp_path/'d', ['a', 'b'], _manifest() | {'seed': 3}, overwrite=True)
    assert w.missing() == [0, 1]


def test_distilled_count_mismatch(tmp_path):
    w = DistilledWriter(tmp_path/'d', ['a', 'b'], _manifest())
    w.write(0, torch.rand(2, 3, 8, 8)); w.write(1, torch.rand(1, 3, 8, 8))
    with pytest.raises(ValueError, match='holds 1 images; the manifest says ipc=2'): load_distilled(tmp_path/'d')
    with pytest.raises(FileNotFoundError, match='no manifest.json'): load_distilled(tmp_path)


@pytest.mark.skipif(os.geteuid() == 0, reason='root can write anywhere')
def test_unwritable_out_dir(tmp_path):
    ro = tmp_path/'ro'; ro.mkdir(); ro.chmod(0o500)
    with pytest.raises(PermissionError, match='cannot write to out_dir'): DistilledWriter(ro/'d', ['a'], _manifest())


def test_unwritable_out_dir_is_a_file(tmp_path):
    (tmp_path/'f').write_text('x')
    with pytest.raises(PermissionError, match='cannot write to out_dir'): DistilledWriter(tmp_path/'f'/'d', ['a'], _manifest())
