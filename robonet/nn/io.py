"""Saving and loading a network: one .npz file, no pickle.

Layout of the file (a NumPy .npz archive, readable with ``numpy.load(path, allow_pickle=False)``):

* ``__robonet__``: a uint8 array holding UTF-8 JSON: ``{"format": "robonet-network",
  "version": 1, "robonet_version", "dtype", "architecture": [layer dicts], "metadata": {...},
  "extra_arrays": [names]}``;
* ``W1, b1, W2, b2, ...``: the parameters, W_l of shape (output_dim, input_dim), in ``dtype``;
* ``extra.<name>``: arrays the caller stores beside the network (e.g. input standardisation).

The file is written to a temporary name in the same folder and renamed over the target, so a
crash never leaves a half-written model under the real name. Loading checks the format tag and
version, the architecture, and every array's name, shape, dtype and finiteness before use; any
fault raises :class:`robonet.errors.DataError` naming the file.
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from robonet.errors import DataError, load_failure

if TYPE_CHECKING:  # pragma: no cover
    from robonet.nn.network import Network

HEADER = "__robonet__"
FORMAT = "robonet-network"
VERSION = 1
EXTRA_PREFIX = "extra."


def _npz_path(path: str | os.PathLike) -> Path:
    path = Path(path)
    return path if path.suffix == ".npz" else path.with_name(path.name + ".npz")


def save(
    net: "Network",
    path: str | os.PathLike,
    *,
    metadata: dict[str, Any] | None = None,
    extra_arrays: dict[str, np.ndarray] | None = None,
) -> Path:
    """Write ``net`` (and metadata, extra arrays) to ``path`` atomically; returns the real path
    (".npz" is appended when the name lacks it, as numpy.savez does)."""
    from robonet import __version__

    path = _npz_path(path)
    metadata = {} if metadata is None else metadata
    if not isinstance(metadata, dict):
        raise ValueError(f"metadata must be a dict, got {type(metadata).__name__}")
    arrays: dict[str, np.ndarray] = {}
    for index, (W, b) in enumerate(zip(net._W, net._b), start=1):
        arrays[f"W{index}"], arrays[f"b{index}"] = W, b
    for name, value in arrays.items():  # load refuses such a file: refuse to write it
        if not np.isfinite(value).all():
            raise ValueError(f"not saving {path}: parameter {name} contains NaN or inf")
    extras = {} if extra_arrays is None else dict(extra_arrays)
    for name, value in extras.items():
        if not isinstance(name, str) or not name:
            raise ValueError(f"extra_arrays keys must be non-empty strings, got {name!r}")
        value = np.asarray(value)
        if value.dtype.hasobject:
            raise ValueError(f"extra array {name!r} has dtype object, which cannot be saved without pickle")
        arrays[EXTRA_PREFIX + name] = value
    header = {
        "format": FORMAT,
        "version": VERSION,
        "robonet_version": __version__,
        "dtype": net.dtype.name,
        "architecture": net.architecture,
        "metadata": metadata,
        "extra_arrays": sorted(extras),
    }
    try:
        text = json.dumps(header)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"metadata is not JSON-serializable: {exc}") from None
    arrays[HEADER] = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            np.savez(handle, **arrays)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return path


def _read_arrays(path: Path) -> dict[str, np.ndarray]:
    try:
        data = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise
    except Exception as exc:  # zip, pickle, header or I/O faults: all mean "not our file"
        raise DataError(f"{path}: not a robonet network file ({load_failure(exc)})") from None
    if not isinstance(data, np.lib.npyio.NpzFile):
        raise DataError(f"{path}: holds a single array, not a robonet network (.npz) file")
    with data:
        if HEADER not in data.files:
            raise DataError(
                f"{path}: not a robonet network file (no {HEADER!r} entry; it holds {sorted(data.files)[:6]})"
            )
        try:
            return {name: data[name] for name in data.files}
        except Exception as exc:  # a truncated or corrupted member
            raise DataError(f"{path}: corrupt file ({type(exc).__name__}: {exc})") from None


def _read_header(path: Path, raw: np.ndarray) -> dict[str, Any]:
    if raw.dtype != np.uint8 or raw.ndim != 1:
        raise DataError(f"{path}: header {HEADER!r} is not a uint8 byte array")
    try:
        header = json.loads(raw.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"{path}: header {HEADER!r} is not valid JSON ({exc})") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise DataError(f"{path}: not a robonet network file (format tag {header.get('format') if isinstance(header, dict) else None!r})")
    version = header.get("version")
    if not isinstance(version, int) or version < 1:
        raise DataError(f"{path}: bad format version {version!r}")
    if version > VERSION:
        raise DataError(
            f"{path}: written in format version {version} by a newer robonet; this one reads version {VERSION}"
        )
    for key, kind in (("architecture", list), ("metadata", dict), ("extra_arrays", list), ("dtype", str)):
        if not isinstance(header.get(key), kind):
            raise DataError(f"{path}: header field {key!r} is missing or not a {kind.__name__}")
    return header


def load(path: str | os.PathLike) -> tuple["Network", dict[str, Any], dict[str, np.ndarray]]:
    """Read a file written by :func:`save`: returns (network, metadata, extra_arrays).

    Raises FileNotFoundError when there is no such file, DataError when the file is corrupt,
    truncated, foreign, or its arrays do not match the architecture it declares.
    """
    from robonet.nn.network import Network

    path = Path(path)
    if not path.exists() and _npz_path(path).exists():  # save("m") wrote m.npz
        path = _npz_path(path)
    arrays = _read_arrays(path)
    header = _read_header(path, arrays.pop(HEADER))
    try:
        net = Network(header["architecture"], dtype=header["dtype"], init="xavier")
    except ValueError as exc:
        raise DataError(f"{path}: {exc}") from None

    expected: dict[str, tuple[int, ...]] = {}
    for index, layer in enumerate(net.layers, start=1):
        expected[f"W{index}"] = (layer.output_dim, layer.input_dim)
        expected[f"b{index}"] = (layer.output_dim,)
    extra_names = [EXTRA_PREFIX + str(name) for name in header["extra_arrays"]]
    missing = [name for name in list(expected) + extra_names if name not in arrays]
    if missing:
        raise DataError(f"{path}: array(s) {missing} missing")
    unexpected = sorted(set(arrays) - set(expected) - set(extra_names))
    if unexpected:
        raise DataError(f"{path}: unexpected array(s) {unexpected}")
    for (name, shape), target in zip(expected.items(), net.parameters()):
        value = arrays[name]
        if value.shape != shape:
            raise DataError(f"{path}: {name} has shape {value.shape}, but the architecture needs {shape}")
        if value.dtype != net.dtype:
            raise DataError(f"{path}: {name} has dtype {value.dtype}, but the header says {net.dtype.name}")
        if not np.isfinite(value).all():
            raise DataError(f"{path}: {name} contains NaN or inf")
        target[...] = value
    net.metadata = header["metadata"]
    extras = {name[len(EXTRA_PREFIX):]: arrays[name] for name in extra_names}
    return net, header["metadata"], extras
