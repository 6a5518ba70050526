#!/usr/bin/python3
"""R2 of docs/local_gd.md in float64 NumPy, apart from the C++ code: the same setting (d = 500,
n = 100, ten nodes of 10 samples with node means of norm 3, 8 samples of class m mod 2 and 2 of
the other, classes moved by +-mu, logistic loss, no bias, w0 = 0, uniform averaging,
eta = c / L), its own draw of the data. For |mu| in {0, 3, 10} (0: labels set by node and
position only, unrelated to the features; 10: what the bench runs) it prints one JSON object:

  * the cosine of Local-GD (L = 10, c = 4n / lambda_max) to k steps of centralised GD with step c
    and to kL steps with step c / L, at k = 1, 10, 100;
  * the smoothness bounds lambda_max / (4 n) of the global loss and of each node's;
  * the number of support vectors of the hard-margin SVM.

usage: bench/local_gd/r2_float64.py > r2_float64.jsonl   (Debian's python3 with numpy; ~3 min)
"""
import json

import numpy as np

D, N, NODES, MAJORITY, MEAN_NORM = 500, 100, 10, 0.8, 3.0


def make_data(rng, class_mean_norm):
    per_node = N // NODES
    mu_class = rng.standard_normal(D)
    mu_class *= class_mean_norm / np.linalg.norm(mu_class)
    x = np.zeros((N, D))
    y = np.zeros(N)
    for m in range(NODES):
        mu = rng.standard_normal(D)
        mu *= MEAN_NORM / np.linalg.norm(mu)
        for k in range(per_node):
            i = m * per_node + k
            label = m % 2 if k < round(MAJORITY * per_node) else 1 - m % 2
            y[i] = 2 * label - 1
            x[i] = mu + y[i] * mu_class + rng.standard_normal(D)
    return x, y, np.repeat(np.arange(NODES), per_node)


def gradient(x, y, w):
    margins = y * (x @ w)
    return x.T @ (-y / (1 + np.exp(np.clip(margins, -50, 50)))) / len(y)


def cosine(a, b):
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def support_vectors(x, y, tolerance=1e-8):
    """Dual coordinate ascent on the hard-margin SVM through the origin."""
    alpha, w, norms = np.zeros(len(y)), np.zeros(x.shape[1]), (x * x).sum(1)
    for _ in range(100000):
        worst = 0.0
        for i in range(len(y)):
            g = 1 - y[i] * (w @ x[i])
            worst = max(worst, abs(g) if alpha[i] > 0 else max(0.0, g))
            new = max(0.0, alpha[i] + g / norms[i])
            if new != alpha[i]:
                w += (new - alpha[i]) * y[i] * x[i]
                alpha[i] = new
        if worst < tolerance:
            break
    return int((alpha > 1e-9).sum())


def compare(x, y, node, local_steps, rounds, checks):
    c = 4 * N / np.linalg.eigvalsh(x.T @ x).max()
    nodes = [(x[node == m], y[node == m]) for m in range(NODES)]
    w, central, flow = np.zeros(D), np.zeros(D), np.zeros(D)
    out = {}
    for k in range(1, rounds + 1):
        local = []
        for xm, ym in nodes:
            v = w.copy()
            for _ in range(local_steps):
                v -= c / local_steps * gradient(xm, ym, v)
            local.append(v)
        w = np.mean(local, axis=0)
        central -= c * gradient(x, y, central)
        for _ in range(local_steps):
            flow -= c / local_steps * gradient(x, y, flow)
        if k in checks:
            out[k] = {"cos_central": cosine(w, central), "cos_central_kL_steps": cosine(w, flow)}
    return c, out


def main():
    for class_mean_norm in (0.0, 3.0, 10.0):
        x, y, node = make_data(np.random.default_rng(1), class_mean_norm)
        smooth = [np.linalg.eigvalsh(x[node == m].T @ x[node == m]).max() / (4 * N / NODES)
                  for m in range(NODES)]
        c, cosines = compare(x, y, node, 10, 100, (1, 10, 100))
        print(json.dumps({
            "class_mean_norm": class_mean_norm,
            "support_vectors": support_vectors(x, y),
            "smoothness_global": float(np.linalg.eigvalsh(x.T @ x).max() / (4 * N)),
            "smoothness_nodes": [min(smooth), max(smooth)],
            "c": c, "L": 10,
            "rounds": {str(k): v for k, v in cosines.items()},
        }), flush=True)


if __name__ == "__main__":
    main()
