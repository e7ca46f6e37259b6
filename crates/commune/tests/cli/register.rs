//! The register from the command line: needs, offers, processes, commons, bookings, a plan
//! put to the council and fulfilled, a working group's plan adopted and overturned, and
//! Valueflows export and import.

use serde_json::Value;

use super::{TestNode, council_of_two};

fn id(value: &Value) -> String {
    value["event"].as_str().unwrap().to_owned()
}

/// A kitchen: rice in the commons, a process that cooks it, a cook's hours, and needs.
fn kitchen(node: &TestNode) -> (String, String) {
    let council = council_of_two(node);
    node.ok(&["item", "add", &council, "rice", "--unit", "kg"]);
    node.ok(&["item", "add", &council, "meal", "--unit", "meal"]);
    let store = id(&node.ok(&[
        "resource",
        "add",
        &council,
        "rice store",
        "--item",
        "rice",
        "--quantity",
        "10",
        "--place",
        "Hall",
        "--rules",
        "Ask the stewards",
    ]));
    node.ok(&[
        "process",
        "add",
        &council,
        "Cook rice",
        "--out",
        "meal=10",
        "--in",
        "rice=1",
        "--labour",
        "cooking=1",
        "--capacity",
        "5",
        "--place",
        "Hall",
    ]);
    node.ok(&[
        "--as", "bob", "offer", &council, "cooking", "3", "--labour", "--place", "Hall",
    ]);
    node.ok(&[
        "need",
        &council,
        "meal",
        "20",
        "--urgency",
        "vital",
        "--for",
        "household:flat 3",
        "--place",
        "Hall",
    ]);
    node.ok(&[
        "--as",
        "bob",
        "need",
        &council,
        "meal",
        "25",
        "--urgency",
        "wanted",
        "--place",
        "Hall",
    ]);
    (council, store)
}

