"The host registry: a host from a module outside evlf runs through `distill`, the cache names, the report and 05_eval."
import dataclasses, json, os, subprocess, sys
from pathlib import Path
import pytest, torch
from evlf import sampler
from evlf.sampler import (distill, method_settings, cached_set_name, load_plugins, method_names, parse_method, register_host,
                          get_host, Host, HostConfig, D4MConfig, D4MHost, UNSET)
from evlf.data import load_distilled
from test_sampler import tiny_ds, tiny_fusion, OPTS

REPO = Path(__file__).resolve().parents[1]
PLUGIN = 'medoid_host'  # tests/medoid_host.py; tests/ is on sys.path under pytest


@pytest.fixture(autouse=True)
def _env(tmp_path, monkeypatch):
    monkeypatch.setenv('EVLF_CACHE', str(tmp_path/'cache')); torch.set_num_threads(1)


@pytest.fixture(scope='module')
def medoid():
    load_plugins([PLUGIN])
    yield get_host('medoid')
    sampler._REGISTRY.pop('medoid', None); sys.modules.pop(PLUGIN, None)  # the other tests see the built-in hosts only


def test_plugin_host_distils(tmp_path, medoid):
    "Both arms of the plugin's host distil on a tiny backbone, with keywords or its config; its settings are checked."
    from evlf.backbone import tiny_backbone
    assert {'medoid', 'medoid+evlf'} <= set(method_names()) and parse_method('medoid+evlf') == (medoid, True)
    bb, ds = tiny_backbone('sd15', seed=0), tiny_ds()
    a = distill(ds, bb, 'medoid+evlf', 2, seed=1, out_dir=tmp_path/'a', fusion_model=tiny_fusion(bb), **OPTS)
    cfg = medoid.config(num_inference_steps=3)
    b = distill(ds, bb, 'medoid', 2, seed=1, out_dir=tmp_path/'b', config=cfg, progress=False)
    for out, m in ((a, 'medoid+evlf'), (b, 'medoid')):
        d = load_distilled(out)
        assert len(d) == 6 and d.manifest['method'] == m and d.manifest['params']['num_inference_steps'] == 3
    assert method_settings('medoid', 'sd15', config=cfg) == method_settings('medoid', 'sd15', num_inference_steps=3)
    name = cached_set_name(ds, 'tiny-sd15', 'medoid', 2, 1, num_inference_steps=3)
    assert 'medoid' in name and name != cached_set_name(ds, 'tiny-sd15', 'medoid', 2, 1, num_inference_steps=4)
    with pytest.raises(ValueError, match="strength=0 is not valid"): method_settings('medoid', 'sd15', strength=0)
    with pytest.raises(ValueError, match='MedoidConfig has no field scheduler; accepted: strength, guidance_scale'):
        medoid.config(scheduler='ddim')
    with pytest.raises(ValueError, match="config=D4MConfig.* is not valid for host 'medoid'; accepted: MedoidConfig"):
        method_settings('medoid', 'sd15', config=D4MConfig())


def test_plugin_host_in_the_report(medoid):
    "The report pairs the plugin's two arms as it pairs D4M's: it asks the registry, not a list of names."
    from evlf.report import paired_differences
    run = lambda d, acc: dict(distill_seed=d, seeds=[0], final=[acc], best=[acc], seconds_per_student=1.0)
    from evlf.report import pool_runs
    res = {'medoid': pool_runs([run(0, .50), run(1, .52)]), 'medoid+evlf': pool_runs([run(0, .51), run(1, .54)])}
    assert list(paired_differences(res)) == ['medoid'] and round(paired_differences(res)['medoid']['mean'], 6) == 1.5


def test_one_place():
    "A new host touches one module of the user's: evlf and its notebooks never name it."
    hits = [str(f.relative_to(REPO)) for d in ('evlf', 'nbs') for f in (REPO/d).rglob('*') if f.is_file()
            and f.suffix in ('.py', '.ipynb') and 'medoid' in f.read_text(errors='ignore').lower()]
    assert hits == []
    defines = [f.name for f in (REPO/'tests').glob('*.py') if 'register_host\nclass ' in f.read_text()]
    assert defines == ['medoid_host.py']  # the one module that defines and registers it


