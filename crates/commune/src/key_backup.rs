//! Passphrase-sealed key backups, in the web app's format (`web/static/sign.js`), so that a
//! browser's backup imports into the CLI and an exported key restores in a browser.
//!
//! A backup is JSON: `{commune_key_backup: 1, public_key, kdf: "PBKDF2-SHA-256", rounds,
//! salt, iv, sealed_pkcs8}` (hex fields). The key's PKCS #8 bytes (RFC 8410) are sealed with
//! AES-256-GCM under PBKDF2-HMAC-SHA-256(passphrase, salt, rounds), the public key as
//! associated data. Must not touch files or terminals: text in, text out.

use std::num::NonZeroU32;

use anyhow::{Result, anyhow, bail};
use commune_core::{Keypair, PublicKey};
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use serde::{Deserialize, Serialize};

/// The rounds of a new backup: the browser's (it reads no other number).
pub const ROUNDS: u32 = 600_000;
/// The rounds a backup may claim: below, it is too weak to trust; above, too slow to try.
const ROUNDS_READ: std::ops::RangeInclusive<u32> = 100_000..=10_000_000;
/// The shortest passphrase a new backup takes.
pub const MIN_PASSPHRASE: usize = 8;
/// The DER of an Ed25519 PKCS #8 v1 key up to its 32-byte seed (RFC 8410, section 7).
const PKCS8_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

/// A key backup as the browser writes it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Backup {
    pub commune_key_backup: u32,
    pub public_key: String,
    pub kdf: String,
    pub rounds: u32,
    pub salt: String,
    pub iv: String,
    pub sealed_pkcs8: String,
}

fn wrapping_key(passphrase: &str, salt: &[u8], rounds: NonZeroU32) -> LessSafeKey {
    let mut key = [0u8; 32];
    ring::pbkdf2::derive(
        ring::pbkdf2::PBKDF2_HMAC_SHA256,
        rounds,
        salt,
        passphrase.as_bytes(),
        &mut key,
    );
    LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &key).expect("a 32-byte AES-256 key"))
}

/// Seals `keypair` with `passphrase`; `salt` and `iv` are fresh random bytes.
pub fn seal(keypair: &Keypair, passphrase: &str, salt: [u8; 16], iv: [u8; 12]) -> Result<Backup> {
    if passphrase.chars().count() < MIN_PASSPHRASE {
        bail!("a backup's passphrase has at least {MIN_PASSPHRASE} characters");
    }
    let public = keypair.public();
    let mut sealed = PKCS8_PREFIX.to_vec();
    sealed.extend_from_slice(&keypair.seed());
    let rounds = NonZeroU32::new(ROUNDS).expect("not zero");
    wrapping_key(passphrase, &salt, rounds)
        .seal_in_place_append_tag(
            Nonce::assume_unique_for_key(iv),
            Aad::from(public.as_bytes()),
            &mut sealed,
        )
        .map_err(|_| anyhow!("the key could not be sealed"))?;
    Ok(Backup {
        commune_key_backup: 1,
        public_key: public.to_string(),
        kdf: "PBKDF2-SHA-256".to_owned(),
        rounds: ROUNDS,
        salt: hex(&salt),
        iv: hex(&iv),
        sealed_pkcs8: hex(&sealed),
    })
}

fn hex(bytes: &[u8]) -> String {
    data_encoding::HEXLOWER.encode(bytes)
}

fn unhex(text: &str, what: &str) -> Result<Vec<u8>> {
    data_encoding::HEXLOWER_PERMISSIVE
        .decode(text.as_bytes())
        .map_err(|_| anyhow!("the backup's {what} is not hex: it is damaged"))
}

