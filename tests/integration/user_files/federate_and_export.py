#!/usr/bin/python3
"""A federation on the user's own files, and its model in PyTorch.

Writes seeded Gaussian-blob data as CSV (with a header, label by name) and as a
numpy.savez_compressed archive; the server evaluates on a CSV test file, one device trains on
the CSV, the other on the npz (both whole files: the default partition count for files is 1).
The exported safetensors file must load strictly into torch.nn.Sequential under `layers` and
give, on the test file, the accuracy the server reported for the same model.

usage: federate_and_export.py EDGEFL_SERVER EDGEFL_DEVICE
"""
import json
import os
import re
import struct
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch

MODEL = "mlp:4-8-3:relu"
ROUNDS = 3


def blobs(rng, n):
    centres = np.array([[0, 0, 0, 0], [3, 3, 0, 0], [0, 3, 3, 3]], np.float32)
    y = rng.integers(0, 3, n)
    return (centres[y] + rng.normal(size=(n, 4))).astype(np.float32), y


def write_csv(path, x, y):
    with open(path, "w") as f:
        f.write("a,b,c,d,species\n")
        for row, label in zip(x, y):
            f.write(",".join(f"{v:.6f}" for v in row) + f",{label}\n")


def read_safetensors(path):
    raw = open(path, "rb").read()
    (length,) = struct.unpack("<Q", raw[:8])
    assert (8 + length) % 8 == 0, "the header is not padded to 8 bytes"
    header = json.loads(raw[8:8 + length])
    data = raw[8 + length:]
    metadata = header.pop("__metadata__")
    tensors = {}
    for name, entry in header.items():
        assert entry["dtype"] == "F32", entry
        begin, end = entry["data_offsets"]
        tensors[name] = torch.from_numpy(np.frombuffer(data[begin:end], "<f4").reshape(entry["shape"]).copy())
    return metadata, tensors


class Classifier(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))


def main():
    server_bin, device_bin = sys.argv[1:3]
    rng = np.random.default_rng(7)
    with tempfile.TemporaryDirectory(prefix="edgefl-user-files-") as tmp:
        path = lambda name: os.path.join(tmp, name)
        x, y = blobs(rng, 400)
        write_csv(path("train.csv"), x, y)
        x, y = blobs(rng, 400)
        np.savez_compressed(path("train.npz"), x=x, y=y)
        test_x, test_y = blobs(rng, 300)
        write_csv(path("test.csv"), test_x, test_y)

        server = subprocess.Popen(
            [server_bin, "--model", MODEL, "--data", "csv:" + path("test.csv") + ":label=species",
             "--rounds", str(ROUNDS), "--seed", "3", "--endpoint", "tcp://127.0.0.1:*",
             "--endpoint-file", path("endpoint"), "--state-dir", path("server"), "--time-scale", "5"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 30
        while not os.path.exists(path("endpoint")) and server.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        endpoint = open(path("endpoint")).read()
        # A device that misses the server's goodbye gives up 3 s after the server has gone.
        devices = [subprocess.Popen([device_bin, "--endpoint", endpoint, "--data", data, "--device-id", name,
                                     "--state-dir", path(name), "--quiet", "--give-up-s", "3"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                   for name, data in (("csv-device", "csv:" + path("train.csv")),
                                      ("npz-device", "npz:" + path("train.npz")))]
        try:
            out, err = server.communicate(timeout=90)
        finally:
            for process in devices + [server]:
                if process.poll() is None:
                    process.kill()
                process.wait()
        assert server.returncode == 0, err
        match = re.search(r"final test accuracy ([0-9.]+)%% after %d rounds" % ROUNDS, out)
        assert match, out + err
        server_accuracy = float(match.group(1))

        exported = subprocess.run([server_bin, "export", "--checkpoint", path("server"), "--format", "safetensors",
                                   "--out", path("model.safetensors")], capture_output=True, text=True)
        assert exported.returncode == 0, exported.stderr
        metadata, tensors = read_safetensors(path("model.safetensors"))
        assert metadata["edgefl.model"] == MODEL and metadata["edgefl.model_version"] == str(ROUNDS), metadata
        model = Classifier()
        model.load_state_dict(tensors, strict=True)
        with torch.no_grad():
            predicted = model.layers(torch.from_numpy(test_x)).argmax(1).numpy()
        torch_accuracy = 100.0 * float((predicted == test_y).mean())
        print(f"server {server_accuracy:.2f}%, torch {torch_accuracy:.2f}%")
        assert abs(torch_accuracy - server_accuracy) < 0.01, (server_accuracy, torch_accuracy)
        assert server_accuracy > 80, server_accuracy  # the devices did learn from their files


if __name__ == "__main__":
    main()