#[test]
fn a_plan_is_drafted_explained_decided_and_fulfilled() {
    let node = TestNode::new();
    let (council, store) = kitchen(&node);
    let register = node.ok(&["register", &council]);
    assert_eq!(register["items"]["rice"]["unit"], "kg");
    assert_eq!(register["needs"].as_object().unwrap().len(), 2);
    assert_eq!(register["resources"][&store]["quantity"]["amount"], 10_000);

    // Three cook-hours make 30 meals: the vital 20 first, the wanted need gets the rest and
    // is told why it gets no more.
    let draft = node.ok(&["plan", &council]);
    let needs = draft["needs"].as_array().unwrap();
    let vital = needs.iter().find(|n| n["urgency"] == "vital").unwrap();
    let wanted = needs.iter().find(|n| n["urgency"] == "wanted").unwrap();
    assert!(vital["met"].as_f64().unwrap() >= 19.9, "{vital}");
    assert!(wanted["met"].as_f64().unwrap() < 25.0, "{wanted}");
    let why = wanted["why"].as_str().unwrap();
    assert!(why.contains("meal") || why.contains("cooking"), "{why}");
    let text = String::from_utf8(node.run(&["plan", &council]).stdout).unwrap();
    assert!(text.contains("meal at Hall (wanted)"), "{text}");

    let plan = id(&node.ok(&["plan", "propose", &council, "--open-for", "1h"]));
    node.ok(&["vote", &council, &plan, "yes"]);
    node.ok(&["--as", "bob", "vote", &council, &plan, "yes"]);
    node.ok(&["close", &council, &plan]);
    let register = node.ok(&["register", &council]);
    let commitments = register["plans"][&plan]["terms"]["deliveries"]
        .as_array()
        .unwrap()
        .clone();
    assert!(!commitments.is_empty());
    assert!(
        !register["plans"][&plan]["terms"]["runs"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    // Cooking: rice used from the store, meals delivered to the vital need against its
    // commitment.
    node.ok(&[
        "fulfil",
        &council,
        "use",
        "rice",
        "2",
        "--resource",
        "rice store",
    ]);
    let (index, vital_commitment) = commitments
        .iter()
        .enumerate()
        .find(|(_, c)| c["need"] == vital["need"])
        .unwrap();
    let commitment = format!("{}:{index}", &plan[..12]);
    node.ok(&[
        "fulfil",
        &council,
        "deliver",
        "meal",
        "20",
        "--need",
        vital_commitment["need"].as_str().unwrap(),
        "--commitment",
        &commitment,
    ]);
    let register = node.ok(&["register", &council]);
    assert_eq!(register["resources"][&store]["quantity"]["amount"], 8_000);
    assert_eq!(register["plans"][&plan]["fulfilled"][index], 20_000);
    let need = vital["need"].as_str().unwrap();
    assert_eq!(register["needs"][need]["received"], 20_000);
    // Met in full, the vital need leaves the next draft.
    let next = node.ok(&["plan", &council]);
    assert!(
        next["needs"]
            .as_array()
            .unwrap()
            .iter()
            .all(|n| n["need"] != vital["need"])
    );
}

#[test]
fn bad_register_input_is_refused_and_nothing_is_written() {
    let node = TestNode::new();
    let (council, _) = kitchen(&node);
    node.ok(&["item", "add", &council, "cargo bike", "--unit", "bike"]);
    node.ok(&[
        "resource",
        "add",
        &council,
        "blue bike",
        "--item",
        "cargo bike",
    ]);
    let booked = id(&node.ok(&["book", &council, "blue bike", "--in", "1h", "--for", "2h"]));
    let before = node.log_len(&council);

    let negative = node.fails(&["need", &council, "rice", "-1"]);
    assert!(negative.contains("must be positive"), "{negative}");
    let unknown = node.fails(&["need", &council, "beans", "1"]);
    assert!(unknown.contains("unknown item"), "{unknown}");
    let absurd = node.fails(&["offer", &council, "rice", "9999999999999"]);
    assert!(absurd.contains("absurdly large"), "{absurd}");
    let decimals = node.fails(&["need", &council, "rice", "0.0001"]);
    assert!(decimals.contains("three decimals"), "{decimals}");
    let twice = node.fails(&["--as", "bob", "book", &council, "blue bike", "--in", "2h"]);
    assert!(
        twice.contains(&format!("overlaps booking {}", &booked[..8])),
        "{twice}"
    );
    let overdrawn = node.fails(&[
        "fulfil",
        &council,
        "use",
        "rice",
        "11",
        "--resource",
        "rice store",
    ]);
    assert!(overdrawn.contains("only 10 kg"), "{overdrawn}");
    let others = node.fails(&["--as", "bob", "withdraw", &council, &booked]);
    assert!(others.contains("only its author"), "{others}");
    assert_eq!(node.log_len(&council), before);

    // After the booking is withdrawn, Bob's gets the slot.
    node.ok(&["withdraw", &council, &booked]);
    node.ok(&["--as", "bob", "book", &council, "blue bike", "--in", "2h"]);
}

#[test]
fn the_register_travels_as_valueflows_json_ld() {
    let node = TestNode::new();
    let (council, _) = kitchen(&node);
    // A store used up is still in the commons, and travels empty.
    node.ok(&[
        "fulfil",
        &council,
        "use",
        "rice",
        "10",
        "--resource",
        "rice store",
    ]);
    let file = node.dir.path().join("register.jsonld");
    let path = file.to_str().unwrap();
    let output = node.run(&[
        "export",
        &council,
        "--format",
        "valueflows",
        "--with-draft",
        "--output",
        path,
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let document: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(
        document["@context"]["vf"],
        "https://w3id.org/valueflows/ont/vf#"
    );
    let graph = document["@graph"].as_array().unwrap();
    assert!(graph.iter().any(|n| n["@type"] == "vf:Scenario"));
    let vital = graph
        .iter()
        .find(|n| n["@type"] == "vf:Intent" && n["commune:urgency"] == "commune:vital")
        .unwrap();
    assert_eq!(vital["vf:resourceQuantity"]["om2:hasNumericalValue"], 20);

    // Into a second council: the catalogue, commons, process and open needs and offers.
    let other = node.ok(&["council", "found", "Second kitchen", "--my-name", "Alice"])["council"]
        .as_str()
        .unwrap()
        .to_owned();
    let bad = |name: &str, text: &str| {
        let bad = node.dir.path().join(name);
        std::fs::write(&bad, text).unwrap();
        node.fails(&[
            "import",
            &other,
            bad.to_str().unwrap(),
            "--format",
            "valueflows",
        ])
    };
    let malformed = bad("malformed.jsonld", "{\"@graph\": [");
    assert!(malformed.contains("not JSON"), "{malformed}");
    let text = std::fs::read_to_string(&file).unwrap();
    let negative = bad(
        "negative.jsonld",
        &text.replacen(
            "\"om2:hasNumericalValue\": 20",
            "\"om2:hasNumericalValue\": -20",
            1,
        ),
    );
    assert!(negative.contains("must be positive"), "{negative}");
    let mut unknown: Value = serde_json::from_str(&text).unwrap();
    unknown["@graph"]
        .as_array_mut()
        .unwrap()
        .retain(|n| !(n["@type"] == "vf:ResourceSpecification" && n["vf:name"] == "meal"));
    let unknown = bad("unknown.jsonld", &unknown.to_string());
    assert!(unknown.contains("unknown item"), "{unknown}");
    // Alice speaks for herself: Bob's need is for Bob, who is not a member of the second
    // council, and his hours are his to offer. Both are left out, and she is told why.
    let imported = node.text(&["import", &other, path, "--format", "valueflows"]);
    assert!(imported.starts_with("imported "), "{imported}");
    assert!(
        imported.contains("left out: the need for meal (25 meal) is for "),
        "{imported}"
    );
    assert!(
        imported.contains("left out: the offer of hours of cooking is "),
        "{imported}"
    );
    let imported = node.ok(&["register", &other]);
    let original = node.ok(&["register", &council]);
    assert_eq!(
        imported["items"]
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        original["items"]
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>()
    );
    assert_eq!(imported["needs"].as_object().unwrap().len(), 1);
    assert_eq!(imported["offers"].as_object().map_or(0, |o| o.len()), 0);
    assert_eq!(imported["processes"].as_object().unwrap().len(), 1);
    assert_eq!(
        imported["resources"]
            .as_object()
            .unwrap()
            .values()
            .next()
            .unwrap()["quantity"],
        original["resources"]
            .as_object()
            .unwrap()
            .values()
            .next()
            .unwrap()["quantity"]
    );
}

#[test]
fn a_working_group_adopts_a_plan_within_its_mandate_and_the_council_overturns_it() {
    let node = TestNode::new();
    let (council, _) = kitchen(&node);
    let election = id(&node.ok(&[
        "proposal",
        "open",
        &council,
        "Kitchen group",
        "--elect",
        "Bob",
        "--elect",
        "Alice",
        "--working-group",
        "kitchen",
        "--limit",
        "meal=40",
        "--limit",
        "process runs=5",
        "--open-for",
        "1h",
    ]));
    node.ok(&["vote", &council, &election, "Bob"]);
    node.ok(&["--as", "bob", "vote", &council, &election, "Bob"]);
    node.ok(&["close", &council, &election]);
    let mandates = node.ok(&["mandate", "list", &council]);
    let mandate = mandates.as_object().unwrap().keys().next().unwrap().clone();

    let refused = node.fails(&["plan", "adopt", &council, "--mandate", &mandate]);
    assert!(refused.contains("only the mandate's holder"), "{refused}");
    let by_bob = [
        "--as",
        "bob",
        "plan",
        "adopt",
        &council,
        "--mandate",
        &mandate,
    ];
    let adopted = id(&node.ok(&by_bob));
    let register = node.ok(&["register", &council]);
    assert_eq!(register["plans"][&adopted]["decision"], adopted.as_str());
    // Thirty meals and three runs are used: the same plan again would go past the limits.
    let over = node.fails(&by_bob);
    assert!(over.contains("over the mandate's limit"), "{over}");

    // The council overturns the adoption: the plan binds no one, and its meals no longer
    // count against the group's limits.
    let overturn = id(&node.ok(&[
        "proposal",
        "open",
        &council,
        "Not that plan",
        "--overturn",
        &adopted,
        "--open-for",
        "1h",
    ]));
    node.ok(&["vote", &council, &overturn, "yes"]);
    node.ok(&["--as", "bob", "vote", &council, &overturn, "yes"]);
    node.ok(&["close", &council, &overturn]);
    let register = node.ok(&["register", &council]);
    assert!(register["plans"].get(&adopted).is_none(), "{register}");
    assert!(register["overturned_plans"][&adopted]["decision"].is_string());
    let commitment = format!("{}:0", &adopted[..12]);
    let refused = node.fails(&[
        "fulfil",
        &council,
        "deliver",
        "meal",
        "1",
        "--commitment",
        &commitment,
    ]);
    assert!(
        refused.contains("was overturned by the council's decision"),
        "{refused}"
    );
    node.ok(&by_bob);
}

#[test]
fn two_cargo_bikes_are_booked_one_at_a_time() {
    let node = TestNode::new();
    let council = council_of_two(&node);
    node.ok(&["item", "add", &council, "cargo bike", "--unit", "bike"]);
    node.ok(&[
        "resource",
        "add",
        &council,
        "cargo bikes",
        "--item",
        "cargo bike",
        "--quantity",
        "2",
    ]);
    let book = |who: &str, quantity: &str| {
        vec![
            "--as".to_owned(),
            who.to_owned(),
            "book".into(),
            council.clone(),
            "cargo bikes".into(),
            "--in".into(),
            "1h".into(),
            "--for".into(),
            "2h".into(),
            "--quantity".into(),
            quantity.to_owned(),
        ]
    };
    fn args(owned: &[String]) -> Vec<&str> {
        owned.iter().map(String::as_str).collect()
    }
    let alice = id(&node.ok(&args(&book("me", "1"))));
    let bob = id(&node.ok(&args(&book("bob", "1"))));
    let before = node.log_len(&council);
    let third = node.fails(&args(&book("me", "1")));
    assert!(
        third.contains(&alice[..8]) && third.contains(&bob[..8]),
        "{third}"
    );
    for (quantity, why) in [
        ("0", "must be positive"),
        ("-1", "must be positive"),
        ("3", "holds 2 bike, not 3"),
        ("0.0001", "three decimals"),
    ] {
        let refused = node.fails(&args(&book("bob", quantity)));
        assert!(refused.contains(why), "{quantity}: {refused}");
    }
    assert_eq!(node.log_len(&council), before);
    let register = node.ok(&["register", &council]);
    assert_eq!(register["bookings"][&alice]["quantity"], 1000);
    assert_eq!(register["bookings"].as_object().unwrap().len(), 2);
}

#[test]
fn the_council_sets_its_planner_settings_by_amendment() {
    let node = TestNode::new();
    let (council, _) = kitchen(&node);
    let draft = node.ok(&["plan", &council]);
    assert_eq!(draft["settings"]["tolerance_permille"], 1);
    assert_eq!(
        draft["settings"]["words"],
        "up to 0.1 % of important and wanted fulfilment may be traded for labour saved (vital needs never); scarce goods shared max-min"
    );
    let before = node.log_len(&council);
    let bad = node.fails(&[
        "proposal",
        "open",
        &council,
        "Tolerance",
        "--plan-tolerance",
        "0.05%",
    ]);
    assert!(bad.contains("steps of 0.1 %"), "{bad}");
    let two = node.fails(&[
        "proposal",
        "open",
        &council,
        "Two things",
        "--plan-fairness",
        "proportional",
        "--remove",
        "bob",
    ]);
    assert!(two.contains("decides one thing"), "{two}");
    assert_eq!(node.log_len(&council), before);

    let amend = id(&node.ok(&[
        "proposal",
        "open",
        &council,
        "Plan strictly, share proportionally",
        "--plan-tolerance",
        "0%",
        "--plan-fairness",
        "proportional",
        "--open-for",
        "3d",
    ]));
    node.ok(&["vote", &council, &amend, "yes"]);
    node.ok(&["--as", "bob", "vote", &council, &amend, "yes"]);
    node.ok(&["close", &council, &amend]);
    let shown = node.ok(&["council", "show", &council]);
    assert_eq!(
        shown["constitution"]["planner"],
        serde_json::json!({"tolerance_permille": 0, "fairness": "proportional"})
    );
    let draft = node.ok(&["plan", &council]);
    assert_eq!(draft["settings"]["fairness"], "proportional");
    let text = String::from_utf8(node.run(&["plan", &council]).stdout).unwrap();
    assert!(
        text.contains(
            "settings: no fulfilment is traded for labour saved; scarce goods shared proportional"
        ),
        "{text}"
    );
}
