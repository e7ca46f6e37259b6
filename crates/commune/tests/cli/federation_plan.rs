//! A federation plans over its member councils' registers from the command line: a vital need
//! in one council met from another's store, shown as a flow; a member council whose log the
//! node does not hold is named; a stranger is refused.

use serde_json::Value;

use super::TestNode;

fn id(value: &Value, field: &str) -> String {
    value[field].as_str().unwrap().to_owned()
}

/// Founds a council of one (Alice, the identity `me`) and has the federation admit it.
fn member_council(node: &TestNode, federation: &str, name: &str) -> String {
    let council = id(
        &node.ok(&["council", "found", name, "--my-name", "Alice"]),
        "council",
    );
    let join = id(
        &node.ok(&[
            "proposal",
            "open",
            &council,
            "Join the city",
            "--join-federation",
            federation,
            "--open-for",
            "1m",
        ]),
        "event",
    );
    node.ok(&["vote", &council, &join, "yes"]);
    node.ok(&["close", &council, &join]);
    node.ok(&["certify", &council]);
    node.ok(&["federation", "send", &council]);
    let admit = id(
        &node.ok(&[
            "--as",
            "convener",
            "proposal",
            "open",
            federation,
            name,
            "--admit-council",
            &council,
            "--open-for",
            "1m",
        ]),
        "event",
    );
    node.ok(&["--as", "convener", "vote", federation, &admit, "agree"]);
    node.ok(&["--as", "convener", "close", federation, &admit]);
    council
}

/// A city of three councils: Riverside keeps flour in its store and bakes there, Hilltop's
/// canteen needs flour and bread and has none, Lakeside has nothing in its register.
fn city(node: &TestNode) -> (String, [String; 3]) {
    for who in ["convener", "stranger"] {
        node.ok(&["key", "new", who]);
    }
    let federation = id(
        &node.ok(&[
            "--as",
            "convener",
            "council",
            "found",
            "City",
            "--federation",
        ]),
        "council",
    );
    let riverside = member_council(node, &federation, "Riverside");
    let hilltop = member_council(node, &federation, "Hilltop");
    let lakeside = member_council(node, &federation, "Lakeside");
    let status = node.ok(&["federation", "status", &federation]);
    assert_eq!(status["councils"].as_object().unwrap().len(), 3, "{status}");

    for council in [&riverside, &hilltop] {
        node.ok(&["item", "add", council, "flour", "--unit", "kg"]);
        node.ok(&["item", "add", council, "bread", "--unit", "loaf"]);
    }
    node.ok(&[
        "process",
        "add",
        &riverside,
        "Bake",
        "--out",
        "bread=10",
        "--in",
        "flour=5",
        "--labour",
        "baking=1",
        "--capacity",
        "4",
        "--place",
        "store",
    ]);
    node.ok(&[
        "offer", &riverside, "baking", "3", "--labour", "--place", "store",
    ]);
    node.ok(&[
        "need",
        &hilltop,
        "bread",
        "30",
        "--urgency",
        "important",
        "--place",
        "canteen",
    ]);
    node.ok(&["item", "add", &hilltop, "salt", "--unit", "kg"]);
    node.ok(&[
        "resource",
        "add",
        &riverside,
        "flour sacks",
        "--item",
        "flour",
        "--quantity",
        "20",
        "--place",
        "store",
    ]);
    node.ok(&[
        "need",
        &hilltop,
        "flour",
        "12",
        "--urgency",
        "vital",
        "--for",
        "council",
        "--place",
        "canteen",
    ]);
    node.ok(&[
        "need",
        &hilltop,
        "salt",
        "1",
        "--urgency",
        "wanted",
        "--place",
        "canteen",
    ]);
    (federation, [riverside, hilltop, lakeside])
}

fn council<'a>(plan: &'a Value, name: &str) -> &'a Value {
    plan["councils"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no council {name} in {plan}"))
}

