//! Invitations: signed tokens a member hands out as text, which a newcomer's join event
//! carries. The fold decides whether the inviter could invite and whether the token is
//! still unused; this module only builds, prints, parses and checks the signature.

use minicbor::{Decode, Encode};
use serde::{Deserialize, Serialize};

use crate::id::{CouncilId, PublicKey};
use crate::keys::{self, Keypair, Signature};

/// The text prefix of a printed invitation.
pub const PREFIX: &str = "commune-invite-";
const DOMAIN: &[u8] = b"commune/invite/v1\0";

/// A signed invitation to one council. Usable once.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct Invitation {
    #[n(0)]
    pub council: CouncilId,
    /// The council's name, so the newcomer sees what they are joining.
    #[n(1)]
    pub council_name: String,
    #[n(2)]
    pub inviter: PublicKey,
    #[n(3)]
    #[cbor(with = "minicbor::bytes")]
    #[serde(with = "hex_array")]
    pub nonce: [u8; 16],
    /// Advisory: the join event's time must not be later.
    #[n(4)]
    pub expires_ms: u64,
    #[n(5)]
    #[cbor(with = "minicbor::bytes")]
    #[serde(with = "hex_array")]
    pub signature: [u8; 64],
}

/// Why a text is not a usable invitation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvitationError {
    #[error("an invitation starts with {PREFIX:?}")]
    Prefix,
    #[error("the invitation text is damaged: {0}")]
    Damaged(String),
    #[error("the invitation's signature does not verify")]
    Signature,
}

impl Invitation {
    /// Signs a new invitation; the caller brings the nonce (entropy) and the expiry.
    pub fn new(
        council: CouncilId,
        council_name: String,
        inviter: &Keypair,
        nonce: [u8; 16],
        expires_ms: u64,
    ) -> Invitation {
        let mut invitation =
            Invitation::unsigned(council, council_name, inviter.public(), nonce, expires_ms);
        invitation.signature = inviter.sign(&invitation.signed_message()).0;
        invitation
    }

    /// An invitation whose signature is still zero, for an inviter whose key is elsewhere
    /// (a browser): they sign [`Invitation::signed_message`] and fill in `signature`.
    pub fn unsigned(
        council: CouncilId,
        council_name: String,
        inviter: PublicKey,
        nonce: [u8; 16],
        expires_ms: u64,
    ) -> Invitation {
        Invitation {
            council,
            council_name,
            inviter,
            nonce,
            expires_ms,
            signature: [0; 64],
        }
    }

    /// The message the inviter signs: the domain and the CBOR of every field but the
    /// signature.
    pub fn signed_message(&self) -> Vec<u8> {
        let mut message = DOMAIN.to_vec();
        let unsigned = (
            self.council,
            &self.council_name,
            self.inviter,
            minicbor::bytes::ByteArray::from(self.nonce),
            self.expires_ms,
        );
        minicbor::encode(unsigned, &mut message).expect("writing to a Vec cannot fail");
        message
    }

    pub fn verify(&self) -> Result<(), InvitationError> {
        keys::verify(
            &self.inviter,
            &self.signed_message(),
            &Signature(self.signature),
        )
        .map_err(|_| InvitationError::Signature)
    }

    /// The text to paste: the prefix and the lower-case base32 of the CBOR.
    pub fn to_text(&self) -> String {
        let bytes = minicbor::to_vec(self).expect("writing to a Vec cannot fail");
        format!(
            "{PREFIX}{}",
            data_encoding::BASE32_NOPAD.encode(&bytes).to_lowercase()
        )
    }

    /// Parses and verifies a pasted invitation. White space inside is ignored, so a token
    /// broken over lines by a mail program still works.
    pub fn from_text(text: &str) -> Result<Invitation, InvitationError> {
        let compact: String = text.split_whitespace().collect();
        let encoded = compact
            .strip_prefix(PREFIX)
            .ok_or(InvitationError::Prefix)?
            .to_uppercase();
        let bytes = data_encoding::BASE32_NOPAD
            .decode(encoded.as_bytes())
            .map_err(|error| InvitationError::Damaged(error.to_string()))?;
        let invitation: Invitation = minicbor::decode(&bytes)
            .map_err(|error| InvitationError::Damaged(error.to_string()))?;
        invitation.verify()?;
        Ok(invitation)
    }
}

mod hex_array {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer, const N: usize>(
        bytes: &[u8; N],
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&data_encoding::HEXLOWER.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>, const N: usize>(
        deserializer: D,
    ) -> Result<[u8; N], D::Error> {
        let text = String::deserialize(deserializer)?;
        data_encoding::HEXLOWER_PERMISSIVE
            .decode(text.as_bytes())
            .ok()
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or_else(|| serde::de::Error::custom(format!("expected {N} bytes of hex")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trip_and_tampering() {
        let inviter = Keypair::from_seed([3; 32]);
        let invitation = Invitation::new(
            CouncilId([5; 32]),
            "Tenants of Rue Dupont".into(),
            &inviter,
            [1; 16],
            99,
        );
        let text = invitation.to_text();
        assert_eq!(Invitation::from_text(&text), Ok(invitation.clone()));
        let wrapped = format!("{}\n  {}", &text[..30], &text[30..]);
        assert_eq!(Invitation::from_text(&wrapped), Ok(invitation.clone()));
        let mut forged = invitation;
        forged.expires_ms += 1;
        assert_eq!(
            Invitation::from_text(&forged.to_text()),
            Err(InvitationError::Signature)
        );
        assert_eq!(Invitation::from_text("hello"), Err(InvitationError::Prefix));
    }
}
