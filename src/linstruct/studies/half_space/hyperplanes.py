"""Gating hyperplanes of DLGNs and measures of how they cluster.

In a DLGN the gating chain is linear, so neuron i of layer l gates on the half-space
{x : V^l_i x + b^l_i >= 0} with the composed weights V^l = W^l V^{l-1}, b^l = W^l b^{l-1} + c^l
(V^0 = I, b^0 = 0); in DLGN-SF, V^l = W^l and b^l = c^l. Angles are those of the normals
V^l_i in 2-D inputs, taken modulo pi (a line and its flipped normal are the same line).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from linstruct.studies.half_space.gated import GatedNet


@torch.no_grad()
def effective_hyperplanes(model: GatedNet, index: int = 0) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """(V^l (m, d), b^l (m,)) of every gating layer of copy ``index``, in float64 on the model's device."""
    if model.family not in ("dlgn", "dlgn-sf"):
        raise ValueError(f"effective hyperplanes exist for linear gating (dlgn, dlgn-sf); got {model.family!r}")
    device = model.gating_weights[0].device
    v = torch.eye(model.in_features, dtype=torch.float64, device=device)
    b = torch.zeros(model.in_features, dtype=torch.float64, device=device)
    planes = []
    for w, c in zip(model.gating_weights, model.gating_biases):
        w, c = w[index].detach().to(torch.float64), c[index].detach().to(torch.float64)
        if model.family == "dlgn-sf":
            v, b = w, c
        else:
            v, b = w @ v, w @ b + c
        planes.append((v, b))
    return planes


def normal_angles(v: torch.Tensor) -> np.ndarray:
    """Angles in [0, pi) of the normals v (m, 2) (any device; the result is a NumPy array)."""
    if v.shape[1] != 2:
        raise ValueError(f"normal angles need 2-D inputs; got normals of shape {tuple(v.shape)}")
    v = v.detach().cpu().to(torch.float64).numpy()
    return np.mod(np.arctan2(v[:, 1], v[:, 0]), np.pi)


def angle_entropy(angles: np.ndarray, bins: int = 18) -> float:
    """Entropy in nats of the histogram of ``angles`` over ``bins`` equal bins of [0, pi)
    (0 when all share a bin; ln(bins) when spread evenly)."""
    counts, _ = np.histogram(angles, bins=bins, range=(0, np.pi))
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log(p)).sum())


def modal_bin_share(angles: np.ndarray, bins: int = 18) -> float:
    """Share of angles in the most populated of ``bins`` bins of [0, pi)."""
    counts, _ = np.histogram(angles, bins=bins, range=(0, np.pi))
    return float(counts.max() / counts.sum())


def share_near(angles: np.ndarray, centre: float = math.pi / 2, half_width: float = math.radians(15)) -> float:
    """Share of angles within ``half_width`` of ``centre`` (modulo pi)."""
    distance = np.abs(np.mod(angles - centre + np.pi / 2, np.pi) - np.pi / 2)
    return float((distance <= half_width).mean())


def line_distances(v: torch.Tensor, b: torch.Tensor) -> np.ndarray:
    """Sign-invariant distances between hyperplanes: with z_i = (v_i, b_i) / ||(v_i, b_i)||,
    dist(i, j) = min(||z_i - z_j||, ||z_i + z_j||): (m, m)."""
    z = torch.cat([v, b[:, None]], dim=1).detach().to(torch.float64)
    z = (z / z.norm(dim=1, keepdim=True)).cpu().numpy()
    minus = np.linalg.norm(z[:, None] - z[None], axis=-1)
    plus = np.linalg.norm(z[:, None] + z[None], axis=-1)
    return np.minimum(minus, plus)


def cluster_count(v: torch.Tensor, b: torch.Tensor, eps: float = 0.1, min_samples: int = 2) -> int:
    """Number of DBSCAN clusters (noise excluded) of the hyperplanes under :func:`line_distances`."""
    from sklearn.cluster import DBSCAN

    labels = DBSCAN(eps=eps, min_samples=min_samples, metric="precomputed").fit_predict(line_distances(v, b))
    return int(len(set(labels) - {-1}))


def clustering_table(model: GatedNet, index: int = 0) -> list[dict]:
    """Per gating layer of copy ``index``: angle entropy, modal 10-degree-bin share, share within
    15 degrees of vertical normals (horizontal lines), and the DBSCAN cluster count."""
    rows = []
    for layer, (v, b) in enumerate(effective_hyperplanes(model, index), start=1):
        angles = normal_angles(v)
        rows.append(
            {
                "layer": layer,
                "entropy": angle_entropy(angles),
                "modal_share": modal_bin_share(angles),
                "near_90": share_near(angles),
                "clusters": cluster_count(v, b),
            }
        )
    return rows
