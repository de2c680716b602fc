//! What an ssh-agent holds, from its answer to "list your identities" (PROTOCOL.agent:
//! `SSH2_AGENT_IDENTITIES_ANSWER`, the message after its length): how many keys, and the
//! certificates among them with their validity.
//!
//! Guarantees: every length is checked against what is left (a truncated or hostile answer is
//! an error, never a panic); nothing of a key is kept but whether it is a certificate and that
//! certificate's public fields; a key's comment (often a file path) is not kept either.

use super::ssh_certificate;
use super::wire::Reader;
use serde_json::{json, Value};

/// The message type of the answer.
pub const IDENTITIES_ANSWER: u8 = 12;

/// The view of the answer: `{keys, login, certificates: [{key_id, principals, valid_before}],
/// expires}`. `login` ("2 keys") is there only when the agent holds a key; `expires` is the
/// earliest `valid_before` of the certificates (epoch seconds), absent without one that ends.
pub fn view(answer: &[u8]) -> Result<Value, String> {
    let mut reader = Reader::new(answer, "the agent's answer");
    if reader.u8()? != IDENTITIES_ANSWER {
        return Err("the agent answered with something else than its identities".into());
    }
    let count = reader.u32()?;
    let mut certificates = Vec::new();
    for _ in 0..count {
        let blob = reader.data()?;
        reader.data()?; // the comment
        if ssh_certificate::is_certificate(blob) {
            let certificate = ssh_certificate::decode(blob)?;
            certificates.push(json!({
                "key_id": certificate["key_id"],
                "principals": certificate["principals"],
                "valid_before": certificate["valid_before"],
            }));
        }
    }
    if !reader.rest.is_empty() {
        return Err("the agent's answer goes on past its identities".into());
    }
    let expires = certificates
        .iter()
        .filter_map(|c| c["valid_before"].as_u64())
        .min();
    let mut value = json!({ "keys": count, "certificates": certificates });
    if count > 0 {
        value["login"] = json!(format!("{count} key{}", if count == 1 { "" } else { "s" }));
    }
    if let Some(expires) = expires {
        value["expires"] = json!(expires);
    }
    Ok(value)
}

/// How many identities an answer lists (0 when it is not an answer).
pub fn count(answer: &[u8]) -> u32 {
    let mut reader = Reader::new(answer, "the agent's answer");
    match reader.u8() {
        Ok(IDENTITIES_ANSWER) => reader.u32().unwrap_or(0),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn string(out: &mut Vec<u8>, bytes: &[u8]) {
        out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
        out.extend_from_slice(bytes);
    }

    fn answer(keys: &[(Vec<u8>, &str)]) -> Vec<u8> {
        let mut out = vec![IDENTITIES_ANSWER];
        out.extend_from_slice(&(keys.len() as u32).to_be_bytes());
        for (blob, comment) in keys {
            string(&mut out, blob);
            string(&mut out, comment.as_bytes());
        }
        out
    }

    fn plain_key() -> Vec<u8> {
        let mut blob = Vec::new();
        string(&mut blob, b"ssh-ed25519");
        string(&mut blob, &[3; 32]);
        blob
    }

    #[test]
    fn keys_are_counted_and_no_key_is_no_login() {
        let none = view(&answer(&[])).unwrap();
        assert_eq!(none["keys"], 0);
        assert!(none.get("login").is_none());
        let two = view(&answer(&[(plain_key(), "a"), (plain_key(), "b")])).unwrap();
        assert_eq!(two["login"], "2 keys");
        assert!(two.get("expires").is_none(), "plain keys end never");
        assert_eq!(count(&answer(&[(plain_key(), "a")])), 1);
    }

    #[test]
    fn damaged_answers_are_errors_never_panics() {
        let whole = answer(&[(plain_key(), "comment")]);
        for cut in 0..whole.len() {
            let _ = view(&whole[..cut]);
        }
        assert!(view(&whole[..whole.len() - 1]).is_err());
        assert!(view(&[5]).is_err(), "a failure message");
        let mut claims_many = vec![IDENTITIES_ANSWER];
        claims_many.extend_from_slice(&u32::MAX.to_be_bytes());
        assert!(view(&claims_many).is_err());
    }
}
