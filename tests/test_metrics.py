"Coverage (Naeem et al. 2020) and the best coverage n points can reach (evlf.metrics)."
import pytest, torch, numpy as np
from evlf.metrics import coverage, coverage_bounds, knn_radii

def test_coverage_definition():
    r = torch.tensor([[0.], [1.], [2.], [3.]])
    assert knn_radii(r, 1).tolist() == [1., 1., 1., 1.] and knn_radii(r, 2).tolist() == [2., 1., 1., 2.]
    assert coverage(r, r, 1) == 1.0
    assert coverage(r, torch.tensor([[1.]]), 1) == 0.25          # 0 and 2 sit exactly on the radius: not strictly inside
    assert coverage(r, torch.tensor([[0.9]]), 1) == 0.5
    assert coverage(r.numpy(), np.array([[50.]]), 1) == 0.0       # numpy arrays too

def test_bounds_bracket_any_placement():
    g = torch.Generator().manual_seed(0); real = torch.randn(200, 5, generator=g)
    for n in (1, 5, 20):
        b = coverage_bounds(real, n, 5)
        assert len(b['chosen']) <= n and coverage(real, real[b['chosen']], 5) == pytest.approx(b['greedy'])
        for _ in range(5): assert coverage(real, torch.randn(n, 5, generator=g), 5) <= b['upper'] + 1e-9
        assert b['greedy'] <= b['upper'] <= 1
    assert coverage_bounds(real, 200, 5)['greedy'] == 1.0

def test_bad_input():
    r = torch.zeros(4, 2)
    with pytest.raises(ValueError, match='k=4 is not valid'): knn_radii(r, 4)
    with pytest.raises(ValueError, match='expected 2 features'): coverage(r, torch.zeros(1, 3), 1)
    with pytest.raises(ValueError, match=r'real: expected a non-empty \[N, D\]'): coverage(torch.zeros(4), r, 1)
    with pytest.raises(ValueError, match='n=0 is not valid'): coverage_bounds(r, 0, 1)
