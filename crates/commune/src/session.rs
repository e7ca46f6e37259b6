//! Members' sessions in the browser: the node hands out a fresh challenge, the browser's key
//! signs it, and the node answers with a session cookie bound to that key. No passwords; the
//! CLI and sync sign each request instead (`transport::auth`).
//!
//! The signed message is `commune/session/v1\0` ‖ challenge (32 bytes) ‖ public key (32
//! bytes). A challenge is used once and lives [`CHALLENGE_MS`]; a session lives
//! [`SESSION_MS`] and ends earlier when its member signs out. Both stores are bounded: past
//! [`MAX_CHALLENGES`] or [`MAX_SESSIONS`] the oldest entry goes. The store is in memory only:
//! a restarted node forgets every session, and the script signs in again.
//!
//! A session says who is looking, never what they may read: [`crate::reading`] decides that
//! on every request from the council's current members, so a removed member's session reads
//! nothing more from the moment the removal is folded.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use commune_core::PublicKey;
use commune_core::keys::{self, Signature};

/// The cookie that carries a session's token.
pub const COOKIE: &str = "commune_session";
/// How long a challenge may wait for its answer.
pub const CHALLENGE_MS: u64 = 2 * 60 * 1000;
/// How long a session lasts.
pub const SESSION_MS: u64 = 7 * 24 * 60 * 60 * 1000;
pub const MAX_CHALLENGES: usize = 4_096;
pub const MAX_SESSIONS: usize = 100_000;

const DOMAIN: &[u8] = b"commune/session/v1\0";

/// The message a browser signs to answer `challenge` with `key`.
pub fn message(challenge: &[u8; 32], key: &PublicKey) -> Vec<u8> {
    let mut message = DOMAIN.to_vec();
    message.extend_from_slice(challenge);
    message.extend_from_slice(&key.0);
    message
}

#[derive(Debug, Default)]
struct Inner {
    /// Challenge → when it expires.
    challenges: HashMap<[u8; 32], u64>,
    /// BLAKE3 of a token → its key and when it expires. Only hashes are kept, so a dump
    /// of the node's memory does not hand out live cookies as they are.
    sessions: HashMap<[u8; 32], (PublicKey, u64)>,
}

/// The node's sessions and outstanding challenges, shared by every request.
#[derive(Debug, Clone, Default)]
pub struct Sessions(Arc<Mutex<Inner>>);

fn random() -> [u8; 32] {
    let mut bytes = [0; 32];
    getrandom::fill(&mut bytes).expect("the operating system's random source");
    bytes
}

/// Drops expired entries and, if still full, the entry that expires first.
fn make_room<V>(
    map: &mut HashMap<[u8; 32], V>,
    limit: usize,
    now_ms: u64,
    expiry: impl Fn(&V) -> u64,
) {
    if map.len() < limit {
        return;
    }
    map.retain(|_, value| expiry(value) > now_ms);
    while map.len() >= limit {
        let Some(oldest) = map.iter().min_by_key(|(_, v)| expiry(v)).map(|(k, _)| *k) else {
            break;
        };
        map.remove(&oldest);
    }
}

impl Sessions {
    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A fresh challenge for a browser to sign.
    pub fn challenge(&self, now_ms: u64) -> [u8; 32] {
        let challenge = random();
        let mut inner = self.inner();
        make_room(&mut inner.challenges, MAX_CHALLENGES, now_ms, |&at| at);
        inner.challenges.insert(challenge, now_ms + CHALLENGE_MS);
        challenge
    }

