"The library's lines fit 120 columns (nbdev's generated `__all__` and `_modidx.py` aside: nbdev writes them)."
from pathlib import Path

LIB = Path(__file__).resolve().parents[1]/'evlf'


def long_lines(folder=LIB, width=120) -> list:
    "`file:line` of every library line wider than `width` columns, nbdev's generated lines aside."
    return [f'{f.name}:{i}' for f in sorted(folder.glob('*.py')) if f.name != '_modidx.py'
            for i, line in enumerate(f.read_text().splitlines(), 1) if len(line) > width and not line.startswith('__all__')]


def test_lines_fit():
    assert not long_lines(), f'lines over 120 columns (edit the notebook, then nbdev_export): {long_lines()}'


def test_long_line_caught(tmp_path):
    "A test of the test: a wide line is named, nbdev's `__all__` is not."
    (tmp_path/'m.py').write_text('x = 1\n' + 'y = ' + '1 + '*40 + '1\n' + '__all__ = [' + "'a', "*40 + ']\n')
    assert long_lines(tmp_path) == ['m.py:2']
