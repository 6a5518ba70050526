"""Which BLAS library the PyTorch baselines really run on, so a bench never quotes a ratio
against a slow one by accident. Debian's torch calls whatever /usr/lib/<arch>/libblas.so.3
points to (the alternatives system): the netlib reference BLAS (package libblas3) is 14-20x
slower than OpenBLAS at these sizes, and nothing in torch says so.

    info = blas_info()        # imports torch, runs a small matmul first
    info["blas"]              # "openblas-openmp", "openblas-pthread", "reference", "static (mkl)", ...
    info["blas_library"]      # the file torch's sgemm_ resolves to, and its real path
    ratio_refusal(info)       # None, or the reason a ratio against this baseline is not quoted
"""
import ctypes
import os
import re

_BLAS_NAME = re.compile(r"lib(open)?blas|libblis|libmkl|libatlas|libsatlas|libtatlas")


def _kind(path):
    name = os.path.basename(path)
    if "openblas" in path:
        for variant in ("openmp", "pthread", "serial"):
            if variant in path:
                return "openblas-" + variant
        return "openblas"
    if "blis" in name:
        return "blis"
    if "mkl" in name:
        return "mkl"
    if "atlas" in path:
        return "atlas"
    # Debian's netlib build lives in <libdir>/blas/; any other plain libblas is assumed to be it.
    return "reference"


class _DlInfo(ctypes.Structure):
    _fields_ = [("dli_fname", ctypes.c_char_p), ("dli_fbase", ctypes.c_void_p),
                ("dli_sname", ctypes.c_char_p), ("dli_saddr", ctypes.c_void_p)]


def _mapped(predicate):
    paths = []
    with open("/proc/self/maps") as maps:
        for line in maps:
            fields = line.split(maxsplit=5)
            if len(fields) == 6 and predicate(os.path.basename(fields[5].strip())):
                path = fields[5].strip()
                if path not in paths:
                    paths.append(path)
    return paths


def _sgemm_provider():
    """The file whose sgemm_ torch's own library binds to (its dependency order), or None."""
    torch_lib = _mapped(lambda name: name.startswith("libtorch_cpu"))
    if not torch_lib:
        return None
    try:
        sgemm = ctypes.cast(ctypes.CDLL(torch_lib[0]).sgemm_, ctypes.c_void_p)
    except AttributeError:
        return None  # no dynamic sgemm_: BLAS linked in statically
    found = _DlInfo()
    try:
        if ctypes.CDLL(None).dladdr(sgemm, ctypes.byref(found)) == 0 or not found.dli_fname:
            return None
    except AttributeError:
        return None  # a libc without dladdr
    return found.dli_fname.decode()


def blas_info():
    """The BLAS library torch's sgemm_ calls, resolved through the alternatives symlinks."""
    import torch  # here, so that ratio_refusal needs no torch
    a = torch.ones(64, 64)
    (a @ a).sum().item()  # loads a lazily bound BLAS
    provider = _sgemm_provider()
    info = {"torch": torch.__version__, "torch_threads": torch.get_num_threads()}
    if provider:
        info["blas"] = _kind(os.path.realpath(provider))
        info["blas_library"] = "%s -> %s" % (provider, os.path.realpath(provider))
    else:
        linked = re.search(r"BLAS_INFO=(\w+)", torch.__config__.show())
        info["blas"] = "static (%s)" % (linked.group(1) if linked else "unknown")
    info["blas_mapped"] = [os.path.realpath(p) for p in _mapped(_BLAS_NAME.search)]
    openblas = next((p for p in info["blas_mapped"] if "libopenblas" in p), None)
    if info["blas"].startswith("openblas") and openblas:
        try:
            lib = ctypes.CDLL(openblas)
            lib.openblas_get_corename.restype = ctypes.c_char_p
            info["openblas_core"] = lib.openblas_get_corename().decode()
            lib.openblas_get_config.restype = ctypes.c_char_p
            info["openblas_config"] = lib.openblas_get_config().decode().strip()
        except (OSError, AttributeError):
            pass  # an OpenBLAS without these entry points: the path says enough
    overrides = {k: os.environ[k] for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if k in os.environ}
    if overrides:
        info["openblas_env"] = overrides
    return info


def ratio_refusal(info):
    """Why no speed ratio may be quoted against this baseline, or None."""
    if info["blas"] == "reference":
        return ("no ratio: reference BLAS (%s); install an optimised one, e.g. libopenblas0-openmp "
                "(scripts/bootstrap --bench)" % info["blas_library"])
    return None
