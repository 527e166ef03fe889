"""The rows of a dataset version, and how a batch joins them (pandas only, no MLflow).

A version is three frames, each row carrying the number of the version whose batch brought it
(column :data:`BATCH_COLUMN`):

* ``train``: rows models are trained on;
* ``test``: the active test set, the rows the gate scores on;
* ``retired``: earlier test rows set aside by a test-set refresh: never trained on, no longer gated on.

A new batch is appended: each of its rows goes to test when a seeded hash of its id (or of the whole
row, without an id column) falls below the dataset's test share, otherwise to train. The assignment
depends on the row alone, never on its position or on the other rows, and rows already in the
dataset keep their part: a row never moves from test to train. Only a refresh moves rows, and only
from train (rows of batches production never trained on) or test to test/retired.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from mlflow_steward.data._spec import describe_columns, is_categorical_dtype, is_numeric_feature_dtype
from mlflow_steward.data._version import _row_hashes, dataset_digest
from mlflow_steward.data._versions import _messages as msg
from mlflow_steward.exceptions import StewardInputError

BATCH_COLUMN = "_steward_batch"
PARTS = ("train", "test", "retired")
_MAX_EXAMPLES = 5
_REFRESH_SALT = 0x5EED_F00D


@dataclass(frozen=True, eq=False)
class VersionParts:
    """The stored frames of one version (each with :data:`BATCH_COLUMN`)."""

    train: pd.DataFrame
    test: pd.DataFrame
    retired: pd.DataFrame

    def part(self, name: str) -> pd.DataFrame:
        return getattr(self, name)

    def data(self, name: str) -> pd.DataFrame:
        """Part ``name`` without the batch column, index 0..n-1 (what steps train or test on)."""
        return self.part(name).drop(columns=[BATCH_COLUMN]).reset_index(drop=True)

    def rows(self) -> dict[str, int]:
        return {name: len(self.part(name)) for name in PARTS}

    @property
    def n_rows(self) -> int:
        return sum(self.rows().values())

    def digest(self) -> str:
        """SHA-256 over every row and column of the three parts, batch numbers included."""
        sha = hashlib.sha256()
        for name in PARTS:
            sha.update(f"{name}:{dataset_digest(self.part(name))};".encode())
        return sha.hexdigest()

    def all_data(self) -> pd.DataFrame:
        """Every row of the version (train, test, retired), without the batch column."""
        return pd.concat([self.part(n) for n in PARTS], ignore_index=True).drop(columns=[BATCH_COLUMN])

    def batches(self) -> list[int]:
        values = pd.concat([self.part(n)[BATCH_COLUMN] for n in PARTS])
        return sorted(int(v) for v in values.unique())


# --- schema ---------------------------------------------------------------------------------------
def kind_of(dtype: object) -> str:
    """``"number"``, ``"text"`` (object, string, category, bool) or ``"other"`` (datetimes...)."""
    if is_numeric_feature_dtype(dtype):
        return "number"
    if is_categorical_dtype(dtype):
        return "text"
    return "other"


_KIND_WORDS = {"number": "numbers", "text": "text", "other": "values of another type"}


def schema_of(frame: pd.DataFrame) -> tuple[tuple[str, str], ...]:
    """``((column, dtype), ...)`` of the data columns (the batch column left out)."""
    return tuple((str(c), str(t)) for c, t in frame.dtypes.items() if c != BATCH_COLUMN)


def conform(batch: pd.DataFrame, reference: pd.DataFrame, *, source: str, dataset: str) -> tuple[pd.DataFrame, dict]:
    """The batch with the reference's columns, order and dtypes, and the dtypes the merged version
    needs (``{column: dtype}`` where the reference must widen, e.g. int64 -> float64).

    Raises a StewardInputError naming every missing, unexpected or differently-typed column. A
    batch column that is entirely missing takes the reference's type.
    """
    if BATCH_COLUMN in batch.columns:
        raise StewardInputError(msg.RESERVED_COLUMN.format(source=source, column=BATCH_COLUMN))
    expected = [c for c in reference.columns if c != BATCH_COLUMN]
    problems = []
    missing = [c for c in expected if c not in batch.columns]
    extra = [c for c in batch.columns if c not in expected]
    if missing:
        problems.append(msg.SCHEMA_MISSING.format(columns=describe_columns(missing)))
    if extra:
        problems.append(msg.SCHEMA_EXTRA.format(columns=describe_columns(extra)))
    widen: dict[str, object] = {}
    out = {}
    for column in expected:
        if column not in batch.columns:
            continue
        values, ref_dtype = batch[column], reference[column].dtype
        if values.isna().all():
            out[column] = values.astype("float64" if kind_of(ref_dtype) == "number" else ref_dtype)
            if kind_of(ref_dtype) == "number" and ref_dtype != np.float64:
                widen[column] = np.dtype("float64")
            continue
        got, want = kind_of(values.dtype), kind_of(ref_dtype)
        if got != want:
            problems.append(
                msg.SCHEMA_KIND.format(column=column, got=_KIND_WORDS[got], expected=_KIND_WORDS[want])
            )
            continue
        if want == "number" and values.dtype != ref_dtype:
            out[column] = values.astype("float64")
            if ref_dtype != np.float64:
                widen[column] = np.dtype("float64")
        elif want == "number":
            out[column] = values
        else:
            out[column] = values.astype(ref_dtype)
    if problems:
        raise StewardInputError(msg.SCHEMA_MISMATCH.format(source=source, dataset=dataset, problems="; ".join(problems)))
    conformed = pd.DataFrame(out, index=batch.index)[expected]
    for column, dtype in widen.items():
        conformed[column] = conformed[column].astype(dtype)
    return conformed, widen


def widen_parts(parts: VersionParts, widen: dict) -> VersionParts:
    """``parts`` with the columns of ``widen`` cast (a batch made them wider)."""
    if not widen:
        return parts
    return VersionParts(*(parts.part(n).astype(widen) for n in PARTS))


# --- keys, ids, the seeded assignment -------------------------------------------------------------
def _mix(hashes: np.ndarray, seed: int) -> np.ndarray:
    """splitmix64 of ``hashes`` XOR a seed-derived constant: uniform uint64 per key and seed."""
    with np.errstate(over="ignore"):
        salt = np.uint64(int.from_bytes(hashlib.sha256(f"steward:{seed}".encode()).digest()[:8], "little"))
        x = hashes.astype(np.uint64) ^ salt
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


def row_keys(frame: pd.DataFrame, id_column: str | None) -> np.ndarray:
    """One uint64 per row: a hash of the id's text, or of every data column of the row."""
    if id_column is not None:
        text = np.asarray(frame[id_column].astype(str).to_numpy(), dtype=object)
        return pd.util.hash_array(text).astype(np.uint64)
    data = frame.drop(columns=[BATCH_COLUMN], errors="ignore")
    return _row_hashes(data).astype(np.uint64)


