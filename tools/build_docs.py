"""Build the notebooks' website offline: `make docs` (or `python tools/build_docs.py --out _site`).

nbdev publishes notebooks with Quarto, whose PyPI package downloads a binary at install; this builds the same kind of
site with nbconvert instead. Every notebook becomes one page with its committed outputs (figures inline as data URIs),
equations become MathML (rendered by the browser, no CDN), and an index page follows the README's notebook map. Nothing
on a page asks the network. The site is written to a temporary folder and moved into place only when every page was
made, so a failure leaves no half-written site.
"""
import argparse, html, os, re, shutil, sys, tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1b1f24;line-height:1.5}
.layout{display:flex;min-height:100vh}
nav.side{width:15rem;flex:none;background:#f6f8fa;border-right:1px solid #d0d7de;padding:1rem;font-size:.9rem}
nav.side a{display:block;color:#0969da;text-decoration:none;padding:.1rem 0}
nav.side a.here{font-weight:700;color:#1b1f24}
main{flex:1;max-width:62rem;padding:1rem 2rem;overflow-x:auto}
pre{background:#f6f8fa;padding:.6rem;overflow-x:auto;font-size:.85rem}
.jp-InputArea pre{border-left:3px solid #d0d7de}
.jp-OutputArea pre{background:#fff}
img{max-width:100%}
table{border-collapse:collapse;font-size:.9rem}td,th{border:1px solid #d0d7de;padding:.2rem .5rem}
.pager{display:flex;justify-content:space-between;margin:2rem 0;border-top:1px solid #d0d7de;padding-top:.5rem}
math[display=block]{display:block;margin:.6rem 0}
"""
MATH = re.compile(r'\$\$(.+?)\$\$|(?<![\\$\w])\$(?=\S)([^$\n]+?)(?<=\S)\$(?![\w$])', re.S)
CODE = re.compile(r'(```.*?```|`[^`\n]*`)', re.S)
LINK = re.compile(r'(!?)\[([^\]]*)\]\(([^)\s]+)\)')
GIT_URL = 'https://github.com/evlf/evlf/blob/main/'  # settings.ini's git_url: where a link to a repository file points


def notebook_map(readme: Path) -> list:
    "The README's notebook map as `(stem, module, what)` rows, in its order."
    rows, on = [], False
    for line in readme.read_text().splitlines():
        if line.startswith('## The notebooks'): on = True; continue
        if on and line.startswith('## '): break
        m = re.match(r'\|\s*`([\w]+)`\s*\|\s*(.*?)\s*\|\s*(.*?)\s*\|\s*$', line) if on else None
        if m: rows.append(m.groups())
    if not rows: raise ValueError(f'{readme}: no notebook map (a "## The notebooks" table of `stem` | module | what)')
    return rows


def tex_to_mathml(md: str) -> str:
    "Markdown with its $...$ and $$...$$ equations as MathML, code spans and blocks left alone."
    from latex2mathml.converter import convert
    def one(m):
        tex, block = (m.group(1), True) if m.group(1) is not None else (m.group(2), False)
        try: return convert(tex.strip(), display='block' if block else 'inline')
        except Exception: return m.group(0)  # not an equation (or one latex2mathml cannot read): left as written
    return ''.join(p if i % 2 else MATH.sub(one, p) for i, p in enumerate(CODE.split(md)))


def page(title: str, body: str, pages: list, here: str) -> str:
    "One page: the side navigation over every notebook, the body, previous and next."
    names = [p for p, _ in pages]
    links = '\n'.join(f'<a href="{p}.html"{" class=here" if p == here else ""}>{html.escape(t)}</a>' for p, t in pages)
    i = names.index(here) if here in names else -1
    prev = f'<a href="{names[i-1]}.html">&larr; {names[i-1]}</a>' if i > 0 else '<a href="index.html">&larr; index</a>'
    nxt = f'<a href="{names[i+1]}.html">{names[i+1]} &rarr;</a>' if 0 <= i < len(names) - 1 else '<span></span>'
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">'
            f'<title>{html.escape(title)} - evlf</title><link rel="stylesheet" href="style.css"></head><body><div class="layout">'
            f'<nav class="side"><a href="index.html"{" class=here" if here == "index" else ""}>evlf</a><hr>{links}</nav>'
            f'<main>{body}' + ('' if here == 'index' else f'<div class="pager">{prev}{nxt}</div>') + '</main></div></body></html>\n')


def relink(md: str, nb_dir: Path, site: Path, where: str = '') -> str:
    "Markdown whose local images are copied into the site, whose notebook links point at their pages, other files at the repository."
    root = nb_dir.parent  # the project: notebooks in nbs/, records in figures/
    def one(m):
        bang, text, target = m.groups()
        if re.match(r'[a-z]+:|#', target): return m.group(0)
        path, _, frag = target.partition('#')
        f = (nb_dir/path).resolve()
        if not f.is_relative_to(root): return m.group(0)
        if not f.exists(): raise FileNotFoundError(f'{where}: {target} is missing; make it (`make figures`, or the bench script that writes it) or fix the link')
        rel = f.relative_to(root).as_posix()
        if bang:
            (site/'assets'/rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(f, site/'assets'/rel)
            return f'![{text or f.stem}](assets/{rel})'
        if f.suffix == '.ipynb' and f.parent == nb_dir: return f'[{text}]({f.stem}.html' + (f'#{frag}' if frag else '') + ')'
        return f'[{text}]({GIT_URL}{rel})'
    return ''.join(p if i % 2 else LINK.sub(one, p) for i, p in enumerate(CODE.split(md)))


def render_notebook(fn: Path, site: Path) -> str:
    "A notebook's cells and committed outputs as HTML (nbconvert's `basic` template: no scripts, no external files)."
    import nbformat
    from nbconvert import HTMLExporter
    nb = nbformat.read(fn, as_version=4)
    for c in nb.cells:
        if c.cell_type == 'markdown': c.source = tex_to_mathml(relink(c.source, fn.parent.resolve(), site, fn.name))
    ex = HTMLExporter(template_name='basic')
    body, _ = ex.from_notebook_node(nb)
    return body


def build(out: Path, nbs: Path = REPO/'nbs', readme: Path = REPO/'README.md') -> list:
    "Write the site to `out` (replaced whole, atomically); the pages written."
    from pygments.formatters import HtmlFormatter
    rows = notebook_map(readme)
    missing = [s for s, _, _ in rows if not (nbs/f'{s}.ipynb').is_file()]
    if missing: raise FileNotFoundError(f'the README maps notebooks that are not in {nbs}: {missing}')
    pages = [(s, s) for s, _, _ in rows]
    tmp = Path(tempfile.mkdtemp(prefix='.site-', dir=out.parent))
    try:
        (tmp/'style.css').write_text(CSS + HtmlFormatter(style='default').get_style_defs('.highlight'))
        table = ''.join(f'<tr><td><a href="{s}.html">{s}</a></td><td>{html.escape(m.strip("`"))}</td><td>{html.escape(w).replace("`", "")}</td></tr>'
                        for s, m, w in rows)
        intro = ('<h1>evlf</h1><p>The reproducible, notebook-first companion to <em>EVLF: Early Vision-Language Fusion for '
                 'Generative Dataset Distillation</em> (CVPR 2026). Each page is a notebook with the outputs it is committed with; '
                 'read them in order, or run them with papermill.</p>')
        (tmp/'index.html').write_text(page('index', intro + f'<table><tr><th>notebook</th><th>module</th><th>what</th></tr>{table}</table>', pages, 'index'))
        for s, _, _ in rows:
            (tmp/f'{s}.html').write_text(page(s, render_notebook(nbs/f'{s}.ipynb', tmp), pages, s))
            print(f'{s}.html', flush=True)
        if out.exists(): shutil.rmtree(out)
        os.replace(tmp, out)
    finally:
        if tmp.exists(): shutil.rmtree(tmp)
    return sorted(p.name for p in out.glob('*.html'))


def browser():
    "Headless Chromium through Debian's chromedriver (never a download), logging the console and every request."
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    driver = shutil.which('chromedriver') or '/usr/bin/chromedriver'
    if not Path(driver).exists(): raise FileNotFoundError('no chromedriver: apt install chromium chromium-driver (make test does, as root)')
    o = webdriver.ChromeOptions()
    for a in ('--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--window-size=1280,900'): o.add_argument(a)
    o.binary_location = shutil.which('chromium') or '/usr/bin/chromium'
    o.set_capability('goog:loggingPrefs', {'browser': 'ALL', 'performance': 'ALL'})
    return webdriver.Chrome(service=Service(driver), options=o)


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--out', type=Path, default=REPO/'_site', help='the site folder (replaced whole)')
    ap.add_argument('--screenshot', type=Path, help="also save the index page as it looks in headless Chromium (a PNG)")
    a = ap.parse_args()
    try: print(f'{len(build(a.out.resolve()))} pages in {a.out}')
    except (FileNotFoundError, ValueError) as e: print(f'build_docs: error: {e}', file=sys.stderr); sys.exit(2)
    if a.screenshot:
        d = browser()
        try: d.get((a.out.resolve()/'index.html').as_uri()); d.save_screenshot(str(a.screenshot)); print('screenshot:', a.screenshot)
        finally: d.quit()
