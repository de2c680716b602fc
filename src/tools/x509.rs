//! X.509 certificates: the end of their validity (`notAfter`), read from PEM or DER.
//!
//! Guarantees: the reader walks the DER structure with bounds checks on every length (a
//! truncated, nested or hostile input is an error, never a panic or an overflow), reads only the
//! first certificate of a PEM chain, and never quotes the input in an error.

use crate::support::timefmt::Timestamp;

/// `notAfter` of the first certificate in `bytes` (PEM text or DER).
pub fn not_after(bytes: &[u8]) -> Result<Timestamp, String> {
    let der = if bytes.starts_with(b"-----BEGIN") || bytes.windows(11).any(|w| w == b"-----BEGIN ")
    {
        pem_body(bytes)?
    } else {
        bytes.to_vec()
    };
    let (certificate, _) = element(&der, SEQUENCE)?;
    let (tbs, _) = element(certificate, SEQUENCE)?;
    let mut rest = tbs;
    // version [0] EXPLICIT, optional
    if rest.first() == Some(&0xA0) {
        rest = element(rest, 0xA0)?.1;
    }
    for field in ["serial number", "signature algorithm", "issuer"] {
        rest = skip(rest).map_err(|why| format!("{why} in the {field}"))?;
    }
    let (validity, _) = element(rest, SEQUENCE)?;
    let not_before_rest = skip(validity)?;
    let (tag, time, _) = tlv(not_before_rest)?;
    let text = std::str::from_utf8(time).map_err(|_| "a validity time that is not text")?;
    let rfc3339 = match tag {
        UTC_TIME => utc_time(text)?,
        GENERALIZED_TIME => generalized_time(text)?,
        _ => return Err("no validity time where notAfter should be".into()),
    };
    Timestamp::parse_datetime(&rfc3339).ok_or_else(|| "an unreadable notAfter time".into())
}

const SEQUENCE: u8 = 0x30;
const UTC_TIME: u8 = 0x17;
const GENERALIZED_TIME: u8 = 0x18;

/// The DER between the first `-----BEGIN CERTIFICATE-----` and its `-----END`.
fn pem_body(bytes: &[u8]) -> Result<Vec<u8>, String> {
    use base64::Engine;
    let text = std::str::from_utf8(bytes).map_err(|_| "PEM that is not text")?;
    let begin = text
        .find("-----BEGIN CERTIFICATE-----")
        .ok_or("PEM without a certificate")?;
    let body = &text[begin + "-----BEGIN CERTIFICATE-----".len()..];
    let end = body
        .find("-----END")
        .ok_or("a PEM certificate without its end")?;
    let base64: String = body[..end].chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(base64)
        .map_err(|_| "a PEM certificate that is not base64".into())
}

/// One tag-length-value: (tag, content, what follows).
fn tlv(input: &[u8]) -> Result<(u8, &[u8], &[u8]), String> {
    let (&tag, rest) = input.split_first().ok_or("truncated DER")?;
    let (&first, rest) = rest.split_first().ok_or("truncated DER")?;
    let (length, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let count = usize::from(first & 0x7F);
        if count == 0 || count > 4 || rest.len() < count {
            return Err("a DER length that is not usable".into());
        }
        let length = rest[..count]
            .iter()
            .fold(0usize, |n, b| (n << 8) | usize::from(*b));
        (length, &rest[count..])
    };
    if rest.len() < length {
        return Err("truncated DER".into());
    }
    Ok((tag, &rest[..length], &rest[length..]))
}

/// The content of an element that must have `tag`, and what follows it.
fn element(input: &[u8], tag: u8) -> Result<(&[u8], &[u8]), String> {
    let (found, content, rest) = tlv(input)?;
    if found != tag {
        return Err("not an X.509 certificate".into());
    }
    Ok((content, rest))
}

fn skip(input: &[u8]) -> Result<&[u8], String> {
    tlv(input).map(|(_, _, rest)| rest)
}

