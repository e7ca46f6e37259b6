//! Ed25519 keys and signatures under the ZIP-215 rules, single and batch.
//!
//! Owns the one validity rule for signatures: `ed25519-zebra` implements ZIP-215, under which
//! batch and single verification accept exactly the same signatures. The batch verifier's
//! coefficients are drawn from a BLAKE3 stream over the whole batch, so the core needs no
//! randomness and a forger cannot predict them (the verifier pairs them with signatures in
//! its own hash-map order, which may vary; under ZIP-215 the verdict cannot). Must not read
//! key files: bytes come in.

use std::convert::Infallible;

use ed25519_zebra::{SigningKey, VerificationKey, VerificationKeyBytes, batch};

use crate::id::PublicKey;

/// An Ed25519 signature, as its 64 bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Signature(pub [u8; 64]);

impl std::fmt::Debug for Signature {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Signature({})",
            data_encoding::HEXLOWER.encode(&self.0[..4])
        )
    }
}

impl<C> minicbor::Encode<C> for Signature {
    fn encode<W: minicbor::encode::Write>(
        &self,
        e: &mut minicbor::Encoder<W>,
        _: &mut C,
    ) -> Result<(), minicbor::encode::Error<W::Error>> {
        e.bytes(&self.0)?;
        Ok(())
    }
}

impl<'b, C> minicbor::Decode<'b, C> for Signature {
    fn decode(d: &mut minicbor::Decoder<'b>, _: &mut C) -> Result<Self, minicbor::decode::Error> {
        let bytes = d.bytes()?;
        bytes
            .try_into()
            .map(Signature)
            .map_err(|_| minicbor::decode::Error::message("expected a 64-byte signature"))
    }
}

impl serde::Serialize for Signature {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&data_encoding::HEXLOWER.encode(&self.0))
    }
}

impl<'de> serde::Deserialize<'de> for Signature {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        data_encoding::HEXLOWER_PERMISSIVE
            .decode(text.as_bytes())
            .ok()
            .and_then(|bytes| bytes.try_into().ok())
            .map(Signature)
            .ok_or_else(|| serde::de::Error::custom("expected 128 hexadecimal characters"))
    }
}

/// Why a signature was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the signature does not verify under the author's key")]
    Invalid,
}

/// A device's secret key. The seed never leaves this type except through [`Keypair::seed`],
/// which the binary uses to write the key file.
#[derive(Clone)]
pub struct Keypair {
    signing_key: SigningKey,
    public: PublicKey,
}

impl std::fmt::Debug for Keypair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Keypair({:?})", self.public)
    }
}

impl Keypair {
    /// Builds a key from 32 bytes of seed; the caller brings the entropy.
    pub fn from_seed(seed: [u8; 32]) -> Self {
        let signing_key = SigningKey::from(seed);
        let public = PublicKey(VerificationKeyBytes::from(&signing_key).into());
        Keypair {
            signing_key,
            public,
        }
    }

    pub fn public(&self) -> PublicKey {
        self.public
    }

    pub fn seed(&self) -> [u8; 32] {
        self.signing_key.to_bytes()
    }

    pub fn sign(&self, message: &[u8]) -> Signature {
        Signature(self.signing_key.sign(message).to_bytes())
    }
}

/// Verifies one signature under ZIP-215.
pub fn verify(
    public: &PublicKey,
    message: &[u8],
    signature: &Signature,
) -> Result<(), SignatureError> {
    let key = VerificationKey::try_from(public.0).map_err(|_| SignatureError::Invalid)?;
    key.verify(&ed25519_zebra::Signature::from_bytes(&signature.0), message)
        .map_err(|_| SignatureError::Invalid)
}

/// Verifies many signatures at once. Returns, for each item, whether it verifies. When the
/// whole batch verifies (the common case) this costs one multiscalar multiplication; when it
/// does not, each item is checked alone, which ZIP-215 guarantees gives the same answers.
pub fn verify_batch(items: &[(PublicKey, &[u8], Signature)]) -> Vec<bool> {
    if items.is_empty() {
        return Vec::new();
    }
    let mut verifier = batch::Verifier::new();
    let mut transcript = blake3::Hasher::new_derive_key("commune batch verification v1");
    for (public, message, signature) in items {
        transcript.update(&public.0);
        transcript.update(&signature.0);
        transcript.update(blake3::hash(message).as_bytes());
        verifier.queue((
            VerificationKeyBytes::from(public.0),
            ed25519_zebra::Signature::from_bytes(&signature.0),
            *message,
        ));
    }
    if verifier
        .verify(TranscriptRng(transcript.finalize_xof()))
        .is_ok()
    {
        return vec![true; items.len()];
    }
    items
        .iter()
        .map(|(public, message, signature)| verify(public, message, signature).is_ok())
        .collect()
}

/// The batch verifier's coefficients, drawn from a BLAKE3 stream over every key, signature
/// and message in the batch (deterministic, and unpredictable before the batch is fixed).
struct TranscriptRng(blake3::OutputReader);

impl rand_core::TryRng for TranscriptRng {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        let mut bytes = [0; 4];
        self.0.fill(&mut bytes);
        Ok(u32::from_le_bytes(bytes))
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        let mut bytes = [0; 8];
        self.0.fill(&mut bytes);
        Ok(u64::from_le_bytes(bytes))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        self.0.fill(dst);
        Ok(())
    }
}

impl rand_core::TryCryptoRng for TranscriptRng {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_and_single_agree() {
        let keys: Vec<Keypair> = (0..8u8).map(|i| Keypair::from_seed([i; 32])).collect();
        let messages: Vec<Vec<u8>> = (0..8u8).map(|i| vec![i; 10]).collect();
        let mut items: Vec<(PublicKey, &[u8], Signature)> = keys
            .iter()
            .zip(&messages)
            .map(|(key, message)| (key.public(), message.as_slice(), key.sign(message)))
            .collect();
        assert_eq!(verify_batch(&items), vec![true; 8]);
        items[3].2.0[5] ^= 1;
        items[6].1 = b"another message";
        let expected: Vec<bool> = items
            .iter()
            .map(|(p, m, s)| verify(p, m, s).is_ok())
            .collect();
        assert_eq!(
            expected,
            vec![true, true, true, false, true, true, false, true]
        );
        assert_eq!(verify_batch(&items), expected);
    }
}
