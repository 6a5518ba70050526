#!/usr/bin/python3
"""Writes Fashion-MNIST's training set (Debian's dataset-fashion-mnist) in the formats the data
files benchmark loads: DIR/train_x.npy + train_y.npy, train_stored.npz (numpy.savez),
train_deflated.npz (numpy.savez_compressed), train.csv (784 pixel columns, then the label), and
the uncompressed IDX pair.

usage: make_files.py DIR [FASHION_MNIST_DIR]
"""
import gzip
import os
import sys

import numpy as np


def main():
    out = sys.argv[1]
    source = sys.argv[2] if len(sys.argv) > 2 else "/usr/share/datasets/fashion-mnist"
    os.makedirs(out, exist_ok=True)
    images_raw = gzip.open(os.path.join(source, "train-images-idx3-ubyte.gz")).read()
    labels_raw = gzip.open(os.path.join(source, "train-labels-idx1-ubyte.gz")).read()
    open(os.path.join(out, "train-images-idx3-ubyte"), "wb").write(images_raw)
    open(os.path.join(out, "train-labels-idx1-ubyte"), "wb").write(labels_raw)
    x = np.frombuffer(images_raw, np.uint8, offset=16).reshape(-1, 28, 28, 1)
    y = np.frombuffer(labels_raw, np.uint8, offset=8)
    np.save(os.path.join(out, "train_x.npy"), x)
    np.save(os.path.join(out, "train_y.npy"), y)
    np.savez(os.path.join(out, "train_stored.npz"), x=x, y=y)
    np.savez_compressed(os.path.join(out, "train_deflated.npz"), x=x, y=y)
    table = np.concatenate([x.reshape(len(x), -1), y[:, None]], axis=1)
    np.savetxt(os.path.join(out, "train.csv"), table, fmt="%d", delimiter=",")


if __name__ == "__main__":
    main()
