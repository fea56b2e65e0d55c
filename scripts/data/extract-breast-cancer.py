#!/usr/bin/env python3
"""Write data/breast-cancer.csv from the breast cancer file that Debian's python3-sklearn ships.

Source: sklearn/datasets/data/breast_cancer.csv in Debian's python3-sklearn package
(1.2.1+dfsg-1 produced the committed file), the file that
sklearn.datasets.load_breast_cancer reads. It is the UCI "Breast Cancer Wisconsin
(Diagnostic)" data: 569 rows of 30 real-valued features computed from digitised images
of fine needle aspirates of breast masses, and the diagnosis. See data/README.md for
the description, licence and citation.

The source's first line is metadata ("569,30,malignant,benign": rows, features, the
names of targets 0 and 1). Output: a header line of the 30 feature names (scikit-learn's
names with "_" for spaces) and "benign", then the 569 rows in the source order. The
feature fields are the source's text unchanged (plain decimals); the last field is
scikit-learn's target, 0 = malignant, 1 = benign. Lines end with "\\n". The script checks
the shape, that every field is a plain non-negative decimal, and the class counts, and
fails rather than write anything else. It uses the standard library only and is
deterministic. It prints the row count, the class counts and the SHA-256.

Usage (from the repository root, after
`apt-get install --no-install-recommends python3-sklearn`):

    python3 scripts/data/extract-breast-cancer.py [SOURCE.csv] [OUTPUT.csv]
"""

import csv
import hashlib
import io
import os
import re
import sys

DEFAULT_SOURCE = "/usr/lib/python3/dist-packages/sklearn/datasets/data/breast_cancer.csv"
DEFAULT_OUTPUT = os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "data", "breast-cancer.csv"
)

N_ROWS = 569
# load_breast_cancer's feature_names, in column order.
FEATURES = [
    f"{kind} {name}" if kind != "error" else f"{name} error"
    for kind in ("mean", "error", "worst")
    for name in (
        "radius",
        "texture",
        "perimeter",
        "area",
        "smoothness",
        "compactness",
        "concavity",
        "concave points",
        "symmetry",
        "fractal dimension",
    )
]
# The class distribution stated in sklearn/datasets/descr/breast_cancer.rst.
COUNTS = {0: 212, 1: 357}
DECIMAL = re.compile(r"^[0-9]+(\.[0-9]+)?$")


def main(argv):
    source = argv[1] if len(argv) > 1 else DEFAULT_SOURCE
    output = argv[2] if len(argv) > 2 else DEFAULT_OUTPUT

    with open(source, encoding="ascii", newline="") as f:
        reader = csv.reader(f)
        meta = next(reader)
        if meta != [str(N_ROWS), str(len(FEATURES)), "malignant", "benign"]:
            sys.exit(f"unexpected first line {meta!r}")
        rows = []
        for row_number, fields in enumerate(reader, start=1):
            if len(fields) != len(FEATURES) + 1:
                sys.exit(f"row {row_number}: {len(fields)} fields, expected {len(FEATURES) + 1}")
            for field in fields[:-1]:
                if not DECIMAL.match(field):
                    sys.exit(f"row {row_number}: {field!r} is not a plain decimal")
            if fields[-1] not in ("0", "1"):
                sys.exit(f"row {row_number}: target {fields[-1]!r} is not 0 or 1")
            rows.append(fields)
    if len(rows) != N_ROWS:
        sys.exit(f"{len(rows)} rows, expected {N_ROWS}")
    counts = {c: sum(1 for r in rows if r[-1] == str(c)) for c in (0, 1)}
    if counts != COUNTS:
        sys.exit(f"class counts {counts}, expected {COUNTS}")

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([name.replace(" ", "_") for name in FEATURES] + ["benign"])
    writer.writerows(rows)
    content = buffer.getvalue().encode("ascii")

    with open(output, "wb") as f:
        f.write(content)

    print(f"wrote {output}: {len(rows)} rows, {len(content)} bytes")
    print(f"malignant (0): {counts[0]}, benign (1): {counts[1]}")
    print("sha256:", hashlib.sha256(content).hexdigest())


if __name__ == "__main__":
    main(sys.argv)
