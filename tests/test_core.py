"Core helpers: checked parameters and atomic writes under failure."
import os, json, pytest, torch
from evlf.core import check_int, check_float, check_choice, atomic_write, atomic_dir, seed_everything, cache_dir, save_json


@pytest.mark.parametrize('bad', [0, -3, 'ten', 1.5, None, True])
def test_check_int_rejects(bad):
    with pytest.raises(ValueError, match=r"ipc=.* is not valid; accepted: an integer >= 1"): check_int('ipc', bad, min=1)


def test_check_float_and_choice():
    assert check_float('lr', '0.1' if False else 0.1, min=0) == 0.1
    with pytest.raises(ValueError, match=r"temperature='x' is not valid"): check_float('temperature', 'x', min=0, min_open=True)
    with pytest.raises(ValueError, match="protocol='abc' is not valid; accepted: 'dc', 'hard', 'soft'"): check_choice('protocol', 'abc', ['dc', 'hard', 'soft'])


def test_seed_same_result():
    a = torch.randn(4, generator=seed_everything(3)); b = torch.randn(4, generator=seed_everything(3))
    assert torch.equal(a, b)


def test_cache_dir_env(tmp_path, monkeypatch):
    monkeypatch.setenv('EVLF_CACHE', str(tmp_path))
    assert cache_dir('x', 'y') == tmp_path/'x'/'y' and (tmp_path/'x'/'y').is_dir()


def test_atomic_write_keeps_old_on_failure(tmp_path):
    p = tmp_path/'r.json'
    save_json({'a': 1}, p)
    with pytest.raises(KeyboardInterrupt):
        with atomic_write(p) as f: f.write('{"a": 2'); raise KeyboardInterrupt
    assert json.loads(p.read_text()) == {'a': 1} and os.listdir(tmp_path) == ['r.json']
    with pytest.raises(RuntimeError):
        with atomic_dir(tmp_path/'d') as d: (d/'x').write_text('1'); raise RuntimeError
    assert not (tmp_path/'d').exists() and os.listdir(tmp_path) == ['r.json']
