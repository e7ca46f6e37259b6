//! Mandates and federations through the command line: a council joins a federation, elects
//! and certifies a delegate, answers a referred question, and recalls its delegate by
//! petition.

use super::TestNode;

fn event(value: &serde_json::Value) -> String {
    value["event"].as_str().unwrap()[..12].to_owned()
}

#[test]
fn a_council_joins_a_federation_sends_a_delegate_answers_a_referral_and_recalls() {
    let node = TestNode::new();
    let (council, federation, mandate) = bob_seated(&node);
    let mandates = node.ok(&["mandate", "list", &council]);
    assert_eq!(mandates[&mandate]["status"]["status"], "active");
    let status = node.ok(&["federation", "status", &federation]);
    assert_eq!(
        status["delegates"].as_object().unwrap().len(),
        1,
        "{status}"
    );

    // The delegate puts a question to every council; the tenants count it themselves.
    let question = event(&node.ok(&[
        "--as",
        "bob",
        "proposal",
        "open",
        &federation,
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
    ]));
    let refer = event(&node.ok(&[
        "proposal",
        "open",
        &council,
        "The depot",
        "--refer",
        &question,
        "--federation",
        &federation,
        "--open-for",
        "1m",
    ]));
    for (who, ranking) in [
        ("me", ["south", "north"]),
        ("bob", ["south", "north"]),
        ("carol", ["north", "south"]),
    ] {
        node.ok(&[
            "--as", who, "vote", &council, &refer, ranking[0], ranking[1],
        ]);
    }
    node.ok(&["close", &council, &refer]);
    for who in ["me", "bob"] {
        node.ok(&["--as", who, "certify", &council]);
    }
    node.ok(&["federation", "send", &council]);
    let closed = node.ok(&["--as", "bob", "close", &federation, &question]);
    assert_eq!(
        closed["decision"]["outcome"]["winners"][0], 1,
        "south wins 2 to 1"
    );
    assert_eq!(closed["decision"]["outcome"]["ballots"], 3);
    // What a member reads: the pairwise count in its unit, not a row of zeros.
    let shown = node.text(&["proposal", "show", &federation, &question]);
    assert!(
        shown.contains(
            "the count, in rivals each option beats head to head:\n  north: 0\n  south: 1\n"
        ),
        "{shown}"
    );
    // Only the referred question is listed as referred.
    node.ok(&[
        "--as",
        "bob",
        "proposal",
        "open",
        &federation,
        "An ordinary question",
        "--open-for",
        "1h",
    ]);
    let status = node.text(&["federation", "status", &federation]);
    assert!(
        status.contains("referred \"Where the depot goes\": 1 of 1 council(s) answered, closed"),
        "{status}"
    );
    assert!(!status.contains("An ordinary question"), "{status}");

    // One member of three petitions: a quarter suspends the mandate at once, and so the
    // seat; a second signature adds to the petition.
    let first = node.text(&["petition", &council, &mandate[..12]]);
    assert_eq!(
        first.trim(),
        "signed the recall petition (1 of the 1 signature(s) needed); the mandate is \
         SUSPENDED until the council decides"
    );
    // The petition's one signature is the proof the federation honours, at the share the
    // council's roster carries (a quarter), not at the half its certificates need.
    let sent = node.ok(&["federation", "send", &council]);
    assert_eq!(sent["waiting"], serde_json::json!([]), "{sent}");
    let status = node.ok(&["federation", "status", &federation]);
    assert_eq!(
        status["councils"][&council]["petition_share_permille"], 250,
        "{status}"
    );
    let seat = status["delegates"]
        .as_object()
        .unwrap()
        .values()
        .next()
        .unwrap();
    assert!(seat["ended"].is_string(), "{sent}\n{status}");
    let refused = node.fails(&[
        "--as",
        "bob",
        "proposal",
        "open",
        &federation,
        "Another question",
        "--open-for",
        "1h",
    ]);
    assert!(refused.contains("no longer a member"), "{refused}");
    let petition = node.ok(&["--as", "carol", "petition", &council, &mandate[..12]]);
    assert_eq!(petition["status"]["status"], "suspended", "{petition}");
    assert_eq!(
        (&petition["signers"], &petition["needed"]),
        (&2.into(), &1.into())
    );
    node.ok(&["verify", &federation]);
    node.ok(&["verify", &council]);
}

