//! A council's story across three nodes on loopback, read as its members read it: each step
//! checks what the text a person sees says (result explanations, consent reasons, revocation,
//! mandates, petitions, federation status), not only that a command succeeded.
//!
//! A hub holds the city federation (public to read); node one holds the tenants (Alice, Bob,
//! Carol), node two the workers (Dana, Eve). The federation's log travels by `commune sync`
//! between the three, and ends on one state hash; last, a newcomer's node joins the tenants
//! over HTTP from node one and reads the same story there.

use serde_json::Value;

use super::TestNode;

fn id(value: &Value, field: &str) -> String {
    value[field].as_str().unwrap().to_owned()
}

fn open(node: &TestNode, who: &str, council: &str, title: &str, more: &[&str]) -> String {
    let mut args = vec!["--as", who, "proposal", "open", council, title];
    args.extend_from_slice(more);
    args.extend_from_slice(&["--open-for", "1h"]);
    id(&node.ok(&args), "event")
}

/// Each of `ballots` (voter, choice…) is cast on `proposal`, then the first voter closes it.
fn decide(node: &TestNode, council: &str, proposal: &str, ballots: &[&[&str]]) -> Value {
    for ballot in ballots {
        let mut args = vec!["--as", ballot[0], "vote", council, proposal];
        args.extend_from_slice(&ballot[1..]);
        node.ok(&args);
    }
    node.ok(&["--as", ballots[0][0], "close", council, proposal])
}

/// A council on `node` founded by its `me` as `founder`, with `others` (key and name) joined.
fn council(node: &TestNode, name: &str, founder: &str, others: &[&str]) -> String {
    let council = id(
        &node.ok(&["council", "found", name, "--my-name", founder]),
        "council",
    );
    for other in others {
        node.ok(&["key", "new", other]);
        let invitation = id(&node.ok(&["invite", &council]), "invitation");
        node.ok(&["--as", other, "join", &invitation, "--my-name", other]);
    }
    council
}

fn state_hash(node: &TestNode, council: &str) -> String {
    id(&node.ok(&["state-hash", council]), "state_hash")
}

/// The line of `proposal list` about `proposal`.
fn listed(node: &TestNode, council: &str, proposal: &str) -> String {
    let list = node.text(&["proposal", "list", council]);
    list.lines()
        .find(|l| l.starts_with(&proposal[..8]))
        .unwrap_or_else(|| panic!("{proposal} is not listed: {list}"))
        .to_owned()
}

fn contains(text: &str, wanted: &str) {
    assert!(text.contains(wanted), "{wanted:?} is not in:\n{text}");
}

