"The README as a front page: its headline table is the committed JSON's, it stays short, its example runs, and figures/ keeps one copy of each table."
import os, re, subprocess, sys
from pathlib import Path
import pytest
from evlf.report import readme_block, MAIN_TABLE

REPO = Path(__file__).resolve().parents[1]
README = REPO/'README.md'


def test_headline_table_is_the_committed_json():
    "Every number of the README's table and finding comes from the main table's JSON (`make readme` regenerates it)."
    text = README.read_text()
    assert readme_block(repo=REPO) in text, 'the README table differs from its JSON: run `make readme` and commit'


def test_readme_has_no_other_result_numbers():
    "Outside the generated block the README shows no measured number (decimals), so nothing there can drift from the records."
    text = re.sub(r'<!-- main-table.*?<!-- /main-table -->', '', README.read_text(), flags=re.S)
    text = re.sub(r'```.*?```', '', text, flags=re.S)  # commands and the example
    for ok in ('2603.07476', 'Python 3.10', 'SD-1.5'): text = text.replace(ok, '')  # the arXiv id, a version, a model name
    assert not re.findall(r'\b\d+\.\d+\b', text), re.findall(r'\b\d+\.\d+\b', text)


def test_readme_is_a_front_page():
    assert README.stat().st_size < 12_000
    for name in ('METHOD.md', 'DESIGN.md'): assert name not in README.read_text()


def test_no_citation_of_missing_docs():
    "The notebooks and modules of evlf.eval onwards cite no document that is not in the repository."
    files = [*sorted((REPO/'nbs').glob('0[5-9]*.ipynb')), *sorted((REPO/'nbs').glob('1*.ipynb')), REPO/'evlf'/'eval.py', REPO/'evlf'/'report.py',
             REPO/'evlf'/'cli.py', REPO/'evlf'/'metrics.py', REPO/'bench'/'README.md']
    for f in files:
        for name in ('METHOD.md', 'DESIGN.md'): assert name not in f.read_text(), f'{f.name} cites {name}'


def test_figures_keep_one_copy_of_each_table():
    "The main table lives once, where `make figures` writes it (the main job, tested once, writes beside it); raw Grad-CAM maps are binary, not JSON."
    assert not list((REPO/'figures').glob('table_*')), 'a table at the top of figures/: tables live in figures/tables/<dataset>/<ipc>-<net>/'
    assert (REPO/MAIN_TABLE).exists()
    g = REPO/'figures'/'10_gradcam'/'gradcam-fashion-mnist-d4m.json'
    assert g.stat().st_size < 20_000 and (g.parent/'gradcam-fashion-mnist-d4m.npz').exists()


def test_bench_readme_main_job_rerun_is_its_record():
    "bench/README's 2026-12-03 main-job numbers are those of its record and of the earlier one."
    from evlf.core import load_json
    new, old = (load_json(REPO/'figures'/'bench'/f) for f in ('main_job_timing-2026-12-03.json', 'main_job_timing.json'))
    st, so = new['stages'], old['stages']
    assert [round(new['wall_s']), round(st['distill']), round(st['students']), round(so['students'])] == [1545, 419, 1109, 1185]
    assert [round(st['distill_sets']['d4m+evlf seed 0']), round(so['distill_sets']['d4m+evlf seed 0'])] == [152, 222]
    assert (round(old['wall_s'] - new['wall_s']), round(new['wall_s']) - 1200) == (229, 345)
    assert {m: r['final_mean'] for m, r in new['results'].items()} == {m: r['final_mean'] for m, r in old['results'].items()}
    text = (REPO/'bench'/'README.md').read_text()
    assert all(x in text for x in ('1,545 s (25.8 min)', '419 s', '152 s against 222 s', '1,109 s against', 'by 345 s'))


