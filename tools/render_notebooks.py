"""Execute notebooks for their outputs and commit them: `make notebooks` (all) or `python tools/render_notebooks.py nbs/06_samples.ipynb`.

Runs what `nbdev_test` runs (cells marked `#| eval: false`, the papermill runs that distil and train, are skipped), so
a figure notebook draws from the committed records and nothing trains. A notebook is rewritten only when every cell
ran: a failure leaves the committed file as it was and names the cell (a missing record names its `make figures`).
"""
import argparse, os, re, sys, time
from pathlib import Path
from execnb.nbio import read_nb, write_nb
from execnb.shell import CaptureShell
from nbdev.process import extract_directives
from fastcore.xtras import working_directory

MAX_BYTES = 2_000_000  # a notebook larger than this is slow or refused on GitHub


def _skip(cell) -> bool:
    "Cells `nbdev_test` would skip: markdown, `#| eval: false`, `#| notest`."
    if cell.cell_type != 'code': return True
    d = extract_directives(cell, remove=False)
    return d.get('eval:', [''])[0].lower() == 'false' or 'notest' in d


def _no_bars(outputs: list) -> list:
    "Outputs without progress bars (tqdm's lines on stderr): a reader wants the result, not its pace."
    bar = lambda o: o.get('output_type') == 'stream' and o.get('name') == 'stderr' and re.search(r'\d+%\|', ''.join(o.get('text', '')))
    return [o for o in outputs if not bar(o)]


def render(fn: Path) -> float:
    "Execute `fn`'s cells in its folder and write it back atomically with their outputs; the seconds it took."
    t, nb = time.time(), read_nb(fn)
    for c in nb.cells:
        if c.cell_type == 'code' and not _skip(c): c.outputs = []
    sh = CaptureShell(fn)
    with working_directory(fn.parent):
        try: sh.run_all(nb, exc_stop=True, preproc=_skip)
        except Exception: raise RuntimeError(f'{fn}: a cell failed, the notebook is left as it was\n{sh.prettytb(fname=fn)}') from None
    for c in nb.cells:
        if c.cell_type == 'code': c.outputs = _no_bars(c.get('outputs', []))
    tmp = fn.with_name(f'.{fn.name}.tmp')
    write_nb(nb, tmp)
    if (size := tmp.stat().st_size) > MAX_BYTES:
        tmp.unlink()
        raise RuntimeError(f'{fn}: {size} bytes with its outputs, over {MAX_BYTES}: show figures with evlf.report.show_figure; the notebook is left as it was')
    os.replace(tmp, fn)
    return time.time() - t


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('notebooks', nargs='*', type=Path, help='notebooks to render (default: every nbs/*.ipynb)')
    a = ap.parse_args()
    fns = a.notebooks or sorted(Path('nbs').glob('*.ipynb'))
    for f in fns:
        if not f.is_file(): ap.error(f'notebooks: {f} is not a notebook; accepted: paths of .ipynb files')
    os.environ['IN_TEST'] = '1'
    failed, t0 = [], time.time()
    for f in fns:
        try: print(f'{f}: {render(f):.0f} s', flush=True)
        except RuntimeError as e: failed.append(f); print(e, file=sys.stderr, flush=True)
    print(f'{len(fns) - len(failed)} of {len(fns)} notebooks rendered in {time.time() - t0:.0f} s', flush=True)
    sys.exit(1 if failed else 0)