/// `YYMMDDHHMMSSZ` (RFC 5280: years 50–99 are 19xx).
fn utc_time(text: &str) -> Result<String, String> {
    let digits = text.strip_suffix('Z').ok_or("a UTC time without Z")?;
    if digits.len() != 12 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err("a UTC time of another form".into());
    }
    let year: u32 = digits[..2].parse().map_err(|_| "bad year")?;
    let century = if year >= 50 { 1900 } else { 2000 };
    Ok(rfc3339(century + year, &digits[2..]))
}

/// `YYYYMMDDHHMMSSZ`.
fn generalized_time(text: &str) -> Result<String, String> {
    let digits = text
        .strip_suffix('Z')
        .ok_or("a generalized time without Z")?;
    if digits.len() != 14 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err("a generalized time of another form".into());
    }
    let year: u32 = digits[..4].parse().map_err(|_| "bad year")?;
    Ok(rfc3339(year, &digits[4..]))
}

/// `MMDDHHMMSS` after the year, as RFC 3339.
fn rfc3339(year: u32, rest: &str) -> String {
    format!(
        "{year:04}-{}-{}T{}:{}:{}Z",
        &rest[0..2],
        &rest[2..4],
        &rest[4..6],
        &rest[6..8],
        &rest[8..10]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A certificate made with `openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256
    /// -days 1 -subj /CN=t -nodes` on 2026-11-29; `openssl x509 -noout -enddate` says
    /// notAfter=Nov 30 17:44:40 2026 GMT.
    const PEM: &str = "-----BEGIN CERTIFICATE-----
MIIBbjCCAROgAwIBAgIUNGNQHVwb6EabYHjUP1PitATlYS4wCgYIKoZIzj0EAwIw
DDEKMAgGA1UEAwwBdDAeFw0yNjExMjkxNzQ0NDBaFw0yNjExMzAxNzQ0NDBaMAwx
CjAIBgNVBAMMAXQwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAARxmMTQbhbvhCK4
qapO+qR2R+efsaDBDLv75rLh4x7QemJi/QFHtP397WKLGaUqXTurI9uyJvK4xaaM
l25gp06fo1MwUTAdBgNVHQ4EFgQUFKLEQTpy+wzmOm45Ivfz6BULihEwHwYDVR0j
BBgwFoAUFKLEQTpy+wzmOm45Ivfz6BULihEwDwYDVR0TAQH/BAUwAwEB/zAKBggq
hkjOPQQDAgNJADBGAiEAmE3npaBzfkTxr87KGZPQTQSB1mltyVG8SdkP9/3s0NUC
IQCEOB7qL1PJc0sSqnm7eclgRW0LSdHg0R5sTKRoF04HlQ==
-----END CERTIFICATE-----
";

    #[test]
    fn not_after_from_pem_and_der() {
        let at = not_after(PEM.as_bytes()).unwrap();
        assert_eq!(at.rfc3339(), "2026-11-30T17:44:40Z");
        let der = pem_body(PEM.as_bytes()).unwrap();
        assert_eq!(not_after(&der).unwrap(), at);
    }

    #[test]
    fn damaged_input_is_an_error_never_a_panic() {
        let der = pem_body(PEM.as_bytes()).unwrap();
        for cut in 0..der.len() {
            assert!(not_after(&der[..cut]).is_err(), "cut at {cut}");
        }
        assert!(not_after(b"").is_err());
        assert!(not_after(&[0x30, 0x84, 0xFF, 0xFF, 0xFF, 0xFF]).is_err());
        assert!(not_after(&[0x30, 0x89, 1, 2, 3, 4, 5, 6, 7, 8, 9]).is_err());
        assert!(not_after(b"-----BEGIN CERTIFICATE-----\n%%%\n-----END CERTIFICATE-----").is_err());
        let nested = [0x30u8, 0x80].repeat(1000);
        assert!(not_after(&nested).is_err());
    }
}
