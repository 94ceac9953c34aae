"""The `evlf` command line: every option `--help` lists runs once with a valid value (tiny settings) and reaches the run;
every usage error is one line on stderr naming its flag or parameter, exit status 2, no traceback, nothing made."""
import json, re, shutil, subprocess, sys, os
from pathlib import Path
import pytest, torch
import evlf.sampler
from evlf.cli import main, _parser, figure_runs
from evlf.data import DATASETS

REPO = Path(__file__).resolve().parents[1]
PARAMS, NBS = str(REPO/'figures'/'params'), str(REPO/'nbs')
DS = 'fashion-mnist:0'  # one class of Fashion-MNIST (Debian's package): the walk's dataset, encoded once per backbone
SD, DIT = 'tiny-sd15', 'tiny-dit256'  # tiny random backbones of the SD-1.5 and DiT classes, offline

# Bad command lines: (argv, what its one error line must name). '{tmp}' is the test's tmp_path, '{file}' a file in it.
_D = ['distill', '--method', 'd4m', '--ipc', '1', '--out', '{tmp}/set']  # a valid distill line the bad ones vary
_F = ['figures', '--params', PARAMS, '--nbs', NBS, '--out', '{tmp}/runs']
BAD_COMMAND_LINES = [
    ([], 'command'),
    (['nope'], 'command'),
    (['distill', '--backbone', 'nope', *_D[1:]], '--backbone'),
    (['distill', '--method', 'gan', '--ipc', '1', '--out', '{tmp}/set'], '--method'),
    ([*_D, '--guidance-stp', '3'], '--guidance-stp'),
    (['distill', '--method', 'd4m', '--ipc', '0', '--out', '{tmp}/set'], '--ipc'),
    (['distill', '--method', 'd4m', '--ipc', '1.5', '--out', '{tmp}/set'], '--ipc'),
    (['distill', '--method', 'd4m', '--ipc', 'abc', '--out', '{tmp}/set'], '--ipc'),
    (['distill', '--method', 'd4m', '--ipc'], '--ipc'),
    ([*_D, '--seed', '-1'], '--seed'),
    ([*_D, '--dataset', 'nope'], '--dataset'),
    ([*_D, '--dataset', 'fashion-mnist:10'], '--dataset'),
    ([*_D, '--fusion-variant', 'nope'], '--fusion-variant'),
    ([*_D, '--scheduler', 'nope'], '--scheduler'),
    ([*_D, '--finetune-recipe', 'nope'], '--finetune-recipe'),
    ([*_D, '--guidance-stop', '-1'], '--guidance-stop'),
    ([*_D, '--guidance-stop', '2.5'], '--guidance-stop'),
    ([*_D, '--strength', '0'], '--strength'),
    ([*_D, '--num-inference-steps', '0'], '--num-inference-steps'),
    ([*_D, '--finetune-lr', 'nan'], '--finetune-lr'),
    ([*_D, '--cfg-channels', '0'], '--cfg-channels'),
    ([*_D, '--batch-size', '0'], '--batch-size'),
    ([*_D, '--fusion-model', '{tmp}/no-such-module'], '--fusion-model'),
    ([*_D, '--device', 'gpu'], '--device'),
    (['distill', '--method', 'd4m', '--ipc', '1'], '--out'),
    (['distill', '--method', 'd4m', '--ipc', '1', '--out', '{file}'], '--out'),
    (['distill', '--dataset', DS, '--method', 'random', '--ipc', '7000', '--out', '{tmp}/set'], 'ipc=7000'),  # refused by `distill` itself
    ([*_F, '--only', 'nothing'], "only='nothing'"),
    (['figures', '--params', '/nonexistent', '--nbs', NBS, '--out', '{tmp}/runs'], '--params'),
    (['figures', '--params', PARAMS, '--nbs', '{tmp}/no-nbs', '--out', '{tmp}/runs'], '--nbs'),
    (['figures', '--params', PARAMS, '--nbs', NBS, '--out', '{file}'], '--out'),
    ([*_F, '--dry-rn'], '--dry-rn'),
]