def test_bench_readme_main_job_tested_once_is_its_record():
    "bench/README's numbers for the main job tested once are its record's, and its students are the kept records' students."
    from evlf.core import load_json
    once, old = (load_json(REPO/'figures'/'bench'/f) for f in ('main_job_timing-tested-once.json', 'main_job_timing.json'))
    st = once['stages']
    assert [once['wall_s'], round(st['distill']), round(st['students']), once['wall_s'] - 1200] == [1294, 436, 843, 94]
    assert round(st['students']/8) == 105 and (once['params']['eval_every'], old['params']['eval_every']) == (1.0, 0.2)
    assert {m: r['final'] for m, r in once['results'].items()} == {m: r['final'] for m, r in old['results'].items()}
    text = (REPO/'bench'/'README.md').read_text()
    assert all(x in text for x in ('1,294 s (21.6 min)', 'distillation 436 s, 15 students 843 s (105 s each', 'by 94 s'))


def test_bench_readme_reference_runs_are_their_records():
    "bench/README's comparisons with DC's evaluator and IDC's ResNetAP-10 say what their records hold."
    from evlf.core import load_json
    dc, ap, text = load_json(REPO/'figures'/'bench'/'dc_reference.json'), load_json(REPO/'figures'/'bench'/'resnetap_reference.json'), (REPO/'bench'/'README.md').read_text()
    d, a = dc['differences'], ap['difference']
    assert (dc['sets'], dc['dc_commit'][:7], round(dc['mean']['dc'], 2), round(dc['mean']['evlf'], 2)) == (6, '53f63a6', 73.24, 73.24)
    assert (d['dc - evlf']['sets_identical'], d['dc - evlf@dc-schedule']['sets_identical']) == (6, 4)
    assert (ap['sets'], ap['idc_commit'][:7], ap['epochs']) == (8, 'ceac95a', 300)
    assert [round(a[k], 2) for k in ('mean', 'lo', 'hi')] == [-0.27, -0.68, 0.13] and a['verdict'] == 'not resolved at this n'
    for name, r, n in (('dc_reference', dc, 6), ('resnetap_reference', ap, 8)):  # the summaries are their per-subset records'
        recs = [load_json(REPO/'figures'/'bench'/name/f'random_ipc10_seed{s}.json')['final'] for s in range(n)]
        assert {k: [round(100*q[k], 2) for q in recs] for k in recs[0]} == {k: [round(v, 2) for v in vs] for k, vs in r['accuracy'].items()}
    assert all(x in text for x in ('at 53f63a6', 'all six subsets (73.24% on average)', 'one image away on two',
                                   'at ceac95a', 'eight random real IPC 10 subsets', '-0.27 points (95% interval -0.68 to +0.13)'))

def test_main_job_default_fits_its_budget_and_says_so():
    "The main job with its default methods is within 20 minutes in its record, and bench/README and the README say its numbers."
    import ast, json
    from evlf.core import load_json
    run, once = (load_json(REPO/'figures'/'bench'/f) for f in ('main_job_timing-without-random.json', 'main_job_timing-tested-once.json'))
    nb = json.loads((REPO/'nbs'/'05_eval.ipynb').read_text())
    cell = next(''.join(c['source']) for c in nb['cells'] if 'parameters' in c['metadata'].get('tags', []))
    default = ast.literal_eval(re.search(r"^methods = (\[.*?\])", cell, re.M).group(1))
    assert run['params']['methods'] == default and 'random' not in default and once['params']['methods'] == ['random'] + default
    st = run['stages']
    assert run['wall_s'] <= 1200 and [run['wall_s'], round(st['distill']), round(st['students']), 1200 - run['wall_s']] == [1067, 431, 619, 133]
    assert {m: r['final'] for m, r in run['results'].items()} == {m: once['results'][m]['final'] for m in default}
    text = (REPO/'bench'/'README.md').read_text()
    assert all(x in text for x in ('1,067 s (17.8 min)', 'distillation 431 s, 12 students 619 s', 'budget by 133 s'))
    assert f"took {run['wall_s']} s from a clean cache on a 2-core machine; `random` adds two rounds of students ({once['wall_s']} s in\n  all" in README.read_text()