#[test]
fn a_council_s_story_reads_true_on_every_node() {
    let (hub, one, two) = (TestNode::new(), TestNode::new(), TestNode::new());
    let city = id(
        &hub.ok(&[
            "council",
            "found",
            "City",
            "--federation",
            "--reading",
            "public",
            "--my-name",
            "Convener",
        ]),
        "council",
    );
    let (_server, address) = hub.serve_on("127.0.0.1", &["--sync-every", "0"]);
    let url = format!("http://{address}");
    let sync = |node: &TestNode| {
        let report = node.ok(&["sync", "--peer", &url, "--council", &city]);
        assert_eq!(report[0]["failed"], serde_json::json!([]), "{report}");
    };
    let tenants = council(&one, "Tenants", "Alice", &["bob", "carol"]);
    let workers = council(&two, "Workers", "Dana", &["eve"]);
    sync(&one);
    sync(&two);

    // Consent: Bob blocks and Carol objects, each with a reason, which the text gives back.
    let paint = open(
        &one,
        "me",
        &tenants,
        "Paint the stairwell red",
        &["--method", "consent"],
    );
    let closed = decide(
        &one,
        &tenants,
        &paint,
        &[
            &["me", "agree"],
            &["bob", "block", "--reason", "the landlord must pay for it"],
            &["carol", "object", "--reason", "red is loud"],
        ],
    );
    assert_eq!(closed["decision"]["outcome"]["passed"], false, "{closed}");
    let shown = one.text(&["proposal", "show", &tenants, &paint]);
    contains(&shown, "DECIDED: did not pass");
    contains(&shown, "1 block(s): consent is not given");
    contains(&shown, "\nobjections and blocks:\n");
    contains(&shown, "\n  bob blocks: the landlord must pay for it\n");
    contains(&shown, "\n  carol objects: red is loud\n");
    assert!(listed(&one, &tenants, &paint).contains("[consent, failed]"));

    // A majority of those voting, but short of its quorum of three: it reads as failing.
    // (It is open for no time at all, so that it may close before everyone has voted.)
    let fete = id(
        &one.ok(&[
            "proposal",
            "open",
            &tenants,
            "A street party",
            "--method",
            "majority",
            "--quorum",
            "3",
            "--open-for",
            "0m",
        ]),
        "event",
    );
    let closed = decide(&one, &tenants, &fete, &[&["me", "yes"], &["bob", "yes"]]);
    let outcome = &closed["decision"]["outcome"];
    assert_eq!(
        (&outcome["passed"], &outcome["quorum_met"]),
        (&false.into(), &false.into()),
        "{closed}"
    );
    let shown = one.text(&["proposal", "show", &tenants, &fete]);
    contains(&shown, "DECIDED: did not pass");
    contains(
        &shown,
        "2 ballot(s) from an electorate of 3; quorum not met (needs 3 ballot(s)",
    );
    contains(
        &shown,
        "the quorum is not met, so the proposal fails whatever the count",
    );
    assert!(!shown.contains("carries"), "{shown}");
    contains(&listed(&one, &tenants, &fete), "failed: no quorum");

    // An urgent decision the council does not ratify: revoked, and what followed is flagged.
    let occupy = open(
        &one,
        "me",
        &tenants,
        "Occupy the lobby tonight",
        &["--method", "majority", "--urgent"],
    );
    let closed = decide(
        &one,
        &tenants,
        &occupy,
        &[&["me", "yes"], &["bob", "yes"], &["carol", "no"]],
    );
    let ratification = id(&closed["decision"], "ratification");
    let pending = one.text(&["proposal", "show", &tenants, &occupy]);
    contains(
        &pending,
        &format!(
            "urgent: it stands until the council decides its ratification, proposal {}",
            &ratification[..8]
        ),
    );
    let hold = open(&one, "me", &tenants, "Hold the lobby for a week", &[]);
    decide(
        &one,
        &tenants,
        &ratification,
        &[&["me", "no"], &["bob", "no"], &["carol", "no"]],
    );
    contains(
        &listed(&one, &tenants, &occupy),
        "passed, then REVOKED: not ratified",
    );
    contains(
        &listed(&one, &tenants, &hold),
        "FLAGGED: follows a revoked urgent decision",
    );
    contains(
        &one.text(&["proposal", "show", &tenants, &occupy]),
        "REVOKED: the council did not ratify this urgent decision",
    );
    contains(
        &one.text(&["proposal", "show", &tenants, &hold]),
        &format!(
            "FLAGGED: opened after urgent decision {}, which the council did not ratify",
            &occupy[..8]
        ),
    );

    // Both councils join the city, by name, and the convener admits them.
    for (node, council, ballots) in [
        (
            &one,
            &tenants,
            &[&["me", "yes"][..], &["bob", "yes"], &["carol", "yes"]][..],
        ),
        (&two, &workers, &[&["me", "yes"][..], &["eve", "yes"]][..]),
    ] {
        let join = open(
            node,
            "me",
            council,
            "Join the city",
            &["--join-federation", "City"],
        );
        decide(node, council, &join, ballots);
        node.ok(&["certify", council]);
        node.ok(&["--as", ballots[1][0], "certify", council]);
        node.ok(&["federation", "send", council]);
        sync(node);
    }
    for council in [&tenants, &workers] {
        let admit = open(
            &hub,
            "me",
            &city,
            "Admit",
            &["--admit-council", &council[..12]],
        );
        decide(&hub, &city, &admit, &[&["me", "agree"]]);
    }
    sync(&one);
    sync(&two);

    // The tenants elect their delegate by STV; the workers' one candidate stands against
    // re-opening nominations. Each reads who was elected, and the mandate by the city's name.
    let elect = open(
        &one,
        "me",
        &tenants,
        "Our delegate to the city",
        &[
            "--elect",
            "bob",
            "--elect",
            "carol",
            "--method",
            "stv-meek",
            "--seats",
            "1",
            "--delegates-to",
            "City",
        ],
    );
    decide(
        &one,
        &tenants,
        &elect,
        &[
            &["me", "bob", "carol"],
            &["bob", "bob", "carol"],
            &["carol", "carol", "bob"],
        ],
    );
    let shown = one.text(&["proposal", "show", &tenants, &elect]);
    contains(&shown, "DECIDED: passed");
    contains(
        &shown,
        "the count, in first preferences:\n  bob: 2\n  carol: 1\n",
    );
    contains(&shown, "elected: bob");
    contains(&shown, "\n  winners: bob\n");
    let mandates = one.ok(&["mandate", "list", &tenants]);
    let bobs = mandates.as_object().unwrap().keys().next().unwrap().clone();
    contains(
        &one.text(&["mandate", "list", &tenants]),
        &format!("bob: delegate to City ({}), term 1", &city[..8]),
    );
    let elect = open(
        &two,
        "me",
        &workers,
        "Our delegate to the city",
        &["--elect", "Dana", "--delegates-to", "City"],
    );
    decide(&two, &workers, &elect, &[&["me", "Dana"], &["eve", "Dana"]]);
    let shown = two.text(&["proposal", "show", &workers, &elect]);
    contains(&shown, "option 2: re-open nominations");
    contains(&shown, "DECIDED: passed");
    contains(&shown, "most approved: Dana (2)");
    for (node, council, second) in [(&one, &tenants, "carol"), (&two, &workers, "eve")] {
        node.ok(&["certify", council]);
        node.ok(&["--as", second, "certify", council]);
        node.ok(&["federation", "send", council]);
        sync(node);
    }
    sync(&one);
    let status = hub.text(&["federation", "status", &city]);
    assert_eq!(status.matches("\ndelegate ").count(), 2, "{status}");
    assert!(!status.contains("unseated"), "{status}");
    // Where a node holds a member council, it names the council and its delegate.
    let status = one.text(&["federation", "status", &city]);
    let bob = id(&one.ok(&["--as", "bob", "whoami"]), "public_key");
    contains(
        &status,
        &format!("member council Tenants ({}): 3 member(s)", &tenants[..8]),
    );
    contains(
        &status,
        &format!(
            "delegate bob ({}) of council Tenants ({}), mandate {}",
            &bob[..8],
            &tenants[..8],
            &bobs[..8]
        ),
    );
    contains(
        &status,
        &format!("member council {}: 2 member(s)", &workers[..8]),
    );

    // Dana puts a question to the city; the tenants instruct Bob to vote no, and he does.
    let vans = open(&two, "me", &city, "Sell the vans", &[]);
    sync(&two);
    sync(&one);
    let instruct = open(
        &one,
        "me",
        &tenants,
        "Refuse to sell the vans",
        &[
            "--instruct",
            &vans,
            "--federation",
            "City",
            "--position",
            "no",
        ],
    );
    decide(
        &one,
        &tenants,
        &instruct,
        &[&["me", "yes"], &["bob", "yes"], &["carol", "yes"]],
    );
    one.ok(&["certify", &tenants]);
    one.ok(&["--as", "carol", "certify", &tenants]);
    one.ok(&["federation", "send", &tenants]);
    contains(
        &one.text(&["mandate", "list", &tenants]),
        "; active; 1 instruction(s)",
    );
    one.ok(&["--as", "bob", "vote", &city, &vans, "no"]);
    sync(&one);
    sync(&two);
    two.ok(&["vote", &city, &vans, "yes"]);
    let closed = two.ok(&["close", &city, &vans]);
    assert_eq!(closed["decision"]["outcome"]["passed"], false, "{closed}");
    let shown = two.text(&["proposal", "show", &city, &vans]);
    contains(&shown, "DECIDED: did not pass");
    // Node two holds the workers, so it names their delegate; the hub holds neither council.
    contains(
        &shown,
        "general question by Dana, delegate of Workers, decided by majority; 2 in the electorate",
    );
    contains(
        &listed(&two, &city, &vans),
        "] by Dana, delegate of Workers",
    );
    sync(&two);
    contains(&listed(&hub, &city, &vans), "] by delegate ");
    contains(
        &shown,
        "the count, in votes, weighted by each delegate's weight:\n  yes: 1\n  no: 1\n",
    );
    contains(
        &shown,
        "1 yes, 1 no, 0 abstain: yes needs more than 1/2 of yes + no, and does not have it",
    );
    let status = two.text(&["federation", "status", &city]);
    assert!(
        !status.contains("BREACH"),
        "Bob kept his instruction: {status}"
    );
    sync(&two);

    // The city refers a question to its councils, which count it themselves.
    let depot = id(
        &two.ok(&[
            "proposal",
            "open",
            &city,
            "Where the depot goes",
            "--referral",
            "--method",
            "schulze",
            "--option",
            "north",
            "--option",
            "south",
            "--open-for",
            "1h",
        ]),
        "event",
    );
    sync(&two);
    sync(&one);
    for (node, council, ballots, second) in [
        (
            &one,
            &tenants,
            &[
                &["me", "south", "north"][..],
                &["bob", "south", "north"],
                &["carol", "north", "south"],
            ][..],
            "carol",
        ),
        (
            &two,
            &workers,
            &[&["me", "south", "north"][..], &["eve", "north", "south"]][..],
            "eve",
        ),
    ] {
        let p = open(
            node,
            "me",
            council,
            "The depot",
            &["--refer", &depot, "--federation", "City"],
        );
        decide(node, council, &p, ballots);
        node.ok(&["certify", council]);
        node.ok(&["--as", second, "certify", council]);
        node.ok(&["federation", "send", council]);
        sync(node);
    }
    sync(&one);
    sync(&two);
    contains(
        &two.text(&["federation", "status", &city]),
        "referred \"Where the depot goes\": 2 of 2 council(s) answered",
    );
    let closed = two.ok(&["close", &city, &depot]);
    let outcome = &closed["decision"]["outcome"];
    assert_eq!(outcome["ballots"], 5, "five members' ballots: {closed}");
    assert_eq!(
        outcome["winners"],
        serde_json::json!([1]),
        "south: {closed}"
    );
    let shown = two.text(&["proposal", "show", &city, &depot]);
    contains(
        &shown,
        "decided by schulze; referred to 2 council(s) of 5 member(s), which count it themselves",
    );
    contains(
        &shown,
        "the count, in rivals each option beats head to head:\n  north: 0\n  south: 1\n",
    );
    contains(&shown, "5 ballot(s) from an electorate of 5");
    contains(&shown, "north: 2 over south\n  south: 3 over north\n");
    contains(&shown, "ranking: south > north\n  winners: south\n");
    sync(&two);
    sync(&one);
    contains(
        &hub.text(&["federation", "status", &city]),
        "referred \"Where the depot goes\": 2 of 2 council(s) answered, closed",
    );

    // Carol petitions to recall Bob: one of three is the quarter that suspends at once, at
    // home and, with her signature as proof, in the city.
    let petition = one.text(&["--as", "carol", "petition", &tenants, &bobs[..12]]);
    assert_eq!(
        petition.trim(),
        "signed the recall petition (1 of the 1 signature(s) needed); the mandate is \
         SUSPENDED until the council decides"
    );
    contains(
        &one.text(&["mandate", "list", &tenants]),
        "bob: delegate to City",
    );
    contains(
        &one.text(&["mandate", "list", &tenants]),
        "SUSPENDED by petition; recall decision",
    );
    let sent = one.ok(&["--as", "carol", "federation", "send", &tenants]);
    assert_eq!(sent["waiting"], serde_json::json!([]), "{sent}");
    sync(&one);
    sync(&two);
    let status = hub.text(&["federation", "status", &city]);
    assert_eq!(status.matches("(unseated)").count(), 1, "{status}");
    let seat = status
        .lines()
        .find(|l| l.starts_with(&format!("delegate {}", &bob[..8])))
        .unwrap_or_else(|| panic!("no seat for bob: {status}"));
    assert!(seat.ends_with("(unseated)"), "{status}");
    let status = one.text(&["federation", "status", &city]);
    let seat = status
        .lines()
        .find(|l| l.starts_with("delegate bob ("))
        .unwrap_or_else(|| panic!("no seat for bob: {status}"));
    assert!(seat.ends_with("(unseated)"), "{status}");
    let refused = one.fails(&[
        "--as",
        "bob",
        "proposal",
        "open",
        &city,
        "Buy vans",
        "--open-for",
        "1h",
    ]);
    contains(&refused, "no longer a member");

    // Every node ends on one city, and each log verifies.
    sync(&one);
    sync(&two);
    let hash = state_hash(&hub, &city);
    assert_eq!(state_hash(&one, &city), hash, "node one converged");
    assert_eq!(state_hash(&two, &city), hash, "node two converged");
    for node in [&hub, &one, &two] {
        node.ok(&["verify", &city]);
    }
    one.ok(&["verify", &tenants]);
    two.ok(&["verify", &workers]);

    // A newcomer joins the tenants from node one over HTTP, and reads on her own node what
    // the others read on theirs.
    let (_tenants_server, tenants_address) = one.serve_on("127.0.0.1", &["--sync-every", "0"]);
    let invitation = id(&one.ok(&["invite", &tenants]), "invitation");
    let fay = TestNode::new();
    fay.ok(&[
        "join",
        &invitation,
        "--from",
        &format!("http://{tenants_address}"),
        "--my-name",
        "Fay",
    ]);
    assert_eq!(
        state_hash(&fay, &tenants),
        state_hash(&one, &tenants),
        "the newcomer's node holds the tenants' state"
    );
    let shown = fay.text(&["proposal", "show", &tenants, &paint]);
    contains(&shown, "\n  bob blocks: the landlord must pay for it\n");
    contains(&shown, "\n  carol objects: red is loud\n");
    contains(
        &listed(&fay, &tenants, &occupy),
        "passed, then REVOKED: not ratified",
    );
    contains(&listed(&fay, &tenants, &fete), "failed: no quorum");
    contains(
        &fay.text(&["mandate", "list", &tenants]),
        "bob: delegate to ",
    );
    contains(
        &fay.text(&["mandate", "list", &tenants]),
        "SUSPENDED by petition",
    );
}
