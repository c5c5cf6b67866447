#!/usr/bin/env python3
"""Random layer programs for the layer bench (make random-layers).

Writes a fake run folder, <out>/stage_7 (yq_params.vh, program.hex,
lut_dir.hex, weight_mem.hex, bias_mem.hex, requant_mem.hex, lut_mem.hex,
manifest.json) and <out>/stage_8/golden (<layer>.hex, manifest.json), in the
formats of docs/ARTIFACTS.md, for a random graph of small layers whose shapes
and numbers go well beyond YOLOv8n's: kernels 1..7 (even ones too), strides
1..3, any padding below the kernel (and pad rows above the input other
than the padding, as a band program's bands have), non-zero pad codes, 1..20 channels,
inputs narrower than the array, activation bits 2..16 per layer (direct and
interpolated tables), weights 2..16 bits, requant shifts from 0 to past the
product's width (saturation both ways), adds, concats of 1..8 inputs with
their own rescales, max-pools with any kernel and padding (and pad rows), upsamples of odd
sizes. The golden codes come from a plain Python transcription of
docs/ARITHMETIC.md sections 2-6 (independent of the C++ reference). The tables
hold random codes, not SiLU: the RTL must not care.

Descriptor and LUT directory field positions and widths, op codes and the
format version come from rtl/yq_format.vh (generated from the compiler's
format tables), as in the RTL. Two profiles fix every width and depth of
yq_params.vh (so one Verilator build serves every seed): `narrow` (8-bit feature-map and weight words, codes
of 2..8 bits, 32-bit accumulators) and `wide` (16-bit words, 2..16 bits,
48-bit accumulators).

usage: gen_random_layers.py <out dir> [--seed N] [--profile narrow|wide] [--nodes N]
"""
import argparse
import json
import os
import random
import re

MAX_DIM_BITS = 7
PROFILES = {
    "narrow": dict(fmap=8, weight=8, acc=32, max_bits=8),
    "wide": dict(fmap=16, weight=16, acc=48, max_bits=16),
}
FORMAT_VH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "rtl", "yq_format.vh")


def read_format(path):
    """The integer localparams of yq_format.vh, by name."""
    with open(path) as text:
        return {m.group(1): int(m.group(2))
                for m in re.finditer(r"localparam\s+integer\s+(\w+)\s*=\s*(-?\d+)\s*;", text.read())}


def weight_rows(taps_per_channel):
    """A convolution's weights in the weight memory's row order (docs/ARTIFACTS.md
    section 3): row (g, t) holds tap t of output channels g*GROUP .. + GROUP - 1,
    zero past the last channel."""
    group = FORMAT["YQ_WEIGHT_GROUP"]
    taps = len(taps_per_channel[0])
    rows = []
    for g in range(0, len(taps_per_channel), group):
        channels = taps_per_channel[g:g + group]
        for t in range(taps):
            rows.extend(channels[c][t] if c < len(channels) else 0 for c in range(group))
    return rows


def fields_of(fmt, prefix):
    """(NAME, lsb, width) of every <prefix>_<NAME>_LSB / _WIDTH pair, lowest first."""
    names = [k[len(prefix) + 1:-4] for k in fmt if k.startswith(prefix + "_") and k.endswith("_LSB")]
    return sorted(((n, fmt["%s_%s_LSB" % (prefix, n)], fmt["%s_%s_WIDTH" % (prefix, n)]) for n in names),
                  key=lambda f: f[1])


FORMAT = read_format(FORMAT_VH)
MULT_BITS = 16
SHIFT_BITS = FORMAT["YQ_SHIFT_BITS"]
LUT_WIDTH = 16
DEPTHS = dict(PROGRAM=64, LUT_DIR=64, WEIGHT=1 << 17, BIAS=4096, REQUANT=4096, LUT=1 << 17, FMAP=1 << 18)
OPS = {k[len("YQ_OP_"):]: v for k, v in FORMAT.items() if k.startswith("YQ_OP_")}
MAX_INPUTS = FORMAT["YQ_MAX_INPUTS"]
NONE16, NONE32 = FORMAT["YQ_NONE_16"], FORMAT["YQ_NONE_32"] & 0xFFFFFFFF

