#!/usr/bin/env python3
"""Checks a trial's `nin-study export` files against nin-study's own logits with runtimes nobody
here wrote (the export tests run it; docs/export.md explains the checks).

  check.py --onnx F.onnx --safetensors F.safetensors --images X.f32 --shape N,C,H,W --logits Z.f32

X.f32: the N test images as float32 [N, C, H, W], pixels scaled to [0, 1] (what the ONNX model
takes); Z.f32: nin-study's logits [N, classes] for them. Checks, each one failing the run:
  1. onnx.checker (full check, shape inference) accepts the model; opset >= 13; input `images`
     [N, C, H, W], output `logits`; the metadata names the trial, dataset, classes and version.
  2. ONNX Runtime's logits match nin-study's: for every image, max_k |ort - ours| <= tol *
     max_k |ours| (relative to the image's largest logit; tol 1e-4), and the classes are equal.
  3. The safetensors file loads with the `safetensors` package; every tensor equals (shape and
     bits) the ONNX initializer of the same name, and every Conv/Gemm weight of the graph is there.
  4. Independent of ONNX: the `modules` metadata built with PyTorch's semantics in numpy (float64),
     the safetensors weights and the preprocessing its metadata describes give the same logits
     within tol; with torch installed, the `nn.Sequential` itself does too (load_state_dict strict).
Prints one JSON line of measurements; exit status 1 with the reason on stderr when a check fails.
"""
import argparse
import json
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import numpy_helper
from safetensors import safe_open
from safetensors.numpy import load_file


def fail(message):
    print(f"check.py: {message}", file=sys.stderr)
    sys.exit(1)


def relative_error(found, expected):
    """Per image: max |found - expected| over classes / max |expected| over classes; the maximum."""
    scale = np.maximum(np.abs(expected).max(axis=1), 1e-12)
    return float((np.abs(found - expected).max(axis=1) / scale).max())


