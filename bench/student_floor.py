"""The floor under a student's step: one `dc` ConvNet-3 step (IPC 10, 100 images, one torch thread) against the
forward+backward of each of its three convolutions alone, timed in the same run, in bfloat16 where the CPU computes
it natively and in float32. A step cannot take less than its two 128-channel convolutions (16x16 and 8x8) at the
speed the convolution library reaches on them alone; the record says whether a step twice as fast would be under that.

    python bench/student_floor.py [--steps 30] [--out figures/bench/student_floor.json]
"""
import argparse
import torch
from evlf.core import versions, save_json, native_bf16
from student_step import conv_reference, student

LAYERS = {'conv1 (1 -> 128, 32x32, no input gradient)': dict(cin=1, size=32, input_grad=False),
          'conv2 (128 -> 128, 16x16)': dict(cin=128, size=16), 'conv3 (128 -> 128, 8x8)': dict(cin=128, size=8)}

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--steps', type=int, default=30)
    ap.add_argument('--out', default='figures/bench/student_floor.json')
    a = ap.parse_args()
    torch.set_num_threads(1)
    rows = {}
    for amp in ([True] if native_bf16('cpu') else []) + [False]:
        k = 'bfloat16' if amp else 'float32'
        step = student(amp, a.steps, profile=False, test=False)[0]['step_s']
        convs = {name: conv_reference(a.steps, amp, **kw) for name, kw in LAYERS.items()}
        floor = sum(v for n, v in convs.items() if not n.startswith('conv1'))
        rows[k] = dict(step_s=step, conv_s=convs, floor_s=floor, twice_as_fast_s=step/2, below_floor=step/2 < floor,
                       convs_share=sum(convs.values())/step, ratio_floor_to_middle=floor/convs['conv2 (128 -> 128, 16x16)'])
        print(f"{k}: step {step*1e3:.0f} ms; its convolutions alone " + ', '.join(f'{n.split()[0]} {v*1e3:.0f} ms' for n, v in convs.items())
              + f" ({rows[k]['convs_share']:.0%} of the step); a step twice as fast ({step/2*1e3:.0f} ms) is "
              + ('under' if step/2 < floor else 'over') + f" the two 128-channel convolutions alone ({floor*1e3:.0f} ms)")
    save_json(dict(command='python bench/student_floor.py' + (f' --steps {a.steps}' if a.steps != 30 else ''), threads=1,
                   native_bf16=native_bf16('cpu'), rows=rows, versions=versions()), a.out)
    print('wrote', a.out)
