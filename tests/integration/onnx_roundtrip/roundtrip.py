#!/usr/bin/python3
"""A PyTorch model through edgefl and back: ONNX + safetensors in, federated rounds, both out.

1. A small CNN in torch (named modules, x.view(x.size(0), -1)) exported as ONNX (opset 14,
   dynamic batch) and its state_dict as safetensors (examples/pytorch_cnn/safetensors_np.py).
2. edgefl's forward pass of the imported model on 256 samples equals torch's within 1e-5.
3. Two federated rounds: edgefl-server with model_file = the ONNX graph and weights = the
   safetensors, three edgefl-devices on .npz shards of different sizes, ONNX exports every round.
4. The exported safetensors loads strictly into the torch model, whose outputs on the test set
   equal edgefl's own (edgefl-server predict on the checkpoint) within 1e-5, and whose accuracy
   is the one the server reported.
5. The exported ONNX passes onnx.checker, its initialisers equal that state_dict, and edgefl
   imports it back to outputs identical to the checkpoint's.

Exits 77 (skipped) without torch or onnx: scripts/bootstrap --bench installs them.
usage: roundtrip.py EDGEFL_SERVER EDGEFL_DEVICE
"""
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np

try:
    import onnx
    import onnx.numpy_helper
    import torch
except ImportError as missing:
    print(f"SKIP: {missing.name} is not installed (scripts/bootstrap --bench)")
    sys.exit(77)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../examples/pytorch_cnn"))
import safetensors_np  # noqa: E402

ROUNDS = 2
CLASSES = 3
SHAPE = (12, 12, 1)  # H, W, C as the devices' files hold images


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(1, 4, 3, padding=1)
        self.pool = torch.nn.MaxPool2d(2)
        self.conv2 = torch.nn.Conv2d(4, 8, 3, padding=1)
        self.avg = torch.nn.AvgPool2d(2)
        self.fc = torch.nn.Linear(8 * 3 * 3, CLASSES)

    def forward(self, x):
        x = self.pool(torch.relu(self.conv1(x)))
        x = self.avg(torch.nn.functional.relu6(self.conv2(x)))
        return self.fc(x.view(x.size(0), -1))


def images(rng, n):
    """Per-class templates plus noise, N x H x W x C float32, labels int64."""
    templates = np.random.default_rng(0).normal(size=(CLASSES,) + SHAPE).astype(np.float32)
    y = rng.integers(0, CLASSES, n)
    return (templates[y] + 0.8 * rng.normal(size=(n,) + SHAPE)).astype(np.float32), y


def nchw(x):
    return torch.from_numpy(x.transpose(0, 3, 1, 2).copy())  # NCHW strides, not channels-last ones


def worst_relative(a, b):
    """max over samples of max |a - b| / max |b| (the sample's largest output)."""
    return float((np.abs(a - b).max(1) / np.abs(b).max(1)).max())


def run(args, **kw):
    done = subprocess.run(args, capture_output=True, text=True, **kw)
    assert done.returncode == 0, f"{args}: {done.stderr}"
    return done


def predict(server_bin, tmp, x, *model_args):
    path = lambda name: os.path.join(tmp, name)
    safetensors_np.save(path("x.safetensors"), {"input": nchw(x)})
    run([server_bin, "predict", *model_args, "--input", path("x.safetensors"), "--out", path("y.safetensors")])
    return safetensors_np.load(path("y.safetensors"))["output"]


