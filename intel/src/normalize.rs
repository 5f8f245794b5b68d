//! Normalisation of domains and URLs, shared by the feed loaders and the agent.
//!
//! Both sides of a match must go through the same function: a feed's
//! `HTTPS://User@Evil.Example:443/a%7eb#frag` and an observed `Host: evil.example` plus
//! `GET /a~b` only meet if both become `evil.example/a~b`. The reasons in [`NormalizeError`] end
//! up verbatim in load reports, so they are written for the person reading the report.

/// Why a value could not be normalised.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NormalizeError {
    /// Nothing left after trimming.
    #[error("empty value")]
    Empty,
    /// A domain longer than the DNS limit.
    #[error("domain is {len} bytes long, more than the 253 allowed")]
    DomainTooLong {
        /// Length in bytes (without a trailing dot).
        len: usize,
    },
    /// An empty label, e.g. `a..b` or a leading dot.
    #[error("domain has an empty label")]
    EmptyLabel,
    /// A label longer than 63 bytes.
    #[error("domain label {label:?} is {len} bytes long, more than the 63 allowed")]
    LabelTooLong {
        /// The label (truncated to 70 bytes).
        label: String,
        /// Its length.
        len: usize,
    },
    /// A character that cannot appear in a host name.
    #[error("domain contains {found:?}, only letters, digits, '-' and '_' are allowed in labels")]
    BadDomainChar {
        /// The offending character.
        found: char,
    },
    /// Unicode in a domain; feeds must carry the punycode (`xn--`) form.
    #[error(
        "domain contains non-ASCII {found:?}; write internationalised names in punycode (xn--…)"
    )]
    NonAsciiDomain {
        /// The first non-ASCII character.
        found: char,
    },
    /// A wildcard anywhere but a leading `*.`.
    #[error("'*' is only allowed as a leading \"*.\" label")]
    BadWildcard,
    /// A URL without a host.
    #[error("URL has no host")]
    NoHost,
    /// A port that is not a number in 0–65535.
    #[error("URL port {port:?} is not a number between 0 and 65535")]
    BadPort {
        /// The port text (truncated to 20 bytes).
        port: String,
    },
    /// Whitespace or control characters inside a URL.
    #[error("URL contains whitespace or a control character ({found:?})")]
    BadUrlChar {
        /// The offending character.
        found: char,
    },
    /// A character that cannot appear in a URL host outside an IPv6 literal.
    #[error("URL host contains {found:?}")]
    BadHostChar {
        /// The offending character.
        found: char,
    },
    /// An IPv6 literal host without its closing bracket.
    #[error("URL host starts with '[' but has no closing ']'")]
    UnclosedBracket,
}

/// The DNS limit on a name's length in presentation form without the trailing dot
/// (RFC 1035 §2.3.4: 255 octets on the wire = 253 printable characters).
pub const MAX_DOMAIN_LEN: usize = 253;
/// The DNS limit on a label's length (RFC 1035 §2.3.4).
pub const MAX_LABEL_LEN: usize = 63;

/// Normalises a domain indicator: returns the canonical name and whether it covers subdomains.
///
/// Rules: surrounding whitespace is trimmed; ASCII is lower-cased; one trailing dot (the DNS
/// root) is dropped; a leading `*.` means "this name and every subdomain" (returned as `true`).
/// Each label must be 1–63 bytes of letters, digits, `-` or `_` (underscore appears in real
/// names such as `_dmarc` and SRV owners), and the whole name at most 253 bytes. Non-ASCII is
/// rejected rather than converted: IDNA mapping needs Unicode tables this crate does not carry,
/// and a silently different conversion would never match; feeds must send the `xn--` form.
pub fn domain(input: &str) -> Result<(String, bool), NormalizeError> {
    let trimmed = input.trim();
    let (rest, subdomains) = match trimmed.strip_prefix("*.") {
        Some(rest) => (rest, true),
        None => (trimmed, false),
    };
    let rest = rest.strip_suffix('.').unwrap_or(rest);
    if rest.is_empty() {
        return Err(NormalizeError::Empty);
    }
    if let Some(found) = rest.chars().find(|c| !c.is_ascii()) {
        return Err(NormalizeError::NonAsciiDomain { found });
    }
    if rest.len() > MAX_DOMAIN_LEN {
        return Err(NormalizeError::DomainTooLong { len: rest.len() });
    }
    for label in rest.split('.') {
        if label.is_empty() {
            return Err(NormalizeError::EmptyLabel);
        }
        if label.len() > MAX_LABEL_LEN {
            return Err(NormalizeError::LabelTooLong {
                label: label.chars().take(70).collect(),
                len: label.len(),
            });
        }
        if let Some(found) = label
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
        {
            return Err(if found == '*' {
                NormalizeError::BadWildcard
            } else {
                NormalizeError::BadDomainChar { found }
            });
        }
    }
    Ok((rest.to_ascii_lowercase(), subdomains))
}

