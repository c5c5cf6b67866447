#!/usr/bin/env python3
"""Writes golden/yolov8n_tensor_probe.txt: a few values of the official
yolov8n.pt read with the Python standard library only, as an independent
reference for the C++ checkpoint reader (tests/test_checkpoint.cpp).

Algorithm: open the torch.save zip with zipfile; unpickle data.pkl with a
custom Unpickler whose find_class returns stand-ins (generic objects for any
model class, small functions for torch's tensor rebuilders) and whose
persistent_load returns storage descriptors; walk the nn.Module tree
(_parameters, _buffers, _modules) in state-dict order; read chosen elements
straight from the data/<key> records with struct ('e' for fp16).
"""
import argparse
import collections
import pickle
import struct
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CHECKPOINT = REPO / ".." / "shared" / "models" / "yolov8n" / "yolov8n.pt"
DEFAULT_OUTPUT = REPO / "golden" / "yolov8n_tensor_probe.txt"

PROBED_TENSORS = [
    "model.0.conv.weight",
    "model.0.bn.running_var",
    "model.0.bn.num_batches_tracked",
    "model.9.cv2.conv.weight",
    "model.12.m.0.cv1.bn.bias",
    "model.22.cv2.0.2.weight",
    "model.22.cv3.2.2.bias",
    "model.22.dfl.conv.weight",
]

# storage class -> (dtype name, struct format, bytes per element)
STORAGE_TYPES = {
    "HalfStorage": ("float16", "<e", 2),
    "FloatStorage": ("float32", "<f", 4),
    "DoubleStorage": ("float64", "<d", 8),
    "LongStorage": ("int64", "<q", 8),
    "IntStorage": ("int32", "<i", 4),
}

Storage = collections.namedtuple("Storage", "dtype fmt itemsize key numel")
Tensor = collections.namedtuple("Tensor", "storage offset size stride")


class StandIn:
    """Any pickled class: accepts any constructor arguments, keeps BUILD state in __dict__."""

    def __new__(cls, *args, **kwargs):
        return object.__new__(cls)

    def __init__(self, *args, **kwargs):
        pass


class StorageType:
    def __init__(self, name):
        self.name = name


def rebuild_tensor_v2(storage, offset, size, stride, *unused):
    return Tensor(storage, offset, tuple(size), tuple(stride))


def rebuild_parameter(data, *unused):
    return data


class CheckpointUnpickler(pickle.Unpickler):
    SPECIAL = {
        ("torch._utils", "_rebuild_tensor_v2"): rebuild_tensor_v2,
        ("torch._utils", "_rebuild_parameter"): rebuild_parameter,
        ("collections", "OrderedDict"): collections.OrderedDict,
        ("torch", "Size"): tuple,
        ("builtins", "set"): set,
        ("__builtin__", "set"): set,
    }

    def find_class(self, module, name):
        if (module, name) in self.SPECIAL:
            return self.SPECIAL[(module, name)]
        if module == "torch" and name.endswith("Storage"):
            return StorageType(name)
        return type(name, (StandIn,), {"__module__": module})

    def persistent_load(self, pid):
        kind, storage_type, key, _location, numel = pid
        assert kind == "storage", pid
        dtype, fmt, itemsize = STORAGE_TYPES[storage_type.name]
        return Storage(dtype, fmt, itemsize, key, numel)


def numel(tensor):
    count = 1
    for dim in tensor.size:
        count *= dim
    return count


def state_dict(module, prefix, parameter_names):
    """(name, tensor) in torch's state_dict order; records parameter names."""
    attributes = module.__dict__
    entries = []
    for name, tensor in attributes["_parameters"].items():
        if tensor is not None:
            entries.append((prefix + name, tensor))
            parameter_names.add(prefix + name)
    non_persistent = attributes.get("_non_persistent_buffers_set", set())
    for name, tensor in attributes["_buffers"].items():
        if tensor is not None and name not in non_persistent:
            entries.append((prefix + name, tensor))
    for name, child in attributes["_modules"].items():
        if child is not None:
            entries.extend(state_dict(child, prefix + name + ".", parameter_names))
    return entries


def element(archive, prefix, tensor, flat_index):
    """Raw little-endian bytes and value of the element at a row-major flat index."""
    storage_index = tensor.offset
    for dim, step in zip(reversed(tensor.size), reversed(tensor.stride)):
        storage_index += (flat_index % dim) * step
        flat_index //= dim
    record = archive.read(f"{prefix}data/{tensor.storage.key}")
    start = storage_index * tensor.storage.itemsize
    raw = record[start : start + tensor.storage.itemsize]
    return raw, struct.unpack(tensor.storage.fmt, raw)[0]


def probe_lines(archive, prefix, name, tensor):
    count = numel(tensor)
    shape = " ".join(str(dim) for dim in tensor.size)
    lines = [f"tensor {name} dtype {tensor.storage.dtype} shape {shape}".rstrip()]
    for flat_index in sorted({0, count // 2, count - 1}):
        raw, value = element(archive, prefix, tensor, flat_index)
        bits = int.from_bytes(raw, "little")
        lines.append(f"element {flat_index} bits 0x{bits:0{2 * len(raw)}x} value {value!r}")
    return lines


def stride_values(archive, prefix, model):
    stride = model.__dict__["stride"]
    return [element(archive, prefix, stride, index)[1] for index in range(numel(stride))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, default=DEFAULT_CHECKPOINT)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    arguments = parser.parse_args()

    with zipfile.ZipFile(arguments.checkpoint) as archive:
        pickle_name = next(name for name in archive.namelist() if name.endswith("/data.pkl"))
        prefix = pickle_name[: -len("data.pkl")]
        with archive.open(pickle_name) as stream:
            root = CheckpointUnpickler(stream).load()
        model = root["model"]
        parameter_names = set()
        entries = state_dict(model, "", parameter_names)
        tensors = dict(entries)
        parameter_elements = sum(numel(tensors[name]) for name in parameter_names)
        buffer_elements = sum(numel(tensor) for name, tensor in entries if name not in parameter_names)

        lines = [
            "# yolov8n.pt probe written by scripts/make_tensor_probe.py (Python standard library only,",
            "# independent of the C++ reader). Element indices are row-major flat indices; bits are the",
            "# stored little-endian bit pattern in hex; value is the exact stored value.",
            f"state_dict_entries {len(entries)}",
            f"parameter_tensors {len(parameter_names)}",
            f"parameter_elements {parameter_elements}",
            f"buffer_elements {buffer_elements}",
            f"strides {' '.join(repr(float(step)) for step in stride_values(archive, prefix, model))}",
        ]
        for name in PROBED_TENSORS:
            lines.extend(probe_lines(archive, prefix, name, tensors[name]))

    arguments.output.parent.mkdir(parents=True, exist_ok=True)
    temporary = arguments.output.with_name(arguments.output.name + ".tmp")
    temporary.write_text("\n".join(lines) + "\n")
    temporary.replace(arguments.output)
    print(f"wrote {arguments.output} ({len(entries)} state-dict entries, {parameter_elements} parameters)")


if __name__ == "__main__":
    main()
