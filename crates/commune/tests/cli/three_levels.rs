//! A three-level federation across three nodes talking HTTP on loopback: two councils
//! (one per node) form a city federation, the city joins a region (both hosted on a hub),
//! the region refers a question down to the councils through the city, and a delegate is
//! suspended by a petition signed while their council's node is cut off.

use serde_json::Value;

use super::TestNode;

fn id(value: &Value, field: &str) -> String {
    value[field].as_str().unwrap().to_owned()
}

/// Syncs the federations' logs between `node` and the hub, both ways (the hub holds no
/// council's own log).
fn sync(node: &TestNode, hub: &str, federations: &[&String; 2]) {
    for federation in federations {
        node.ok(&["sync", "--peer", hub, "--council", federation]);
    }
}

/// Everyone in `voters` votes `ballot` on `proposal` of `council`, then the first closes it.
fn decide(node: &TestNode, council: &str, proposal: &str, voters: &[&str], ballot: &[&str]) {
    for voter in voters {
        let mut args = vec!["--as", voter, "vote", council, proposal];
        args.extend_from_slice(ballot);
        node.ok(&args);
    }
    node.ok(&["--as", voters[0], "close", council, proposal]);
}

fn open(node: &TestNode, who: &str, council: &str, title: &str, more: &[&str]) -> String {
    let mut args = vec!["--as", who, "proposal", "open", council, title];
    args.extend_from_slice(more);
    args.extend_from_slice(&["--open-for", "1m"]);
    id(&node.ok(&args), "event")
}

/// A council of two on `node`: `me` founds it, `second` joins by invitation.
fn council(node: &TestNode, name: &str, second: &str) -> String {
    let council = id(&node.ok(&["council", "found", name]), "council");
    node.ok(&["key", "new", second]);
    let invitation = id(&node.ok(&["invite", &council]), "invitation");
    node.ok(&["--as", second, "join", &invitation, "--my-name", second]);
    council
}

fn state_hash(node: &TestNode, council: &str) -> String {
    id(&node.ok(&["state-hash", council]), "state_hash")
}

