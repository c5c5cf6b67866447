#!/usr/bin/python3
"""Speed peer for scripts/bench_speed.sh: YOLOv8 in Python torch (fp32, BatchNorm
unfused, eval, no_grad), built from a plain state dict, timed on letterboxed
images. Benchmark-only: it needs Debian's python3-torch, which the product never uses.

  bench_speed_peer.py STATE_DICT COUNT IMGSZ THREADS RUNS
prints "forward_ms <median over RUNS of the mean ms/image over COUNT inputs>"."""
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Conv(nn.Module):
    def __init__(self, c1, c2, k=1, s=1):
        super().__init__()
        self.conv = nn.Conv2d(c1, c2, k, s, k // 2, bias=False)
        self.bn = nn.BatchNorm2d(c2, eps=1e-3)

    def forward(self, x):
        return F.silu(self.bn(self.conv(x)))


class Bottleneck(nn.Module):
    def __init__(self, c, shortcut):
        super().__init__()
        self.cv1, self.cv2, self.add = Conv(c, c, 3), Conv(c, c, 3), shortcut

    def forward(self, x):
        y = self.cv2(self.cv1(x))
        return x + y if self.add else y


class C2f(nn.Module):
    def __init__(self, c1, c2, n, shortcut):
        super().__init__()
        self.c = c2 // 2
        self.cv1, self.cv2 = Conv(c1, 2 * self.c), Conv((2 + n) * self.c, c2)
        self.m = nn.ModuleList(Bottleneck(self.c, shortcut) for _ in range(n))

    def forward(self, x):
        y = list(self.cv1(x).chunk(2, 1))
        for m in self.m:
            y.append(m(y[-1]))
        return self.cv2(torch.cat(y, 1))


class SPPF(nn.Module):
    def __init__(self, c1, c2):
        super().__init__()
        self.cv1, self.cv2 = Conv(c1, c1 // 2), Conv(c1 * 2, c2)

    def forward(self, x):
        x = self.cv1(x)
        y1 = F.max_pool2d(x, 5, 1, 2)
        y2 = F.max_pool2d(y1, 5, 1, 2)
        return self.cv2(torch.cat([x, y1, y2, F.max_pool2d(y2, 5, 1, 2)], 1))


class Detect(nn.Module):
    def __init__(self, nc, ch):
        super().__init__()
        c2, c3 = max(16, ch[0] // 4, 64), max(ch[0], min(nc, 100))
        self.cv2 = nn.ModuleList(nn.Sequential(Conv(x, c2, 3), Conv(c2, c2, 3), nn.Conv2d(c2, 64, 1)) for x in ch)
        self.cv3 = nn.ModuleList(nn.Sequential(Conv(x, c3, 3), Conv(c3, c3, 3), nn.Conv2d(c3, nc, 1)) for x in ch)
        self.dfl = nn.Module()
        self.dfl.conv = nn.Conv2d(16, 1, 1, bias=False)  # the fixed 0..15 DFL weights; the decode is not timed

    def forward(self, xs):
        return [(b(x), c(x)) for x, b, c in zip(xs, self.cv2, self.cv3)]


class YoloV8(nn.Module):
    """The Ultralytics YOLOv8 detection layout (model.0 ... model.22)."""

    def __init__(self, w, n, nc):
        super().__init__()
        up = lambda: nn.Upsample(scale_factor=2, mode="nearest")
        self.model = nn.ModuleList([
            Conv(3, w[0], 3, 2), Conv(w[0], w[1], 3, 2), C2f(w[1], w[1], n[0], True), Conv(w[1], w[2], 3, 2),
            C2f(w[2], w[2], n[1], True), Conv(w[2], w[3], 3, 2), C2f(w[3], w[3], n[2], True), Conv(w[3], w[4], 3, 2),
            C2f(w[4], w[4], n[3], True), SPPF(w[4], w[4]), up(), nn.Identity(), C2f(w[4] + w[3], w[3], n[4], False),
            up(), nn.Identity(), C2f(w[3] + w[2], w[2], n[5], False), Conv(w[2], w[2], 3, 2), nn.Identity(),
            C2f(w[2] + w[3], w[3], n[6], False), Conv(w[3], w[3], 3, 2), nn.Identity(),
            C2f(w[3] + w[4], w[4], n[7], False), Detect(nc, (w[2], w[3], w[4]))])

    def forward(self, x):
        m = self.model
        x = m[2](m[1](m[0](x)))
        p3 = m[4](m[3](x))
        p4 = m[6](m[5](p3))
        p5 = m[9](m[8](m[7](p4)))
        h4 = m[12](torch.cat([m[10](p5), p4], 1))
        h3 = m[15](torch.cat([m[13](h4), p3], 1))
        o4 = m[18](torch.cat([m[16](h3), h4], 1))
        o5 = m[21](torch.cat([m[19](o4), p5], 1))
        return m[22]([h3, o4, o5])


def model_from_state_dict(path):
    state = torch.load(path)
    widths = [state[f"model.{i}.conv.weight"].shape[0] for i in (0, 1, 3, 5, 7)]
    repeats = [len({k.split(".")[3] for k in state if k.startswith(f"model.{i}.m.")}) for i in (2, 4, 6, 8, 12, 15, 18, 21)]
    classes = state["model.22.cv3.0.2.weight"].shape[0]
    model = YoloV8(widths, repeats, classes)
    model.load_state_dict(state)
    return model.eval()


def main():
    state_dict, count, size, threads, runs = sys.argv[1:6]
    count, size, threads, runs = int(count), int(size), int(threads), int(runs)
    torch.set_num_threads(threads)
    model = model_from_state_dict(state_dict)
    # Random canvases: the forward pass's time does not depend on pixel values.
    generator = torch.Generator().manual_seed(0)
    inputs = [torch.rand(1, 3, size, size, generator=generator) for _ in range(count)]
    timings = []
    with torch.no_grad():
        model(inputs[0])  # warm-up
        for _ in range(runs):
            start = time.perf_counter()
            for x in inputs:
                model(x)
            timings.append(1000 * (time.perf_counter() - start) / count)
    print(f"forward_ms {statistics.median(timings):.1f}")


if __name__ == "__main__":
    main()
