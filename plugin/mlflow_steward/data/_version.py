"""Dataset digests over every row (``mlflow.data`` hashes only the first 10,000)."""

from __future__ import annotations

import hashlib
import json
import re

import numpy as np
import pandas as pd

from mlflow_steward.exceptions import StewardInputError

VERSION_LENGTH = 12

DIGEST_NOT_A_FRAME = "dataset_digest expects a pandas DataFrame, got {kind}"
DIGEST_UNHASHABLE = "dataset_digest: column {column!r} holds values that cannot be hashed ({reason})"
VERSION_BAD_INPUT = (
    "dataset_version expects a DataFrame or a hex digest of at least {length} characters, "
    "got {value!r}"
)

_HEX = re.compile(r"^[0-9a-f]+$")


def _row_hashes(frame: pd.DataFrame) -> np.ndarray:
    """One uint64 per row from its values (not its index), little-endian for stable bytes."""
    if frame.shape[1] == 0:
        return np.zeros(len(frame), dtype="<u8")
    try:
        hashes = pd.util.hash_pandas_object(frame, index=False)
    except TypeError as exc:
        for column in frame.columns:
            try:
                pd.util.hash_pandas_object(frame[column], index=False)
            except TypeError as col_exc:
                raise StewardInputError(
                    DIGEST_UNHASHABLE.format(column=column, reason=col_exc)
                ) from exc
        raise  # pragma: no cover - a frame fails only if one of its columns does
    return hashes.to_numpy(dtype=np.uint64).astype("<u8", copy=False)


def dataset_digest(frame: pd.DataFrame) -> str:
    """SHA-256 (64 hex characters) of the column names, dtypes and every row's values, in order.

    The index is not hashed, so a frame and its ``reset_index(drop=True)`` share a digest; row order
    is. Values are hashed with ``pd.util.hash_pandas_object``, stable for a given pandas version.
    """
    if not isinstance(frame, pd.DataFrame):
        raise StewardInputError(DIGEST_NOT_A_FRAME.format(kind=type(frame).__name__))
    header = json.dumps([[str(c), str(t)] for c, t in frame.dtypes.items()])
    sha = hashlib.sha256()
    sha.update(header.encode("utf-8"))
    sha.update(len(frame).to_bytes(8, "little"))
    sha.update(_row_hashes(frame).tobytes())
    return sha.hexdigest()


def dataset_version(frame_or_digest: pd.DataFrame | str) -> str:
    """Short id: the first 12 hex characters of :func:`dataset_digest`."""
    if isinstance(frame_or_digest, pd.DataFrame):
        return dataset_digest(frame_or_digest)[:VERSION_LENGTH]
    if (
        isinstance(frame_or_digest, str)
        and len(frame_or_digest) >= VERSION_LENGTH
        and _HEX.match(frame_or_digest)
    ):
        return frame_or_digest[:VERSION_LENGTH]
    raise StewardInputError(VERSION_BAD_INPUT.format(length=VERSION_LENGTH, value=frame_or_digest))
