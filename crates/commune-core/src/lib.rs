//! commune-core: the pure heart of commune.
//!
//! Ids, keys, the canonical event codec, the fold of a council's log into its state, and the
//! tally methods. Everything here is a function of its arguments: no I/O, no clock, no
//! randomness (time and entropy come in as arguments), no logging (errors and rejections are
//! returned as data).

pub mod bundle;
pub mod clock;
pub mod constitution;
pub mod event;
pub mod fold;
pub mod id;
pub mod invite;
pub mod keys;
pub mod mandate;
pub mod methods;
pub mod payload;
pub mod plan;
pub mod register;
pub mod state;
pub mod sync;
pub mod tally;

pub use event::{Body, Event, EventError, ParentInfo, Unsigned};
pub use fold::{Folded, Folder, fold, fold_live, fold_stream};
pub use id::{CouncilId, EventId, MandateId, MemberId, PublicKey};
pub use keys::{Keypair, Signature};
pub use payload::Payload;
pub use state::State;