def test_bad_hosts(medoid):
    "Each refused before any work, naming the host, the field and what is accepted."
    with pytest.raises(ValueError, match="host 'medoid' is registered already \\(by medoid_host\\)"): register_host(type(medoid))
    with pytest.raises(ValueError, match="method='medoyd' is not valid; accepted: 'random', 'd4m'"): parse_method('medoyd')
    with pytest.raises(ValueError, match="method='random\\+evlf' is not valid: host 'random' does not start"): parse_method('random+evlf')

    class NoConfig(Host): name = 'noconfig'
    with pytest.raises(TypeError, match='NoConfig.config=None is not valid; accepted: a HostConfig dataclass'): register_host(NoConfig)

    @dataclasses.dataclass
    class C(HostConfig):
        strength:float = UNSET  # how far

    class Partial(Host): name, config, defaults = 'partial', C, {None: {}}
    with pytest.raises(ValueError, match="Partial.defaults\\[None\\] must set exactly the fields of C: strength"): register_host(Partial)

    class Bad(Host): name, config, defaults = 'Bad Name', C, {None: dict(strength=0.5)}
    with pytest.raises(ValueError, match="Bad.name='Bad Name' is not valid"): register_host(Bad)
    with pytest.raises(ValueError, match="plugins: module 'no_such_hosts' does not import \\(ModuleNotFoundError"): load_plugins(['no_such_hosts'])
    with pytest.raises(ValueError, match="plugins='medoid_host' is not valid; accepted: a list of module names"): load_plugins('medoid_host')
    assert 'partial' not in method_names() and 'Bad Name' not in method_names()


def test_check_params_loads_plugins(medoid):
    "05_eval's check: `plugins` are imported first, so their methods are accepted, and recorded."
    from evlf.experiment import check_params
    P = check_params('fashion-mnist', 1, ['medoid', 'medoid+evlf'], 1, 'dc', 'convnet3', plugins=[PLUGIN])
    assert P['plugins'] == [PLUGIN] and P['methods'] == ['medoid', 'medoid+evlf']
    with pytest.raises(ValueError, match="lacks 'medoid'; accepted: add the host"):
        check_params('fashion-mnist', 1, ['medoid+evlf'], 1, 'dc', 'convnet3', plugins=[PLUGIN])
    assert 'plugins' not in check_params('fashion-mnist', 1, ['d4m'], 1, 'dc', 'convnet3')  # records made before stay as they were


def test_plugin_through_05_eval(tmp_path):
    "A user's host through the owner's command, by parameters alone: `-p plugins` and `methods`, paired with its +evlf arm."
    env = {**os.environ, 'EVLF_CACHE': str(tmp_path/'cache'),
           'PYTHONPATH': os.pathsep.join([str(REPO), str(REPO/'tests'), os.environ.get('PYTHONPATH', '')])}
    args = ['-p', 'ipc', '1', '-p', 'seeds', '1', '-p', 'distill_seeds', '2', '-p', 'epochs', '1', '-p', 'max_test', '200',
            '-p', 'dataset', 'fashion-mnist:0,1', '-p', 'out', str(tmp_path/'figures'),
            '-y', f"{{plugins: [{PLUGIN}], methods: [medoid, medoid+evlf], options: {{num_inference_steps: 2}}}}"]
    r = subprocess.run([sys.executable, '-m', 'papermill', str(REPO/'nbs'/'05_eval.ipynb'), str(tmp_path/'out.ipynb'), *args,
                        '--cwd', str(REPO/'nbs')], capture_output=True, text=True, timeout=1800, env=env)  # a guard, not a speed test
    assert r.returncode == 0, r.stderr[-3000:]
    rec = json.loads(next((tmp_path/'figures').glob('table_*.json')).read_text())
    assert list(rec['results']) == ['medoid', 'medoid+evlf'] and rec['params']['plugins'] == [PLUGIN]
    assert list(rec['paired']) == ['medoid'] and len(rec['results']['medoid']['runs']) == 2
    bad = subprocess.run([sys.executable, '-m', 'papermill', str(REPO/'nbs'/'05_eval.ipynb'), str(tmp_path/'bad.ipynb'),
                          '-y', '{plugins: [no_such_hosts], methods: [medoid]}', '--cwd', str(REPO/'nbs')],
                         capture_output=True, text=True, timeout=600, env=env)
    assert bad.returncode != 0 and "plugins: module 'no_such_hosts' does not import" in bad.stdout + bad.stderr
