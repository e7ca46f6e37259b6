//! Real elections counted by `commune tally` and compared with their official results.
//! `test_data/ballots/README.md` says where each ballot file and each official figure comes
//! from, and which differences are known and why.

use serde_json::Value;

use super::{TestNode, names, tally};

/// A decimal string rounded half up to one place, as the councils' results are reported
/// (`"1009.09051"` → `"1009.1"`).
fn tenths(decimal: &str) -> String {
    let (whole, fraction) = decimal.split_once('.').unwrap_or((decimal, "0"));
    let digits = format!("{fraction}00");
    let mut tenths: u64 =
        whole.parse::<u64>().unwrap() * 10 + u64::from(digits.as_bytes()[0] - b'0');
    if digits.as_bytes()[1] >= b'5' {
        tenths += 1;
    }
    format!("{}.{}", tenths / 10, tenths % 10)
}

/// The 1-based round (stage) at which each candidate was elected.
fn stages_elected(rounds: &Value) -> Vec<(String, usize)> {
    let mut stages = Vec::new();
    for (i, round) in rounds.as_array().unwrap().iter().enumerate() {
        for name in names(&round["elected"]) {
            stages.push((name.to_owned(), i + 1));
        }
    }
    stages
}

#[test]
fn tenths_round_half_up() {
    assert_eq!(tenths("1009.09051"), "1009.1");
    assert_eq!(tenths("657.77445"), "657.8");
    assert_eq!(tenths("722.34939"), "722.3");
    assert_eq!(tenths("999.95"), "1000.0");
    assert_eq!(tenths("12"), "12.0");
}

/// Burlington, Vermont, mayor, 2009 (IRV): Bob Kiss beats Kurt Wright in the last round.
#[test]
fn burlington_2009_mayor_irv() {
    let node = TestNode::new();
    let result = tally(&node, "burlington-2009-mayor.toi", "irv", &[]);
    assert_eq!(names(&result["winners"]), ["Bob Kiss"]);
    let rounds = result["rounds"].as_array().unwrap();
    // Official first round.
    for (name, votes) in [
        ("Kurt Wright", "2951"),
        ("Bob Kiss", "2585"),
        ("Andy Montroll", "2063"),
        ("Dan Smith", "1306"),
        ("James Simpson", "35"),
        ("Write-In", "36"),
    ] {
        assert_eq!(rounds[0]["votes"][name], votes, "{name}");
    }
    assert_eq!(rounds[0]["exhausted"], "4");
    // The city excluded Simpson, the write-ins and Smith together; commune excludes one a
    // round, so the official second round is commune's fourth.
    let excluded: Vec<Vec<&str>> = rounds[..3]
        .iter()
        .map(|round| names(&round["excluded"]))
        .collect();
    assert_eq!(excluded, [["James Simpson"], ["Write-In"], ["Dan Smith"]]);
    for (name, votes) in [
        ("Kurt Wright", "3294"),
        ("Bob Kiss", "2981"),
        ("Andy Montroll", "2554"),
    ] {
        assert_eq!(rounds[3]["votes"][name], votes, "{name}");
    }
    assert_eq!(rounds[3]["exhausted"], "151");
    // Official final round.
    let last = rounds.last().unwrap();
    assert_eq!(last["votes"]["Bob Kiss"], "4313");
    assert_eq!(last["votes"]["Kurt Wright"], "4061");
    assert_eq!(last["exhausted"], "606");
}

/// Debian project leader 2002 (Schulze family): Bdale Garbee, and the official beat matrix
/// where PrefLib's file (which has no equal ranks) can agree with it.
#[test]
fn debian_2002_leader_schulze() {
    let node = TestNode::new();
    let result = tally(&node, "debian-2002-leader.soi", "schulze", &[]);
    assert_eq!(names(&result["winners"])[0], "Bdale Garbee");
    assert_eq!(
        result["ranking"],
        serde_json::json!([
            ["Bdale Garbee"],
            ["Branden Robinson"],
            ["Raphael Hertzog"],
            ["None Of The Above"]
        ])
    );
    let matrix = &result["pairwise"]["preferences"];
    // tally[row][col] of the official page: 1 Robinson, 2 Hertzog, 3 Garbee, 4 none.
    for (row, col, votes) in [
        (1, 0, 199),
        (2, 0, 291),
        (2, 1, 327),
        (3, 0, 68),
        (3, 1, 50),
        (3, 2, 18),
    ] {
        assert_eq!(matrix[row][col], votes, "tally[{}][{}]", row + 1, col + 1);
    }
}

