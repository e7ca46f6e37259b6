//! Scenario tests of the register: catalogue, needs, offers, processes, commons, bookings,
//! fulfilment and plans decided by proposal.

use commune_core::payload::{Action, Payload};
use commune_core::plan::{Delivery, Draft, Met, Run, Source, Urgency};
use commune_core::register::{
    self, Book, CommitmentRef, Flow, FlowAction, Fulfil, ItemKind, Need, Offer, PlanTerms,
    Provision, Quantity, Receiver, Recipe, Resource, SkillHours, Transport, Withdraw,
};
use commune_core::state::State;
use commune_core::tally::YesNo;
use commune_core::{EventId, fold};

use super::{DAY, Sim, assembly, close, propose, vote};

fn state(sim: &Sim) -> State {
    fold(&sim.events, |_| None).unwrap().state
}

fn refused(sim: &Sim) -> Vec<String> {
    fold(&sim.events, |_| None)
        .unwrap()
        .rejections
        .into_iter()
        .map(|r| r.reason)
        .collect()
}

fn item(name: &str, unit: &str) -> Payload {
    Payload::Item(ItemKind {
        name: name.into(),
        unit: unit.into(),
    })
}

fn qty(units: i64, unit: &str) -> Quantity {
    Quantity {
        amount: units * register::SCALE,
        unit: unit.into(),
    }
}

fn need(item: &str, amount: Quantity, urgency: Urgency) -> Payload {
    Payload::Need(Need {
        item: item.into(),
        quantity: amount,
        place: "Rue Dupont".into(),
        by_ms: 30 * DAY,
        urgency,
        receiver: Receiver::Household {
            name: "flat 3".into(),
        },
    })
}

fn goods(item: &str, amount: Quantity) -> Payload {
    Payload::Offer(Offer {
        provision: Provision::Goods {
            item: item.into(),
            quantity: amount,
        },
        place: "Rue Dupont".into(),
        from_ms: 0,
        until_ms: 30 * DAY,
    })
}

fn resource(item: &str, amount: Quantity) -> Payload {
    Payload::Resource(Resource {
        name: format!("the {item}"),
        item: item.into(),
        quantity: amount,
        place: "Rue Dupont".into(),
        rules: "Bring it back clean.".into(),
    })
}

fn book(resource: EventId, from: u64, until: u64) -> Payload {
    Payload::Book(Book {
        resource,
        from_ms: from,
        until_ms: until,
        quantity: None,
    })
}

fn fulfil(action: FlowAction, item: &str, amount: Quantity, resource: Option<EventId>) -> Payload {
    Payload::Fulfil(Fulfil {
        action,
        item: item.into(),
        quantity: amount,
        resource,
        need: None,
        commitment: None,
    })
}

/// A kitchen: rice and meals in the catalogue, a rice store in the commons.
fn kitchen() -> (Sim, EventId) {
    let mut sim = assembly();
    sim.act("alice", 5000, item("rice", "kg"));
    sim.act("alice", 5001, item("meal", "meal"));
    let store = sim.act("bob", 5002, resource("rice", qty(10, "kg")));
    (sim, store)
}