def pool_windows(size, k, s, p):
    """PyTorch's ceil_mode output size and the (start, end) of each window, padding included."""
    out = -(-(size + 2 * p - k) // s) + 1
    if (out - 1) * s >= size + p:
        out -= 1
    return [(o * s - p, min(o * s - p + k, size + p)) for o in range(out)]


def pool(x, kind, k, s, p, count_include_pad=True):
    n, c, h, w = x.shape
    rows, cols = pool_windows(h, k, s, p), pool_windows(w, k, s, p)
    y = np.empty((n, c, len(rows), len(cols)))
    for i, (r0, r1) in enumerate(rows):
        for j, (c0, c1) in enumerate(cols):
            window = x[:, :, max(r0, 0):min(r1, h), max(c0, 0):min(c1, w)]
            if kind == "MaxPool2d":
                y[:, :, i, j] = window.max(axis=(2, 3))
            else:
                count = (r1 - r0) * (c1 - c0) if count_include_pad else window.shape[2] * window.shape[3]
                y[:, :, i, j] = window.sum(axis=(2, 3)) / count
    return y


def forward_numpy(modules, weights, x):
    """The nn.Sequential of `modules` ([name, args, kwargs]) in float64, PyTorch's semantics."""
    for index, (name, args, kwargs) in enumerate(modules):
        if name == "Conv2d":
            _, _, k = args
            s, p = kwargs.get("stride", 1), kwargs.get("padding", 0)
            w, b = weights[f"{index}.weight"].astype(np.float64), weights[f"{index}.bias"].astype(np.float64)
            xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
            win = np.lib.stride_tricks.sliding_window_view(xp, (k, k), axis=(2, 3))[:, :, ::s, ::s]
            x = np.einsum("nchwij,ocij->nohw", win, w, optimize=True) + b[None, :, None, None]
        elif name in ("MaxPool2d", "AvgPool2d"):
            k, s, p = args
            x = pool(x, name, k, s, p, kwargs.get("count_include_pad", True))
        elif name == "ReLU":
            x = np.maximum(x, 0)
        elif name == "Dropout":
            pass
        elif name == "AdaptiveAvgPool2d":
            x = x.mean(axis=(2, 3), keepdims=True)
        elif name == "Flatten":
            x = x.reshape(x.shape[0], -1)
        elif name == "Linear":
            x = x @ weights[f"{index}.weight"].astype(np.float64).T + weights[f"{index}.bias"].astype(np.float64)
        else:
            fail(f"modules[{index}]: unknown module {name}")
    return x


def preprocess_numpy(meta, weights, images):
    """The preprocessing the safetensors metadata describes, on [N, C, H, W] pixels in [0, 1]."""
    kind = meta["preprocessing"]
    x = images.astype(np.float64) * 255
    if kind == "scale":
        return x / 255
    if kind == "none":
        return x
    if kind == "meanstd":
        mean, std = np.array(json.loads(meta["preprocessing_mean"])), np.array(json.loads(meta["preprocessing_std"]))
        return (x - mean[None, :, None, None]) / std[None, :, None, None]
    if kind.startswith("gcn-zca"):
        n, c, h, w = x.shape
        flat = x.transpose(0, 2, 3, 1).reshape(n, -1)
        flat = flat - flat.mean(axis=1, keepdims=True)
        norm = np.sqrt((flat ** 2).sum(axis=1, keepdims=True)) / float(meta["gcn_scale"])
        flat = flat / np.where(norm < 1e-8, 1, norm)
        white = (flat - weights["preprocessing.zca_mean"]) @ weights["preprocessing.zca_matrix"].astype(np.float64)
        return white.reshape(n, h, w, c).transpose(0, 3, 1, 2)
    fail(f"unknown preprocessing {kind}")


def main():
    parser = argparse.ArgumentParser()
    for name in ("onnx", "safetensors", "images", "shape", "logits"):
        parser.add_argument(f"--{name}", required=True)
    parser.add_argument("--tolerance", type=float, default=1e-4)
    a = parser.parse_args()
    shape = [int(v) for v in a.shape.split(",")]
    images = np.fromfile(a.images, dtype="<f4").reshape(shape)
    ours = np.fromfile(a.logits, dtype="<f4").reshape(shape[0], -1).astype(np.float64)
    summary = {"images": shape[0], "classes": ours.shape[1], "tolerance": a.tolerance}

    # 1. The model is valid ONNX.
    model = onnx.load(a.onnx)
    onnx.checker.check_model(model, full_check=True)
    opset = max(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
    if opset < 13:
        fail(f"opset {opset} < 13")
    dims = [d.dim_value or d.dim_param for d in model.graph.input[0].type.tensor_type.shape.dim]
    if model.graph.input[0].name != "images" or dims[1:] != shape[1:] or model.graph.output[0].name != "logits":
        fail(f"graph input {model.graph.input[0].name} {dims}, output {model.graph.output[0].name}")
    meta = {p.key: p.value for p in model.metadata_props}
    for key in ("trial_id", "studies", "dataset", "class_names", "nin_study_version", "nin_study_commit"):
        if not meta.get(key):
            fail(f"ONNX metadata lacks {key}")
    if len(json.loads(meta["class_names"])) != ours.shape[1]:
        fail(f"class_names {meta['class_names']} for {ours.shape[1]} logits")
    summary.update(opset=opset, nodes=[n.op_type for n in model.graph.node])

    # 2. ONNX Runtime computes nin-study's logits.
    session = ort.InferenceSession(a.onnx, providers=["CPUExecutionProvider"])
    (found,) = session.run(["logits"], {"images": images})
    summary["classes_predicted"] = len(set(ours.argmax(axis=1).tolist()))
    # How much the logits vary between images (a network whose output is constant proves little).
    summary["logit_spread"] = float(ours.std(axis=0).max() / max(np.abs(ours).max(), 1e-12))
    summary["ort_relative_error"] = error = relative_error(found.astype(np.float64), ours)
    if error > a.tolerance:
        fail(f"ONNX Runtime's logits differ from nin-study's: relative error {error:.3g} > {a.tolerance}")
    if not np.array_equal(found.argmax(axis=1), ours.argmax(axis=1)):
        fail(f"ONNX Runtime predicts other classes for {int((found.argmax(1) != ours.argmax(1)).sum())} images")

    # 3. The safetensors file holds the same tensors as the ONNX graph.
    weights = load_file(a.safetensors)
    with safe_open(a.safetensors, framework="numpy") as f:
        st_meta = f.metadata()
    if st_meta.get("trial_id") != meta["trial_id"]:
        fail(f"safetensors trial_id {st_meta.get('trial_id')} != ONNX {meta['trial_id']}")
    initializers = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    used = {i for n in model.graph.node if n.op_type in ("Conv", "Gemm") for i in n.input[1:]}
    if missing := sorted(used - set(weights)):
        fail(f"safetensors lacks {missing}")
    for name, value in weights.items():
        onnx_name = {"preprocessing.zca_mean": "pre.zca_mean", "preprocessing.zca_matrix": "pre.zca_matrix"}.get(name, name)
        expected = initializers.get(onnx_name)
        if expected is None or value.dtype != np.float32 or value.size != expected.size \
                or not np.array_equal(value.reshape(-1).view(np.uint32), expected.reshape(-1).view(np.uint32)):
            fail(f"safetensors {name} {value.dtype}{list(value.shape)} differs from the ONNX initializer {onnx_name}")
    summary["tensors"] = {k: list(v.shape) for k, v in weights.items()}

    # 4. The modules metadata with PyTorch's semantics gives the same network.
    modules = json.loads(st_meta["modules"])
    reference = forward_numpy(modules, weights, preprocess_numpy(st_meta, weights, images))
    summary["numpy_relative_error"] = error = relative_error(reference, ours)
    if error > a.tolerance:
        fail(f"the safetensors network (numpy, PyTorch semantics) differs from nin-study: relative error {error:.3g}")
    try:
        import torch
    except ImportError:
        summary["torch"] = "not installed (NIN_EXPORT_TORCH=1 scripts/export/python-env installs it)"
    else:
        net = torch.nn.Sequential(*(getattr(torch.nn, n)(*args, **kw) for n, args, kw in modules))
        net.load_state_dict({k: torch.from_numpy(v) for k, v in weights.items() if not k.startswith("preprocessing.")})
        with torch.no_grad():
            x = torch.from_numpy(preprocess_numpy(st_meta, weights, images).astype(np.float32))
            summary["torch_relative_error"] = error = relative_error(net.eval()(x).double().numpy(), ours)
        if error > a.tolerance:
            fail(f"PyTorch's logits from the safetensors differ from nin-study's: relative error {error:.3g}")
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
