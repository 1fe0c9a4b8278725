#!/usr/bin/python3
"""Regenerates the python-tabulate golden files of src/report/table_test.cc with the real tabulate.

The goldens are committed; the tests never run Python. Run with Debian's python3-tabulate (0.8.9, what
`sudo apt install python3-tabulate` gives the seed report's table.py):

    /usr/bin/python3 tests/golden/table_gen.py
"""
import datetime
import json
import os

from tabulate import tabulate, __version__ as tabulate_version

HERE = os.path.dirname(os.path.abspath(__file__))

# The seed report's 12 x 12 table (seeds/000): (runs with exit code 0, runs with exit code 139) per cell,
# rows THREAD_COUNT 1..12, columns ENCODERS_PER_PIPELINE 1..12. src/report/table_test.cc holds the same numbers.
SEED = [
    [(69, 0), (69, 0), (69, 0), (69, 0), (69, 0), (69, 0), (69, 0), (69, 0), (69, 0), (9, 0), (69, 0), (69, 0)],
    [(69, 0), (69, 0), (66, 3), (67, 2), (69, 0), (50, 19), (61, 8), (59, 10), (56, 13), (0, 9), (52, 17), (45, 24)],
    [(55, 14), (67, 2), (51, 18), (37, 32), (26, 43), (37, 32), (31, 38), (33, 36), (33, 36), (1, 38), (30, 39), (27, 42)],
    [(59, 10), (63, 6), (28, 41), (18, 51), (21, 48), (18, 51), (13, 56), (26, 43), (23, 46), (2, 37), (26, 43), (31, 38)],
    [(65, 4), (21, 48), (12, 57), (24, 45), (16, 53), (22, 47), (21, 48), (47, 22), (41, 28), (7, 42), (56, 13), (68, 1)],
    [(66, 3), (16, 53), (19, 50), (18, 51), (29, 40), (32, 37), (44, 25), (42, 27), (56, 13), (8, 1), (65, 3), (68, 0)],
    [(62, 6), (11, 57), (25, 43), (24, 44), (33, 35), (38, 30), (46, 22), (65, 3), (66, 2), (8, 0), (68, 0), (68, 0)],
    [(68, 0), (7, 61), (22, 46), (31, 37), (40, 28), (46, 22), (68, 0), (66, 2), (68, 0), (8, 0), (68, 0), (68, 0)],
    [(46, 22), (18, 50), (34, 34), (33, 35), (41, 27), (41, 27), (67, 1), (68, 0), (68, 0), (8, 0), (68, 0), (68, 0)],
    [(53, 15), (20, 48), (29, 39), (48, 20), (46, 22), (67, 1), (68, 0), (67, 1), (68, 0), (8, 0), (68, 0), (68, 0)],
    [(43, 25), (21, 47), (39, 29), (43, 25), (60, 8), (68, 0), (68, 0), (68, 0), (68, 0), (8, 0), (68, 0), (67, 1)],
    [(44, 24), (41, 27), (42, 26), (48, 20), (65, 3), (68, 0), (68, 0), (68, 0), (68, 0), (8, 0), (67, 1), (66, 2)],
]


def seed_cell(clean, crashed):
    # table.py's dict: exit code 0 always present, 139 only once seen.
    d = {0: clean}
    if crashed:
        d[139] = crashed
    return str(d)


def seed_golden():
    # table.py: row labels are ints, headers "<row> \ <col>" then the column values.
    rows = [[t + 1] + [seed_cell(*SEED[t][e]) for e in range(12)] for t in range(12)]
    headers = ["THREAD_COUNT \\ ENCODERS_PER_PIPELINE"] + [str(e) for e in range(1, 13)]
    created = datetime.datetime.fromtimestamp(1763776000, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    header = ("run 1 (exec, %s): crashgrid sweep --grid THREAD_COUNT=1..12 --grid ENCODERS_PER_PIPELINE=1..12 "
              "--runs 69 --db seed.db --exec ./run.sh" % created)
    return header + "\n" + tabulate(rows, headers=headers, tablefmt="grid") + "\n"


# Inputs are strings, as crashgrid holds them; tabulate parses numbers out of strings the same way it treats
# ints and floats (table.py passed ints for the row labels).
CASES = [
    ("seed_small", ["Thr \\ Enc", "1", "2"], [["1", "{0: 69}", "{0: 66, 139: 3}"], ["10", "{0: 0, 139: 9}", ""]]),
    ("float_labels", ["x \\ y", "a"], [["0.5", "p"], ["1.25", "q"], ["2", "r"], ["10", "s"], ["-3.5", "t"],
                                         ["1e3", "u"]]),
    ("exponents", ["v", "w"], [["1e-5", "a"], ["2.5E+10", "b"], ["0.000123456789", "c"]]),
    ("text_labels", ["serialize \\ threads", "1", "8"], [["none", "0/69 <4.3%", "57/68 84% [73-91]"],
                                                          ["global-lock", "0/31 <9.2%", ""],
                                                          ["start+stop", "", "2/5 40% [12-77]"]]),
    ("mixed_labels", ["k", "v"], [["1", "x"], ["two", "y"], ["3.5", "z"]]),
    ("empty_column", ["a \\ b", "1", "12"], [["1", "{0: 1}", ""], ["2", "{0: 2}", ""]]),
    ("unicode", ["naïve \\ b", "é"], [["é-lock", "ü"], ["plain", "ß"]]),
    ("wide_header", ["a_very_long_row_axis_name \\ another_long_column_axis", "x"], [["1", "y"], ["22", "z"]]),
    ("single_column", ["threads", "exit codes"], [["1", "{0: 69}"], ["12", "{0: 3, 139: 66}"]]),
    ("no_axis", ["", "crashes"], [["all", "3/10 30% [11-60]"]]),
    ("bools", ["b", "n"], [["True", "1"], ["False", "22"]]),
    ("numeric_data", ["r", "c1", "c2"], [["1", "3", "12.5"], ["2", "10", "0.001"], ["3", "-4", "7"]]),
    ("padded_strings", ["h", "v"], [[" x ", "  left"], ["yy", "right  "]]),
    ("inf_nan", ["f", "g"], [["inf", "a"], ["nan", "b"], ["-inf", "c"], ["1.5", "d"]]),
    ("underscores", ["u", "v"], [["1_000", "a"], ["20", "b"]]),
    ("signs", ["s", "v"], [["+5", "a"], ["-12", "b"], ["007", "c"]]),
]


def main():
    cases = []
    for name, headers, rows in CASES:
        cases.append({
            "name": name,
            "headers": headers,
            "rows": rows,
            "grid": tabulate(rows, headers=headers, tablefmt="grid"),
            "pipe": tabulate(rows, headers=headers, tablefmt="pipe"),
        })
    with open(os.path.join(HERE, "table_tabulate_cases.json"), "w", encoding="utf-8") as f:
        json.dump({"tabulate_version": tabulate_version, "cases": cases}, f, indent=1, ensure_ascii=False)
        f.write("\n")
    with open(os.path.join(HERE, "table_seed.txt"), "w", encoding="utf-8") as f:
        f.write(seed_golden())


if __name__ == "__main__":
    main()