/// Opens a backup's text with `passphrase`: the key it holds, checked against the public key
/// it names.
pub fn open(text: &str, passphrase: &str) -> Result<Keypair> {
    let backup: Backup = serde_json::from_str(text)
        .map_err(|e| anyhow!("this is not a commune key backup ({e})"))?;
    if backup.commune_key_backup != 1 || backup.kdf != "PBKDF2-SHA-256" {
        bail!(
            "this is a commune key backup of another kind (version {}, {}): this commune reads \
             version 1 with PBKDF2-SHA-256",
            backup.commune_key_backup,
            backup.kdf
        );
    }
    if !ROUNDS_READ.contains(&backup.rounds) {
        bail!(
            "the backup claims {} PBKDF2 rounds; a backup has {} to {}",
            backup.rounds,
            ROUNDS_READ.start(),
            ROUNDS_READ.end()
        );
    }
    let public: PublicKey = backup
        .public_key
        .parse()
        .map_err(|_| anyhow!("the backup's public key is damaged"))?;
    let salt = unhex(&backup.salt, "salt")?;
    let iv: [u8; 12] = unhex(&backup.iv, "iv")?
        .try_into()
        .map_err(|_| anyhow!("the backup's iv is not 12 bytes: it is damaged"))?;
    let mut sealed = unhex(&backup.sealed_pkcs8, "sealed key")?;
    let rounds = NonZeroU32::new(backup.rounds).expect("checked above");
    let pkcs8 = wrapping_key(passphrase, &salt, rounds)
        .open_in_place(
            Nonce::assume_unique_for_key(iv),
            Aad::from(public.as_bytes()),
            &mut sealed,
        )
        .map_err(|_| anyhow!("the passphrase does not open this backup (or it is damaged)"))?;
    let keypair = Keypair::from_seed(seed_of(pkcs8)?);
    if keypair.public() != public {
        bail!("the backup does not hold the key it names: it is damaged");
    }
    Ok(keypair)
}

/// The seed of an Ed25519 PKCS #8 key: v1 (48 bytes, as browsers export it) or v2 (with the
/// public key after the seed).
fn seed_of(pkcs8: &[u8]) -> Result<[u8; 32]> {
    let v1 = pkcs8.len() == 48 && pkcs8[..16] == PKCS8_PREFIX;
    let v2 = pkcs8.len() > 48
        && pkcs8[0] == 0x30
        && pkcs8[2..4] == [0x02, 0x01]
        && pkcs8[4] == 0x01
        && pkcs8[5..16] == PKCS8_PREFIX[5..16];
    if !(v1 || v2) {
        bail!("the backup holds a key that is not an Ed25519 key");
    }
    Ok(pkcs8[16..48].try_into().expect("32 bytes"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const BROWSER: &str = include_str!("../../../test_data/keys/browser-backup.json");

    #[test]
    fn a_backup_made_outside_commune_opens_and_a_wrong_passphrase_does_not() {
        let keypair = open(BROWSER, "correct horse battery staple").unwrap();
        assert_eq!(
            keypair.public().to_string(),
            "7a97c819f18f085ef8d9404a48747c1fc251ef448e544e5ec8b120810fd47575"
        );
        let wrong = open(BROWSER, "correct horse battery stapler").unwrap_err();
        assert!(wrong.to_string().contains("passphrase"), "{wrong}");
    }

    #[test]
    fn a_sealed_key_opens_to_itself_and_names_its_public_key() {
        let keypair = Keypair::from_seed([7; 32]);
        let backup = seal(&keypair, "a long passphrase", [1; 16], [2; 12]).unwrap();
        assert_eq!(backup.public_key, keypair.public().to_string());
        assert_eq!(backup.rounds, 600_000);
        let text = serde_json::to_string(&backup).unwrap();
        assert_eq!(open(&text, "a long passphrase").unwrap().seed(), [7; 32]);
        // Another public key in the file: the associated data no longer matches.
        let mut other = backup.clone();
        other.public_key = Keypair::from_seed([8; 32]).public().to_string();
        let error = open(&serde_json::to_string(&other).unwrap(), "a long passphrase");
        assert!(error.is_err());
        assert!(seal(&keypair, "short", [1; 16], [2; 12]).is_err());
    }
}