def assign_test(keys: np.ndarray, share: float, seed: int) -> np.ndarray:
    """True where the row goes to the test set: its seeded hash falls below ``share``."""
    uniform = (_mix(keys, seed) >> np.uint64(11)).astype(np.float64) / float(1 << 53)
    return uniform < share


def check_ids(
    batch: pd.DataFrame, known: pd.DataFrame | None, id_column: str | None, *, source: str, dataset: str
) -> None:
    """Ids present and unique in the batch and new to the dataset (without an id column: no row of
    the batch may equal a row already in the dataset). Exact duplicate rows within the batch are
    dropped by ``load_dataset`` beforehand."""
    if id_column is None:
        if known is None or known.empty:
            return
        seen = set(row_keys(known, None).tolist())
        hit = np.fromiter((k in seen for k in row_keys(batch, None).tolist()), dtype=bool, count=len(batch))
        if hit.any():
            raise StewardInputError(
                msg.ROWS_KNOWN.format(source=source, count=int(hit.sum()), dataset=dataset, row=int(np.argmax(hit)) + 1)
            )
        return
    ids = batch[id_column]
    absent = ids.isna().to_numpy()
    if absent.any():
        raise StewardInputError(
            msg.ID_MISSING.format(source=source, column=id_column, count=int(absent.sum()), row=int(np.argmax(absent)) + 1)
        )
    repeated = ids[ids.duplicated(keep=False)]
    if len(repeated):
        examples = _examples(repeated.drop_duplicates())
        raise StewardInputError(
            msg.IDS_DUPLICATED.format(source=source, count=int(repeated.nunique()), column=id_column, examples=examples)
        )
    if known is not None and not known.empty:
        old = set(known[id_column].astype(str))
        clash = ids[ids.astype(str).isin(old)]
        if len(clash):
            raise StewardInputError(
                msg.IDS_KNOWN.format(source=source, count=len(clash), column=id_column, dataset=dataset,
                                     examples=_examples(clash))
            )