#[test]
fn a_region_refers_a_question_through_a_city_to_its_councils() {
    let (hub, one, two) = (TestNode::new(), TestNode::new(), TestNode::new());
    hub.ok(&["key", "new", "regional"]);
    let city = id(
        &hub.ok(&[
            "council",
            "found",
            "City",
            "--federation",
            "--reading",
            "public",
        ]),
        "council",
    );
    let region = id(
        &hub.ok(&[
            "--as",
            "regional",
            "council",
            "found",
            "Region",
            "--federation",
            "--reading",
            "public",
        ]),
        "council",
    );
    let (_server, address) = hub.serve_on("127.0.0.2", &["--sync-every", "0"]);
    let url = format!("http://{address}");
    // Node one: alice (its `me`) and bob; node two: carol (its `me`) and dave.
    let tenants = council(&one, "Tenants", "bob");
    let workers = council(&two, "Workers", "dave");
    // A first sync brings the federations, which are public (anyone may read them); the
    // council the hub does not hold is no failure, and is named.
    for (node, council) in [(&one, &tenants), (&two, &workers)] {
        let report = node.ok(&["sync", "--peer", &url]);
        assert_eq!(report[0]["failed"], serde_json::json!([]), "{report}");
        assert_eq!(
            report[0]["not_held"],
            serde_json::json!([council]),
            "{report}"
        );
    }
    let feds = [&city, &region];
    assert_eq!(
        state_hash(&one, &city),
        state_hash(&hub, &city),
        "the federation travels"
    );

    // Each council decides to join the city and certifies its roster.
    for (node, council, second) in [(&one, &tenants, "bob"), (&two, &workers, "dave")] {
        let p = open(
            node,
            "me",
            council,
            "Join the city",
            &["--join-federation", &city],
        );
        decide(node, council, &p, &["me", second], &["yes"]);
        node.ok(&["certify", council]);
        node.ok(&["federation", "send", council]);
        sync(node, &url, &feds);
    }
    for council in [&tenants, &workers] {
        let p = open(&hub, "me", &city, "Admit", &["--admit-council", council]);
        decide(&hub, &city, &p, &["me"], &["agree"]);
    }
    // Each elects its own `me` as delegate to the city and certifies the mandate.
    for (node, council, second) in [(&one, &tenants, "bob"), (&two, &workers, "dave")] {
        sync(node, &url, &feds);
        let p = open(
            node,
            "me",
            council,
            "Our delegate",
            &["--elect", "me", "--elect", second, "--delegates-to", &city],
        );
        decide(node, council, &p, &["me", second], &["1"]);
        node.ok(&["--as", second, "certify", council]);
        node.ok(&["certify", council]);
        node.ok(&["federation", "send", council]);
        sync(node, &url, &feds);
    }
    sync(&one, &url, &feds);
    let status = hub.ok(&["federation", "status", &city]);
    assert_eq!(
        status["delegates"].as_object().unwrap().len(),
        2,
        "{status}"
    );

    // The city, through its two delegates on two nodes, joins the region.
    let join = open(
        &one,
        "me",
        &city,
        "Join the region",
        &["--join-federation", &region],
    );
    sync(&one, &url, &feds);
    sync(&two, &url, &feds);
    two.ok(&["vote", &city, &join, "yes"]);
    sync(&two, &url, &feds);
    sync(&one, &url, &feds);
    one.ok(&["vote", &city, &join, "yes"]);
    one.ok(&["close", &city, &join]);
    one.ok(&["certify", &city]);
    one.ok(&["federation", "send", &city]);
    sync(&one, &url, &feds);
    let admit = open(
        &hub,
        "regional",
        &region,
        "Admit the city",
        &["--admit-council", &city],
    );
    decide(&hub, &region, &admit, &["regional"], &["agree"]);
    sync(&one, &url, &feds);
    sync(&two, &url, &feds);
    let elect = open(
        &one,
        "me",
        &city,
        "The city's delegate to the region",
        &[
            "--elect",
            &id(&one.ok(&["whoami"]), "public_key")[..16],
            "--elect",
            &id(&two.ok(&["whoami"]), "public_key")[..16],
            "--delegates-to",
            &region,
        ],
    );
    sync(&one, &url, &feds);
    sync(&two, &url, &feds);
    two.ok(&["vote", &city, &elect, "1"]);
    sync(&two, &url, &feds);
    sync(&one, &url, &feds);
    one.ok(&["vote", &city, &elect, "1"]);
    one.ok(&["close", &city, &elect]);
    one.ok(&["certify", &city]);
    one.ok(&["federation", "send", &city]);
    sync(&one, &url, &feds);

    // The region refers a question; the city refers it on to its councils.
    let question = id(
        &one.ok(&[
            "proposal",
            "open",
            &region,
            "Where the regional depot goes",
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
    let city_question = id(
        &one.ok(&[
            "proposal",
            "open",
            &city,
            "The regional depot",
            "--refer",
            &question,
            "--federation",
            &region,
            "--referral",
            "--open-for",
            "1h",
        ]),
        "event",
    );
    sync(&one, &url, &feds);
    sync(&two, &url, &feds);
    for (node, council, second, ballots) in [
        (
            &one,
            &tenants,
            "bob",
            [["north", "south"], ["south", "north"]],
        ),
        (
            &two,
            &workers,
            "dave",
            [["south", "north"], ["south", "north"]],
        ),
    ] {
        let p = open(
            node,
            "me",
            council,
            "The regional depot",
            &["--refer", &city_question, "--federation", &city],
        );
        for (who, ballot) in ["me", second].iter().zip(ballots) {
            node.ok(&["--as", who, "vote", council, &p, ballot[0], ballot[1]]);
        }
        node.ok(&["close", council, &p]);
        node.ok(&["certify", council]);
        node.ok(&["--as", second, "certify", council]);
        node.ok(&["federation", "send", council]);
        sync(node, &url, &feds);
    }
    sync(&one, &url, &feds);
    let closed = one.ok(&["close", &city, &city_question]);
    assert_eq!(closed["decision"]["outcome"]["ballots"], 4, "{closed}");
    one.ok(&["certify", &city]);
    one.ok(&["federation", "send", &city]);
    let decided = one.ok(&["close", &region, &question]);
    let outcome = &decided["decision"]["outcome"];
    assert_eq!(
        outcome["ballots"], 4,
        "four members' ballots, two levels down"
    );
    assert_eq!(
        outcome["winners"][0], 1,
        "south: three of four rank it first"
    );
    sync(&one, &url, &feds);
    sync(&two, &url, &feds);
    for council in [&city, &region] {
        let hash = state_hash(&hub, council);
        assert_eq!(state_hash(&one, council), hash);
        assert_eq!(state_hash(&two, council), hash);
        for node in [&hub, &one, &two] {
            node.ok(&["verify", council]);
        }
    }

    // Node two is cut off. There dave petitions against carol's mandate: it is suspended at
    // home at once, and the certificate waits for the partition to heal. Meanwhile carol,
    // from node one (her key is there too), votes in the city.
    let carol = two.data().join("keys").join("me.key");
    std::fs::copy(&carol, one.data().join("keys").join("carol.key")).unwrap();
    let mandates = two.ok(&["mandate", "list", &workers]);
    let mandate = mandates.as_object().unwrap().keys().next().unwrap().clone();
    let petition = two.ok(&["--as", "dave", "petition", &workers, &mandate[..12]]);
    assert_eq!(petition["status"]["status"], "suspended", "{petition}");
    two.ok(&["--as", "dave", "certify", &workers]);
    two.ok(&["--as", "dave", "federation", "send", &workers]);
    let later = open(&one, "me", &city, "Share the vans", &[]);
    one.ok(&["--as", "carol", "vote", &city, &later, "yes"]);
    sync(&one, &url, &feds);
    let seated = hub.ok(&["federation", "status", &city]);
    assert!(
        seated["delegates"]
            .as_object()
            .unwrap()
            .values()
            .all(|d| d["ended"].is_null()),
        "the hub has not heard of the petition yet: {seated}"
    );
    // The partition heals.
    sync(&two, &url, &feds);
    sync(&one, &url, &feds);
    let status = hub.ok(&["federation", "status", &city]);
    let unseated = status["delegates"]
        .as_object()
        .unwrap()
        .values()
        .filter(|d| d["ended"].is_string())
        .count();
    assert_eq!(unseated, 1, "{status}");
    let log = hub.ok(&["log", &city]);
    let carols_ballot = log
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "ballot" && e["payload"]["proposal"] == later.as_str())
        .expect("carol's ballot reached the hub");
    assert!(
        carols_ballot["rejected"]
            .as_str()
            .is_some_and(|r| r.starts_with("void: concurrent with the certificate that unseated")),
        "{carols_ballot}"
    );
    let hash = state_hash(&hub, &city);
    assert_eq!(state_hash(&one, &city), hash);
    assert_eq!(state_hash(&two, &city), hash);
}
