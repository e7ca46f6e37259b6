"""Counts random elections with pref_voting, an independent implementation, for the Rust
oracle test in methods.rs beside this file.

Reads JSON from the file named by argv[1]: a list of {"method", "candidates", "seats",
"ballots": [[weight, [c, ...]], ...]} with strict (possibly truncated) rankings; prints a
JSON list with, for each election, the sorted list of winners (Schulze: every candidate in
the winning set).
"""

import json
import sys

try:
    from pref_voting.profiles_with_ties import ProfileWithTies
    from pref_voting.profiles import Profile
    from pref_voting.voting_methods import beat_path, instant_runoff
    from pref_voting.proportional_methods import stv_scottish
except ImportError as error:  # the Rust test turns this into a clear failure
    print(f"missing pref_voting: {error}", file=sys.stderr)
    sys.exit(3)


def profile(election):
    n = election["candidates"]
    rankings = [ranking for _, ranking in election["ballots"]]
    counts = [weight for weight, _ in election["ballots"]]
    if all(len(r) == n for r in rankings):
        return Profile(rankings, rcounts=counts)
    ties = [{c: i + 1 for i, c in enumerate(r)} for r in rankings]
    return ProfileWithTies(ties, rcounts=counts, candidates=list(range(n)))


results = []
with open(sys.argv[1]) as file:
    elections = json.load(file)
for election in elections:
    prof = profile(election)
    method = election["method"]
    if method == "schulze":
        winners = beat_path(prof)
    elif method == "irv":
        winners = instant_runoff(prof)
    elif method == "stv-scottish":
        winners = stv_scottish(prof, num_seats=election["seats"])
    else:
        raise SystemExit(f"unknown method {method}")
    results.append(sorted(int(w) for w in winners))
print(json.dumps(results))
