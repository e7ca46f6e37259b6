//! What a decision means for people, in words, for the CLI and the web app alike: what
//! became of an urgent decision and of what followed it. Must not print or render: callers
//! lay the words out.

use commune_core::state::{Proposal, State};

/// What became of an urgent decision, and of a proposal opened under one, in words; one
/// line each, empty when neither applies.
pub fn urgency_lines(state: &State, proposal: &Proposal) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(decision) = &proposal.decision {
        match (decision.ratification, decision.revoked) {
            (_, Some(close)) => lines.push(format!(
                "REVOKED: the council did not ratify this urgent decision (close {}); what \
                 followed from it is flagged",
                close.short()
            )),
            (Some(ratification), None) => {
                let ratified = state
                    .proposals
                    .get(&ratification)
                    .and_then(|r| r.decision.as_ref())
                    .is_some_and(|d| d.outcome.passed);
                lines.push(if ratified {
                    format!("urgent: ratified by proposal {}", ratification.short())
                } else {
                    format!(
                        "urgent: it stands until the council decides its ratification, proposal {}",
                        ratification.short()
                    )
                });
            }
            (None, None) => {}
        }
    }
    if let Some(revoked) = proposal.follows_revoked {
        lines.push(format!(
            "FLAGGED: opened after urgent decision {}, which the council did not ratify",
            revoked.short()
        ));
    }
    lines
}
