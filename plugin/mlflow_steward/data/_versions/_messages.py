"""Error messages of dataset versions, as constants so tests match them exactly."""

BAD_NAME = (
    "dataset name {name!r} is not valid: use 1-100 letters, digits, '.', '_' or '-' (it names the MLflow "
    "experiment 'steward-datasets/<name>')"
)
UNKNOWN_DATASET = (
    "no dataset {name!r} in the tracking store {uri}; create it with `steward data add {name} FILE --target "
    "COLUMN --task regression|classification`"
)
NO_CURRENT = "dataset {name!r} has no current version yet (every batch so far was quarantined or rejected)"
UNKNOWN_VERSION = "dataset {name!r} has no version {version!r}; versions are: {versions}"
BAD_VERSION_TEXT = "dataset version must be a positive whole number, got {version!r}"
BAD_REFERENCE = "expected NAME or NAME@VERSION (e.g. housing@3), got {text!r}"
SPEC_NEEDED = (
    "dataset {name!r} does not exist yet: its first batch needs --target COLUMN and --task "
    "regression|classification"
)
SPEC_DIFFERS = (
    "dataset {name!r} was created with {key} {stored!r}, the batch is given {given!r}; the columns' roles "
    "are fixed when a dataset is created (leave the option out)"
)
BAD_SHARE = "test share must be a number strictly between 0 and 1, got {value!r}"
BAD_SEED = "seed must be a whole number >= 0, got {value!r}"
RESERVED_COLUMN = "batch {source}: column {column!r} is reserved by mlflow-steward (it records each row's batch)"
EMPTY_BATCH = "batch {source} has no data rows"
SCHEMA_MISMATCH = "batch {source} does not match dataset {dataset}: {problems}"
SCHEMA_MISSING = "missing columns {columns}"
SCHEMA_EXTRA = "unexpected columns {columns}"
SCHEMA_KIND = "column {column!r} holds {got} in the batch but {expected} in the dataset"
ID_MISSING = "batch {source}: id column {column!r} is missing in {count} rows (e.g. row {row})"
IDS_DUPLICATED = "batch {source}: {count} ids of column {column!r} appear more than once in the batch, e.g. {examples}"
IDS_KNOWN = (
    "batch {source}: {count} ids of column {column!r} are already in dataset {dataset}, e.g. {examples}; a batch "
    "brings new rows only"
)
ROWS_KNOWN = (
    "batch {source}: {count} rows are identical to rows already in dataset {dataset} (e.g. batch row {row}); a "
    "batch brings new rows only (give --id-column when equal rows are legitimately different records)"
)
POINTER_MOVED = (
    "dataset {name!r}: the current version moved from {before} to {after} while this batch was checked; "
    "run the command again (it is checked against the new current version)"
)
ROLLBACK_SAME = "dataset {name!r} is already at version {version}; nothing to roll back"
ROLLBACK_REJECTED = "dataset {name!r} version {version} is a {verdict} batch; it cannot become current"
EMPTY_REASON = "dataset {name!r}: give a reason (--reason) for moving the current version; it goes into the history"
LOCK_HELD = (
    "dataset {name!r} is locked by {owner} ({purpose}) until {expires}; try again later"
)
LOCK_LOST = "dataset {name!r}: lost the lock to {owner} before writing; nothing was moved"
LOCK_BAD_TIMING = "lock {key} must be a number of seconds >= 0 (ttl > 0), got {value!r}"
NOT_ENOUGH_FRESH = (
    "dataset {name!r}: only {rows} rows arrived after version {since} (the newest data production has not "
    "trained on); a refreshed test set needs at least {needed}"
)
