"""Captures on Spark: a ``mapInPandas`` pass, fused into the job that writes the output, that writes
each Arrow batch's captured requests before handing the batch's output columns on.

Each partition writes under its own staging folder (``p<partition>``) and wipes it at its first
batch, so a task attempt that failed and was retried leaves only the last attempt's files
(speculative execution, off by default, would let two attempts write at once: keep it off).
"""

from __future__ import annotations

from mlflow_steward.batch._captures import CaptureSpec, outputs_of

FEATURE = "__steward_feature_{index}"


def feature_columns(inputs: list[str]) -> list[tuple[str, str]]:
    """``(input column, hidden name)`` pairs: the model's inputs carried beside the output columns."""
    return [(column, FEATURE.format(index=i)) for i, column in enumerate(inputs)]


def capture_stage(spec: CaptureSpec, wide, *, names: list[str], inputs: list[str], fields: list[str]):
    """``wide`` (the output columns ``names`` + the hidden input columns) -> the output columns, after
    each batch's captures were written."""
    hidden = [h for _, h in feature_columns(inputs)]
    keys = list(spec.keys)

    def write_then_pass(batches):
        import shutil

        from pyspark import TaskContext

        partition = TaskContext.get().partitionId()
        folder = f"p{partition:05d}"
        shutil.rmtree(spec.staging / folder, ignore_errors=True)  # a retried attempt starts clean
        for number, batch in enumerate(batches):
            if len(batch) == 0:
                continue
            seen = batch[hidden].set_axis(inputs, axis=1)
            for key in keys:
                if key not in seen.columns:
                    seen[key] = batch[key].to_numpy()
            spec.write(folder, seen, outputs_of(batch, fields, fields), f"{partition:05d}-{number:05d}")
            yield batch[names]

    schema = wide.select(*[f"`{n}`" for n in names]).schema
    return wide.mapInPandas(write_then_pass, schema=schema)
