//! Signed sync requests: each request names the member device that sends it, and signs the
//! method, path, time and body with that device's key.
//!
//! The header is `Commune-Signature: key=HEX, time=MS, sig=HEX`. The signed message is
//! `commune/sync-request/v1\0` ‖ method ‖ `\0` ‖ path ‖ `\0` ‖ time (8 bytes, big-endian) ‖
//! BLAKE3(body). A request more than [`MAX_SKEW_MS`] away from the server's clock is
//! refused, which bounds replays; a replayed request can only repeat an idempotent sync step.

use commune_core::keys::{self, Signature};
use commune_core::{Keypair, PublicKey};

pub const HEADER: &str = "commune-signature";
/// How far a request's time may be from the server's clock.
pub const MAX_SKEW_MS: u64 = 5 * 60 * 1000;

fn message(method: &str, path: &str, time_ms: u64, body: &[u8]) -> Vec<u8> {
    let mut message = b"commune/sync-request/v1\0".to_vec();
    message.extend_from_slice(method.as_bytes());
    message.push(0);
    message.extend_from_slice(path.as_bytes());
    message.push(0);
    message.extend_from_slice(&time_ms.to_be_bytes());
    message.extend_from_slice(blake3::hash(body).as_bytes());
    message
}

/// The header value for a request.
pub fn sign(keypair: &Keypair, method: &str, path: &str, time_ms: u64, body: &[u8]) -> String {
    let signature = keypair.sign(&message(method, path, time_ms, body));
    format!(
        "key={}, time={time_ms}, sig={}",
        keypair.public(),
        data_encoding::HEXLOWER.encode(&signature.0)
    )
}

/// The device that signed a request, or why the signature does not hold.
pub fn check(
    header: Option<&str>,
    method: &str,
    path: &str,
    now_ms: u64,
    body: &[u8],
) -> Result<PublicKey, String> {
    let header = header.ok_or(
        "the request is not signed: sync needs a Commune-Signature header from a member device",
    )?;
    let mut key = None;
    let mut time = None;
    let mut sig = None;
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("key", value)) => key = value.parse::<PublicKey>().ok(),
            Some(("time", value)) => time = value.parse::<u64>().ok(),
            Some(("sig", value)) => {
                sig = data_encoding::HEXLOWER_PERMISSIVE
                    .decode(value.as_bytes())
                    .ok()
                    .and_then(|bytes| <[u8; 64]>::try_from(bytes).ok())
            }
            _ => {}
        }
    }
    let (Some(key), Some(time), Some(sig)) = (key, time, sig) else {
        return Err("the Commune-Signature header must be `key=HEX, time=MS, sig=HEX`".into());
    };
    if time.abs_diff(now_ms) > MAX_SKEW_MS {
        return Err(format!(
            "the request's time is {} s away from this node's clock (at most {} s): check the clocks",
            time.abs_diff(now_ms) / 1000,
            MAX_SKEW_MS / 1000
        ));
    }
    keys::verify(&key, &message(method, path, time, body), &Signature(sig))
        .map(|()| key)
        .map_err(|_| "the request's signature does not match its key and contents".into())
}