def main():
    server_bin, device_bin = sys.argv[1:3]
    torch.manual_seed(5)
    rng = np.random.default_rng(11)
    with tempfile.TemporaryDirectory(prefix="edgefl-onnx-") as tmp:
        path = lambda name: os.path.join(tmp, name)
        model = Net().eval()
        torch.onnx.export(model, torch.zeros(1, SHAPE[2], SHAPE[0], SHAPE[1]), path("model.onnx"), opset_version=14,
                          input_names=["input"], output_names=["output"],
                          dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
        safetensors_np.save(path("init.safetensors"), model.state_dict())

        # 2. The imported model's forward pass.
        x, _ = images(rng, 256)
        with torch.no_grad():
            expected = model(nchw(x)).numpy()
        got = predict(server_bin, tmp, x, "--model-file", path("model.onnx"), "--weights", path("init.safetensors"))
        error = worst_relative(got, expected)
        print(f"import: 256 samples, worst relative error {error:.2e}")
        assert error < 1e-5, error

        # 3. Two federated rounds over npz shards.
        for name, n in (("a", 120), ("b", 200), ("c", 60)):
            shard_x, shard_y = images(rng, n)
            np.savez_compressed(path(name + ".npz"), x=shard_x, y=shard_y)
        test_x, test_y = images(rng, 300)
        np.savez(path("test.npz"), x=test_x, y=test_y)
        server = subprocess.Popen(
            [server_bin, "--model-file", path("model.onnx"), "--weights", path("init.safetensors"),
             "--data", "npz:" + path("test.npz"), "--rounds", str(ROUNDS), "--round-min-devices", "3",
             "--train-learning-rate", "0.05", "--export-every-rounds", "1", "--export-format", "onnx",
             "--endpoint", "tcp://127.0.0.1:*", "--endpoint-file", path("endpoint"), "--state-dir", path("server"),
             "--time-scale", "5"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 30
        while not os.path.exists(path("endpoint")) and server.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert os.path.exists(path("endpoint")), server.communicate()[1]
        endpoint = open(path("endpoint")).read()
        devices = [subprocess.Popen([device_bin, "--endpoint", endpoint, "--data", "npz:" + path(name + ".npz"),
                                     "--device-id", name, "--state-dir", path("device-" + name), "--quiet",
                                     "--give-up-s", "3"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                   for name in ("a", "b", "c")]
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

        # 4. The trained weights in torch.
        run([server_bin, "export", "--checkpoint", path("server"), "--format", "safetensors",
             "--out", path("trained.safetensors"), "--names-from", path("init.safetensors")])
        trained = {k: torch.from_numpy(v) for k, v in safetensors_np.load(path("trained.safetensors")).items()}
        model.load_state_dict(trained, strict=True)
        with torch.no_grad():
            torch_outputs = model(nchw(test_x)).numpy()
        edgefl_outputs = predict(server_bin, tmp, test_x, "--checkpoint", path("server"))
        error = worst_relative(torch_outputs, edgefl_outputs)
        torch_accuracy = 100.0 * float((torch_outputs.argmax(1) == test_y).mean())
        print(f"trained: torch vs edgefl worst relative error {error:.2e}; accuracy server {server_accuracy:.2f}%, "
              f"torch {torch_accuracy:.2f}%")
        assert error < 1e-5, error
        assert abs(torch_accuracy - server_accuracy) < 0.01, (server_accuracy, torch_accuracy)
        assert not all(torch.equal(trained[k], v) for k, v in Net().state_dict().items())

        # 5. The trained model as ONNX.
        run([server_bin, "export", "--checkpoint", path("server"), "--format", "onnx", "--out", path("trained.onnx"),
             "--names-from", path("init.safetensors")])
        for exported in (path("trained.onnx"), path("server/exports/model-%06d.onnx" % ROUNDS)):
            graph = onnx.load(exported)
            onnx.checker.check_model(graph, full_check=True)
            initialisers = {t.name: onnx.numpy_helper.to_array(t) for t in graph.graph.initializer}
            assert sorted(initialisers) == sorted(trained), (sorted(initialisers), sorted(trained))
            for name, tensor in trained.items():
                assert np.array_equal(initialisers[name], tensor.numpy()), name
        assert os.path.exists(path("server/exports/model-000001.onnx"))
        reimported = predict(server_bin, tmp, test_x, "--model-file", path("trained.onnx"))
        assert np.array_equal(reimported, edgefl_outputs), np.abs(reimported - edgefl_outputs).max()
        print("exported ONNX: checker passed, initialisers equal the state_dict, re-import identical")


if __name__ == "__main__":
    main()