@pytest.mark.timeout(900)
def test_readme_example_runs(tmp_path):
    "The README's Python example, as written, on a throw-away cache."
    code = re.search(r'## The API in a few lines\n\n```python\n(.*?)```', README.read_text(), re.S).group(1)
    env = {**os.environ, 'EVLF_CACHE': str(tmp_path/'cache'), 'PYTHONPATH': os.pathsep.join([str(REPO), os.environ.get('PYTHONPATH', '')])}
    r = subprocess.run([sys.executable, '-c', code], cwd=tmp_path, capture_output=True, text=True, timeout=900, env=env)
    assert r.returncode == 0, r.stderr[-3000:]
    assert re.search(r'D4M\+EVLF, IPC 2: \d+\.\d% test accuracy', r.stdout), r.stdout


def test_bench_readme_counts_the_bad_inputs(tmp_path):
    "bench/README says how many bad inputs the tests refuse before any work, counted from the lists those tests walk."
    import re, test_cli, test_eval, test_cache, test_sampler
    from evlf.backbone import tiny_backbone
    bbs = {k: tiny_backbone(k, seed=0) for k in ('sd15', 'dit256')}
    n = dict(cli=len(test_cli.BAD_COMMAND_LINES), papermill=len(test_eval.BAD_PARAMS) + len(test_eval.bad_outputs(tmp_path)),
             distill=len(test_sampler.BAD_DISTILL(bbs, tmp_path)), folders=len(test_cache.USER_FOLDERS))
    text = (REPO/'bench'/'README.md').read_text()
    said = re.search(r'\*\*(\d+) bad inputs\*\*.*?(\d+) command lines.*?(\d+) papermill runs.*?(\d+) calls of `distill`.*?(\d+) folders of a user', text, re.S)
    assert said, 'bench/README.md: no sentence counting the bad inputs'
    assert [int(g) for g in said.groups()] == [sum(n.values()), n['cli'], n['papermill'], n['distill'], n['folders']], (said.groups(), n)


def test_bench_readme_student_step():
    "bench/README's numbers for where a student's step goes, old code against new, are its record's."
    import json
    r = json.loads((REPO/'figures'/'bench'/'student_step.json').read_text())
    text = ' '.join((REPO/'bench'/'README.md').read_text().split())
    ms = lambda s: f'{s*1e3:.0f} ms'
    f, fl = r['runs']['float32'], r['flops']
    hold = (fl['forward'] + fl['backward'])/fl['middle_conv_fwd_bwd']
    want = [f"float32: {ms(f['step_s'])}, {f['gflops']:.0f} GFLOP/s, {f['ratio_to_middle_conv']:.2f} times its middle convolution's {ms(r['middle_conv_s']['float32'])}"]
    if r['native_bf16']:
        b, o = r['runs']['bfloat16'], r['runs']['bfloat16']['ops_self_s']
        want += [f"bfloat16: {ms(b['step_s'])}, of which the forward pass {ms(b['phases_s']['forward'])}, the backward pass {ms(b['phases_s']['backward'])} "
                 f"and SGD {ms(b['phases_s']['optimizer'])}; {b['gflops']:.0f} GFLOP/s",
                 f"takes {ms(r['middle_conv_s']['bfloat16'])} in bfloat16, so a step costs {b['ratio_to_middle_conv']:.2f} times it while holding {hold:.2f} times its FLOPs",
                 f"convolution backward {ms(o['aten::convolution_backward'])}, convolution forward {ms(o['aten::mkldnn_convolution'])}",
                 f"copies {ms(o['aten::copy_'])}, group norm {ms(o['aten::native_group_norm'] + o['aten::native_group_norm_backward'])}",
                 f"ReLU's backward {ms(o['aten::threshold_backward'])}", f"takes {b['test_pass_s']:.0f} s in bfloat16",
                 f"{ms(r['old']['bfloat16']['step_s'])} in bfloat16 and {ms(r['old']['float32']['step_s'])} in float32, with copies of "
                 f"{ms(r['old']['bfloat16']['ops_self_s']['aten::copy_'])} and {ms(r['old']['float32']['ops_self_s']['aten::copy_'])}",
                 f"the new step is {r['speedup']['bfloat16']:.2f} and {r['speedup']['float32']:.2f} times as fast"]
    assert all(r['same_weights'].values()) == ('trains the same weights bit for bit' in text)
    for w in want: assert w in text, w


