#!/usr/bin/env python3
"""
ggml_crosscheck.py - development check (not run by ctest): compare edgewatt's quant
references with ggml's own, bit for bit, by calling both through ctypes.

  gcc -std=c11 -D_GNU_SOURCE -O2 -fPIC -shared -Iinclude -Isrc src/core/*.c src/quant/*.c \
      -lm -o /tmp/libewquant.so
  ../shared/tools/llamacpp-ref.sh run python3 tests/unit/quant/ggml_crosscheck.py /tmp/libewquant.so

Checks, per type: quantize (ggml's quantize_row_*_ref) gives identical bytes on many inputs;
dequantize of random blocks gives identical floats; the dot agrees with ggml-cpu's vec_dot
to float rounding; fp16/bf16 conversions agree. Prints the golden FNV-1a hashes used by
test_quant_numerics.c so they can be re-derived from ggml itself.
"""
import ctypes as C
import glob
import sys

import numpy as np

LIBDIR = "/usr/lib/x86_64-linux-gnu"
ours = C.CDLL(sys.argv[1] if len(sys.argv) > 1 else "/tmp/libewquant.so")
base = C.CDLL(LIBDIR + "/libggml-base.so.0", mode=C.RTLD_GLOBAL)

TYPES = {  # name: (ggml id, block elements, block bytes, offsets of fp16 fields, float d at 0?)
    "q4_0": (2, 32, 18, [0], False),
    "q4_1": (3, 32, 20, [0, 2], False),
    "q5_0": (6, 32, 22, [0], False),
    "q5_1": (7, 32, 24, [0, 2], False),
    "q8_0": (8, 32, 34, [0], False),
    "q8_1": (9, 32, 36, [0, 2], False),
    "q4_K": (12, 256, 144, [0, 2], False),
    "q5_K": (13, 256, 176, [0, 2], False),
    "q6_K": (14, 256, 210, [208], False),
    "q8_K": (15, 256, 292, [], True),
}
VEC_DOT_TYPE = {"q4_0": "q8_0", "q5_0": "q8_0", "q8_0": "q8_0", "q4_1": "q8_1", "q5_1": "q8_1",
                "q4_K": "q8_K", "q5_K": "q8_K", "q6_K": "q8_K"}

F = np.ctypeslib.ndpointer(dtype=np.float32, flags="C_CONTIGUOUS")
B = np.ctypeslib.ndpointer(dtype=np.uint8, flags="C_CONTIGUOUS")
ours.ew_quantize_row_ref.argtypes = [C.c_uint32, F, B, C.c_int64]
ours.ew_dequantize_row_ref.argtypes = [C.c_uint32, B, F, C.c_int64]
ours.ew_vec_dot_ref.argtypes = [C.c_uint32, C.c_int64, B, B]
ours.ew_vec_dot_ref.restype = C.c_float
ours.ew_fp32_to_fp16.argtypes = [C.c_float]
ours.ew_fp32_to_fp16.restype = C.c_uint16
ours.ew_fp16_to_fp32.argtypes = [C.c_uint16]
ours.ew_fp16_to_fp32.restype = C.c_float
ours.ew_fp32_to_bf16.argtypes = [C.c_float]
ours.ew_fp32_to_bf16.restype = C.c_uint16
base.ggml_fp32_to_fp16.argtypes = [C.c_float]
base.ggml_fp32_to_fp16.restype = C.c_uint16
base.ggml_fp16_to_fp32.argtypes = [C.c_uint16]
base.ggml_fp16_to_fp32.restype = C.c_float
base.ggml_fp32_to_bf16.argtypes = [C.c_float]
base.ggml_fp32_to_bf16.restype = C.c_uint16
for name in TYPES:
    q = getattr(base, "quantize_row_%s_ref" % name)
    q.argtypes = [F, B, C.c_int64]
    if name != "q8_1":
        d = getattr(base, "dequantize_row_%s" % name)
        d.argtypes = [B, F, C.c_int64]

failures = 0


