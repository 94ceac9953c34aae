"`make docs`: the site of every notebook, opened page by page in headless Chromium (no broken image or link, no network, no console error)."
import json, os, shutil, subprocess, sys
from pathlib import Path
import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO/'tools'))
import build_docs

DRIVER = shutil.which('chromedriver') or ('/usr/bin/chromedriver' if Path('/usr/bin/chromedriver').exists() else None)


@pytest.fixture(scope='module')
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp('docs')/'site'
    build_docs.build(out)
    return out


def test_map_and_math():
    rows = build_docs.notebook_map(REPO/'README.md')
    assert [r[0] for r in rows] == sorted(p.stem for p in (REPO/'nbs').glob('*.ipynb'))  # every notebook, in the reading order
    m = build_docs.tex_to_mathml(r'loss $\mathcal{L} = x^2$ and `$EVLF_CACHE/x` and $$a_1$$')
    assert '<math' in m and 'display="block"' in m and '`$EVLF_CACHE/x`' in m


def test_no_half_site(tmp_path):
    "A README that maps a notebook that does not exist: an error naming it, and no site."
    readme = tmp_path/'README.md'
    readme.write_text('## The notebooks\n| notebook | module | what |\n|---|---|---|\n| `99_nope` | | x |\n')
    with pytest.raises(FileNotFoundError, match='99_nope'): build_docs.build(tmp_path/'site', readme=readme)
    assert not (tmp_path/'site').exists() and not list(tmp_path.glob('.site-*'))


@pytest.mark.skipif(DRIVER is None and not os.environ.get('CI'), reason='no chromedriver (apt install chromium chromium-driver)')
def test_pages_in_browser(site):
    assert DRIVER, 'CI needs chromium and chromium-driver (make test installs them as root)'
    pages = sorted(site.glob('*.html'))
    assert len(pages) == len(list((REPO/'nbs').glob('*.ipynb'))) + 1
    d = build_docs.browser()
    try:
        for p in pages:
            d.get_log('performance'); d.get_log('browser')
            d.get(p.as_uri())
            broken = d.execute_script("return [...document.images].filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src.slice(0, 80))")
            assert not broken, f'{p.name}: broken images {broken}'
            hrefs = d.execute_script("return [...document.querySelectorAll('a[href]')].map(a => a.getAttribute('href'))")
            local = [h for h in hrefs if not h.startswith(('http://', 'https://', '#', 'mailto:'))]
            dead = [h for h in local if not (site/h.split('#')[0]).is_file()]
            assert not dead, f'{p.name}: links to missing pages {dead}'
            asked = [json.loads(e['message'])['message'] for e in d.get_log('performance')]
            net = [m['params']['request']['url'] for m in asked if m['method'] == 'Network.requestWillBeSent'
                   and not m['params']['request']['url'].startswith(('file:', 'data:'))]
            assert not net, f'{p.name} asks the network: {net[:3]}'
            errors = [e['message'] for e in d.get_log('browser') if e['level'] == 'SEVERE']
            assert not errors, f'{p.name}: console errors {errors[:3]}'
        d.get((site/'03_fusion.html').as_uri())
        assert d.execute_script("return document.querySelectorAll('math').length") > 0, 'no equation rendered as MathML'
        d.get((site/'06_samples.html').as_uri())
        assert d.execute_script("return [...document.images].filter(i => i.naturalWidth > 300).length") >= 2, '06_samples shows no figure'
    finally: d.quit()


def test_missing_image_refused(tmp_path):
    "A notebook showing an image that is not there: an error naming it and the notebook, and no site (nothing half-written)."
    import nbformat
    (tmp_path/'nbs').mkdir()
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell('# x\n![grid](../figures/nope.png)')])
    nbformat.write(nb, tmp_path/'nbs'/'00_x.ipynb')
    readme = tmp_path/'README.md'
    readme.write_text('## The notebooks\n| notebook | module | what |\n|---|---|---|\n| `00_x` | | x |\n')
    with pytest.raises(FileNotFoundError, match=r'00_x.ipynb: ../figures/nope.png is missing'):
        build_docs.build(tmp_path/'site', nbs=tmp_path/'nbs', readme=readme)
    assert not (tmp_path/'site').exists() and not list(tmp_path.glob('.site-*'))