def _fill(argv, tmp): return [a.replace('{tmp}', str(tmp)).replace('{file}', str(tmp/'a-file')) for a in argv]
def _listing(d): return sorted(str(p.relative_to(d)) for p in Path(d).rglob('*'))

@pytest.fixture
def cache(tmp_path_factory, monkeypatch):
    "`EVLF_CACHE` outside the test's tmp_path (whose listing must not change)."
    monkeypatch.setenv('EVLF_CACHE', str(tmp_path_factory.mktemp('cache')))

@pytest.mark.parametrize('argv,names', BAD_COMMAND_LINES, ids=[f'{i:02d}:{n}' for i, (_, n) in enumerate(BAD_COMMAND_LINES)])
def test_usage_error(argv, names, tmp_path, capsys, cache):
    "Exit status 2, exactly one non-empty line on stderr (`evlf[ cmd]: error: ...` naming the flag or parameter and what is accepted), nothing made."
    (tmp_path/'a-file').write_text('not a folder')
    before = _listing(tmp_path)
    rc = main(_fill(argv, tmp_path))
    out, err = capsys.readouterr()
    assert rc == 2, (rc, err)
    lines = err.splitlines()
    assert len(lines) == 1 and err.endswith('\n') and lines[0].strip(), err
    assert re.match(r'evlf( distill| figures)?: error: ', lines[0]) and 'Traceback' not in err and 'usage:' not in err, err
    assert names in lines[0], (names, lines[0])
    assert re.search(r'accepted|choose from|required|expected one argument', lines[0]), lines[0]  # what the flag takes
    assert out == '' and _listing(tmp_path) == before

