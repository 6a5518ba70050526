#!/usr/bin/python3
"""A CNN defined in PyTorch, trained federated by edgefl on .npz shards, evaluated back in PyTorch.

1. Defines SmallCnn and writes it as cnn.onnx (the layers) and init.safetensors (its state_dict).
2. Splits Fashion-MNIST's training images into one .npz shard per device (different sizes, as
   devices in the field hold) and its test images into test.npz for the server's evaluation.
3. Runs edgefl-server (model_file = cnn.onnx, weights = init.safetensors) and one edgefl-device
   per shard on this machine; the server writes the global model as ONNX every round.
4. Exports the trained state_dict, loads it into SmallCnn and evaluates it on the test images:
   the accuracy PyTorch measures is the one the server reported.

usage: federated_cnn.py [--bin BUILD_DIR] [--rounds 5] [--devices 3] [--samples 6000] [--workdir DIR]
Needs python3-torch and the Fashion-MNIST package (scripts/bootstrap --bench).
"""
import argparse
import gzip
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

try:
    import torch
except ImportError:
    print("SKIP: torch is not installed (scripts/bootstrap --bench)")
    sys.exit(77)

import safetensors_np

FASHION_MNIST = "/usr/share/datasets/fashion-mnist"


class SmallCnn(torch.nn.Module):
    """The model as a PyTorch user writes it: named modules, a view before the classifier."""

    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(1, 8, 3, padding=1)
        self.conv2 = torch.nn.Conv2d(8, 16, 3, padding=1)
        self.pool = torch.nn.MaxPool2d(2)
        self.fc = torch.nn.Linear(16 * 7 * 7, 10)

    def forward(self, x):
        x = self.pool(torch.relu(self.conv1(x)))
        x = self.pool(torch.relu(self.conv2(x)))
        return self.fc(x.view(x.size(0), -1))


def read_idx(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    dims = raw[3]
    shape = [int.from_bytes(raw[4 + 4 * k:8 + 4 * k], "big") for k in range(dims)]
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * dims).reshape(shape)


def fashion_mnist(split):
    images = read_idx(os.path.join(FASHION_MNIST, f"{split}-images-idx3-ubyte.gz"))
    labels = read_idx(os.path.join(FASHION_MNIST, f"{split}-labels-idx1-ubyte.gz"))
    return images[..., np.newaxis], labels  # N x 28 x 28 x 1 (H, W, C), as edgefl reads images


def as_torch(images):
    """uint8 N x H x W x C to float N x C x H x W, scaled as edgefl scales bytes (x * 1/255)."""
    return torch.from_numpy((images.astype(np.float32) * np.float32(1 / 255)).transpose(0, 3, 1, 2).copy())


def find_binary(build_dir, name, subdir):
    built = os.path.join(build_dir, subdir, "app", name)
    return built if os.path.exists(built) else shutil.which(name)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin", default=os.path.join(here, "../../build/native"), help="edgefl build directory")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--devices", type=int, default=3)
    parser.add_argument("--samples", type=int, default=6000, help="training images over all devices")
    parser.add_argument("--test-samples", type=int, default=2000)
    parser.add_argument("--workdir", help="keep the files here (default: a temporary directory)")
    args = parser.parse_args()
    server_bin = find_binary(args.bin, "edgefl-server", "server")
    device_bin = find_binary(args.bin, "edgefl-device", "device")
    if not server_bin or not device_bin:
        sys.exit("edgefl-server and edgefl-device not found: build them or pass --bin")

    workdir = args.workdir or tempfile.mkdtemp(prefix="edgefl-pytorch-cnn-")
    os.makedirs(workdir, exist_ok=True)
    path = lambda name: os.path.join(workdir, name)

    # 1. The model, as ONNX (the graph) and safetensors (the weights, with state_dict names).
    torch.manual_seed(0)
    model = SmallCnn().eval()
    torch.onnx.export(model, torch.zeros(1, 1, 28, 28), path("cnn.onnx"), opset_version=14, input_names=["input"],
                      output_names=["output"], dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
    safetensors_np.save(path("init.safetensors"), model.state_dict())

    # 2. Shards of different sizes (1 : 2 : 3 : ...), and the server's test file.
    train_x, train_y = fashion_mnist("train")
    test_x, test_y = fashion_mnist("t10k")
    test_x, test_y = test_x[:args.test_samples], test_y[:args.test_samples]
    order = np.random.default_rng(1).permutation(len(train_y))[:args.samples]
    weights = np.arange(1, args.devices + 1)
    bounds = np.concatenate([[0], np.cumsum(weights) * args.samples // weights.sum()])
    for d in range(args.devices):
        rows = order[bounds[d]:bounds[d + 1]]
        np.savez_compressed(path(f"device{d}.npz"), x=train_x[rows], y=train_y[rows])
    np.savez_compressed(path("test.npz"), x=test_x, y=test_y)

    # 3. The federation on this machine.
    server = subprocess.Popen(
        [server_bin, "--model-file", path("cnn.onnx"), "--weights", path("init.safetensors"),
         "--data", "npz:" + path("test.npz"), "--rounds", str(args.rounds), "--round-min-devices", str(args.devices),
         "--train-learning-rate", "0.05", "--train-batch-size", "32", "--export-every-rounds", "1",
         "--export-format", "onnx", "--endpoint", "tcp://127.0.0.1:*", "--endpoint-file", path("endpoint"),
         "--state-dir", path("server")], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while not os.path.exists(path("endpoint")) and server.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    if not os.path.exists(path("endpoint")):
        sys.exit("edgefl-server did not start: " + server.communicate()[1])
    endpoint = open(path("endpoint")).read()
    devices = [subprocess.Popen([device_bin, "--endpoint", endpoint, "--data", "npz:" + path(f"device{d}.npz"),
                                 "--device-id", f"device{d}", "--state-dir", path(f"device{d}"), "--quiet",
                                 "--give-up-s", "5"]) for d in range(args.devices)]
    try:
        out, err = server.communicate(timeout=60 * args.rounds + 60)
    finally:
        for process in devices + [server]:
            if process.poll() is None:
                process.kill()
            process.wait()
    sys.stderr.write(err)
    if server.returncode != 0:
        sys.exit(f"edgefl-server failed ({server.returncode})")
    match = re.search(r"final test accuracy ([0-9.]+)%", out)
    server_accuracy = float(match.group(1))

    # 4. The trained weights back in PyTorch.
    subprocess.run([server_bin, "export", "--checkpoint", path("server"), "--format", "safetensors",
                    "--out", path("trained.safetensors"), "--names-from", path("init.safetensors")], check=True)
    trained = safetensors_np.load(path("trained.safetensors"))
    model.load_state_dict({name: torch.from_numpy(value) for name, value in trained.items()}, strict=True)
    with torch.no_grad():
        predicted = model(as_torch(test_x)).argmax(1).numpy()
    torch_accuracy = 100.0 * float((predicted == test_y).mean())
    print(f"{args.rounds} rounds over {args.devices} devices ({args.samples} images): test accuracy "
          f"{server_accuracy:.2f}% by edgefl-server, {torch_accuracy:.2f}% by PyTorch with the exported weights")
    print(f"files in {workdir}: cnn.onnx, init.safetensors, trained.safetensors, server/exports/model-*.onnx")
    if abs(server_accuracy - torch_accuracy) > 0.1:
        sys.exit("the accuracies differ")


if __name__ == "__main__":
    main()