/// Normalises a URL into the form used for `http.url` matching: `host[:port]/path[?query]`.
///
/// Rules, in order:
/// 1. Surrounding whitespace is trimmed; whitespace or control characters inside are rejected.
/// 2. A scheme (`http://`, `https://`, any `letter *(letter / digit / + - .) ://`) is removed;
///    input without one (`host/path`, as the agent builds from `Host` + request target) is
///    treated as `http`.
/// 3. Userinfo (`user:pass@`) is dropped.
/// 4. The host is lower-cased and loses trailing dots (all of them, so the result is stable
///    when normalised again); an IPv6 literal keeps its brackets.
/// 5. The port is dropped when it is the scheme's default (80 for `http` or no scheme, 443 for
///    `https`) or empty; otherwise it is kept as a plain decimal number (`:080` → `:80`).
/// 6. The fragment (`#…`) is dropped: it is never sent on the wire.
/// 7. Path and query are kept as sent, case included; an empty path becomes `/`.
/// 8. Percent-escapes in path and query: an escape of an unreserved character
///    (`A–Z a–z 0–9 - . _ ~`) is decoded (`%41` → `A`, RFC 3986 §6.2.2.2); every other valid
///    escape has its hex upper-cased (`%2f` → `%2F`, §6.2.2.1); a `%` not followed by two hex
///    digits is encoded as `%25`, so that decoding can never create a new escape (`%%341`
///    would otherwise become `%41` and change again when normalised twice).
///
/// Non-ASCII characters are kept as they are (UTF-8), since observed request lines may carry
/// them raw.
pub fn url(input: &str) -> Result<String, NormalizeError> {
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err(NormalizeError::Empty);
    }
    if let Some(found) = trimmed
        .chars()
        .find(|c| c.is_whitespace() || c.is_control())
    {
        return Err(NormalizeError::BadUrlChar { found });
    }
    let (scheme, rest) = split_scheme(trimmed);
    // The fragment never reaches the server.
    let rest = rest.split_once('#').map_or(rest, |(before, _)| before);
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let hostport = authority.rsplit_once('@').map_or(authority, |(_, h)| h);

    let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
        let Some((inside, after)) = v6.split_once(']') else {
            return Err(NormalizeError::UnclosedBracket);
        };
        let port = match after.strip_prefix(':') {
            Some(port) => Some(port),
            None if after.is_empty() => None,
            None => {
                return Err(NormalizeError::BadPort {
                    port: after.chars().take(20).collect(),
                });
            }
        };
        (format!("[{}]", inside.to_ascii_lowercase()), port)
    } else {
        match hostport.rsplit_once(':') {
            Some((h, p)) => (h.to_ascii_lowercase(), Some(p)),
            None => (hostport.to_ascii_lowercase(), None),
        }
    };
    let host = host.trim_end_matches('.').to_owned();
    if !host.starts_with('[')
        && let Some(found) = host.chars().find(|c| matches!(c, ':' | '[' | ']' | '@'))
    {
        return Err(NormalizeError::BadHostChar { found });
    }
    if host.is_empty() || host == "[]" {
        return Err(NormalizeError::NoHost);
    }

    let default_port = match scheme.as_deref() {
        None | Some("http") => Some(80u16),
        Some("https") => Some(443),
        _ => None,
    };
    let port = match port {
        None | Some("") => None,
        Some(p) => {
            let n = if p.bytes().all(|b| b.is_ascii_digit()) {
                p.parse::<u16>().ok()
            } else {
                None
            };
            match n {
                Some(n) => (Some(n) != default_port).then_some(n),
                None => {
                    return Err(NormalizeError::BadPort {
                        port: p.chars().take(20).collect(),
                    });
                }
            }
        }
    };

    let mut out = String::with_capacity(host.len() + tail.len() + 8);
    out.push_str(&host);
    if let Some(port) = port {
        out.push(':');
        out.push_str(&port.to_string());
    }
    if !tail.starts_with('/') {
        out.push('/');
    }
    normalize_escapes(tail, &mut out);
    Ok(out)
}

/// Splits off a scheme (lower-cased) if the input starts with `scheme://`.
fn split_scheme(input: &str) -> (Option<String>, &str) {
    if let Some((scheme, rest)) = input.split_once("://") {
        let mut chars = scheme.chars();
        let valid = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
            && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
        if valid {
            return (Some(scheme.to_ascii_lowercase()), rest);
        }
    }
    (None, input)
}

/// Applies rule 8 of [`url`] to a path-and-query, appending to `out`.
fn normalize_escapes(input: &str, out: &mut String) {
    let bytes = input.as_bytes();
    let mut i = 0;
    let mut copied = 0;
    while i < bytes.len() {
        if bytes.get(i) == Some(&b'%') {
            let hi = bytes.get(i + 1).and_then(|b| hex_value(*b));
            let lo = bytes.get(i + 2).and_then(|b| hex_value(*b));
            if let (Some(hi), Some(lo)) = (hi, lo) {
                out.push_str(input.get(copied..i).unwrap_or(""));
                let decoded = hi * 16 + lo;
                if decoded.is_ascii_alphanumeric() || matches!(decoded, b'-' | b'.' | b'_' | b'~') {
                    out.push(char::from(decoded));
                } else {
                    out.push('%');
                    out.push(char::from(HEX_UPPER[usize::from(hi)]));
                    out.push(char::from(HEX_UPPER[usize::from(lo)]));
                }
                i += 3;
                copied = i;
                continue;
            }
            out.push_str(input.get(copied..i).unwrap_or(""));
            out.push_str("%25");
            i += 1;
            copied = i;
            continue;
        }
        i += 1;
    }
    out.push_str(input.get(copied..).unwrap_or(""));
}

const HEX_UPPER: [u8; 16] = *b"0123456789ABCDEF";

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Lower-case hex of exactly `len` characters, for digests and fingerprints; `None` otherwise.
pub fn hex_digest(input: &str, len: usize) -> Option<String> {
    let t = input.trim();
    (t.len() == len && t.bytes().all(|b| b.is_ascii_hexdigit())).then(|| t.to_ascii_lowercase())
}

#[cfg(test)]
mod tests;
