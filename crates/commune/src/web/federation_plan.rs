//! The federation's plan page: per member council what each need gets and why not, what moves
//! between councils, and which member councils this node cannot plan. Read-only: a
//! federation's plan is shown, not proposed.
//!
//! Drawn only for a reader who belongs to the federation or to one of its member councils, as
//! `commune federation plan` is: the signed-in session says who is looking, and each member
//! council's register is read only as `crate::reading` allows.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use commune_core::CouncilId;
use commune_core::register::Transport;
use maud::{Markup, html};

use super::pages::{Page, layout, ok, parse};
use crate::federation_plan::{self, FederationDraft, not_held_words};
use crate::node::now_ms;
use crate::reading::{Part, Reader};
use crate::server::{ApiError, Shared, internal, not_found, with_node};

pub async fn page(
    State(node): State<Shared>,
    Path(federation): Path<String>,
    reader: Reader,
) -> Result<Page, Page> {
    let federation: CouncilId = parse(&federation, "federation")?;
    let me = reader.0;
    let gathered = with_node(node, move |node| {
        crate::reading::readable_in(node, me.as_ref(), federation, Part::Whole)?;
        let mut gathered = federation_plan::gather(node, federation).map_err(not_found)?;
        // Each member council's register is planned only if this reader may read it.
        let held = std::mem::take(&mut gathered.held);
        for (council, folded) in held {
            if crate::reading::readable_in(node, me.as_ref(), council, Part::Register).is_ok() {
                gathered.held.push((council, folded));
            } else {
                gathered.not_held.push(council);
            }
        }
        Ok(gathered)
    })
    .await?;
    let refused = match me {
        None => Err(anyhow::anyhow!(
            "the federation's plan is drawn for its members and the members of its councils: \
             open it from a browser that holds your key"
        )),
        Some(me) => gathered.check_member(&me),
    };
    if let Err(error) = refused {
        return Err(Page::from(ApiError(
            StatusCode::FORBIDDEN,
            format!("{error:#}"),
        )));
    }
    let name = gathered.name.clone();
    let drafted = tokio::task::spawn_blocking(move || {
        federation_plan::draft(
            &gathered,
            now_ms(),
            Transport::None,
            federation_plan::LINK_HOURS,
        )
    })
    .await
    .map_err(|e| Page::from(internal(e.into())))?;
    let body = match &drafted {
        Ok(drafted) => plan_markup(drafted),
        Err(error) => html! { p { (format!("{error:#}")) } },
    };
    ok(layout(
        &format!("Plan of {name}"),
        html! {
            h1 { "Plan of " (name) }
            p.meta {
                a href={ "/c/" (federation) } { (name) }
                " · the member councils' registers planned together: needs in one council met "
                "from stock or processes in another"
            }
            (body)
            p.note {
                "This plan is shown, not put to a vote: each council decides its own plan from "
                "its register page. Carrying a unit between councils is counted at "
                (federation_plan::LINK_HOURS) " labour hour(s)."
            }
        },
        None,
    ))
}

