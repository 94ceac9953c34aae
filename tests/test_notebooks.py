"The notebooks as a reader finds them: committed with their outputs, light enough for GitHub, each shown record today's."
import json, hashlib, shutil
from pathlib import Path
import pytest

REPO = Path(__file__).resolve().parents[1]
NBS = sorted((REPO/'nbs').glob('*.ipynb'))
MAX_BYTES = 2_000_000


def stamps(nb_path: Path) -> list:
    "Every `(cell id, stamp)` in a notebook's outputs: the records `evlf.report.show_figure`/`show_table` drew from."
    nb = json.loads(nb_path.read_text())
    return [(c.get('id'), s) for c in nb['cells'] for o in c.get('outputs', []) for s in o.get('metadata', {}).get('evlf_records', [])]


def stale(nb_path: Path, repo: Path = REPO) -> list:
    "The stamps of `nb_path` whose file is gone or whose hash is not the committed file's, as messages."
    out = []
    for cid, s in stamps(nb_path):
        f = repo/s['path']
        if not f.is_file(): out.append(f"{nb_path.name} cell {cid}: {s['path']} is gone")
        elif hashlib.sha256(f.read_bytes()).hexdigest()[:16] != s['sha256']:
            out.append(f"{nb_path.name} cell {cid}: {s['path']} changed since the notebook was rendered")
    return out


@pytest.mark.parametrize('nb', NBS, ids=lambda p: p.name)
def test_notebook_light(nb):
    assert nb.stat().st_size <= MAX_BYTES, f'{nb.name} is {nb.stat().st_size} bytes with its outputs (at most {MAX_BYTES}): show figures with evlf.report.show_figure'


@pytest.mark.parametrize('nb', NBS, ids=lambda p: p.name)
def test_outputs_match_records(nb):
    bad = stale(nb)
    assert not bad, '\n'.join(bad) + '\nre-render with `make notebooks` (or `python tools/render_notebooks.py nbs/' + nb.name + '`)'


def test_results_shown():
    "The reader's first stops show their result without running anything: an image output stamped with its record."
    for name in ('06_samples', '05_eval', '09_ablation', '13_unseen'):
        nb = json.loads((REPO/'nbs'/f'{name}.ipynb').read_text())
        imgs = [o for c in nb['cells'] for o in c.get('outputs', []) if 'image/png' in o.get('data', {}) and o.get('metadata', {}).get('evlf_records')]
        tables = [o for c in nb['cells'] for o in c.get('outputs', []) if 'text/markdown' in o.get('data', {}) and o.get('metadata', {}).get('evlf_records')]
        assert imgs or tables, f'nbs/{name}.ipynb shows no committed result: run `make notebooks` and commit it'


def test_stale_is_caught(tmp_path):
    "A test of the test: a record changed after rendering, and one removed, are both named."
    nb = next(n for n in NBS if n.name == '06_samples.ipynb')
    shown = stamps(nb)
    assert shown, '06_samples shows no stamped record'
    repo = tmp_path/'repo'
    for _, s in shown:
        (repo/s['path']).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO/s['path'], repo/s['path'])
    assert stale(nb, repo) == []
    first, last = shown[0][1]['path'], shown[-1][1]['path']
    (repo/first).write_bytes((repo/first).read_bytes() + b' ')
    (repo/last).unlink()
    bad = stale(nb, repo)
    assert any(first in b and 'changed' in b for b in bad) and any(last in b and 'gone' in b for b in bad), bad


def test_render_missing_record_leaves_notebook(tmp_path):
    "`make notebooks` with a record missing: the error names it and the command that makes it; the notebook is left as it was."
    import sys, nbformat
    sys.path.insert(0, str(REPO/'tools'))
    import render_notebooks
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "from evlf.report import show_figure\nshow_figure('figures/no-such-figure.png', 'make figures ONLY=06_samples')")])
    fn = tmp_path/'x.ipynb'; nbformat.write(nb, fn); before = fn.read_bytes()
    with pytest.raises(RuntimeError) as e: render_notebooks.render(fn)
    assert 'figures/no-such-figure.png is missing: `make figures ONLY=06_samples` makes it' in str(e.value)
    assert fn.read_bytes() == before and not list(tmp_path.glob('.*.tmp'))


def later_reads(nb_path: Path) -> list:
    "The records a notebook's code reads that a notebook later in the reading order makes (figures/<notebook>/, tables: 05_eval)."
    import re
    order = [p.stem for p in NBS]
    out = []
    for c in json.loads(nb_path.read_text())['cells']:
        if c['cell_type'] != 'code': continue
        for ref in re.findall(r"figures/(tables|\d\d[a-z]?_\w+)/", ''.join(c['source']).replace("'/'", '/')):
            maker = '05_eval' if ref == 'tables' else ref
            if maker in order and order.index(maker) > order.index(nb_path.stem): out.append(f'{nb_path.name} cell {c.get("id")} reads {maker}\'s records')
    return out


FINDINGS = [p for p in NBS if any(c['cell_type'] == 'markdown' and ''.join(c['source']).startswith('## What we found')
                                  for c in json.loads(p.read_text())['cells'])]


@pytest.mark.parametrize('nb', FINDINGS, ids=lambda p: p.name)
def test_findings_read_earlier_records(nb):
    "A notebook's findings read only records made by itself or by notebooks before it in the reading order."
    assert not later_reads(nb), later_reads(nb)


def test_later_reads_caught(tmp_path):
    "A test of the test: 08's findings reading 11_variance's record is named."
    nb = {'cells': [{'cell_type': 'code', 'source': ["load_json(committed('figures/11_variance/variance-fashion-mnist.json'))"]}]}
    (tmp_path/'08_lambda_sweep.ipynb').write_text(json.dumps(nb))
    assert later_reads(tmp_path/'08_lambda_sweep.ipynb') == ["08_lambda_sweep.ipynb cell None reads 11_variance's records"]
    assert len(FINDINGS) >= 9 and {p.stem for p in FINDINGS} >= {'05_eval', '08_lambda_sweep', '09_ablation', '11_variance', '13_unseen'}