def fail(msg):
    global failures
    failures += 1
    print("FAIL:", msg)


def quantize(lib_is_ours, name, x):
    tid, qk, size, _, _ = TYPES[name]
    out = np.zeros(len(x) // qk * size, dtype=np.uint8)
    if lib_is_ours:
        ours.ew_quantize_row_ref(tid, x, out, len(x))
    else:
        getattr(base, "quantize_row_%s_ref" % name)(x, out, len(x))
    return out


def mask_q8_K_zero_blocks(buf):
    """ggml leaves bsums unwritten for an all-zero Q8_K block; ignore them there."""
    b = buf.reshape(-1, 292).copy()
    d = b[:, :4].copy().view(np.float32).ravel()
    b[d == 0, 260:] = 0
    return b.ravel()


def inputs(rng):
    """Rows of 1024 floats: distributions that exercise every branch of the quantizers."""
    n = 1024
    yield "gauss", rng.standard_normal(n)
    yield "gauss*1e-3", rng.standard_normal(n) * 1e-3
    yield "gauss*300", rng.standard_normal(n) * 300
    yield "uniform+", rng.uniform(0, 1, n)
    yield "uniform-", -rng.uniform(0, 1, n)
    yield "laplace", rng.laplace(0, 1, n)
    x = rng.standard_normal(n)
    x[::97] *= 40
    yield "outliers", x
    x = rng.standard_normal(n)
    x[256:512] = 0
    x[32:64] = 0
    yield "zero blocks", x
    x = rng.standard_normal(n)
    x[512:768] = 0.75
    x[0:32] = -2.0
    yield "constant blocks", x
    yield "ints", rng.integers(-8, 8, n).astype(np.float64)
    yield "tiny", rng.standard_normal(n) * 1e-9


def check_quantize(rng):
    for trial in range(30):
        for label, x in inputs(rng):
            x = np.ascontiguousarray(x, dtype=np.float32)
            for name in TYPES:
                a, b = quantize(True, name, x), quantize(False, name, x)
                if name == "q8_K":
                    a, b = mask_q8_K_zero_blocks(a), mask_q8_K_zero_blocks(b)
                if not np.array_equal(a, b):
                    size = TYPES[name][2]
                    blk = int(np.nonzero(a != b)[0][0]) // size
                    fail("quantize %s on %s (trial %d): bytes differ, first in block %d"
                         % (name, label, trial, blk))


def random_blocks(rng, name, nblocks):
    _, qk, size, half_offs, float_d = TYPES[name]
    b = rng.integers(0, 256, nblocks * size, dtype=np.uint8).reshape(nblocks, size)
    for off in half_offs:  # finite fp16 in +-[2^-10, 2^3]
        h = np.float16(rng.uniform(2 ** -10, 8, nblocks) * rng.choice([-1, 1], nblocks))
        b[:, off:off + 2] = h.view(np.uint8).reshape(nblocks, 2)
    if float_d:
        b[:, 0:4] = np.float32(rng.uniform(-1, 1, nblocks)).view(np.uint8).reshape(nblocks, 4)
    return np.ascontiguousarray(b.ravel()), nblocks * qk


def check_dequantize(rng):
    for name in TYPES:
        if name == "q8_1":
            continue
        blocks, n = random_blocks(rng, name, 64)
        ya = np.zeros(n, dtype=np.float32)
        yb = np.zeros(n, dtype=np.float32)
        ours.ew_dequantize_row_ref(TYPES[name][0], blocks, ya, n)
        getattr(base, "dequantize_row_%s" % name)(blocks, yb, n)
        if not np.array_equal(ya.view(np.uint32), yb.view(np.uint32)):
            i = int(np.nonzero(ya != yb)[0][0])
            fail("dequantize %s: element %d %r vs ggml %r" % (name, i, ya[i], yb[i]))


def check_fp16():
    for h in range(65536):
        a, b = ours.ew_fp16_to_fp32(h), base.ggml_fp16_to_fp32(h)
        if not (a == b or (a != a and b != b)):
            fail("fp16_to_fp32(0x%04x): %r vs %r" % (h, a, b))
            break
    rng = np.random.default_rng(7)
    bits = rng.integers(0, 2 ** 32, 200000, dtype=np.uint64).astype(np.uint32)
    for u in bits:
        f = float(np.uint32(u).view(np.float32))
        if f != f:
            continue
        if ours.ew_fp32_to_fp16(f) != base.ggml_fp32_to_fp16(f):
            fail("fp32_to_fp16(0x%08x)" % u)
            break
    for u in list(bits) + [0x7F800001, 0xFFC00001, 0x7F7FFFFF, 0x3F808000, 0x00018000]:
        f = float(np.uint32(u).view(np.float32))
        if ours.ew_fp32_to_bf16(f) != base.ggml_fp32_to_bf16(f):
            fail("fp32_to_bf16(0x%08x): 0x%04x vs 0x%04x"
                 % (u, ours.ew_fp32_to_bf16(f), base.ggml_fp32_to_bf16(f)))
            break


class TraitsCPU(C.Structure):
    _fields_ = [("from_float", C.c_void_p), ("vec_dot", C.c_void_p),
                ("vec_dot_type", C.c_int), ("nrows", C.c_int64)]


VEC_DOT = C.CFUNCTYPE(None, C.c_int, C.POINTER(C.c_float), C.c_size_t, C.c_void_p, C.c_size_t,
                      C.c_void_p, C.c_size_t, C.c_int)


def check_dot(rng):
    libs = glob.glob(LIBDIR + "/ggml/backends0/libggml-cpu-haswell.so")
    if not libs:
        print("skip dot: no ggml-cpu")
        return
    cpu = C.CDLL(libs[0])
    cpu.ggml_cpu_init()
    cpu.ggml_get_type_traits_cpu.restype = C.POINTER(TraitsCPU)
    for name, act in VEC_DOT_TYPE.items():
        tr = cpu.ggml_get_type_traits_cpu(TYPES[name][0]).contents
        dot = VEC_DOT(tr.vec_dot)
        for nb in (1, 2, 3, 5, 8):
            n = nb * TYPES[name][1]
            w = quantize(True, name, rng.standard_normal(n).astype(np.float32))
            a = quantize(True, act, rng.standard_normal(n).astype(np.float32))
            s = C.c_float()
            dot(n, C.byref(s), 0, w.ctypes.data, 0, a.ctypes.data, 0, 1)
            mine = ours.ew_vec_dot_ref(TYPES[name][0], n, w, a)
            if abs(mine - s.value) > 1e-5 * max(1.0, abs(s.value)) + 1e-3:
                fail("dot %s x %s n=%d: %r vs ggml %r" % (name, act, n, mine, s.value))


def golden():
    """FNV-1a of quantize(golden input) per type; the input is rebuilt in C by the test."""
    n = 4096
    s, vals = 12345, []
    for _ in range(n):
        k = 0
        for _ in range(4):
            s = (s * 1664525 + 1013904223) & 0xFFFFFFFF
            k += (s >> 16) % 1001 - 500
        vals.append(k)
    x = (np.array(vals, dtype=np.float32) / np.float32(512.0)).astype(np.float32)
    x[256:288] = 0  # a zero sub-block
    x[512:768] = np.float32(0.75)  # a constant super-block
    x[300] = np.float32(37.5)  # an outlier
    x = np.ascontiguousarray(x)
    for name in TYPES:
        b = quantize(False, name, x).tobytes()
        h = 0xCBF29CE484222325
        for c in b:
            h = ((h ^ c) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
        print("golden %-5s 0x%016XULL" % (name, h))


if __name__ == "__main__":
    rng = np.random.default_rng(12345)
    check_fp16()
    check_quantize(rng)
    check_dequantize(rng)
    check_dot(rng)
    golden()
    print("FAILURES: %d" % failures if failures else "all checks agree with ggml")
    sys.exit(1 if failures else 0)