def test_bench_readme_student_floor():
    "bench/README's floor under a student's step is its record's, and the record says a step twice as fast is under it."
    import json
    r = json.loads((REPO/'figures'/'bench'/'student_floor.json').read_text())['rows']
    text = ' '.join((REPO/'bench'/'README.md').read_text().split())
    ms = lambda s: f'{s*1e3:.0f} ms'
    b, f = r['bfloat16'], r['float32']
    conv = lambda row, head: next(v for k, v in row['conv_s'].items() if k.startswith(head))
    assert b['below_floor'] and f['below_floor'] and b['twice_as_fast_s'] < b['floor_s']
    for w in (f"bfloat16: the step {ms(b['step_s'])}; the first convolution (1 to 128 channels, 32x32) {ms(conv(b, 'conv1'))}, "
              f"the middle one {ms(conv(b, 'conv2'))}, the last (8x8) {ms(conv(b, 'conv3'))}",
              f"A step twice as fast, {ms(b['twice_as_fast_s'])}, would take less than its two 128-channel convolutions alone, {ms(b['floor_s'])}",
              f"float32: the step {ms(f['step_s'])}, those two convolutions {ms(f['floor_s'])}, half the step {ms(f['twice_as_fast_s'])}",
              f"{b['ratio_floor_to_middle']:.2f} times the middle one", f"at most {b['step_s']/b['floor_s']:.1f} times faster"):
        assert w in text, w


def test_readme_ablation_ipc1():
    "The README's numbers for fine-tuning on fused minus on plain latents at IPC 1 (ten sets) are the records' and say what they say."
    import json
    text = ' '.join(README.read_text().split())
    c = {h: json.loads((REPO/'figures'/'09_ablation'/'ipc1-10sets'/f'ablation-fashion-mnist_3_4_5_6_7-{h}.json').read_text())['data']['paired']['1']['FT on fused - FT on plain']
         for h in ('d4m', 'mgd3')}
    assert all(len(p['per_distill_seed']) == 10 and p['ci'][0] > 0 and p['verdict'] == 'helps' for p in c.values())  # ten sets, intervals above 0
    assert all(0 < p['mean'] < 1 for p in c.values())  # under a point
    assert 'helps at IPC 1, by under a point (ten sets, both hosts)' in text
    three = {(h, i): json.loads((REPO/'figures'/'09_ablation'/f'ablation-fashion-mnist_3_4_5_6_7-{h}.json').read_text())['data']['paired'][i]['FT on fused - FT on plain']['verdict']
             for h in ('d4m', 'mgd3') for i in ('10', '50')}
    assert three == {('d4m', '10'): 'hurts', ('d4m', '50'): 'not resolved at this n', ('mgd3', '10'): 'not resolved at this n', ('mgd3', '50'): 'not resolved at this n'}
    ten = json.loads((REPO/'figures'/'09_ablation'/'ipc10-10sets'/'ablation-fashion-mnist_3_4_5_6_7-mgd3.json').read_text())['data']['paired']['10']['FT on fused - FT on plain']
    assert len(ten['per_distill_seed']) == 10 and ten['ci'][1] - ten['ci'][0] < 1 and ten['verdict'] == 'not resolved at this n'
    fifty = {h: json.loads((REPO/'figures'/'09_ablation'/'ipc50-10sets'/f'ablation-fashion-mnist_3_4_5_6_7-{h}.json').read_text())['data']['paired']['50']['FT on fused - FT on plain']
             for h in ('d4m', 'mgd3')}
    assert all(len(p['per_distill_seed']) == 10 and p['verdict'] == 'hurts' for p in fifty.values())
    assert abs(fifty['d4m']['mean'] + 0.5) < 0.1 and fifty['mgd3']['mean'] < -1
    assert ('at IPC 10 a small loss (D4M) or not resolved with an interval under a point wide (MGD3, ten sets); at IPC 50 a loss on both hosts '
            '(D4M half a point, MGD3 over one; ten sets)') in text