# Descriptor fields of docs/ARTIFACTS.md section 4 and LUT directory fields: (name, lsb, width).
FIELDS = fields_of(FORMAT, "YQ_PROG")  # VIEW stays 0: every random layer is computed
PROGRAM_WIDTH = FORMAT["YQ_PROG_WORD_BITS"]
LUTDIR_FIELDS = fields_of(FORMAT, "YQ_LUTDIR")
LUTDIR_WIDTH = FORMAT["YQ_LUTDIR_WORD_BITS"]


def lo(bits):
    return -(1 << (bits - 1))


def hi(bits):
    return (1 << (bits - 1)) - 1


def saturate(v, bits):
    return min(max(v, lo(bits)), hi(bits))


def rounding_shift(v, s):
    return v if s == 0 else (v + (1 << (s - 1))) >> s


def requantize(acc, m, s, bits):
    return saturate(rounding_shift(acc * m, s), bits)


def table_value(table, p, index_bits, knot_bits):
    o = p + (1 << (index_bits - 1))
    if knot_bits == index_bits:
        return table[o]
    step = index_bits - knot_bits
    i, f = o >> step, o & ((1 << step) - 1)
    return table[i] + rounding_shift((table[i + 1] - table[i]) * f, step)


def hexword(value, bits):
    digits = (bits + 3) // 4
    return "%0*x" % (digits, value & ((1 << bits) - 1))


