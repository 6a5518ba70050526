"""safetensors in a few NumPy lines: a PyTorch state_dict out to edgefl, and trained weights back.

    import safetensors_np
    safetensors_np.save("init.safetensors", model.state_dict())      # for edgefl-server's `weights`
    state = safetensors_np.load("trained.safetensors")                # from `edgefl-server export`
    model.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})

The format: an 8-byte little-endian header length, a JSON header (name -> dtype, shape, byte
offsets), the raw little-endian tensors. Tensors are written in the state_dict's order, which
edgefl uses when the ONNX graph's initialiser names are not the state_dict's keys.
"""
import json
import struct

import numpy as np


def save(path, state_dict):
    header, blobs, offset = {"__metadata__": {"format": "pt"}}, [], 0
    for name, tensor in state_dict.items():
        if not tensor.is_floating_point():
            continue  # counters such as BatchNorm's num_batches_tracked
        data = np.ascontiguousarray(tensor.detach().cpu().numpy(), dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensor.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def load(path):
    """name -> float32 array, in the file's order (edgefl writes F32 only)."""
    with open(path, "rb") as f:
        raw = f.read()
    (length,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + length])
    header.pop("__metadata__", None)
    data = raw[8 + length:]
    tensors = {}
    for name, entry in header.items():
        if entry["dtype"] != "F32":
            raise ValueError(f"{path}: tensor {name} is {entry['dtype']}, not F32")
        begin, end = entry["data_offsets"]
        tensors[name] = np.frombuffer(data[begin:end], "<f4").reshape(entry["shape"]).copy()
    return tensors
