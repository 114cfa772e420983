#!/usr/bin/env python3
"""NumPy .npy files for the tests, made and read without numpy (struct only).

usage:
  npy_craft.py from-jsonl FIELD DESCR OUT < records.jsonl
      the arrays in member FIELD of each record as one 2-D array, DESCR
      '<f8' or '<f4', format 1.0, with numpy's header bytes
  npy_craft.py bad DIR
      a malformed or unreadable .npy file per case in DIR, each NAME.npy
      holding three rows of 3 numbers (or trying to), and DIR/cases listing
      "NAME<TAB>the message ise-vendi must give" one a line
  npy_craft.py read FILE
      the file's version, header text, descr, shape and rows as JSON (rows
      of floats as repr writes them, so exact)
"""
import json
import os
import struct
import sys

MAGIC = b"\x93NUMPY"


def header(descr, shape, fortran=False):
    """numpy.save's header text: the dict, spaces, a newline, aligned to 64."""
    d = "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }" % (
        descr, "True" if fortran else "False", repr(tuple(shape)))
    # numpy leaves room for the first axis to grow to 21 digits
    d += " " * (21 - len(repr(shape[0]))) if shape else ""
    return d


def wrap(text, version=(1, 0), align=True):
    body = text.encode("latin1")
    size = 2 if version[0] == 1 else 4
    pad = 64 - (len(MAGIC) + 2 + size + len(body) + 1) % 64 if align else 0
    body += b" " * pad + b"\n"
    length = struct.pack("<H" if size == 2 else "<I", len(body))
    return MAGIC + bytes(version) + length + body


def values(descr, rows):
    fmt = {"<f8": "<d", "<f4": "<f", ">f8": ">d", "<i4": "<i"}[descr]
    return b"".join(struct.pack(fmt, v) for row in rows for v in row)


def from_jsonl(field, descr, out):
    rows = [json.loads(line)[field] for line in sys.stdin if line.strip()]
    shape = (len(rows), len(rows[0]) if rows else 0)
    with open(out, "wb") as f:
        f.write(wrap(header(descr, shape)) + values(descr, rows))


def bad(where):
    eye = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
    f8 = values("<f8", eye)
    good = wrap(header("<f8", (3, 3)))
    cases = [
        ("empty", b"", "not a .npy file (too short)"),
        ("text", b"id,x,y\n1,2,3\n4,5,6\n", "not a .npy file (no \\x93NUMPY magic)"),
        ("version", MAGIC + b"\x04\x00" + good[8:] + f8,
         ".npy format version 4.0: only 1.0, 2.0 and 3.0 are read"),
        ("bigendian", wrap(header(">f8", (3, 3))) + values(">f8", eye),
         "dtype '>f8' is big-endian: only '<f4' and '<f8' are read"),
        ("int32", wrap(header("<i4", (3, 3))) + values("<i4", [[1, 0, 0]] * 3),
         "dtype '<i4' is not float32 or float64: only '<f4' and '<f8' are read"),
        ("structured", wrap("{'descr': [('a', '<f8')], 'fortran_order': False, "
                            "'shape': (3, 3), }") + f8,
         "'descr' is not a simple dtype string (a structured array?): only '<f4' "
         "and '<f8' are read"),
        ("fortran", wrap(header("<f8", (3, 3), True)) + f8,
         "the array is in Fortran order: only C order (fortran_order False) is read"),
        ("1d", wrap(header("<f8", (9,))) + f8,
         "shape (9,) is 1-D: only 2-D arrays (rows, columns) are read"),
        ("3d", wrap(header("<f8", (3, 3, 1))) + f8,
         "shape (3, 3, 1) is 3-D: only 2-D arrays (rows, columns) are read"),
        ("truncated", good + f8[:-5],
         "truncated: a 3 x 3 float64 array is 72 bytes of values, the file has 67 "
         "after the header"),
        ("longer", good + f8 + b"\0" * 8,
         "longer than its shape: a 3 x 3 float64 array is 72 bytes of values, the "
         "file has 80 after the header"),
        ("hugeshape", wrap(header("<f8", (1 << 62, 1 << 40))) + f8,
         "shape (4611686018427387904, 1099511627776) is larger than any file"),
        ("headercut", good[:50], "truncated in the header (40 bytes of 118)"),
        ("headerlong", wrap(header("<f8", (3, 3)) + " " * 10000, (2, 0)) + f8,
         "header of 10100 bytes is too long (at most 10000)"),
        ("garbled", wrap("{'descr': '<f8', 'fortran_order': False, 'shape': (3, 3) ") + f8,
         "garbled header: a comma or '}' expected"),
        ("nodict", wrap("descr='<f8'") + f8, "garbled header: no dict"),
        ("unknownkey", wrap("{'descr': '<f8', 'fortran_order': False, 'shape': (3, 3), "
                            "'x': 1}") + f8, "garbled header: unknown key 'x'"),
        ("repeated", wrap("{'descr': '<f8', 'descr': '<f8', 'shape': (3, 3)}") + f8,
         "garbled header: repeated key 'descr'"),
        ("nokey", wrap("{'descr': '<f8', 'shape': (3, 3)}") + f8,
         "garbled header: no 'fortran_order'"),
        ("badshape", wrap("{'descr': '<f8', 'fortran_order': False, 'shape': (3, -3)}") + f8,
         "garbled header: 'shape' is not a tuple of sizes"),
        ("nan", good + values("<f8", [[1, 0, 0], [0, 1, float("nan")], [0, 0, 1]]),
         "row 1, column 2 is NaN, not a finite number"),
        ("inf32", wrap(header("<f4", (3, 3))) +
         values("<f4", [[1, 0, 0], [0, 1, 0], [0, float("-inf"), 1]]),
         "row 2, column 1 is -infinite, not a finite number"),
        ("nocolumns", wrap(header("<f8", (3, 0))),
         "rows of 0 numbers (a vector has 1 to 1000000)"),
    ]
    os.makedirs(where, exist_ok=True)
    with open(os.path.join(where, "cases"), "w") as listing:
        for name, data, message in cases:
            with open(os.path.join(where, name + ".npy"), "wb") as f:
                f.write(data)
            listing.write("%s\t%s\n" % (name, message))


def read(path):
    data = open(path, "rb").read()
    assert data[:6] == MAGIC, "no magic"
    major = data[6]
    size = 2 if major == 1 else 4
    n = struct.unpack("<H" if size == 2 else "<I", data[8:8 + size])[0]
    start = 8 + size
    text = data[start:start + n].decode("latin1")
    import ast

    d = ast.literal_eval(text)
    shape = list(d["shape"])
    fmt = {"<f8": "<d", "<f4": "<f"}[d["descr"]]
    width = struct.calcsize(fmt)
    body = data[start + n:]
    assert len(body) == shape[0] * shape[1] * width, "size"
    flat = [v[0] for v in struct.iter_unpack(fmt, body)]
    rows = [flat[i * shape[1]:(i + 1) * shape[1]] for i in range(shape[0])]
    print(json.dumps({"version": [major, data[7]], "header_bytes": start + n, "header": text,
                      "descr": d["descr"], "fortran_order": d["fortran_order"],
                      "shape": shape, "rows": rows}))


def main():
    a = sys.argv[1:]
    if a[:1] == ["from-jsonl"] and len(a) == 4:
        from_jsonl(a[1], a[2], a[3])
    elif a[:1] == ["bad"] and len(a) == 2:
        bad(a[1])
    elif a[:1] == ["read"] and len(a) == 2:
        read(a[1])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