class Node:
    def __init__(self, name, op, c, h, w, bits, codes):
        self.name, self.op, self.c, self.h, self.w, self.bits, self.codes = name, op, c, h, w, bits, codes
        self.fields = {}

    def at(self, c, y, x):
        return self.codes[(c * self.h + y) * self.w + x]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--profile", choices=sorted(PROFILES), default="wide")
    parser.add_argument("--nodes", type=int, default=40)
    args = parser.parse_args()
    prof = PROFILES[args.profile]
    rng = random.Random(args.seed * 1000 + (1 if args.profile == "wide" else 0))
    max_bits = prof["max_bits"]

    nodes, weights, biases, requants, luts, lut_dir = [], [], [], [], [], []

    def random_bits(low=2):
        return rng.choice([rng.randint(low, max_bits), max_bits, min(8, max_bits)])

    def random_codes(n, bits):
        return [rng.choice([lo(bits), hi(bits), 0, rng.randint(lo(bits), hi(bits))]) if rng.random() < 0.1
                else rng.randint(lo(bits), hi(bits)) for _ in range(n)]

    def add_node(node):
        node.fields.setdefault("NODE", len(nodes))
        nodes.append(node)
        return node

    def multiplier():
        return rng.randint(1 << (MULT_BITS - 1), (1 << MULT_BITS) - 1) if rng.random() < 0.8 \
            else rng.randint(1, (1 << MULT_BITS) - 1)

    def shift_for(max_abs, bits):
        # A shift that maps max_abs * 2^MULT_BITS to about 2^(bits-1), give or take.
        s = max(0, max_abs.bit_length() + MULT_BITS - (bits - 1) + rng.randint(-3, 2))
        return min(s, 62) if rng.random() < 0.9 else rng.choice([0, 62, s + 8])

    # Node 0: the image.
    h, w = rng.randint(5, 14), rng.randint(5, 14)
    add_node(Node("input", "input", 3, h, w, 8, random_codes(3 * h * w, 8)))
    nodes[0].fields.update(OP=OPS["INPUT"], NUM_INPUTS=0, OUT_BITS=8)

    def conv(src, k=None, stride=None, out_c=None, act=None):
        k = k or rng.choice([1, 1, 2, 3, 3, 3, 5, 7])
        stride = stride or rng.choice([1, 1, 1, 2, 2, 3])
        pad = rng.randint(0, k - 1)
        pad_top = pad if rng.random() < 0.5 else rng.randint(0, k - 1)  # a band program's band: fewer rows above
        oh, ow = (src.h + pad_top + pad - k) // stride + 1, (src.w + 2 * pad - k) // stride + 1
        if oh < 1 or ow < 1:
            k, stride, pad, pad_top = 1, 1, 0, 0
            oh, ow = src.h, src.w
        out_c = out_c or rng.choice([1, 2, 3, rng.randint(1, 20), rng.randint(1, 20)])
        wbits = random_bits()
        pre_bits = random_bits(3)
        act = rng.random() < 0.75 if act is None else act
        out_bits = random_bits() if act else pre_bits
        pad_code = -128 if src.op == "input" else (0 if rng.random() < 0.5 else rng.randint(lo(src.bits), hi(src.bits)))
        wmax = hi(wbits)
        w = [[[[rng.randint(-wmax, wmax) for _ in range(k)] for _ in range(k)] for _ in range(src.c)]
             for _ in range(out_c)]
        xmax = max([abs(v) for v in src.codes] + [abs(pad_code)])
        bound = max(sum(abs(v) for plane in w[o] for row in plane for v in row) for o in range(out_c)) * xmax
        bmax = max(1, min(bound + 1, 1 << (prof["acc"] - 3)))
        b = [rng.randint(-bmax, bmax) for _ in range(out_c)]
        acc_bits = max(bound + bmax, 1).bit_length() + 1
        assert acc_bits <= prof["acc"], "accumulator too wide for the profile"
        rq = []
        accs = []
        for o in range(out_c):
            plane = []
            for y in range(oh):
                for x in range(ow):
                    a = b[o]
                    for i in range(src.c):
                        for ky in range(k):
                            iy = y * stride + ky - pad_top
                            for kx in range(k):
                                ix = x * stride + kx - pad
                                v = src.at(i, iy, ix) if 0 <= iy < src.h and 0 <= ix < src.w else pad_code
                                a += w[o][i][ky][kx] * v
                    plane.append(a)
            accs.append(plane)
            rq.append((multiplier(), shift_for(max(1, max(abs(a) for a in plane)), pre_bits)))
        pre = [requantize(a, rq[o][0], rq[o][1], pre_bits) for o in range(out_c) for a in accs[o]]
        node = Node("n%d.conv" % len(nodes), "conv", out_c, oh, ow, out_bits, None)
        lut_id = NONE16
        if act:
            knot_bits = pre_bits if pre_bits <= 12 else 12
            depth = (1 << pre_bits) if knot_bits == pre_bits else (1 << 12) + 1
            table = random_codes(depth, out_bits)
            if rng.random() < 0.5:  # a smooth table too: interpolation between close knots
                table = sorted(table)
            lut_id = len(lut_dir)
            lut_dir.append(dict(BASE=len(luts), DEPTH=depth, KIND=0, INDEX_BITS=pre_bits, KNOT_BITS=knot_bits,
                                VALUE_BITS=out_bits))
            luts.extend(table)
            node.codes = [table_value(table, p, pre_bits, knot_bits) for p in pre]
            assert all(lo(out_bits) <= v <= hi(out_bits) for v in node.codes)
        else:
            node.codes = pre
        node.fields.update(OP=OPS["CONV"], NUM_INPUTS=1, KERNEL=k, STRIDE=stride, PAD=pad, PAD_TOP=pad_top,
                           IN_BITS=src.bits,
                           OUT_BITS=out_bits, PRE_BITS=pre_bits, WEIGHT_BITS=wbits, ACC_BITS=acc_bits,
                           ACT_LUT=lut_id, PAD_CODE=pad_code & 0xFFFF, WEIGHT_BASE=len(weights),
                           BIAS_BASE=len(biases), REQUANT_BASE=len(requants), inputs=[src])
        node.pre = (pre, pre_bits) if act else None
        weights.extend(weight_rows([[v for plane in o for row in plane for v in row] for o in w]))
        biases.extend(b)
        requants.extend(rq)
        return add_node(node)

    def eltwise_out_bits(srcs):
        return random_bits() if rng.random() < 0.7 else max(s.bits for s in srcs)

    while len(nodes) < args.nodes:
        op = rng.choice(["conv", "conv", "conv", "slice", "add", "concat", "concat", "maxpool", "upsample"])
        src = rng.choice(nodes)
        if op == "conv":
            conv(src)
        elif op == "slice" and src.c >= 2:
            cb = rng.randint(0, src.c - 1)
            oc = rng.randint(1, src.c - cb)
            node = Node("n%d.slice" % len(nodes), "slice", oc, src.h, src.w, src.bits,
                        [src.at(cb + c, y, x) for c in range(oc) for y in range(src.h) for x in range(src.w)])
            node.fields.update(OP=OPS["SLICE"], NUM_INPUTS=1, IN_BITS=src.bits, OUT_BITS=src.bits,
                               CHANNEL_BEGIN=cb, inputs=[src])
            add_node(node)
        elif op == "add":
            other = conv(src, k=rng.choice([1, 3]), stride=1, out_c=src.c) if rng.random() < 0.5 else None
            if other is None or (other.h, other.w) != (src.h, src.w):
                same = [n for n in nodes if (n.c, n.h, n.w) == (src.c, src.h, src.w) and n is not src]
                if not same:
                    continue
                other = rng.choice(same)
            bits = eltwise_out_bits([src, other])
            ma, mb = multiplier(), multiplier()
            s = shift_for(max(1, max(abs(v) for v in src.codes + other.codes)), bits)
            node = Node("n%d.add" % len(nodes), "add", src.c, src.h, src.w, bits,
                        [saturate(rounding_shift(a * ma + b * mb, s), bits) for a, b in zip(src.codes, other.codes)])
            node.fields.update(OP=OPS["ADD"], NUM_INPUTS=2, IN_BITS=src.bits, OUT_BITS=bits,
                               REQUANT_BASE=len(requants), inputs=[src, other])
            requants.extend([(ma, s), (mb, s)])
            add_node(node)
        elif op == "concat":
            same = [n for n in nodes if (n.h, n.w) == (src.h, src.w)]
            srcs = [rng.choice(same) for _ in range(rng.randint(1, MAX_INPUTS))]
            if sum(s.c for s in srcs) > 60:
                continue
            bits = eltwise_out_bits(srcs)
            codes, words = [], []
            for s_node in srcs:
                if rng.random() < 0.3:
                    m, s = 1, 0
                else:
                    m, s = multiplier(), shift_for(max(1, max(abs(v) for v in s_node.codes)), bits)
                words.append((m, s))
                codes.extend(saturate(rounding_shift(q * m, s), bits) for q in s_node.codes)
            node = Node("n%d.concat" % len(nodes), "concat", sum(s.c for s in srcs), src.h, src.w, bits, codes)
            node.fields.update(OP=OPS["CONCAT"], NUM_INPUTS=len(srcs), IN_BITS=srcs[0].bits, OUT_BITS=bits,
                               REQUANT_BASE=len(requants), inputs=srcs)
            requants.extend(words)
            add_node(node)
        elif op == "maxpool":
            k = rng.choice([2, 3, 5])
            pad = rng.randint(0, k - 1)
            pad_top = pad if rng.random() < 0.5 else rng.randint(0, k - 1)
            oh, ow = src.h + pad_top + pad - k + 1, src.w + 2 * pad - k + 1
            if oh < 1 or ow < 1:
                continue
            codes = []
            for c in range(src.c):
                for y in range(oh):
                    for x in range(ow):
                        taps = [src.at(c, y + ky - pad_top, x + kx - pad) for ky in range(k) for kx in range(k)
                                if 0 <= y + ky - pad_top < src.h and 0 <= x + kx - pad < src.w]
                        if not taps:
                            break
                        codes.append(max(taps))
            if len(codes) != src.c * oh * ow:
                continue  # a window entirely in the padding: undefined
            node = Node("n%d.maxpool" % len(nodes), "maxpool", src.c, oh, ow, src.bits, codes)
            node.fields.update(OP=OPS["MAXPOOL"], NUM_INPUTS=1, KERNEL=k, STRIDE=1, PAD=pad, PAD_TOP=pad_top,
                               IN_BITS=src.bits,
                               OUT_BITS=src.bits, inputs=[src])
            add_node(node)
        elif op == "upsample" and src.h * src.w <= 100:
            node = Node("n%d.upsample" % len(nodes), "upsample", src.c, 2 * src.h, 2 * src.w, src.bits,
                        [src.at(c, y // 2, x // 2) for c in range(src.c) for y in range(2 * src.h)
                         for x in range(2 * src.w)])
            node.fields.update(OP=OPS["UPSAMPLE"], NUM_INPUTS=1, IN_BITS=src.bits, OUT_BITS=src.bits, inputs=[src])
            add_node(node)

    # Memory layout and descriptors.
    base = 0
    for node in nodes:
        node.fields["OUT_BASE"] = base
        base += node.c * node.h * node.w
    assert base <= DEPTHS["FMAP"] and len(weights) <= DEPTHS["WEIGHT"] and len(biases) <= DEPTHS["BIAS"]
    assert len(requants) <= DEPTHS["REQUANT"] and len(luts) <= DEPTHS["LUT"] and len(nodes) <= DEPTHS["PROGRAM"]
    assert len(lut_dir) <= DEPTHS["LUT_DIR"]
    program = []
    for node in nodes:
        f = dict(ACT_LUT=NONE16, HEAD_LUT=NONE16, WEIGHT_BASE=NONE32, BIAS_BASE=NONE32, REQUANT_BASE=NONE32)
        f.update({"INPUT%d" % k: NONE16 for k in range(MAX_INPUTS)})
        f.update({"IN_BASE%d" % k: NONE32 for k in range(MAX_INPUTS)})
        f.update(OUT_C=node.c, OUT_H=node.h, OUT_W=node.w)
        f.update({k: v for k, v in node.fields.items() if k != "inputs"})
        srcs = node.fields.get("inputs", [])
        if srcs:
            f.update(IN_C=srcs[0].c, IN_H=srcs[0].h, IN_W=srcs[0].w)
        for k, s_node in enumerate(srcs):
            f["INPUT%d" % k] = nodes.index(s_node)
            f["IN_BASE%d" % k] = s_node.fields["OUT_BASE"]
        word = 0
        for name, lsb, width in FIELDS:
            value = f.get(name, 0)
            assert 0 <= value < (1 << width), (node.name, name, value)
            word |= value << lsb
        program.append(hexword(word, PROGRAM_WIDTH))

    stage7 = os.path.join(args.out, "stage_7")
    golden = os.path.join(args.out, "stage_8", "golden")
    os.makedirs(stage7, exist_ok=True)
    os.makedirs(golden, exist_ok=True)

    def write_lines(path, lines):
        with open(path, "w") as out:
            out.write("".join(line + "\n" for line in lines) if lines else "0\n")

    write_lines(os.path.join(stage7, "program.hex"), program)
    lut_words = []
    for entry in lut_dir:
        word = 0
        for name, lsb, width in LUTDIR_FIELDS:
            word |= entry[name] << lsb
        lut_words.append(hexword(word, LUTDIR_WIDTH))
    write_lines(os.path.join(stage7, "lut_dir.hex"), lut_words)
    write_lines(os.path.join(stage7, "weight_mem.hex"), [hexword(v, prof["weight"]) for v in weights])
    write_lines(os.path.join(stage7, "bias_mem.hex"), [hexword(v, prof["acc"]) for v in biases])
    write_lines(os.path.join(stage7, "requant_mem.hex"),
                [hexword((s << MULT_BITS) | m, MULT_BITS + SHIFT_BITS) for m, s in requants])
    write_lines(os.path.join(stage7, "lut_mem.hex"), [hexword(v, LUT_WIDTH) for v in luts])

    vh = ["// yq_params.vh of a random layer program (rtl_tb/gen_random_layers.py, profile %s)." % args.profile,
          "localparam integer YQ_PARAMS_FORMAT_VERSION = %d;" % FORMAT["YQ_FORMAT_VERSION"],
          "localparam integer YQ_NUM_LAYERS = %d;" % len(nodes)]
    widths = dict(PROGRAM=PROGRAM_WIDTH, LUT_DIR=LUTDIR_WIDTH, WEIGHT=prof["weight"], BIAS=prof["acc"], REQUANT=MULT_BITS + SHIFT_BITS,
                  LUT=LUT_WIDTH, FMAP=prof["fmap"])
    files = dict(PROGRAM="program.hex", LUT_DIR="lut_dir.hex", WEIGHT="weight_mem.hex", BIAS="bias_mem.hex",
                 REQUANT="requant_mem.hex", LUT="lut_mem.hex")
    for mem in ["PROGRAM", "LUT_DIR", "WEIGHT", "BIAS", "REQUANT", "LUT", "FMAP"]:
        vh.append("localparam integer YQ_%s_WIDTH = %d;" % (mem, widths[mem]))
        vh.append("localparam integer YQ_%s_DEPTH = %d;" % (mem, DEPTHS[mem]))
        vh.append("localparam integer YQ_%s_ADDR_BITS = %d;" % (mem, max(1, (DEPTHS[mem] - 1).bit_length())))
        if mem in files:
            vh.append('localparam YQ_%s_FILE = "%s";' % (mem, files[mem]))
    vh += ["localparam integer YQ_WEIGHT_BITS = %d;" % prof["weight"],
           "localparam integer YQ_ACT_BITS = %d;" % prof["fmap"],
           "localparam integer YQ_FMAP_PLANES = 0;",  # every code in one word
           "localparam integer YQ_PRE_BITS = %d;" % prof["fmap"],
           "localparam integer YQ_ACC_BITS = %d;" % prof["acc"],
           "localparam integer YQ_MULT_BITS = %d;" % MULT_BITS,
           # codes wider than 12 bits may draw an interpolated table (random_program)
           "localparam integer YQ_TABLE_INTERPOLATED = %d;" % (1 if prof["max_bits"] > 12 else 0)]
    # Heights and widths of at most 7 bits (inputs of 5..14 and upsamples of
    # at most 100 pixels give 28 at most): the conv engine's narrow
    # coordinates, the same every seed.
    assert all(max(n.h, n.w) < (1 << MAX_DIM_BITS) for n in nodes)
    vh += ["localparam integer YQ_MAX_DIM_BITS = %d;" % MAX_DIM_BITS]
    # The requant units take every shift (random shifts include 0 and 62):
    # the whole field, the same for every seed.
    vh += ["localparam integer YQ_CONV_SHIFT_MIN = 0;",
           "localparam integer YQ_CONV_SHIFT_MAX = %d;" % ((1 << SHIFT_BITS) - 1)]
    vh += ["localparam integer YQ_REQUANT_MULTIPLIER_LSB = 0;",
           "localparam integer YQ_REQUANT_MULTIPLIER_WIDTH = %d;" % MULT_BITS,
           "localparam integer YQ_REQUANT_SHIFT_LSB = %d;" % MULT_BITS,
           "localparam integer YQ_REQUANT_SHIFT_WIDTH = %d;" % SHIFT_BITS]
    write_lines(os.path.join(stage7, "yq_params.vh"), vh)

    manifest = dict(format_version=FORMAT["YQ_FORMAT_VERSION"], layers=[dict(node=i, layer=n.name, op=n.op, shape=[n.c, n.h, n.w])
                                              for i, n in enumerate(nodes)])
    with open(os.path.join(stage7, "manifest.json"), "w") as out:
        json.dump(manifest, out, indent=2, sort_keys=True)

    golden_files = []
    for node in nodes:
        tensors = [(node.name, node.codes, node.bits)]
        if getattr(node, "pre", None):
            tensors.append((node.name + ".pre", node.pre[0], node.pre[1]))
        for tensor, codes, bits in tensors:
            write_lines(os.path.join(golden, tensor + ".hex"), [hexword(v, bits) for v in codes])
            golden_files.append(dict(file=tensor + ".hex", tensor=tensor, bits=bits, shape=[1, node.c, node.h, node.w]))
    with open(os.path.join(golden, "manifest.json"), "w") as out:
        json.dump(dict(files=golden_files, format="random layer program"), out, indent=2, sort_keys=True)

    counts = {}
    for node in nodes[1:]:
        counts[node.op] = counts.get(node.op, 0) + 1
    print("RANDOM seed %d profile %s: %d layers (%s), %d MACs of convolution" % (
        args.seed, args.profile, len(nodes) - 1, ", ".join("%d %s" % (v, k) for k, v in sorted(counts.items())),
        sum(n.c * n.h * n.w * n.fields["inputs"][0].c * n.fields["KERNEL"] ** 2 for n in nodes if n.op == "conv")))


if __name__ == "__main__":
    main()
