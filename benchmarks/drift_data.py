"""Data for the drift gate's benchmark, and its floor: a plain script that loads the same
columns with pyarrow and runs SciPy's tests (what the gate cannot beat by much).

The data: customers with an id drawn from a pool (as many categories as rows, most seen in
both files), a timestamp (all distinct), an amount and an age (numeric), a segment (five
categories) and three text columns the gate does not test, so the file is mostly what it
must not hold in memory."""
from __future__ import annotations

from pathlib import Path

TESTED = {"customer": "categorical", "seen_at": "categorical", "amount": "numeric", "age": "numeric",
          "segment": "categorical"}
ROW_BYTES = 190  # about, as written


def make_csv(path: Path, megabytes: int, seed: int, shift: float = 0.0) -> Path:
    """A CSV of about `megabytes` MB, written in blocks by pyarrow."""
    # pylint: disable=import-outside-toplevel  # numpy and pyarrow come with the drift extra
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pacsv

    rows = megabytes * 1_000_000 // ROW_BYTES
    rng = np.random.default_rng(seed)
    block = 200_000
    with pacsv.CSVWriter(str(path), pa.schema([(name, pa.string()) for name in (
            "customer", "seen_at", "amount", "age", "segment", "note", "address", "agent")])) as writer:
        for start in range(0, rows, block):
            count = min(block, rows - start)
            index = np.arange(start, start + count)
            columns = {
                "customer": np.char.add("c-", rng.integers(0, rows, count).astype(str)),
                "seen_at": (np.datetime64("2026-01-01T00:00:00") + index * 7 + seed).astype(str),
                "amount": np.round(rng.gamma(2.0, 40.0 + shift, count), 2).astype(str),
                "age": rng.integers(18, 90, count).astype(str),
                "segment": np.array(["retail", "smb", "enterprise", "public", "other"])[rng.integers(0, 5, count)],
                "note": np.char.add("free text that the gate never reads, row ", index.astype(str)),
                "address": np.char.add("street of no interest to a drift test, number ", index.astype(str)),
                "agent": np.char.add("agent-", rng.integers(0, 500, count).astype(str)),
            }
            writer.write_table(pa.table({name: pa.array(values) for name, values in columns.items()}))
    return path


# The floor: load the tested columns with pyarrow (typed by pyarrow's inference) and run the
# same SciPy tests on them: argv = reference, current.
FLOOR_SCRIPT = """
import sys
import numpy as np
import pyarrow as pa, pyarrow.compute as pc, pyarrow.csv as pacsv
from scipy import stats
numeric, categorical = ["amount", "age"], ["customer", "seen_at", "segment"]
def load(path):
    options = pacsv.ConvertOptions(include_columns=numeric + categorical,
                                   column_types={n: pa.string() for n in categorical})
    return pacsv.read_csv(path, convert_options=options)
reference, current = load(sys.argv[1]), load(sys.argv[2])
for name in numeric:
    print(name, stats.ks_2samp(reference[name].to_numpy(), current[name].to_numpy()).pvalue)
for name in categorical:
    counted = [pc.value_counts(table[name]) for table in (reference, current)]
    every = pc.unique(pa.concat_arrays([side.field("values") for side in counted]))
    rows = np.zeros((2, len(every)), dtype="int64")
    for row, side in enumerate(counted):
        rows[row, pc.index_in(side.field("values"), value_set=every).to_numpy()] = side.field("counts").to_numpy()
    print(name, stats.chi2_contingency(rows, correction=False)[1])
"""


def gate_args(reference: Path, current: Path) -> list[str]:
    args = ["gate", "drift", "--reference", str(reference), "--current", str(current), "--new-categories", "report"]
    for name, kind in TESTED.items():
        args += ["--include", name, "--column", f"{name}={kind}"]
    return args