/// Debian project leader 2012: Stefano Zacchiroli, ahead of everyone pairwise.
#[test]
fn debian_2012_leader_schulze() {
    let node = TestNode::new();
    let result = tally(&node, "debian-2012-leader.soi", "schulze", &[]);
    assert_eq!(names(&result["winners"])[0], "Stefano Zacchiroli");
    assert_eq!(
        result["ranking"][0],
        serde_json::json!(["Stefano Zacchiroli"])
    );
}

/// The Highland Council, Inverness Central, 2017 (3 seats, Scottish STV): the returning
/// officer's declaration gives the valid papers, the quota, each candidate's first
/// preferences and the stage at which each was elected.
#[test]
fn inverness_central_2017_scottish_stv() {
    let node = TestNode::new();
    let result = tally(&node, "inverness-central-2017.blt", "stv-scottish", &[]);
    assert_eq!(result["seats"], 3);
    assert_eq!(
        result["notes"][0],
        "3419 valid ballot(s), 3 seat(s): quota 855.00000"
    );
    let rounds = &result["rounds"];
    for (name, votes) in [
        ("Janet CAMPBELL (Ind)", 522),
        ("Russell DEACON (Grn)", 208),
        ("DONNIE KERR (Ind)", 360),
        ("MARGOT KERR (LD)", 154),
        ("Richard LAIRD (SNP)", 1122),
        ("Donald MACKENZIE (C)", 426),
        ("Bet MCALLISTER (Lab)", 577),
        ("Diane WILKINSON (Ind)", 50),
    ] {
        assert_eq!(rounds[0]["votes"][name], format!("{votes}.00000"), "{name}");
    }
    assert_eq!(
        stages_elected(rounds),
        [
            ("Richard LAIRD (SNP)".to_owned(), 1),
            ("Bet MCALLISTER (Lab)".to_owned(), 6),
            ("Janet CAMPBELL (Ind)".to_owned(), 8),
        ]
    );
}

/// The Highland Council, Inverness Millburn, 2022 (3 seats, Scottish STV): every stage's
/// totals as published, to one decimal place.
#[test]
fn inverness_millburn_2022_scottish_stv() {
    let node = TestNode::new();
    let result = tally(&node, "inverness-millburn-2022.blt", "stv-scottish", &[]);
    let brown = "Ian BROWN \"Scottish National Party (SNP)\"";
    let gregg = "David GREGG \"Scottish Liberal Democrats\"";
    let mackenzie = "Isabelle MACKENZIE \"Scottish Conservative and Unionist\"";
    let whyte = "Lewis WHYTE \"Scottish Labour Party\"";
    assert_eq!(
        result["candidates"],
        serde_json::json!([brown, gregg, mackenzie, whyte])
    );
    assert_eq!(
        result["notes"][0],
        "3508 valid ballot(s), 3 seat(s): quota 878.00000"
    );
    let rounds = result["rounds"].as_array().unwrap();
    let published: [&[(&str, &str)]; 4] = [
        &[
            (brown, "1430.0"),
            (gregg, "835.0"),
            (mackenzie, "757.0"),
            (whyte, "486.0"),
        ],
        &[(gregg, "1009.1"), (mackenzie, "781.7"), (whyte, "657.8")],
        &[(mackenzie, "818.6"), (whyte, "722.3")],
        &[(mackenzie, "1101.4")],
    ];
    assert_eq!(rounds.len(), published.len());
    for (stage, (round, figures)) in rounds.iter().zip(published).enumerate() {
        for &(name, votes) in figures {
            let ours = round["votes"][name].as_str().unwrap();
            assert_eq!(tenths(ours), votes, "stage {}, {name}", stage + 1);
        }
    }
    assert_eq!(
        stages_elected(&result["rounds"]),
        [
            (brown.to_owned(), 1),
            (gregg.to_owned(), 2),
            (mackenzie.to_owned(), 4),
        ]
    );
}
