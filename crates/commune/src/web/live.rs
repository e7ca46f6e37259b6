//! Live updates by Server-Sent Events: a page of a council listens, and when the council
//! takes a new event (a ballot, a comment, a close) the script fetches the page again and
//! swaps its live part. The stream says only *that* something changed, never what: nothing
//! leaks that the page itself would not show, and only a reader of the council may listen.

use std::convert::Infallible;

use axum::extract::{Path, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use commune_core::CouncilId;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::{Stream, StreamExt as _};

use crate::reading::{Part, Reader};
use crate::server::{ApiError, Shared, parse, with_node};

pub async fn changes(
    State(node): State<Shared>,
    Path(council): Path<String>,
    reader: Reader,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let council: CouncilId = parse(&council, "council")?;
    // A stream says when the council takes an event: timing that only its readers may see.
    let (receiver, folds, member) = with_node(node, move |node| {
        let folded = crate::reading::readable_in(node, reader.key(), council, Part::Whole)?;
        let member = reader
            .0
            .filter(|key| folded.state.members.contains_key(key));
        Ok((node.subscribe(), node.folds(), member))
    })
    .await?;
    // A listener that fell behind has missed changes: telling it one happened is enough.
    let stream = BroadcastStream::new(receiver)
        .filter(move |changed| changed.as_ref().map_or(true, |id| *id == council))
        // A member's stream ends once the council no longer counts them among its members.
        .take_while(move |_| {
            member.is_none_or(|key| {
                folds
                    .get(&council)
                    .is_none_or(|folded| folded.state.members.contains_key(&key))
            })
        })
        // An event with no data is not dispatched by browsers: say which council changed.
        .map(move |_| Ok(Event::default().event("change").data(council.to_string())));
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}