def test_bench_readme_student_compile():
    "bench/README's numbers for compiled students are its record's, and the record says eager stays."
    import json
    r = json.loads((REPO/'figures'/'bench'/'student_compile.json').read_text())
    R = {(x['precision'], x['variant']): x for x in r['rows']}
    text = ' '.join((REPO/'bench'/'README.md').read_text().split())
    ms = lambda s: f'{s*1e3:.0f} ms'
    f0, f1, f2 = (R['float32', v] for v in ('eager', 'compiled', 'compiled channels-last'))
    want = [f"float32: eager {ms(f0['step_s'])}, compiled {ms(f1['step_s'])} ({f1['speedup']:.2f} times as fast)",
            f"channels-last {ms(f2['step_s'])} ({f2['speedup']:.2f} times)"]
    if r['native_bf16']:
        b0, b1, b2 = (R['bfloat16', v] for v in ('eager', 'compiled', 'compiled channels-last'))
        want += [f"bfloat16: eager {ms(b0['step_s'])}, compiled {ms(b1['step_s'])} ({b1['speedup']:.2f} times as fast)",
                 f"compiled on channels-last tensors {ms(b2['step_s'])} ({b2['speedup']:.2f} times); the middle convolution alone "
                 f"{ms(b0['middle_conv_s'])}, so the ratio stays at {min(b1['ratio_to_middle_conv'], b2['ratio_to_middle_conv']):.2f} at best"]
    for w in want: assert w in text, w
    # the sentence that keeps train_students eager holds only while no compiled variant is 2x
    assert max(x.get('speedup', 0) for x in r['rows']) < 2 and 'not the road to a 2x student' in text


def test_bench_readme_distill_phases():
    "bench/README's breakdown of the main job's distillation is its record's, and fusion is the one phase over a quarter."
    import json
    r = json.loads((REPO/'figures'/'bench'/'distill_phases.json').read_text())
    P, W = r['phases_s'], r['wall_s']
    text = ' '.join((REPO/'bench'/'README.md').read_text().split())
    pc = lambda k: f"{P[k]:.0f} s ({100*P[k]/W:.0f}%)"
    rest = sum(v for k, v in P.items() if k.startswith(('k-means', 'decode', 'write', 'other')))
    want = [f"{W:.0f} s in all; fusing latents with the class text {pc('fuse with the class text')}",
            f"MGD3's denoising {pc('denoise (MGD3 pipeline)')}", f"D4M+EVLF's fine-tuning {pc('fine-tune the denoiser')}",
            f"D4M's denoising {pc('denoise (D4M pipeline)')}", f"VAE encoding of the real images {pc('encode real images (VAE)')}",
            f"cache I/O together {100*rest/W:.0f}%"]
    for w in want: assert w in text, w
    assert (r['methods'], r['distill_seeds']) == (['d4m', 'd4m+evlf', 'mgd3', 'mgd3+evlf'], [0, 1, 2]) and len(r['per_set_s']) == 12
    assert [k for k, s in r['share'].items() if s > 0.25] == ['fuse with the class text'] and 'Fusion is the one phase over a quarter' in text
