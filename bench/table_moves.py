"""What moved in a results table between two commits: per method, the final accuracy before and after, and the change.

Written for the rerun of the main table on the reference conventions (D4M on PNDM, MGD3's 24 guided steps, the
DiffFit fine-tuning recipe, the fusion module retrained with per-batch text corruption): each row is the mean and
std over the student seeds; a change smaller than the distillation-seed spread measured for this table (up to 1.8
points) is not a finding.

    python bench/table_moves.py --before 70c880c --table figures/table_fashion-mnist_ipc10_dc_convnet3.json \
        --out figures/bench/main_table_moves.json
"""
import argparse, json, subprocess, sys
from pathlib import Path

def summary(t:dict)->dict:
    "Per method: final and best mean and std over student seeds, rounded to 0.01."
    return {m: {k: round(r[k], 2) for k in ('final_mean', 'final_std', 'best_mean', 'best_std')} for m, r in t['results'].items()}

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--before', required=True, help='commit holding the earlier table'); ap.add_argument('--table', required=True)
    ap.add_argument('--out', required=True); ap.add_argument('--what', default='', help='what changed between the two runs')
    a = ap.parse_args(argv)
    old = json.loads(subprocess.run(['git', 'show', f'{a.before}:{a.table}'], capture_output=True, text=True, check=True).stdout)
    new = json.loads(Path(a.table).read_text())
    b, n = summary(old), summary(new)
    moves = {m: dict(before=b[m], after=n[m], final_change=round(n[m]['final_mean'] - b[m]['final_mean'], 2)) for m in n if m in b}
    rec = dict(table=a.table, before_commit=subprocess.run(['git', 'rev-parse', a.before], capture_output=True, text=True).stdout.strip(),
               what_changed=a.what, moves=moves, params_after={k: new['params'].get(k) for k in ('dataset', 'ipc', 'protocol', 'net', 'seeds', 'distill_seed', 'distill_seeds')})
    Path(a.out).write_text(json.dumps(rec, indent=1) + '\n')
    for m, v in moves.items(): print(f"{m}: {v['before']['final_mean']:.1f} -> {v['after']['final_mean']:.1f} ({v['final_change']:+.1f})")
    return 0

if __name__ == '__main__': sys.exit(main())