fn plan_markup(drafted: &FederationDraft) -> Markup {
    html! {
        @for council in &drafted.councils {
            h2 { a href={ "/c/" (council.council) "/register" } { (council.name) } }
            @let lines = &council.lines;
            @if lines.is_empty() {
                p { "No open needs." }
            } @else {
                ul.cards {
                    @for (what, why) in lines {
                        li { (what) br; span.meta { (why) } }
                    }
                }
            }
        }
        h2 { "Between councils" }
        @if drafted.flows.is_empty() {
            p { "Nothing moves between councils." }
        } @else {
            ul.cards {
                @for flow in &drafted.flows { li { (flow.words()) } }
            }
        }
        @if !drafted.not_held.is_empty() {
            h2 { "Not planned" }
            ul.cards {
                @for council in &drafted.not_held { li { (not_held_words(council)) } }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use commune_core::constitution::{Constitution, FederationRules};
    use commune_core::mandate::{Signed, Statement};
    use commune_core::payload::{self, Action, Payload};
    use commune_core::plan::Urgency;
    use commune_core::register::{ItemKind, Need, Quantity, Receiver, Resource};
    use commune_core::tally::{Choice, Position};
    use commune_core::{CouncilId, Keypair};

    use crate::node::{Node, now_ms};
    use crate::server::tests::{fixture, send};

    /// The federation admits `council` on its roster certificate, signed by `member`.
    fn admit(
        node: &mut Node,
        federation: CouncilId,
        convener: &Keypair,
        council: CouncilId,
        member: &Keypair,
    ) {
        let statement = Statement::Roster {
            council,
            federation,
            version: 1,
            members: vec![member.public()],
            petition_share_permille: None,
        };
        let signed = Signed {
            signer: member.public(),
            signature: statement.sign(member),
        };
        let certify = Payload::Certify(payload::Certify::new(statement, vec![signed]));
        node.act(member, federation, certify).unwrap();
        let proposal = node
            .act(
                convener,
                federation,
                Payload::Propose(payload::Propose {
                    title: "Admit".into(),
                    text: String::new(),
                    action: Action::AdmitCouncil { council },
                    method: None,
                    options: Vec::new(),
                    quorum: None,
                    deadline_ms: now_ms() + 60_000,
                    mode: None,
                }),
            )
            .unwrap()
            .id;
        let agree = Choice::Consent {
            position: Position::Agree,
            reason: String::new(),
        };
        node.act(
            convener,
            federation,
            Payload::Ballot(payload::Ballot {
                proposal,
                choice: agree,
            }),
        )
        .unwrap();
        node.act(
            convener,
            federation,
            Payload::Close(payload::Close { proposal }),
        )
        .unwrap();
    }

    fn flour(node: &mut Node, council: CouncilId, member: &Keypair) {
        let item = Payload::Item(ItemKind {
            name: "flour".into(),
            unit: "kg".into(),
        });
        node.act(member, council, item).unwrap();
    }

    fn kg(amount: i64) -> Quantity {
        Quantity {
            amount: amount * 1000,
            unit: "kg".into(),
        }
    }

    async fn page_as(
        node: &crate::server::Shared,
        uri: &str,
        who: Option<&Keypair>,
    ) -> (StatusCode, String) {
        let mut request = Request::get(uri);
        if let Some(who) = who {
            request = request.header("cookie", crate::server::tests::session(node, who));
        }
        send(node, request.body(Body::empty()).unwrap()).await
    }

    #[tokio::test]
    async fn the_federation_plan_page_shows_needs_met_across_councils_to_members_only() {
        let fixture = fixture();
        let ana = &fixture.keypair;
        let convener = Keypair::from_seed([41; 32]);
        let stranger = Keypair::from_seed([42; 32]);
        let (federation, kitchen, faraway) = {
            let mut node = fixture.node.lock().unwrap();
            let rules = Constitution {
                federation: Some(FederationRules::default()),
                ..Constitution::default()
            };
            let federation = node
                .found(&convener, "City", "Convener", rules)
                .unwrap()
                .council();
            let kitchen = node
                .found(ana, "Kitchen", "Ana", Constitution::default())
                .unwrap()
                .council();
            // A member council whose log this node never saw.
            let faraway = CouncilId([9; 32]);
            for council in [fixture.council, kitchen] {
                admit(&mut node, federation, &convener, council, ana);
            }
            admit(&mut node, federation, &convener, faraway, &stranger);
            for council in [fixture.council, kitchen] {
                flour(&mut node, council, ana);
            }
            let sacks = Payload::Resource(Resource {
                name: "flour sacks".into(),
                item: "flour".into(),
                quantity: kg(20),
                place: "store".into(),
                rules: String::new(),
            });
            node.act(ana, fixture.council, sacks).unwrap();
            let need = Payload::Need(Need {
                item: "flour".into(),
                quantity: kg(12),
                place: "canteen".into(),
                by_ms: now_ms() + 86_400_000,
                urgency: Urgency::Vital,
                receiver: Receiver::Council,
            });
            node.act(ana, kitchen, need).unwrap();
            (federation, kitchen, faraway)
        };
        let uri = format!("/c/{federation}/plan");

        let (status, html) = page_as(&fixture.node, &uri, Some(ana)).await;
        assert_eq!(status, StatusCode::OK, "{html}");
        assert!(
            html.contains("flour at canteen (vital): 12 of 12 kg"),
            "{html}"
        );
        assert!(
            html.contains("12 kg of flour from Mutual aid's store to Kitchen's canteen"),
            "{html}"
        );
        assert!(
            html.contains(&format!("/c/{kitchen}/register")),
            "each council links to its register: {html}"
        );
        assert!(
            html.contains(&format!(
                "this node does not hold council {}'s log, nor may this reader read its register",
                faraway.short()
            )),
            "{html}"
        );
        assert!(!html.contains("<form"), "the plan is shown, not proposed");
        // The federation's own page leads to it.
        let (_, html) = page_as(&fixture.node, &format!("/c/{federation}"), Some(ana)).await;
        assert!(html.contains(&uri), "{html}");

        // Strangers and unknown viewers get no plan; a council is not a federation.
        for who in [Some(&convener), Some(&stranger), None] {
            let (status, html) = page_as(&fixture.node, &uri, who).await;
            if who.is_some_and(|who| who.public() == convener.public()) {
                // The convener is a member of the federation itself.
                assert_eq!(status, StatusCode::OK, "{html}");
                continue;
            }
            assert_eq!(status, StatusCode::FORBIDDEN, "{html}");
            assert!(!html.contains("12 of 12"), "{html}");
        }
        let (status, html) = page_as(&fixture.node, &format!("/c/{kitchen}/plan"), Some(ana)).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(
            html.contains("Kitchen is a council, not a federation"),
            "{html}"
        );
    }
}