/// A council of three (me, bob, carol) in a federation, bob its delegate there. Returns the
/// council, the federation and bob's mandate.
fn bob_seated(node: &TestNode) -> (String, String, String) {
    for who in ["bob", "carol", "convener"] {
        node.ok(&["key", "new", who]);
    }
    let found = |args: &[&str]| node.ok(args)["council"].as_str().unwrap().to_owned();
    let federation = found(&[
        "--as",
        "convener",
        "council",
        "found",
        "City",
        "--federation",
    ]);
    let council = found(&["council", "found", "Tenants", "--my-name", "Alice"]);
    for who in ["bob", "carol"] {
        let invitation = node.ok(&["invite", &council])["invitation"]
            .as_str()
            .unwrap()
            .to_owned();
        node.ok(&["--as", who, "join", &invitation, "--my-name", who]);
    }
    decide(
        node,
        &council,
        // Councils by name, as every other option takes them.
        &["Join the city", "--join-federation", "City"],
        &["yes"],
    );
    // Two of three sign the roster; the federation needs half of them.
    node.ok(&["certify", &council]);
    let waiting = node.ok(&["federation", "send", &council]);
    assert_eq!(waiting["sent"].as_array().unwrap().len(), 0, "{waiting}");
    node.ok(&["--as", "bob", "certify", &council]);
    node.ok(&["federation", "send", &council]);
    let admit = event(&node.ok(&[
        "--as",
        "convener",
        "proposal",
        "open",
        &federation,
        "Admit the tenants",
        "--admit-council",
        "Tenants",
        "--open-for",
        "1m",
    ]));
    node.ok(&["--as", "convener", "vote", &federation, &admit, "agree"]);
    node.ok(&["--as", "convener", "close", &federation, &admit]);
    decide(
        node,
        &council,
        &[
            "Our delegate",
            "--elect",
            "bob",
            "--elect",
            "carol",
            "--delegates-to",
            "City",
            "--term",
            "30d",
        ],
        &["bob"],
    );
    let mandates = node.ok(&["mandate", "list", &council]);
    let mandate = mandates.as_object().unwrap().keys().next().unwrap().clone();
    let listed = node.text(&["mandate", "list", &council]);
    assert!(
        listed.contains(&format!(
            "bob: delegate to City ({}), term 1",
            &federation[..8]
        )),
        "{listed}"
    );
    for who in ["me", "carol"] {
        node.ok(&["--as", who, "certify", &council]);
    }
    node.ok(&["federation", "send", &council]);
    (council, federation, mandate)
}

/// Everyone in the council casts `ballot` on a new proposal, then it closes.
fn decide(node: &TestNode, council: &str, args: &[&str], ballot: &[&str]) -> String {
    let mut open = vec!["proposal", "open", council];
    open.extend_from_slice(args);
    open.extend_from_slice(&["--open-for", "1m"]);
    let p = event(&node.ok(&open));
    for who in ["me", "bob", "carol"] {
        let mut vote = vec!["--as", who, "vote", council, &p];
        vote.extend_from_slice(ballot);
        node.ok(&vote);
    }
    node.ok(&["close", council, &p]);
    p
}