    /// Opens a session for `key` if `signature` answers a challenge this node gave out, not
    /// yet used and not expired; returns the session's token (hex) for the cookie.
    pub fn sign_in(
        &self,
        key: &PublicKey,
        challenge: &[u8; 32],
        signature: &Signature,
        now_ms: u64,
    ) -> Result<String, String> {
        let mut inner = self.inner();
        // Used once, whatever the outcome: a refused answer cannot be tried again.
        let Some(expires) = inner.challenges.remove(challenge) else {
            return Err(
                "this challenge was not given out by this node, or was already used: ask for a new one"
                    .into(),
            );
        };
        if expires <= now_ms {
            return Err("this challenge expired: ask for a new one".into());
        }
        keys::verify(key, &message(challenge, key), signature)
            .map_err(|_| "the signature does not answer the challenge with this key".to_string())?;
        let token = random();
        make_room(&mut inner.sessions, MAX_SESSIONS, now_ms, |(_, at)| *at);
        inner.sessions.insert(
            *blake3::hash(&token).as_bytes(),
            (*key, now_ms + SESSION_MS),
        );
        Ok(data_encoding::HEXLOWER.encode(&token))
    }

    /// The key of a live session.
    pub fn key_of(&self, token: &str, now_ms: u64) -> Option<PublicKey> {
        let token = data_encoding::HEXLOWER_PERMISSIVE
            .decode(token.as_bytes())
            .ok()?;
        let inner = self.inner();
        let (key, expires) = inner.sessions.get(blake3::hash(&token).as_bytes())?;
        (*expires > now_ms).then_some(*key)
    }

    /// Ends one session (signing out).
    pub fn end(&self, token: &str) {
        if let Ok(token) = data_encoding::HEXLOWER_PERMISSIVE.decode(token.as_bytes()) {
            self.inner()
                .sessions
                .remove(blake3::hash(&token).as_bytes());
        }
    }

    #[cfg(test)]
    pub fn counts(&self) -> (usize, usize) {
        let inner = self.inner();
        (inner.challenges.len(), inner.sessions.len())
    }
}

#[cfg(test)]
mod tests {
    use commune_core::Keypair;

    use super::*;

    #[test]
    fn a_replayed_expired_or_forged_answer_is_refused() {
        let sessions = Sessions::default();
        let member = Keypair::from_seed([1; 32]);
        let now = 1_000_000;

        let challenge = sessions.challenge(now);
        let signature = member.sign(&message(&challenge, &member.public()));
        let token = sessions
            .sign_in(&member.public(), &challenge, &signature, now + 1)
            .unwrap();
        assert_eq!(sessions.key_of(&token, now + 2), Some(member.public()));
        // Replayed: the challenge was used.
        let replayed = sessions.sign_in(&member.public(), &challenge, &signature, now + 3);
        assert!(replayed.unwrap_err().contains("already used"));

        // Expired.
        let challenge = sessions.challenge(now);
        let signature = member.sign(&message(&challenge, &member.public()));
        let late = sessions.sign_in(&member.public(), &challenge, &signature, now + CHALLENGE_MS);
        assert!(late.unwrap_err().contains("expired"));

        // Forged: signed by another key, or over another challenge.
        let thief = Keypair::from_seed([2; 32]);
        let challenge = sessions.challenge(now);
        let forged = thief.sign(&message(&challenge, &member.public()));
        let refused = sessions.sign_in(&member.public(), &challenge, &forged, now + 1);
        assert!(refused.unwrap_err().contains("does not answer"));
        // A challenge the node never gave out.
        let made_up = [7; 32];
        let signature = member.sign(&message(&made_up, &member.public()));
        let refused = sessions.sign_in(&member.public(), &made_up, &signature, now + 1);
        assert!(refused.unwrap_err().contains("not given out"));

        // Sessions expire and end.
        assert_eq!(sessions.key_of(&token, now + 1 + SESSION_MS), None);
        sessions.end(&token);
        assert_eq!(sessions.key_of(&token, now + 2), None);
        assert_eq!(sessions.key_of("zz", now), None);
    }

    #[test]
    fn the_stores_stay_bounded() {
        let sessions = Sessions::default();
        for i in 0..(MAX_CHALLENGES as u64 + 10) {
            sessions.challenge(i);
        }
        assert_eq!(sessions.counts().0, MAX_CHALLENGES);
    }
}