#[test]
fn every_register_kind_folds() {
    let (mut sim, store) = kitchen();
    let hungry = sim.act("carol", 6000, need("meal", qty(4, "meal"), Urgency::Vital));
    let rice = sim.act("dave", 6001, goods("rice", qty(2, "kg")));
    let hours = sim.act(
        "dave",
        6002,
        Payload::Offer(Offer {
            provision: Provision::Labour {
                skill: "cooking".into(),
                hours: qty(3, "hour"),
            },
            place: "Rue Dupont".into(),
            from_ms: 0,
            until_ms: 30 * DAY,
        }),
    );
    let cook = sim.act(
        "alice",
        6003,
        Payload::Process(Recipe {
            name: "Cook rice".into(),
            place: "Rue Dupont".into(),
            outputs: vec![Flow {
                item: "meal".into(),
                quantity: qty(4, "meal"),
            }],
            inputs: vec![Flow {
                item: "rice".into(),
                quantity: qty(1, "kg"),
            }],
            labour: vec![SkillHours {
                skill: "cooking".into(),
                hours: qty(1, "hour"),
            }],
            equipment: Vec::new(),
            capacity: 5 * register::SCALE,
        }),
    );
    let bike = sim.act("alice", 6004, item("cargo bike", "bike"));
    let _ = bike;
    let cargo = sim.act("alice", 6005, resource("cargo bike", qty(1, "bike")));
    let booked = sim.act("bob", 6006, book(cargo, DAY, DAY + 3_600_000));
    let used = sim.act(
        "alice",
        6007,
        fulfil(FlowAction::Use, "rice", qty(1, "kg"), Some(store)),
    );
    let withdrawn = sim.act("dave", 6008, Payload::Withdraw(Withdraw { intent: rice }));
    assert_eq!(refused(&sim), Vec::<String>::new());
    let r = state(&sim).register;
    assert_eq!(r.items["rice"].unit, "kg");
    assert_eq!(r.needs[&hungry].need.urgency, Urgency::Vital);
    assert_eq!(r.offers[&rice].withdrawn, Some(withdrawn));
    assert!(r.offers[&hours].withdrawn.is_none());
    assert_eq!(r.processes[&cook].recipe.capacity, 5000);
    assert_eq!(r.resources[&store].quantity, qty(9, "kg"));
    assert_eq!(r.resources[&store].steward, sim.council);
    assert_eq!(r.bookings[&booked].book.resource, cargo);
    assert_eq!(r.fulfilments[&used].fulfil.action, FlowAction::Use);

    let model = register::model(&r, 6009, Transport::None);
    assert_eq!(model.needs.len(), 1, "the need for meals");
    assert_eq!(
        model.supplies.len(),
        2,
        "rice store and cargo bike; the offer is withdrawn"
    );
    assert_eq!(model.labour.len(), 1);
    assert_eq!(model.labour[0].hours, 3.0);
    assert_eq!(model.processes[0].inputs, vec![(2, 1.0)], "rice is item 2");
    assert_eq!(model.skills, vec!["cooking".to_string()]);
    assert_eq!(model.places, vec!["Rue Dupont".to_string()]);
}

#[test]
fn bad_register_input_is_refused_with_its_reason() {
    let (mut sim, store) = kitchen();
    sim.act("carol", 6000, need("beans", qty(1, "kg"), Urgency::Wanted));
    sim.act("carol", 6001, need("rice", qty(1, "g"), Urgency::Wanted));
    sim.act("carol", 6002, need("rice", qty(-1, "kg"), Urgency::Wanted));
    sim.act(
        "carol",
        6003,
        need("rice", qty(2_000_000_000_000, "kg"), Urgency::Wanted),
    );
    sim.act("carol", 6004, book(store, 10, 20));
    sim.act("carol", 6005, book(store, DAY, DAY));
    sim.act(
        "carol",
        6006,
        fulfil(FlowAction::Deliver, "rice", qty(11, "kg"), Some(store)),
    );
    let mine = sim.act("bob", 6007, need("rice", qty(1, "kg"), Urgency::Wanted));
    sim.act("carol", 6008, Payload::Withdraw(Withdraw { intent: mine }));
    sim.act("mallory", 6009, need("rice", qty(1, "kg"), Urgency::Vital));
    sim.act("alice", 6010, item("rice", "tonne"));
    assert_eq!(
        refused(&sim),
        vec![
            "unknown item \"beans\": add it to the council's catalogue first",
            "rice is counted in kg, not \"g\"",
            "the quantity must be positive, not -1",
            "the quantity 2000000000000 is absurdly large",
            "a booking cannot start in the past",
            "a booking must end after it starts",
            "only 10 kg of the rice in stock",
            "only its author may withdraw a need, offer or booking",
            "not a member of the council",
            "\"rice\" is already in the catalogue",
        ]
    );
    let r = state(&sim).register;
    assert_eq!(r.needs.len(), 1, "only Bob's need is stored");
    assert!(r.bookings.is_empty());
    assert_eq!(r.resources[&store].quantity, qty(10, "kg"));
}

