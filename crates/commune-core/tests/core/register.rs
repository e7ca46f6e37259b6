//! Scenario tests of the register: catalogue, needs, offers, processes, commons, bookings,
//! fulfilment and plans decided by proposal.

use commune_core::payload::{Action, Payload};
use commune_core::plan::{
    self, Delivery, DenseSimplex, Draft, Met, Run, Settings, Shortfall, Source, Urgency,
};
use commune_core::register::{
    self, Book, CommitmentRef, EquipmentHours, Flow, FlowAction, Fulfil, ItemKind, Need, Offer,
    PlanTerms, Provision, Quantity, Receiver, Recipe, Resource, SkillHours, Transport, Withdraw,
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

/// Books `quantity` thousandths of a resource.
fn book_part(resource: EventId, from: u64, until: u64, quantity: i64) -> Payload {
    Payload::Book(Book {
        quantity: Some(quantity),
        ..match book(resource, from, until) {
            Payload::Book(book) => book,
            _ => unreachable!(),
        }
    })
}

#[test]
fn two_cargo_bikes_take_two_bookings_of_one_and_refuse_a_third() {
    let mut sim = assembly();
    sim.act("alice", 5000, item("cargo bike", "bike"));
    let bikes = sim.act("alice", 5001, resource("cargo bike", qty(2, "bike")));
    let hour = 3_600_000;
    let one = register::SCALE;
    let bob = sim.act("bob", 6000, book_part(bikes, DAY, DAY + 4 * hour, one));
    let carol = sim.act(
        "carol",
        6001,
        book_part(bikes, DAY + hour, DAY + 3 * hour, one),
    );
    // Dave's hour falls where both bikes are out; Alice's starts when Carol's ends.
    sim.act(
        "dave",
        6002,
        book_part(bikes, DAY + 2 * hour, DAY + 5 * hour, one),
    );
    let alice = sim.act(
        "alice",
        6003,
        book_part(bikes, DAY + 3 * hour, DAY + 5 * hour, one),
    );
    // Both bikes at once overlap Bob's booking; zero, less than nothing or three bikes do
    // not fit at all.
    sim.act("dave", 6004, book(bikes, DAY + 3 * hour, DAY + 4 * hour));
    sim.act("dave", 6005, book_part(bikes, 2 * DAY, 3 * DAY, 0));
    sim.act("dave", 6006, book_part(bikes, 2 * DAY, 3 * DAY, -one));
    sim.act("dave", 6007, book_part(bikes, 2 * DAY, 3 * DAY, 3 * one));
    let reasons = refused(&sim);
    let [crowded, whole, zero, negative, three] = reasons.as_slice() else {
        panic!("five refusals, got {reasons:?}");
    };
    assert!(
        crowded.starts_with("overlaps bookings ")
            && crowded.contains(&format!("{} by bob", bob.short()))
            && crowded.contains(&format!("{} by carol", carol.short()))
            && crowded.ends_with("would take more than the 2 bike there are"),
        "{crowded}"
    );
    assert!(
        whole.contains(&format!("{} by bob", bob.short())) && whole.contains("by alice"),
        "{whole}"
    );
    assert_eq!(zero, "a booking's quantity must be positive, not 0");
    assert_eq!(negative, "a booking's quantity must be positive, not -1");
    assert_eq!(three, "the cargo bike holds 2 bike, not 3");
    let bookings = state(&sim).register.bookings;
    assert_eq!(
        bookings
            .keys()
            .copied()
            .collect::<std::collections::BTreeSet<_>>(),
        [bob, carol, alice].into_iter().collect()
    );
}

#[test]
fn concurrent_partial_bookings_resolve_the_same_way_in_any_order() {
    let mut sim = assembly();
    sim.act("alice", 5000, item("cargo bike", "bike"));
    let bikes = sim.act("alice", 5001, resource("cargo bike", qty(2, "bike")));
    let heads = sim.heads();
    let one = register::SCALE;
    // Three members book one bike each, offline: two fit, the last in the log's order does not.
    let mut booked: Vec<EventId> = ["bob", "carol", "dave"]
        .iter()
        .map(|who| sim.on(who, &heads, 6000, book_part(bikes, DAY, 2 * DAY, one)))
        .collect();
    booked.sort_by_key(|id| fold::order_key(&sim.events[sim.by_id[id]]));
    let mut reversed = sim.events.clone();
    reversed.reverse();
    for events in [sim.events.clone(), reversed] {
        let folded = fold(&events, |_| None).unwrap();
        let kept: Vec<EventId> = folded.state.register.bookings.keys().copied().collect();
        let mut first_two = booked[..2].to_vec();
        first_two.sort();
        assert_eq!(kept, first_two);
        let [rejection] = folded.rejections.as_slice() else {
            panic!("one refusal, got {:?}", folded.rejections);
        };
        assert_eq!(rejection.event, booked[2]);
    }
}

/// A bakery whose meals need half an hour of the oven each: flour and bakers for 400 meals,
/// one oven, and a vital need of 400 meals.
fn bakery() -> (Sim, EventId) {
    let mut sim = assembly();
    sim.act("alice", 5000, item("flour", "kg"));
    sim.act("alice", 5001, item("meal", "meal"));
    sim.act("alice", 5002, item("oven", "oven"));
    sim.act("bob", 5003, resource("flour", qty(1000, "kg")));
    let oven = sim.act("bob", 5004, resource("oven", qty(1, "oven")));
    sim.act(
        "dave",
        5005,
        Payload::Offer(Offer {
            provision: Provision::Labour {
                skill: "baking".into(),
                hours: qty(1000, "hour"),
            },
            place: "Rue Dupont".into(),
            from_ms: 0,
            until_ms: 30 * DAY,
        }),
    );
    sim.act(
        "alice",
        5006,
        Payload::Process(Recipe {
            name: "Bake".into(),
            place: "Rue Dupont".into(),
            outputs: vec![Flow {
                item: "meal".into(),
                quantity: qty(1, "meal"),
            }],
            inputs: vec![Flow {
                item: "flour".into(),
                quantity: qty(1, "kg"),
            }],
            labour: vec![SkillHours {
                skill: "baking".into(),
                hours: qty(1, "hour"),
            }],
            equipment: vec![EquipmentHours {
                resource: oven,
                hours: Quantity {
                    amount: 500,
                    unit: "hour".into(),
                },
            }],
            capacity: 1000 * register::SCALE,
        }),
    );
    sim.act(
        "carol",
        5007,
        need("meal", qty(400, "meal"), Urgency::Vital),
    );
    (sim, oven)
}

#[test]
fn the_oven_s_free_hours_limit_the_meals_and_a_booking_takes_hours_away() {
    let (mut sim, oven) = bakery();
    let meals = |sim: &Sim| {
        let model = register::model(&state(sim).register, 6000, Transport::None);
        let draft = plan::draft(&model, &Settings::default(), &DenseSimplex).unwrap();
        (model, draft)
    };
    // A week of the oven is 168 hours: 336 meals, though flour and bakers would make 400.
    let (model, draft) = meals(&sim);
    assert_eq!(model.equipment.len(), 1);
    assert_eq!(model.equipment[0].id, oven.to_string());
    assert_eq!(model.equipment[0].hours, 168.0);
    assert_eq!(model.processes[0].equipment, vec![(0, 0.5)]);
    assert!(
        (draft.met[0].quantity - 336.0).abs() < 1e-4,
        "{:?}",
        draft.met
    );
    assert_eq!(
        draft.met[0].shortfall,
        Some(Shortfall::Equipment { equipment: 0 })
    );
    // Booked for a day within the round, and for a day after it: 24 hours fewer, 48 meals.
    sim.act("bob", 6001, book(oven, DAY, 2 * DAY));
    sim.act("bob", 6002, book(oven, 8 * DAY, 9 * DAY));
    assert_eq!(refused(&sim), Vec::<String>::new());
    let (model, draft) = meals(&sim);
    assert_eq!(model.equipment[0].hours, 144.0);
    assert!(
        (draft.met[0].quantity - 288.0).abs() < 1e-4,
        "{:?}",
        draft.met
    );
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

#[test]
fn the_council_amends_its_planner_settings() {
    let (mut sim, _) = kitchen();
    let current = state(&sim).constitution;
    assert_eq!(current.planner_settings(), Settings::default());
    let amend = |tolerance_permille| {
        let mut constitution = current.clone();
        constitution.planner = Some(Settings {
            tolerance_permille,
            fairness: plan::Fairness::Proportional,
        });
        propose(
            "Share proportionally",
            Action::Amend { constitution },
            None,
            6000 + 3 * DAY,
        )
    };
    let absurd = amend(1001);
    sim.act("alice", 6000, absurd);
    let fine = amend(0);
    let p = sim.act("alice", 6001, fine);
    for who in ["alice", "bob", "carol", "dave"] {
        sim.act(who, 6002, vote(p, YesNo::Yes));
    }
    sim.act("alice", 6003, close(p));
    let reasons = refused(&sim);
    assert!(
        matches!(reasons.as_slice(), [one] if one.contains("tolerance is at most 1000‰")),
        "{reasons:?}"
    );
    assert_eq!(
        state(&sim).constitution.planner,
        Some(Settings {
            tolerance_permille: 0,
            fairness: plan::Fairness::Proportional,
        })
    );
}

#[test]
fn commitments_never_exceed_what_the_runs_make_or_the_stock_holds() {
    let hex = |n: u8| EventId([n; 32]).to_string();
    let model = plan::Model {
        items: vec![
            plan::Item {
                name: "bread".into(),
                unit: "loaf".into(),
            },
            plan::Item {
                name: "flour".into(),
                unit: "kg".into(),
            },
        ],
        places: vec!["bakery".into()],
        needs: (1..=4)
            .map(|n| plan::Need {
                id: hex(n),
                item: usize::from(n >= 3),
                quantity: 10.0,
                place: 0,
                urgency: Urgency::Vital,
                receiver: format!("household {n}"),
            })
            .collect(),
        supplies: vec![plan::Supply {
            id: hex(9),
            item: 1,
            quantity: 1.0,
            place: 0,
        }],
        processes: vec![plan::Process {
            id: hex(8),
            name: "bake".into(),
            place: 0,
            outputs: vec![(0, 10.0)],
            inputs: vec![],
            labour: vec![],
            equipment: vec![],
            capacity: 10.0,
        }],
        ..plan::Model::default()
    };
    let delivery = |need, source, quantity| Delivery {
        need,
        source,
        quantity,
        hours: 0.0,
    };
    // 1.4994 bakes, committed as 1.499, make 14.99 loaves; the draft's two deliveries round to
    // 7.498 each, 14.996 in all. A kilogram of flour, drawn as 0.50051 twice (within the
    // solver's slack), rounds to 1.002.
    let draft = Draft {
        deliveries: vec![
            delivery(0, Source::Process(0), 7.4976),
            delivery(1, Source::Process(0), 7.4976),
            delivery(2, Source::Supply(0), 0.50051),
            delivery(3, Source::Supply(0), 0.50051),
        ],
        runs: vec![Run {
            process: 0,
            runs: 1.4994,
        }],
        met: Vec::new(),
        skill_hours: Vec::new(),
        transport_hours: 0.0,
        item_hours: Vec::new(),
        skill_scarcity: Vec::new(),
        solver: "by hand".into(),
    };
    let terms = PlanTerms::of_draft(&model, &draft);
    assert_eq!(terms.runs[0].runs, 1499);
    let from = |source: EventId| -> i64 {
        terms
            .deliveries
            .iter()
            .filter(|c| c.source == source)
            .map(|c| c.quantity)
            .sum()
    };
    assert_eq!(from(EventId([8; 32])), 14_990, "{:?}", terms.deliveries);
    assert_eq!(from(EventId([9; 32])), 1_000, "{:?}", terms.deliveries);
    // The cut is shared: no delivery loses more than the rounding gave it.
    assert!(
        terms.deliveries.iter().all(|c| c.quantity >= 500),
        "{:?}",
        terms.deliveries
    );
}

#[test]
fn hours_worked_draw_on_the_worker_s_offers_of_that_skill() {
    let (mut sim, _) = kitchen();
    let labour = |hours: i64| {
        Payload::Offer(Offer {
            provision: Provision::Labour {
                skill: "cooking".into(),
                hours: qty(hours, "hour"),
            },
            place: "Rue Dupont".into(),
            from_ms: 0,
            until_ms: 30 * DAY,
        })
    };
    let first = sim.act("carol", 6000, labour(1));
    let second = sim.act("carol", 6001, labour(3));
    let bobs = sim.act("bob", 6002, labour(2));
    let half_amount = 2 * register::SCALE + register::SCALE / 2;
    let half = Quantity {
        amount: half_amount,
        unit: "hour".into(),
    };
    sim.act(
        "carol",
        6003,
        fulfil(FlowAction::Work, "cooking", half, None),
    );
    let offers = state(&sim).register.offers;
    // Two and a half hours draw on Carol's offers in id order; Bob's stand.
    let (low, high) = if first < second {
        (first, second)
    } else {
        (second, first)
    };
    let low_hours = if low == first { 1 } else { 3 } * register::SCALE;
    let given = |id: &EventId| offers[id].given;
    assert_eq!(given(&low), low_hours.min(half_amount));
    assert_eq!(given(&low) + given(&high), half_amount);
    assert_eq!(given(&bobs), 0);
    // The next plan sees what is left: one and a half of Carol's hours, and Bob's two.
    let model = register::model(&state(&sim).register, 6004, Transport::None);
    let hours: f64 = model.labour.iter().map(|l| l.hours).sum();
    assert!((hours - 3.5).abs() < 1e-9, "{:?}", model.labour);
}
