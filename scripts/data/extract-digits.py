#!/usr/bin/env python3
"""Write data/digits.csv from the digits file that Debian's python3-sklearn ships.

Source: sklearn/datasets/data/digits.csv.gz in Debian's python3-sklearn package
(1.2.1+dfsg-1 produced the committed file), the file that sklearn.datasets.load_digits
reads. It is the test set of the UCI "Optical Recognition of Handwritten Digits" data:
1797 rows of 64 pixel counts (0..16, an 8x8 image in row-major order) and the digit
label (0..9) last. See data/README.md for the description, licence and citation.

Output: a header line "pixel0,...,pixel63,label", then the 1797 rows in the source
order, integers written in decimal, fields separated by "," and lines ended by "\n".
The script checks the shape and the value ranges and fails rather than write anything
else. It uses the standard library only and is deterministic: running it again on the
same source gives a byte-identical file. It prints the row count, the count of each
label and the SHA-256 of the file it wrote.

Usage (from the repository root, after
`apt-get install --no-install-recommends python3-sklearn`):

    python3 scripts/data/extract-digits.py [SOURCE.csv.gz] [OUTPUT.csv]

SOURCE defaults to the Debian path below and OUTPUT to the repository's data/digits.csv.
"""

import csv
import gzip
import hashlib
import io
import os
import sys

DEFAULT_SOURCE = "/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz"
DEFAULT_OUTPUT = os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "data", "digits.csv"
)

N_ROWS = 1797
N_PIXELS = 64
PIXEL_MAX = 16
N_CLASSES = 10


def parse_int(field, row_number):
    """Parse a field written as a plain non-negative decimal integer, nothing else."""
    if not field.isdigit() or not field.isascii():
        sys.exit(f"row {row_number}: {field!r} is not a non-negative integer")
    return int(field)


def main(argv):
    source = argv[1] if len(argv) > 1 else DEFAULT_SOURCE
    output = argv[2] if len(argv) > 2 else DEFAULT_OUTPUT

    with gzip.open(source, "rt", encoding="ascii", newline="") as f:
        rows = []
        for row_number, fields in enumerate(csv.reader(f), start=1):
            if len(fields) != N_PIXELS + 1:
                sys.exit(f"row {row_number}: {len(fields)} fields, expected {N_PIXELS + 1}")
            values = [parse_int(field, row_number) for field in fields]
            if any(v > PIXEL_MAX for v in values[:N_PIXELS]):
                sys.exit(f"row {row_number}: a pixel is above {PIXEL_MAX}")
            if values[N_PIXELS] >= N_CLASSES:
                sys.exit(f"row {row_number}: label {values[N_PIXELS]} is not 0..9")
            rows.append(values)
    if len(rows) != N_ROWS:
        sys.exit(f"{len(rows)} rows, expected {N_ROWS}")

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([f"pixel{i}" for i in range(N_PIXELS)] + ["label"])
    writer.writerows(rows)
    content = buffer.getvalue().encode("ascii")

    with open(output, "wb") as f:
        f.write(content)

    counts = [0] * N_CLASSES
    for values in rows:
        counts[values[N_PIXELS]] += 1
    print(f"wrote {output}: {len(rows)} rows, {len(content)} bytes")
    print("label counts 0..9:", ",".join(str(c) for c in counts))
    print("sha256:", hashlib.sha256(content).hexdigest())


if __name__ == "__main__":
    main(sys.argv)