#[test]
fn concurrent_bookings_resolve_the_same_way_in_any_order() {
    let mut sim = assembly();
    sim.act("alice", 5000, item("cargo bike", "bike"));
    let bike = sim.act("alice", 5001, resource("cargo bike", qty(1, "bike")));
    // Bob and Carol book offline, each without seeing the other's booking.
    let heads = sim.heads();
    let bob = sim.on("bob", &heads, 6000, book(bike, DAY, DAY + 4 * 3_600_000));
    let carol = sim.on(
        "carol",
        &heads,
        6000,
        book(bike, DAY + 3_600_000, DAY + 2 * 3_600_000),
    );
    let (winner, loser) = if fold::order_key(&sim.events[sim.by_id[&bob]])
        < fold::order_key(&sim.events[sim.by_id[&carol]])
    {
        (bob, carol)
    } else {
        (carol, bob)
    };
    let mut orders = vec![sim.events.clone()];
    let mut reversed = sim.events.clone();
    reversed.reverse();
    orders.push(reversed);
    let mut rotated = sim.events.clone();
    rotated.rotate_left(3);
    orders.push(rotated);
    let folds: Vec<_> = orders
        .iter()
        .map(|events| fold(events, |_| None).unwrap())
        .collect();
    for folded in &folds {
        assert_eq!(folded.state.hash(), folds[0].state.hash());
        let bookings = &folded.state.register.bookings;
        assert_eq!(bookings.keys().copied().collect::<Vec<_>>(), vec![winner]);
        let [rejection] = folded.rejections.as_slice() else {
            panic!("one refusal, got {:?}", folded.rejections);
        };
        assert_eq!(rejection.event, loser);
        assert_eq!(rejection.kind, "book");
        assert!(
            rejection
                .reason
                .starts_with(&format!("overlaps booking {} by ", winner.short())),
            "{}",
            rejection.reason
        );
    }
    // Once withdrawn, the slot is free again.
    let winner_name = if winner == bob { "bob" } else { "carol" };
    sim.act(
        winner_name,
        7000,
        Payload::Withdraw(Withdraw { intent: winner }),
    );
    let again = sim.act("dave", 7001, book(bike, DAY, DAY + 3_600_000));
    assert!(state(&sim).register.bookings.contains_key(&again));
}

#[test]
fn fulfilment_moves_stock() {
    let (mut sim, store) = kitchen();
    sim.act(
        "bob",
        6000,
        fulfil(FlowAction::Use, "rice", qty(3, "kg"), Some(store)),
    );
    assert_eq!(
        state(&sim).register.resources[&store].quantity,
        qty(7, "kg")
    );
    sim.act(
        "bob",
        6001,
        fulfil(FlowAction::Deliver, "rice", qty(8, "kg"), Some(store)),
    );
    sim.act(
        "carol",
        6002,
        fulfil(FlowAction::Produce, "rice", qty(5, "kg"), Some(store)),
    );
    sim.act(
        "carol",
        6003,
        fulfil(FlowAction::Work, "cooking", qty(2, "hour"), None),
    );
    assert_eq!(refused(&sim), vec!["only 7 kg of the rice in stock"]);
    assert_eq!(
        state(&sim).register.resources[&store].quantity,
        qty(12, "kg")
    );
}