def _examples(values: pd.Series) -> str:
    shown = [v.item() if hasattr(v, "item") else v for v in values.head(_MAX_EXAMPLES)]
    return ", ".join(repr(v) for v in shown) + (" ..." if len(values) > _MAX_EXAMPLES else "")


# --- building versions ----------------------------------------------------------------------------
def empty_parts(like: pd.DataFrame) -> VersionParts:
    frame = like.iloc[:0].copy()
    frame[BATCH_COLUMN] = pd.Series(dtype="int64")
    return VersionParts(frame, frame.copy(), frame.copy())


def append_batch(
    parent: VersionParts | None, batch: pd.DataFrame, *, number: int, id_column: str | None, share: float, seed: int
) -> VersionParts:
    """``parent`` plus ``batch`` (already conformed) as version ``number``: the batch's rows are split
    into test and train by :func:`assign_test`; the parent's rows keep their part and order."""
    base = parent if parent is not None else empty_parts(batch)
    rows = batch.reset_index(drop=True).copy()
    rows[BATCH_COLUMN] = np.int64(number)
    in_test = assign_test(row_keys(batch, id_column), share, seed)
    train = pd.concat([base.train, rows.loc[~in_test]], ignore_index=True)
    test = pd.concat([base.test, rows.loc[in_test]], ignore_index=True)
    return VersionParts(train, test, base.retired.reset_index(drop=True))


def refresh_parts(
    parts: VersionParts, *, fresh_batches: Collection[int], min_rows: int, id_column: str | None, seed: int
) -> VersionParts | None:
    """A new active test set from the rows of ``fresh_batches`` (batches production never trained on).

    Their test rows stay in test; when those are fewer than ``min_rows``, train rows of the same
    batches (in seeded-hash order) move to test to make up the difference. Every other test row is
    retired (kept out of training for good, no longer gated on). Returns None when the fresh
    batches cannot give ``min_rows`` rows. Rows only ever move train -> test -> retired.
    """
    fresh = set(int(b) for b in fresh_batches)
    is_fresh_test = parts.test[BATCH_COLUMN].isin(fresh).to_numpy()
    fresh_test = parts.test.loc[is_fresh_test]
    retired = pd.concat([parts.retired, parts.test.loc[~is_fresh_test]], ignore_index=True)
    needed = max(0, int(min_rows) - len(fresh_test))
    train = parts.train
    moved = train.iloc[:0]
    if needed:
        candidates = np.flatnonzero(train[BATCH_COLUMN].isin(fresh).to_numpy())
        if len(candidates) < needed:
            return None
        order = np.argsort(_mix(row_keys(train.iloc[candidates], id_column), seed ^ _REFRESH_SALT), kind="stable")
        take = np.sort(candidates[order[:needed]])
        moved = train.iloc[take]
        train = train.drop(index=train.index[take])
    test = pd.concat([fresh_test, moved], ignore_index=True)
    if len(test) < min_rows or len(test) == 0:
        return None
    return VersionParts(train.reset_index(drop=True), test, retired)


def fresh_rows(parts: VersionParts, fresh_batches: Sequence[int]) -> int:
    """Rows (train and test) of ``fresh_batches`` in ``parts``: what a refresh can draw on."""
    fresh = set(int(b) for b in fresh_batches)
    return int(parts.train[BATCH_COLUMN].isin(fresh).sum() + parts.test[BATCH_COLUMN].isin(fresh).sum())