#[test]
fn a_need_in_one_council_is_met_from_anothers_store_and_shown_as_a_flow() {
    let node = TestNode::new();
    let (federation, [riverside, hilltop, _]) = city(&node);

    // A single council's plan cannot meet the canteen's flour: Hilltop has none.
    let alone = node.ok(&["plan", &hilltop]);
    assert_eq!(alone["needs"][0]["met"], 0.0, "{alone}");

    let plan = node.ok(&["federation", "plan", "City"]);
    let needs = council(&plan, "Hilltop")["needs"].as_array().unwrap();
    let flour = needs.iter().find(|n| n["item"] == "flour").unwrap();
    assert!(
        (flour["met"].as_f64().unwrap() - 12.0).abs() < 1e-6,
        "{plan}"
    );
    assert!(flour["why"].is_null(), "{flour}");
    let salt = needs.iter().find(|n| n["item"] == "salt").unwrap();
    assert_eq!(salt["met"], 0.0);
    assert!(
        salt["why"].as_str().unwrap().contains("salt"),
        "the unmet need says why: {salt}"
    );
    // Riverside's own plan shows no needs, and none of the order machinery.
    assert!(
        council(&plan, "Riverside")["needs"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert!(
        council(&plan, "Lakeside")["needs"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let flows = plan["flows"].as_array().unwrap();
    assert_eq!(flows.len(), 2, "{plan}");
    let flow = flows.iter().find(|f| f["item"] == "flour").unwrap();
    assert_eq!(flow["from"]["council"], "Riverside");
    assert_eq!(flow["from"]["place"], "store");
    assert_eq!(flow["to"]["council"], "Hilltop");
    assert_eq!(flow["to"]["place"], "canteen");
    assert!((flow["from_stock"].as_f64().unwrap() - 12.0).abs() < 1e-6);
    assert!(
        (flow["hours"].as_f64().unwrap() - 1.2).abs() < 1e-6,
        "{flow}"
    );
    assert!(plan["not_planned"].as_array().unwrap().is_empty());
    // Riverside bakes with the 8 kg of flour left: 16 loaves, made to order; Hilltop is told
    // that this is all the other councils can spare, not that its own stock ran out.
    let bread = flows.iter().find(|f| f["item"] == "bread").unwrap();
    assert!(
        (bread["made"].as_f64().unwrap() - 16.0).abs() < 1e-4,
        "{bread}"
    );
    assert!(bread["from_stock"].as_f64().unwrap() < 1e-9, "{bread}");
    let loaves = needs.iter().find(|n| n["item"] == "bread").unwrap();
    assert!(
        (loaves["met"].as_f64().unwrap() - 16.0).abs() < 1e-4,
        "{loaves}"
    );
    assert_eq!(
        loaves["why"],
        "other councils can spare no more than the 16 loaf of bread they send (Riverside)"
    );

    // The same in words, at the transport cost the member gives.
    let output = node.run(&["federation", "plan", &federation, "--link-hours", "0.3"]);
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(
        text.contains(
            "12 kg of flour from Riverside's store to Hilltop's canteen, 3.60 transport hour(s)"
        ),
        "{text}"
    );
    assert!(
        text.contains("flour at canteen (vital): 12 of 12 kg: met in full"),
        "{text}"
    );
    assert!(
        text.contains("salt at canteen (wanted): 0 of 1 kg"),
        "{text}"
    );
    assert!(
        text.contains(
            "16 loaf of bread from Riverside's store to Hilltop's canteen (made to order)"
        ),
        "{text}"
    );
    assert!(text.contains("run \"Bake\" 1.6 time(s)"), "{text}");

    // Showing is not proposing: no log changed.
    for council in [&riverside, &hilltop, &federation] {
        let before = node.log_len(council);
        node.ok(&["federation", "plan", &federation]);
        assert_eq!(node.log_len(council), before);
    }
}

#[test]
fn a_member_council_not_held_is_named_and_strangers_and_councils_are_refused() {
    let node = TestNode::new();
    let (federation, [riverside, hilltop, lakeside]) = city(&node);

    let error = node.fails(&["--as", "stranger", "federation", "plan", &federation]);
    assert!(error.contains("not a member of City"), "{error}");
    let error = node.fails(&["federation", "plan", &riverside]);
    assert!(
        error.contains("Riverside is a council, not a federation"),
        "{error}"
    );
    let error = node.fails(&["federation", "plan", &federation, "--link-hours", "-1"]);
    assert!(error.contains("zero or more"), "{error}");

    // Another node holds the city, Riverside and Hilltop, but not Lakeside; Alice uses it.
    let other = TestNode::new();
    for council in [&federation, &riverside, &hilltop] {
        let file = node.dir.path().join(format!("{}.bundle", &council[..8]));
        let file = file.to_str().unwrap();
        node.ok(&["bundle", "export", "--council", council, "-o", file]);
        other.ok(&["bundle", "import", file]);
    }
    std::fs::copy(
        node.data().join("keys/me.key"),
        other.data().join("keys/alice.key"),
    )
    .unwrap();
    let plan = other.ok(&["--as", "alice", "federation", "plan", &federation]);
    let missing = plan["not_planned"].as_array().unwrap();
    assert_eq!(missing.len(), 1, "{plan}");
    assert_eq!(missing[0]["council"], lakeside.as_str());
    assert_eq!(plan["councils"].as_array().unwrap().len(), 2);
    assert_eq!(plan["flows"].as_array().unwrap().len(), 2);
    let output = other.run(&["--as", "alice", "federation", "plan", &federation]);
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(
        text.contains(&format!(
            "not planned: this node does not hold council {}'s log, nor may this reader read its register; sync it first, or plan with --from a node that holds it",
            &lakeside[..8]
        )),
        "{text}"
    );
    // The other node's own member belongs to none of them.
    let error = other.fails(&["federation", "plan", &federation]);
    assert!(error.contains("not a member"), "{error}");

    // The convener, a member of the city but of none of its councils, plans with Lakeside's
    // register read from the node that holds it; that node shows her the register, never
    // the council's members or ballots.
    std::fs::copy(
        node.data().join("keys/convener.key"),
        other.data().join("keys/convener.key"),
    )
    .unwrap();
    let (_server, address) = node.serve();
    let url = format!("http://{address}");
    let plan = other.ok(&[
        "--as",
        "convener",
        "federation",
        "plan",
        &federation,
        "--from",
        &url,
    ]);
    assert_eq!(plan["not_planned"].as_array().unwrap().len(), 0, "{plan}");
    assert_eq!(plan["councils"].as_array().unwrap().len(), 3, "{plan}");
    let (status, body) = super::http_get_as(
        &node,
        "convener",
        &address,
        &format!("/api/councils/{lakeside}/register"),
    );
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("Lakeside") && !body.contains("Alice"),
        "{body}"
    );
    let (status, body) = super::http_get_as(
        &node,
        "convener",
        &address,
        &format!("/api/councils/{lakeside}"),
    );
    assert_eq!(status, 403, "{body}");
    // A stranger reads neither.
    let (status, _) = super::http_get_as(
        &node,
        "stranger",
        &address,
        &format!("/api/councils/{lakeside}/register"),
    );
    assert_eq!(status, 403);

    // The city decides to read nothing of its councils: the convener plans without
    // Lakeside, whose register that node no longer shows her.
    let amend = id(
        &node.ok(&[
            "--as",
            "convener",
            "proposal",
            "open",
            &federation,
            "Read nothing of our councils",
            "--planning",
            "nothing",
            "--open-for",
            "3d",
        ]),
        "event",
    );
    node.ok(&["--as", "convener", "vote", &federation, &amend, "yes"]);
    node.ok(&["--as", "convener", "close", &federation, &amend]);
    let text = String::from_utf8(node.run(&["council", "show", &federation]).stdout).unwrap();
    assert!(text.contains("planning: it reads nothing"), "{text}");
    let (status, _) = super::http_get_as(
        &node,
        "convener",
        &address,
        &format!("/api/councils/{lakeside}/register"),
    );
    assert_eq!(status, 403);
}
