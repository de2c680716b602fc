//! OpenSSH certificates (`~/.ssh/id_ed25519-cert.pub`, PROTOCOL.certkeys): the text line
//! `<type> <base64> [comment]` decoded into its fields, the validity window among them.
//!
//! Guarantees: every length is checked against what is left (a truncated or hostile blob is an
//! error, never a panic or an overflow); unknown key types are refused by name; a certificate
//! valid "forever" (`valid_before` all ones) has no deadline (`null`); nothing of the key is
//! kept but its type. A certificate is public: nothing in it is a secret.

use super::wire::Reader;
use serde_json::{json, Value};

/// The view of a certificate: `{type, key_type, key_id, principals, serial, valid_after,
/// valid_before}` (times in epoch seconds; `valid_before` null when it never ends,
/// `valid_after` null when it was always valid).
pub fn view(text: &str) -> Result<Value, String> {
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .ok_or("no certificate line")?;
    let mut words = line.split_whitespace();
    let key_type = words.next().ok_or("no certificate line")?;
    if !key_type.ends_with("-cert-v01@openssh.com") {
        return Err(
            "not an OpenSSH certificate (its type does not end in -cert-v01@openssh.com)".into(),
        );
    }
    let encoded = words.next().ok_or("no certificate data after the type")?;
    use base64::Engine;
    let blob = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .map_err(|_| "the certificate data is not base64")?;
    let value = decode(&blob)?;
    if value["key_type"]
        .as_str()
        .map(|t| format!("{t}-cert-v01@openssh.com"))
        .as_deref()
        != Some(key_type)
    {
        return Err("the certificate's inner type differs from its outer one".into());
    }
    Ok(value)
}

/// Whether a key blob (as an agent lists it) is a certificate's.
pub fn is_certificate(blob: &[u8]) -> bool {
    Reader::new(blob, "a key")
        .data()
        .is_ok_and(|key_type| key_type.ends_with(b"-cert-v01@openssh.com"))
}

/// The view of a certificate's blob (the bytes the text line holds in base64, or an agent
/// lists).
pub fn decode(blob: &[u8]) -> Result<Value, String> {
    let mut reader = Reader::new(blob, "the certificate data");
    let key_type =
        std::str::from_utf8(reader.data()?).map_err(|_| "a certificate whose type is not text")?;
    if !key_type.ends_with("-cert-v01@openssh.com") {
        return Err(
            "not an OpenSSH certificate (its type does not end in -cert-v01@openssh.com)".into(),
        );
    }
    reader.data()?; // nonce
    let key_fields = match key_type {
        "ssh-rsa-cert-v01@openssh.com" => 2,
        "ssh-dss-cert-v01@openssh.com" => 4,
        "ecdsa-sha2-nistp256-cert-v01@openssh.com"
        | "ecdsa-sha2-nistp384-cert-v01@openssh.com"
        | "ecdsa-sha2-nistp521-cert-v01@openssh.com" => 2,
        "ssh-ed25519-cert-v01@openssh.com" => 1,
        "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com" => 3,
        "sk-ssh-ed25519-cert-v01@openssh.com" => 2,
        _ => return Err("an OpenSSH certificate of a key type credwatch does not know".into()),
    };
    for _ in 0..key_fields {
        reader.data()?;
    }
    let serial = reader.u64()?;
    let kind = match reader.u32()? {
        1 => "user",
        2 => "host",
        _ => return Err("a certificate that is neither a user's nor a host's".into()),
    };
    let key_id = String::from_utf8_lossy(reader.data()?).into_owned();
    let mut principals = Vec::new();
    let mut packed = Reader::new(reader.data()?, "the certificate's principals");
    while !packed.rest.is_empty() {
        principals.push(String::from_utf8_lossy(packed.data()?).into_owned());
    }
    let valid_after = reader.u64()?;
    let valid_before = reader.u64()?;
    // critical options, extensions, reserved, the CA's key, its signature: present and whole (a
    // truncated file is damaged, even when the fields above survived).
    for _ in 0..5 {
        reader.data()?;
    }
    if !reader.rest.is_empty() {
        return Err("the certificate data goes on past its signature".into());
    }
    Ok(json!({
        "type": kind,
        "key_type": key_type.trim_end_matches("-cert-v01@openssh.com"),
        "key_id": key_id,
        "principals": principals,
        "serial": serial,
        "valid_after": (valid_after != 0).then_some(valid_after),
        "valid_before": (valid_before != u64::MAX).then_some(valid_before),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A certificate blob with the given validity, for an ed25519 key.
    fn certificate(valid_after: u64, valid_before: u64) -> String {
        let mut blob = Vec::new();
        let string = |blob: &mut Vec<u8>, bytes: &[u8]| {
            blob.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
            blob.extend_from_slice(bytes);
        };
        string(&mut blob, b"ssh-ed25519-cert-v01@openssh.com");
        string(&mut blob, &[7; 32]);
        string(&mut blob, &[1; 32]);
        blob.extend_from_slice(&42u64.to_be_bytes());
        blob.extend_from_slice(&1u32.to_be_bytes());
        string(&mut blob, b"alice@laptop");
        let mut principals = Vec::new();
        string(&mut principals, b"alice");
        string(&mut principals, b"deploy");
        string(&mut blob, &principals);
        blob.extend_from_slice(&valid_after.to_be_bytes());
        blob.extend_from_slice(&valid_before.to_be_bytes());
        for field in [&b""[..], b"", b"", &[9; 51], &[8; 83]] {
            string(&mut blob, field);
        }
        use base64::Engine;
        format!(
            "ssh-ed25519-cert-v01@openssh.com {} alice@laptop\n",
            base64::engine::general_purpose::STANDARD.encode(&blob)
        )
    }

    #[test]
    fn fields_and_the_validity_window() {
        let value = view(&certificate(1_700_000_000, 1_800_000_000)).unwrap();
        assert_eq!(value["type"], "user");
        assert_eq!(value["key_type"], "ssh-ed25519");
        assert_eq!(value["key_id"], "alice@laptop");
        assert_eq!(value["principals"], json!(["alice", "deploy"]));
        assert_eq!(value["valid_before"], 1_800_000_000u64);
        let forever = view(&certificate(0, u64::MAX)).unwrap();
        assert_eq!(forever["valid_before"], Value::Null);
        assert_eq!(forever["valid_after"], Value::Null);
    }

    #[test]
    fn damaged_certificates_are_errors_never_panics() {
        let good = certificate(1, 2);
        let encoded = good.split_whitespace().nth(1).unwrap();
        for cut in 0..encoded.len() {
            let truncated = format!("ssh-ed25519-cert-v01@openssh.com {}", &encoded[..cut]);
            assert!(view(&truncated).is_err(), "cut at {cut}");
        }
        assert!(view("ssh-ed25519 AAAA key").is_err(), "a plain public key");
        assert!(view("").is_err());
        let huge_length = format!("ssh-ed25519-cert-v01@openssh.com {}", {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD.encode([0xff, 0xff, 0xff, 0xff, 1])
        });
        assert!(view(&huge_length).is_err());
    }
}
