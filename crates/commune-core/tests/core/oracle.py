"""Counts random elections with pref_voting, an independent implementation, for the Rust
oracle test in methods.rs beside this file.

Reads JSON from the file named by argv[1]: a list of {"method", "candidates", "seats",
"ballots": [[weight, [c, ...]], ...]} with strict (possibly truncated) rankings, or, for
"schulze-ties", [[weight, [[c, ...], ...]], ...] with groups of equally ranked candidates;
prints a JSON list with, for each election, the sorted list of winners (Schulze: every
candidate in the winning set).
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


def tied_profile(election):
    """Groups of equal candidates, unranked ones below all ranked (extended strict
    preference), as commune reads a ballot."""
    n = election["candidates"]
    ranks = [{c: i + 1 for i, group in enumerate(groups) for c in group} for _, groups in election["ballots"]]
    counts = [weight for weight, _ in election["ballots"]]
    prof = ProfileWithTies(ranks, rcounts=counts, candidates=list(range(n)))
    prof.use_extended_strict_preference()
    return prof


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
    method = election["method"]
    prof = tied_profile(election) if method == "schulze-ties" else profile(election)
    if method == "schulze":
        winners = beat_path(prof)
    elif method == "schulze-ties":
        # Link strength by winning votes, then fewer losing votes, as commune (and Debian)
        # measure it: one number, since losing votes never exceed the voters.
        voters = sum(weight for weight, _ in election["ballots"])
        winners = beat_path(prof, strength_function=lambda a, b: prof.support(a, b) * (voters + 1) - prof.support(b, a))
    elif method == "irv":
        winners = instant_runoff(prof)
    elif method == "stv-scottish":
        winners = stv_scottish(prof, num_seats=election["seats"])
    else:
        raise SystemExit(f"unknown method {method}")
    results.append(sorted(int(w) for w in winners))
print(json.dumps(results))
