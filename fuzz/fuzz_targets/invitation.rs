//! Invitation tokens as pasted text: parsed or refused, never a panic; what parses prints
//! back to text that parses to the same invitation, and verifies or not without panicking.
#![no_main]

use commune_core::invite::Invitation;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(invitation) = Invitation::from_text(text) {
        let printed = invitation.to_text();
        let again = Invitation::from_text(&printed).expect("a printed invitation parses");
        assert_eq!(again.to_text(), printed);
        let _ = invitation.verify();
    }
});