#[test]
fn a_decided_plan_becomes_commitments_that_fulfilment_meets() {
    let (mut sim, store) = kitchen();
    let hungry = sim.act("carol", 6000, need("rice", qty(4, "kg"), Urgency::Vital));
    let r = state(&sim).register;
    let model = register::model(&r, 6001, Transport::None);
    // The draft a planner would give: the store's rice to Carol's need.
    let draft = Draft {
        deliveries: vec![Delivery {
            need: 0,
            source: Source::Supply(0),
            quantity: 4.0,
            hours: 0.0,
        }],
        runs: Vec::<Run>::new(),
        met: vec![Met {
            need: 0,
            quantity: 4.0,
            shortfall: None,
        }],
        skill_hours: Vec::new(),
        transport_hours: 0.0,
        item_hours: vec![0.0; model.items.len()],
        skill_scarcity: Vec::new(),
        solver: "by hand".into(),
    };
    let terms = PlanTerms::of_draft(&model, &draft);
    assert_eq!(terms.deliveries[0].need, hungry);
    assert_eq!(terms.deliveries[0].source, store);
    assert_eq!(terms.deliveries[0].quantity, 4000);

    let mut forged = terms.clone();
    forged.deliveries[0].quantity = 9000;
    sim.act(
        "dave",
        6002,
        propose("Forged plan", Action::Plan { terms: forged }, None, 2 * DAY),
    );
    let plan = sim.act(
        "alice",
        6003,
        propose("This week's plan", Action::Plan { terms }, None, 2 * DAY),
    );
    for voter in ["alice", "bob", "carol"] {
        sim.act(voter, 7000, vote(plan, YesNo::Yes));
    }
    sim.act("alice", 3 * DAY, close(plan));
    let decided = &state(&sim).register.plans[&plan];
    assert_eq!(decided.fulfilled, vec![0]);

    sim.act(
        "bob",
        3 * DAY + 1,
        Payload::Fulfil(Fulfil {
            action: FlowAction::Deliver,
            item: "rice".into(),
            quantity: qty(4, "kg"),
            resource: Some(store),
            need: Some(hungry),
            commitment: Some(CommitmentRef { plan, index: 0 }),
        }),
    );
    assert_eq!(
        refused(&sim),
        vec!["the plan's draft hash does not match its commitments"]
    );
    let r = state(&sim).register;
    assert_eq!(r.plans[&plan].fulfilled, vec![4000]);
    assert_eq!(r.needs[&hungry].received, 4000);
    assert_eq!(r.resources[&store].quantity, qty(6, "kg"));
    let model = register::model(&r, 3 * DAY + 2, Transport::None);
    assert!(
        model.needs.is_empty(),
        "a need met in full leaves the model"
    );
}

/// Bob elected the kitchen's working group, with up to 5 kg of rice to plan alone.
fn kitchen_group(sim: &mut Sim) -> commune_core::MandateId {
    use commune_core::mandate::{Amount, MandateTerms, Scope};
    use commune_core::payload::{self, Propose};
    use commune_core::tally::{Choice, Method};

    let limits = vec![Amount {
        unit: "rice".into(),
        quantity: 5,
    }];
    let election = sim.act(
        "alice",
        5500,
        Payload::Propose(Propose {
            title: "Kitchen group".into(),
            text: String::new(),
            action: Action::Elect {
                candidates: vec![sim.member("bob"), sim.member("carol")],
                terms: MandateTerms {
                    scope: Scope::WorkingGroup {
                        name: "kitchen".into(),
                        limits,
                    },
                    term_ms: 30 * DAY,
                    instructions: Vec::new(),
                },
            },
            method: Some(Method::Approval { winners: 1 }),
            options: vec!["bob".into(), "carol".into()],
            quorum: None,
            deadline_ms: 5500 + DAY,
            mode: None,
        }),
    );
    for voter in ["alice", "bob", "carol", "dave"] {
        sim.act(
            voter,
            5600,
            Payload::Ballot(payload::Ballot {
                proposal: election,
                choice: Choice::Approval { approved: vec![0] },
            }),
        );
    }
    sim.act("alice", 5700, close(election));
    *state(sim)
        .mandates
        .keys()
        .next()
        .unwrap_or_else(|| panic!("Bob's mandate: {:?}", refused(sim)))
}