#[test]
fn a_breach_is_carried_home_by_petition_and_a_kept_delegate_sits_again() {
    let node = TestNode::new();
    let (council, federation, mandate) = bob_seated(&node);
    // Two federation questions; the council instructs bob to vote no on both.
    let questions = ["Accept the landlords' offer", "Sell the depot"].map(|title| {
        let question = event(&node.ok(&[
            "--as",
            "bob",
            "proposal",
            "open",
            &federation,
            title,
            "--open-for",
            "1h",
        ]));
        decide(
            &node,
            &council,
            &[
                "Refuse",
                "--instruct",
                &question,
                "--federation",
                &federation,
                "--position",
                "no",
            ],
            &["yes"],
        );
        question
    });
    let question = &questions[0];
    for who in ["me", "carol"] {
        node.ok(&["--as", who, "certify", &council]);
    }
    node.ok(&["federation", "send", &council]);
    // No breach yet: there is nothing to carry home.
    let none = node.fails(&["petition", &council, &mandate[..12], "--breach"]);
    assert!(none.contains("records no breach"), "{none}");
    node.ok(&["--as", "bob", "vote", &federation, question, "yes"]);
    let status = node.ok(&["federation", "status", &federation]);
    assert_eq!(status["breaches"].as_array().unwrap().len(), 1, "{status}");

    // Carol carries the breach home: her petition cites it, and a third of the council
    // suspends the mandate at once.
    let petition = node.ok(&[
        "--as",
        "carol",
        "petition",
        &council,
        &mandate[..12],
        "--breach",
    ]);
    assert_eq!(petition["status"]["status"], "suspended", "{petition}");
    let mandates = node.ok(&["mandate", "list", &council]);
    let breaches = mandates[&mandate]["breaches"].as_array().unwrap();
    assert_eq!(breaches.len(), 1, "{mandates}");
    assert_eq!(breaches[0]["ballot"], status["breaches"][0]["ballot"]);
    let again = node.fails(&["petition", &council, &mandate[..12], "--breach"]);
    assert!(again.contains("records no breach"), "{again}");

    // Bob, still seated there, breaks the second instruction. This node's operator has
    // opted in: looking at the federation carries the new breach home as their petition.
    node.ok(&["--as", "bob", "vote", &federation, &questions[1], "yes"]);
    let status = node.ok(&["federation", "status", &federation, "--carry-breaches"]);
    assert_eq!(status["carried"].as_array().unwrap().len(), 1, "{status}");
    let mandates = node.ok(&["mandate", "list", &council]);
    assert_eq!(mandates[&mandate]["breaches"].as_array().unwrap().len(), 2);
    let status = node.ok(&["federation", "status", &federation, "--carry-breaches"]);
    assert_eq!(status["carried"], serde_json::json!([]), "nothing new");

    // The suspension reaches the federation; then the council votes to keep bob.
    node.ok(&["--as", "carol", "federation", "send", &council]);
    let recall = event(&petition);
    for who in ["me", "bob", "carol"] {
        node.ok(&["--as", who, "vote", &council, &recall, "no"]);
    }
    node.ok(&["close", &council, &recall]);
    let mandates = node.ok(&["mandate", "list", &council]);
    assert_eq!(mandates[&mandate]["status"]["status"], "active");
    for who in ["me", "carol"] {
        node.ok(&["--as", who, "certify", &council]);
    }
    let sent = node.ok(&["federation", "send", &council]);
    let status = node.ok(&["federation", "status", &federation]);
    let seat = status["delegates"]
        .as_object()
        .unwrap()
        .values()
        .next()
        .unwrap();
    assert!(seat["ended"].is_null(), "{sent}\n{status}");
    node.ok(&[
        "--as",
        "bob",
        "proposal",
        "open",
        &federation,
        "Another question",
        "--open-for",
        "1h",
    ]);
    node.ok(&["verify", &federation]);
    node.ok(&["verify", &council]);
    // The council's page keeps the breach on the mandate's card.
    let (_server, address) = node.serve();
    let (_, page) = super::http_get_as(&node, "me", &address, &format!("/c/{council}"));
    assert!(
        page.contains("Mandate breach: voted against the council's instruction"),
        "{page}"
    );
}