def test_console_script_usage_error(tmp_path):
    "The installed `evlf` script: exit status 2, one line on stderr, no traceback, nothing made."
    exe = shutil.which('evlf') or str(Path(sys.executable).parent/'evlf')
    env = {**os.environ, 'EVLF_CACHE': str(tmp_path/'cache'), 'HF_HUB_OFFLINE': '1'}
    r = subprocess.run([exe, 'distill', '--backbone', 'nope', '--method', 'd4m', '--ipc', '1', '--out', str(tmp_path/'set')],
                       capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 2 and r.stdout == '', r
    assert r.stderr.startswith("evlf distill: error: argument --backbone: invalid choice: 'nope' (choose from ") and r.stderr.count('\n') == 1, r.stderr
    assert 'fashion-half' in r.stderr and 'Traceback' not in r.stderr and list(tmp_path.iterdir()) == []

# --- the walk: every option of `--help`, once, with a valid value ------------------------------------------------------------

def _help(*cmd)->str:
    p = _parser()
    return (p.commands.choices[cmd[0]] if cmd else p).format_help()

def _help_options(*cmd)->list:
    "The option strings the help of `evlf [cmd]` lists, in order, parsed from its text."
    opts = []
    for line in _help(*cmd).splitlines():
        m = re.match(r'  (-\S.*?)(?:\s{2,}|$)', line)
        if m: opts += [o.split()[0] for o in m.group(1).split(', ')]
    return opts

def _params(r): return r['manifest']['params']
FT = {'--finetune': None, '--finetune-steps': '1', '--finetune-batch': '4'}  # fine-tuning, one step
MGD3_DIT = {'--backbone': DIT, '--method': 'mgd3'}
DISTILL_BASE = {'--dataset': DS, '--backbone': SD, '--method': 'd4m', '--ipc': '1', '--num-inference-steps': '2', '--device': 'cpu', '--quiet': None}
DISTILL_WALK = {  # option: (what it adds to DISTILL_BASE ('{tmp}': the test's tmp_path, '{fusion-X}': a tiny fusion module), the check of the run)
    '--dataset': ({'--method': 'random', '--dataset': DS}, lambda r: r['manifest']['dataset'] == DS and r['manifest']['classes'] == ['T-shirt/top']),
    '--root': ({'--method': 'random', '--root': '{tmp}'}, lambda r: r['kw']['root'] == r['tmp']),
    '--backbone': ({'--backbone': SD}, lambda r: r['manifest']['backbone'] == SD),
    '--method': ({'--method': 'mgd3'}, lambda r: r['manifest']['method'] == 'mgd3'),
    '--ipc': ({'--method': 'random', '--ipc': '2'}, lambda r: r['manifest']['ipc'] == 2 and len(list(r['out'].rglob('*.png'))) == 2),
    '--seed': ({'--method': 'random', '--seed': '3'}, lambda r: r['manifest']['seed'] == 3),
    '--out': ({'--method': 'random'}, lambda r: r['stdout'].strip() == r['out_arg'] and (r['out']/'manifest.json').exists()),
    '--strength': ({'--strength': '0.5'}, lambda r: _params(r)['strength'] == 0.5),
    '--guidance-scale': ({'--guidance-scale': '2.5'}, lambda r: _params(r)['guidance_scale'] == 2.5),
    '--negative-prompt': ({'--negative-prompt': 'blurry'}, lambda r: _params(r)['negative_prompt'] == 'blurry'),
    '--num-inference-steps': ({'--num-inference-steps': '3'}, lambda r: _params(r)['num_inference_steps'] == 3),
    '--scheduler': ({'--scheduler': 'ddim'}, lambda r: _params(r)['scheduler'] == 'ddim'),
    '--mode-guidance': ({**MGD3_DIT, '--mode-guidance': '0.2'}, lambda r: _params(r)['mode_guidance'] == 0.2),
    '--guidance-stop': ({**MGD3_DIT, '--guidance-stop': '1'}, lambda r: _params(r)['stop_t'] == 1 and type(r['kw']['stop_t']) is int),
    '--timestep-spacing': ({**MGD3_DIT, '--timestep-spacing': 'trailing'}, lambda r: _params(r)['timestep_spacing'] == 'trailing'),
    '--variance-type': ({**MGD3_DIT, '--variance-type': 'fixed_small'}, lambda r: _params(r)['variance_type'] == 'fixed_small'),
    '--cfg-channels': ({**MGD3_DIT, '--cfg-channels': '4'}, lambda r: _params(r)['cfg_channels'] == 4),
    '--km-expand': ({'--km-expand': '3'}, lambda r: _params(r)['km_expand'] == 3),
    '--fusion-model': ({'--method': 'mgd3+evlf', '--fusion-model': '{fusion-code}'}, lambda r: _params(r)['fusion_model'] == r['fusion']['code']),
    '--fusion-variant': ({'--method': 'mgd3+evlf', '--fusion-model': '{fusion-paper}', '--fusion-variant': 'paper'},
                         lambda r: _params(r)['fusion_variant'] == 'paper'),
    '--finetune-recipe': ({**FT, '--finetune-recipe': 'full'}, lambda r: _params(r)['finetune_recipe'] == 'full'),
    '--finetune-on': ({**FT, '--finetune-on': 'fused', '--fusion-model': '{fusion-code}'}, lambda r: _params(r)['finetune_on'] == 'fused' and not _params(r)['fusion']),
    '--finetune-steps': ({**FT, '--finetune-steps': '1'}, lambda r: _params(r)['finetune_steps'] == 1),
    '--finetune-lr': ({**FT, '--finetune-lr': '0.01'}, lambda r: _params(r)['finetune_lr'] == 0.01),
    '--finetune-batch': ({**FT, '--finetune-batch': '4'}, lambda r: _params(r)['finetune_batch'] == 4),
    '--batch-size': ({'--batch-size': '1'}, lambda r: r['kw']['batch_size'] == 1),
    '--encode-batch': ({'--encode-batch': '512'}, lambda r: r['kw']['encode_batch'] == 512),
    '--device': ({'--device': 'cpu'}, lambda r: r['kw']['device'] == 'cpu'),
    '--fusion': ({'--fusion': None, '--fusion-model': '{fusion-code}'}, lambda r: _params(r)['fusion'] is True and r['manifest']['method'] == 'd4m'),
    '--no-fusion': ({'--method': 'mgd3+evlf', '--no-fusion': None}, lambda r: _params(r)['fusion'] is False),
    '--finetune': (FT, lambda r: _params(r)['finetune'] is True and r['manifest']['method'] == 'd4m'),
    '--no-finetune': ({'--method': 'd4m+evlf', '--fusion-model': '{fusion-code}', '--no-finetune': None}, lambda r: _params(r)['finetune'] is False),
    '--overwrite': ({'--method': 'random', '--seed': '1', '--overwrite': None}, lambda r: r['kw']['overwrite'] is True and r['manifest']['seed'] == 1),
    '--quiet': ({'--method': 'random', '--quiet': None}, lambda r: r['kw']['progress'] is False and r['stderr'] == ''),
    '--real-per-class': ({'--method': 'random', '--real-per-class': '3'}, lambda r: len(r['kw']['dataset']) == 3
                         and r['manifest']['dataset'].endswith('train3pc-s0')),
}
FIGURES_BASE = {'--params': PARAMS, '--nbs': NBS, '--out': '{tmp}/runs', '--only': '06_samples-mgd3', '--dry-run': None}
def _planned(r): return [l for l in r['stdout'].splitlines() if l.startswith('== ')]
FIGURES_WALK = {
    '--params': ({'--params': PARAMS}, lambda r: len(_planned(r)) == len(figure_runs(PARAMS, NBS, '06_samples-mgd3')) == 1),
    '--nbs': ({'--nbs': NBS}, lambda r: f'papermill {NBS}/06_samples.ipynb ' in _planned(r)[0]),
    '--out': ({'--out': '{tmp}/runs'}, lambda r: f"{r['tmp']}/runs/06_samples-mgd3.ipynb" in _planned(r)[0] and not Path(r['tmp'], 'runs').exists()),
    '--only': ({'--only': '12_mechanism.yaml'}, lambda r: [l.split(':')[0] for l in _planned(r)] == ['== 12_mechanism']),
    '--dry-run': ({'--dry-run': None}, lambda r: r['executed'] == [] and len(_planned(r)) == 1),
}

@pytest.fixture(scope='module')
def walk_dir(tmp_path_factory):
    "One cache for the whole walk (each backbone encodes the class once) and tiny fusion modules for tiny-sd15, one per variant."
    from evlf.fusion import EVLFFusion, VARIANTS
    from evlf.sampler import cached_backbone
    root = tmp_path_factory.mktemp('walk')
    bb = cached_backbone(SD)
    for v in VARIANTS:
        torch.manual_seed(0)
        EVLFFusion(latent_channels=bb.latent_shape[0], text_dim=bb.text.dim, width=16, heads=2, layers=1, grid=bb.latent_shape[1],
                   proj_channels=8, variant=v).eval().save_pretrained(root/f'fusion-{v}')
    return root

def _argv(cmd, base, extra, tmp, walk):
    fill = lambda s: s.replace('{tmp}', str(tmp)).replace('{fusion-code}', str(walk/'fusion-code')).replace('{fusion-paper}', str(walk/'fusion-paper'))
    argv = [cmd]
    for k, v in {**base, **extra}.items(): argv += [k] if v is None else [k, fill(v)]
    return argv

@pytest.mark.parametrize('option', _help_options('distill'))
def test_walk_distill(option, walk_dir, tmp_path, monkeypatch, capsys):
    "Each option of `evlf distill --help`, once, with a valid value: exit status 0, and the set (manifest) or `distill`'s call shows the value."
    monkeypatch.setenv('EVLF_CACHE', str(walk_dir/'cache')); torch.set_num_threads(1)
    if option in ('-h', '--help'):
        assert main(['distill', option]) == 0
        assert capsys.readouterr().out.startswith('usage: evlf distill')
        return
    if option not in DISTILL_WALK: pytest.fail(f'{option} is listed by `evlf distill --help` but not walked: add it to DISTILL_WALK')
    extra, check = DISTILL_WALK[option]
    out = tmp_path/'set'
    argv = _argv('distill', {**DISTILL_BASE, '--out': str(out)}, extra, tmp_path, walk_dir)
    if option == '--overwrite':  # a set made with other parameters first: refused without --overwrite, replaced with it
        assert main(_argv('distill', {**DISTILL_BASE, '--out': str(out)}, {'--method': 'random'}, tmp_path, walk_dir)) == 0
        assert main([a for a in argv if a != '--overwrite']) == 2
        capsys.readouterr()
    calls, real = [], evlf.sampler.distill
    monkeypatch.setattr(evlf.sampler, 'distill', lambda *a, **kw: calls.append(kw) or real(*a, **kw))
    rc = main(argv)
    o, e = capsys.readouterr()
    assert rc == 0, (argv, e)
    assert len(calls) == 1
    r = dict(manifest=json.loads((out/'manifest.json').read_text()), kw=calls[0], out=out, out_arg=str(out), stdout=o, stderr=e,
             tmp=str(tmp_path), fusion={v: str(walk_dir/f'fusion-{v}') for v in ('code', 'paper')})
    assert check(r), (option, argv, r['manifest']['params'], r['kw'])

@pytest.mark.parametrize('option', _help_options('figures'))
def test_walk_figures(option, tmp_path, monkeypatch, capsys):
    "Each option of `evlf figures --help`, once, with a valid value and `--dry-run` against the repo's figures/params and nbs: exit status 0, used."
    if option in ('-h', '--help'):
        assert main(['figures', option]) == 0
        assert capsys.readouterr().out.startswith('usage: evlf figures')
        return
    if option not in FIGURES_WALK: pytest.fail(f'{option} is listed by `evlf figures --help` but not walked: add it to FIGURES_WALK')
    import papermill
    executed = []
    monkeypatch.setattr(papermill, 'execute_notebook', lambda *a, **kw: executed.append(a))
    extra, check = FIGURES_WALK[option]
    rc = main(_argv('figures', FIGURES_BASE, extra, tmp_path, tmp_path))
    o, e = capsys.readouterr()
    assert rc == 0, e
    assert check(dict(stdout=o, stderr=e, tmp=str(tmp_path), executed=executed)), o

@pytest.mark.parametrize('option', _help_options())
def test_walk_evlf(option, capsys):
    "`evlf --help` lists only -h/--help; each prints the help naming both commands."
    assert option in ('-h', '--help')
    assert main([option]) == 0
    out = capsys.readouterr().out
    assert out.startswith('usage: evlf') and 'distill' in out and 'figures' in out

# --- the walk of evaluate, export and train-fusion ---------------------------------------------------------------------------
EVAL_BASE = {'--dataset': 'fashion-mnist', '--seeds': '1', '--epochs': '1', '--max-test': '100', '--workers': '1', '--quiet': None}
def _rec(r): return json.loads((Path(r['out'])/'evaluation.json').read_text())
EVALUATE_WALK = {  # option: (what it adds to EVAL_BASE, the check of the run; r['rec'] is the written record)
    '--dataset': ({'--dataset': 'fashion-mnist'}, lambda r: r['rec']['params']['dataset'] == 'fashion-mnist'),
    '--protocol': ({'--protocol': 'dsa'}, lambda r: r['rec']['params']['protocol'] == 'dsa'),
    '--net': ({'--net': 'resnetap10'}, lambda r: r['rec']['params']['net'] == 'resnetap10'),
    '--seeds': ({'--seeds': '2'}, lambda r: r['rec']['params']['seeds'] == [0, 1]),
    '--baseline': ({'--baseline': 'random'}, lambda r: r['rec']['data']['sets']['set']['vs_random']['n'] == 1),
    '--full-accuracy': ({'--baseline': 'random', '--full-accuracy': '93.5'}, lambda r: r['rec']['data']['lrs']['set']['full_accuracy'] == 93.5),
    '--root': ({'--root': '{tmp}'}, lambda r: r['rec']['params']['root'] == r['tmp']),
    '--out': ({}, lambda r: r['stdout'].startswith('Sets evaluated on') and (Path(r['out'])/'evaluation.md').exists()),
    '--epochs': ({'--epochs': '2'}, lambda r: r['rec']['params']['epochs'] == 2),
    '--eval-every': ({'--eval-every': '0.5'}, lambda r: r['rec']['params']['eval_every'] == 0.5),
    '--max-test': ({'--max-test': '50'}, lambda r: r['rec']['data']['sets']['set']['result']['n_test'] == 50),
    '--students': ({'--students': '{tmp}/students'}, lambda r: any(Path(r['tmp'], 'students').rglob('seed0.json'))),
    '--workers': ({'--workers': '2', '--seeds': '2'}, lambda r: len(r['rec']['data']['sets']['set']['result']['final']) == 2),
    '--amp': ({'--amp': None}, lambda r: r['rec']['params']['amp'] is True),
    '--no-amp': ({'--no-amp': None}, lambda r: r['rec']['params']['amp'] is False),
    '--quiet': ({'--quiet': None}, lambda r: 'evaluate: 1 students' not in r['stderr']),
}
TRAIN_BASE = {'--backbone': SD, '--dataset': 'fashion-mnist:3,4', '--real-per-class': '4', '--epochs': '1', '--max-steps': '2', '--quiet': None}
def _trec(r): return json.loads((Path(r['out'])/'training_record.json').read_text())
TRAIN_WALK = {
    '--dataset': ({'--dataset': 'fashion-mnist:5,6'}, lambda r: _trec(r)['dataset'] == 'fashion-mnist:5,6'),
    '--backbone': ({'--backbone': SD}, lambda r: _trec(r)['backbone'] == SD),
    '--variant': ({'--variant': 'paper'}, lambda r: _trec(r)['params']['variant'] == 'paper'),
    '--epochs': ({'--epochs': '2'}, lambda r: _trec(r)['params']['epochs'] == 2),
    '--batch-size': ({'--batch-size': '4'}, lambda r: _trec(r)['params']['batch_size'] == 4),
    '--lr': ({'--lr': '0.001'}, lambda r: _trec(r)['params']['lr'] == 0.001),
    '--seed': ({'--seed': '3'}, lambda r: _trec(r)['params']['seed'] == 3),
    '--max-steps': ({'--max-steps': '1'}, lambda r: _trec(r)['params']['max_steps'] == 1),
    '--real-per-class': ({'--real-per-class': '3'}, lambda r: _trec(r)['per_class'] == 3),
    '--root': ({'--root': '{tmp}', '--dataset': 'fashion-mnist:3,4'}, lambda r: (Path(r['out'])/'config.json').exists()),
    '--out': ({}, lambda r: r['stdout'].strip() == r['out'] and (Path(r['out'])/'config.json').exists()),
    '--quiet': ({'--quiet': None}, lambda r: '%|' not in r['stderr']),
}
EXPORT_WALK = {
    '--out': ({}, lambda r: (Path(r['out'])/'set'/'manifest.json').exists()),
    '--sets': ({'--sets': '{tmp}'}, lambda r: (Path(r['out'])/'set'/'dc.pt').exists()),
    '--layouts': ({'--layouts': 'pt'}, lambda r: sorted(p.name for p in (Path(r['out'])/'set').iterdir()) == ['dc.pt', 'manifest.json']),
}

@pytest.fixture(scope='module')
def small_set(tmp_path_factory):
    "An evlf set of random real images (IPC 1), the walk's input to evaluate and export."
    from evlf.data import distill_random
    return distill_random('fashion-mnist', ipc=1, seed=0, out_dir=tmp_path_factory.mktemp('small')/'set')

@pytest.mark.parametrize('cmd,option', [(c, o) for c in ('evaluate', 'export', 'train-fusion') for o in _help_options(c)])
def test_walk_new_commands(cmd, option, small_set, tmp_path, monkeypatch, capsys):
    "Each option of `evlf evaluate|export|train-fusion --help`, once, with a valid value: exit status 0, and the record shows it."
    monkeypatch.setenv('EVLF_CACHE', str(tmp_path/'cache')); torch.set_num_threads(1)
    if option in ('-h', '--help'):
        assert main([cmd, option]) == 0
        assert capsys.readouterr().out.startswith(f'usage: evlf {cmd}')
        return
    walk, base = {'evaluate': (EVALUATE_WALK, EVAL_BASE), 'export': (EXPORT_WALK, {}), 'train-fusion': (TRAIN_WALK, TRAIN_BASE)}[cmd]
    if option not in walk: pytest.fail(f'{option} is listed by `evlf {cmd} --help` but not walked: add it to the walk')
    extra, check = walk[option]
    out = tmp_path/'out'
    fill = lambda v: v.replace('{tmp}', str(tmp_path))
    if option == '--sets': shutil.copytree(small_set, tmp_path/'set')
    pos = {'evaluate': [str(small_set)], 'export': [str(small_set)], 'train-fusion': []}[cmd]
    argv = [cmd, *pos]
    for k, v in {**base, '--out': str(out), **extra}.items(): argv += [k] if v is None else [k, fill(v)]
    if option == '--amp' and not torch.backends.mkldnn.is_available(): pytest.skip('no oneDNN')
    rc = main(argv)
    o, e = capsys.readouterr()
    assert rc == 0, (argv, e)
    r = dict(stdout=o, stderr=e, out=str(out), tmp=str(tmp_path))
    if cmd == 'evaluate': r['rec'] = _rec(r)
    assert check(r), (option, argv, o, e)

def test_help_lists_what_is_walked():
    "The options parsed from each help text are the parsers' own, every one is walked, and nothing walked is missing from the help."
    p = _parser()
    for cmd, walk in (('distill', DISTILL_WALK), ('figures', FIGURES_WALK), ('evaluate', EVALUATE_WALK), ('export', EXPORT_WALK),
                      ('train-fusion', TRAIN_WALK)):
        listed = _help_options(cmd)
        assert sorted(listed) == sorted(s for a in p.commands.choices[cmd]._actions for s in a.option_strings)
        assert set(listed) - {'-h', '--help'} == set(walk), (cmd, set(listed) ^ set(walk))
    assert len(_help_options('distill')) >= 35  # 20 host/run settings, 7 basics, 4 switches, overwrite, quiet, -h/--help

def test_help_names_every_choice():
    "Every choice of every option (and every dataset, the backbones including fashion-half) is named in its command's help."
    p = _parser()
    word = lambda w, text: re.search(rf'(?<![\w-]){re.escape(str(w))}(?![\w-])', text)
    for cmd, parser in [('', p), *p.commands.choices.items()]:
        text = _help(*([cmd] if cmd else []))
        for a in parser._actions:
            for c in a.choices or ():
                assert word(c, text), (cmd, a.option_strings, c)
    d = _help('distill')
    assert all(word(n, d) for n in DATASETS) and word('fashion-half', d) and word('tiny-fashion-half', d)
    assert "MGD3's stop_t" in d


def test_train_fusion_under_accelerate(tmp_path):
    "`accelerate launch --num_processes 2 -m evlf.cli train-fusion ...` (two CPU processes over gloo): one module and its record, made once."
    env = {**os.environ, 'EVLF_CACHE': str(tmp_path/'cache'), 'OMP_NUM_THREADS': '1', 'HF_HUB_OFFLINE': '1',
           'PYTHONPATH': os.pathsep.join([str(REPO), os.environ.get('PYTHONPATH', '')])}
    out = tmp_path/'fusion'
    r = subprocess.run([sys.executable, '-m', 'accelerate.commands.launch', '--multi_gpu', '--num_processes', '2', '--num_machines', '1',
                        '--mixed_precision', 'no', '--dynamo_backend', 'no', '--main_process_port', '29541', '-m', 'evlf.cli', 'train-fusion',
                        '--backbone', SD, '--dataset', 'fashion-mnist:3,4', '--real-per-class', '8', '--epochs', '1', '--batch-size', '4',
                        '--out', str(out), '--quiet'], capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    rec = json.loads((out/'training_record.json').read_text())
    assert rec['backbone'] == SD and rec['per_class'] == 8 and (out/'config.json').exists()
    assert rec['num_processes'] == 2