/// Carol needs `kg` of rice; Bob's group adopts the plan that brings it from the store.
/// Returns the adopt event and the need.
fn adopt(
    sim: &mut Sim,
    mandate: commune_core::MandateId,
    kg: i64,
    time: u64,
) -> (EventId, EventId) {
    use commune_core::register::Adopt;

    let hungry = sim.act("carol", time, need("rice", qty(kg, "kg"), Urgency::Vital));
    let r = state(sim).register;
    let model = register::model(&r, time + 1, Transport::None);
    let n = model
        .needs
        .iter()
        .position(|n| n.id == hungry.to_string())
        .unwrap();
    let draft = Draft {
        deliveries: vec![Delivery {
            need: n,
            source: Source::Supply(0),
            quantity: kg as f64,
            hours: 0.0,
        }],
        runs: Vec::new(),
        met: Vec::new(),
        skill_hours: Vec::new(),
        transport_hours: 0.0,
        item_hours: Vec::new(),
        skill_scarcity: Vec::new(),
        solver: "by hand".into(),
    };
    let terms = PlanTerms::of_draft(&model, &draft);
    let adopted = sim.act("bob", time + 2, Payload::Adopt(Adopt { mandate, terms }));
    (adopted, hungry)
}

#[test]
fn a_working_group_adopts_a_small_plan_within_its_limits() {
    let (mut sim, _store) = kitchen();
    let mandate = kitchen_group(&mut sim);
    let (first, _) = adopt(&mut sim, mandate, 3, 6000);
    let (second, _) = adopt(&mut sim, mandate, 3, 6100);
    let s = state(&sim);
    assert!(s.register.plans.contains_key(&first), "within the limit");
    assert!(!s.register.plans.contains_key(&second), "over the limit");
    assert_eq!(s.acts[&first].amounts[0].quantity, 3);
    assert_eq!(
        refused(&sim),
        vec!["over the mandate's limit: 3 of 5 rice used, and this act needs 3"]
    );
}

#[test]
fn an_overturned_plan_binds_no_one_and_what_was_delivered_stays() {
    let (mut sim, store) = kitchen();
    let mandate = kitchen_group(&mut sim);
    let (plan, hungry) = adopt(&mut sim, mandate, 3, 6000);
    let delivery = |kg: i64| {
        Payload::Fulfil(Fulfil {
            action: FlowAction::Deliver,
            item: "rice".into(),
            quantity: qty(kg, "kg"),
            resource: Some(store),
            need: Some(hungry),
            commitment: Some(CommitmentRef { plan, index: 0 }),
        })
    };
    sim.act("bob", 7000, delivery(1));

    let overturn = sim.act(
        "alice",
        8000,
        propose(
            "Not this plan",
            Action::Overturn { act: plan },
            None,
            2 * DAY,
        ),
    );
    for voter in ["alice", "carol", "dave"] {
        sim.act(voter, 8100, vote(overturn, YesNo::Yes));
    }
    let decision = sim.act("alice", 3 * DAY, close(overturn));
    sim.act("bob", 3 * DAY + 1, delivery(1));

    let s = state(&sim);
    assert_eq!(s.acts[&plan].overturned, Some(decision));
    assert!(
        !s.register.plans.contains_key(&plan),
        "no longer the council's plan"
    );
    let overturned = &s.register.overturned_plans[&plan];
    assert_eq!(overturned.decision, decision);
    assert_eq!(overturned.plan.fulfilled, vec![1000], "the first delivery");
    assert_eq!(s.register.needs[&hungry].received, 1000);
    assert_eq!(s.register.resources[&store].quantity, qty(9, "kg"));
    assert_eq!(
        refused(&sim),
        vec![format!(
            "plan {} was overturned by the council's decision {}: its commitments no longer stand",
            plan.short(),
            decision.short()
        )]
    );
}
