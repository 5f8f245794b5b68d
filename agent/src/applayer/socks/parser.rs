//! Pure, zero-copy parsing of SOCKS4, SOCKS4a (<https://www.openssh.com/txt/socks4.protocol>,
//! <https://www.openssh.com/txt/socks4a.protocol>) and SOCKS5 (RFC 1928, RFC 1929) handshake
//! messages. Each function takes the bytes of one direction and returns the bytes after the
//! message and a borrowed view of it; `Incomplete` when the message is not all there yet.

#![forbid(unsafe_code)]
#![deny(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

/// Longest SOCKS4 user id or SOCKS4a host name accepted (bytes before the NUL). The protocol sets
/// no limit; 255 matches SOCKS5's one-byte lengths and keeps the buffered handshake small.
pub const MAX_SOCKS4_STRING: usize = 255;

/// Longest handshake message of either version: a SOCKS4a request with a maximal user id and
/// host name (8 + 256 + 256), above SOCKS5's largest (6 + 1 + 255 + 2, or 3 + 2 × 256 for
/// username/password authentication).
pub const MAX_SOCKS_MESSAGE: usize = 8 + 2 * (MAX_SOCKS4_STRING + 1);

/// Why parsing stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParseError {
    /// More bytes are needed.
    Incomplete,
    /// Not a valid message; the name doubles as the anomaly name.
    Invalid(&'static str),
}

/// SOCKS command.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Command(pub u8);

impl Command {
    /// CONNECT: relay a TCP stream (the only command after which the stream carries another
    /// protocol that Kordon follows).
    pub const CONNECT: Command = Command(1);
    /// BIND.
    pub const BIND: Command = Command(2);
    /// UDP ASSOCIATE (SOCKS5).
    pub const UDP_ASSOCIATE: Command = Command(3);
}

/// SOCKS5 authentication method.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AuthMethod(pub u8);

impl AuthMethod {
    /// No authentication.
    pub const NONE: AuthMethod = AuthMethod(0);
    /// GSSAPI (RFC 1961).
    pub const GSSAPI: AuthMethod = AuthMethod(1);
    /// Username/password (RFC 1929).
    pub const USERNAME_PASSWORD: AuthMethod = AuthMethod(2);
    /// No acceptable method.
    pub const NO_ACCEPTABLE: AuthMethod = AuthMethod(0xff);
}

/// The destination of a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Address<'a> {
    /// An IPv4 address.
    V4([u8; 4]),
    /// A host name (SOCKS4a, SOCKS5 type 3), raw bytes.
    Name(&'a [u8]),
    /// An IPv6 address (SOCKS5 type 4).
    V6([u8; 16]),
}

/// A SOCKS4/4a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Socks4Request<'a> {
    /// Command.
    pub command: Command,
    /// Destination port.
    pub port: u16,
    /// Destination (a name for SOCKS4a).
    pub address: Address<'a>,
    /// User id.
    pub user_id: &'a [u8],
}

/// A SOCKS5 request or reply: version 5, a code (command or reply status), an address and a
/// port.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Socks5Message<'a> {
    /// Command (request) or reply code (0 = succeeded).
    pub code: u8,
    /// Address.
    pub address: Address<'a>,
    /// Port.
    pub port: u16,
}

fn split(i: &[u8], n: usize) -> Result<(&[u8], &[u8]), ParseError> {
    i.split_at_checked(n).ok_or(ParseError::Incomplete)
}

fn byte(i: &[u8]) -> Result<(u8, &[u8]), ParseError> {
    i.split_first()
        .map(|(b, rest)| (*b, rest))
        .ok_or(ParseError::Incomplete)
}

fn u16_be(i: &[u8]) -> Result<(u16, &[u8]), ParseError> {
    let (b, rest) = split(i, 2)?;
    let pair = <[u8; 2]>::try_from(b).map_err(|_| ParseError::Incomplete)?;
    Ok((u16::from_be_bytes(pair), rest))
}

/// A NUL-terminated string of at most [`MAX_SOCKS4_STRING`] bytes.
fn c_string(i: &[u8]) -> Result<(&[u8], &[u8]), ParseError> {
    match i.iter().position(|&b| b == 0) {
        Some(n) if n <= MAX_SOCKS4_STRING => {
            let (s, rest) = split(i, n)?;
            Ok((s, rest.get(1..).unwrap_or_default()))
        }
        Some(_) => Err(ParseError::Invalid("socks4_string_too_long")),
        None if i.len() > MAX_SOCKS4_STRING => Err(ParseError::Invalid("socks4_string_too_long")),
        None => Err(ParseError::Incomplete),
    }
}

/// Parses a SOCKS4 or SOCKS4a request (`04 cmd port ip userid\0 [host\0]`).
pub fn parse_socks4_request(i: &[u8]) -> Result<(&[u8], Socks4Request<'_>), ParseError> {
    let (version, i) = byte(i)?;
    if version != 4 {
        return Err(ParseError::Invalid("socks_bad_version"));
    }
    let (command, i) = byte(i)?;
    let (port, i) = u16_be(i)?;
    let (ip, i) = split(i, 4)?;
    let ip = <[u8; 4]>::try_from(ip).map_err(|_| ParseError::Incomplete)?;
    let (user_id, i) = c_string(i)?;
    // SOCKS4a: 0.0.0.x with x ≠ 0 means "the host name follows".
    let (address, i) = match ip {
        [0, 0, 0, x] if x != 0 => {
            let (name, rest) = c_string(i)?;
            (Address::Name(name), rest)
        }
        _ => (Address::V4(ip), i),
    };
    Ok((
        i,
        Socks4Request {
            command: Command(command),
            port,
            address,
            user_id,
        },
    ))
}

/// Parses a SOCKS4 reply (`00 status port ip`); returns the status (90 = granted).
pub fn parse_socks4_reply(i: &[u8]) -> Result<(&[u8], u8), ParseError> {
    let (reply, rest) = split(i, 8)?;
    match reply {
        // Some servers answer with version 4 instead of 0.
        [0 | 4, status, ..] => Ok((rest, *status)),
        _ => Err(ParseError::Invalid("socks4_bad_reply")),
    }
}

/// Parses a SOCKS5 greeting (`05 n methods…`); returns the offered methods.
pub fn parse_socks5_greeting(i: &[u8]) -> Result<(&[u8], &[u8]), ParseError> {
    let (version, i) = byte(i)?;
    if version != 5 {
        return Err(ParseError::Invalid("socks_bad_version"));
    }
    let (n, i) = byte(i)?;
    if n == 0 {
        return Err(ParseError::Invalid("socks5_no_methods"));
    }
    let (methods, rest) = split(i, usize::from(n))?;
    Ok((rest, methods))
}

/// Parses a SOCKS5 method selection (`05 method`).
pub fn parse_socks5_method(i: &[u8]) -> Result<(&[u8], AuthMethod), ParseError> {
    let (version, i) = byte(i)?;
    if version != 5 {
        return Err(ParseError::Invalid("socks_bad_version"));
    }
    let (method, rest) = byte(i)?;
    Ok((rest, AuthMethod(method)))
}

/// Parses a username/password request (RFC 1929: `01 ulen user plen pass`); returns the user.
pub fn parse_socks5_userpass(i: &[u8]) -> Result<(&[u8], &[u8]), ParseError> {
    let (version, i) = byte(i)?;
    if version != 1 {
        return Err(ParseError::Invalid("socks5_bad_auth_version"));
    }
    let (ulen, i) = byte(i)?;
    let (user, i) = split(i, usize::from(ulen))?;
    let (plen, i) = byte(i)?;
    let (_password, rest) = split(i, usize::from(plen))?;
    Ok((rest, user))
}

/// Parses a username/password reply (`01 status`); returns the status (0 = success).
pub fn parse_socks5_userpass_reply(i: &[u8]) -> Result<(&[u8], u8), ParseError> {
    let (_version, i) = byte(i)?;
    let (status, rest) = byte(i)?;
    Ok((rest, status))
}

/// Parses a SOCKS5 request or reply (`05 code 00 atyp addr port`).
pub fn parse_socks5_message(i: &[u8]) -> Result<(&[u8], Socks5Message<'_>), ParseError> {
    let (version, i) = byte(i)?;
    if version != 5 {
        return Err(ParseError::Invalid("socks_bad_version"));
    }
    let (code, i) = byte(i)?;
    let (_reserved, i) = byte(i)?;
    let (atyp, i) = byte(i)?;
    let (address, i) = match atyp {
        1 => {
            let (ip, rest) = split(i, 4)?;
            let ip = <[u8; 4]>::try_from(ip).map_err(|_| ParseError::Incomplete)?;
            (Address::V4(ip), rest)
        }
        3 => {
            let (n, rest) = byte(i)?;
            let (name, rest) = split(rest, usize::from(n))?;
            (Address::Name(name), rest)
        }
        4 => {
            let (ip, rest) = split(i, 16)?;
            let ip = <[u8; 16]>::try_from(ip).map_err(|_| ParseError::Incomplete)?;
            (Address::V6(ip), rest)
        }
        _ => return Err(ParseError::Invalid("socks5_bad_address_type")),
    };
    let (port, rest) = u16_be(i)?;
    Ok((
        rest,
        Socks5Message {
            code,
            address,
            port,
        },
    ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)] // tests fail by panicking
mod tests {
    use super::*;

    #[test]
    fn socks4a_request_and_reply() {
        let bytes = b"\x04\x01\x01\xbb\x00\x00\x00\x01user\x00example.com\x00rest";
        let (rest, request) = parse_socks4_request(bytes).unwrap();
        assert_eq!(rest, b"rest");
        assert_eq!(
            request,
            Socks4Request {
                command: Command::CONNECT,
                port: 443,
                address: Address::Name(b"example.com"),
                user_id: b"user",
            }
        );
        assert_eq!(
            parse_socks4_request(&bytes[..12]),
            Err(ParseError::Incomplete)
        );
        let (rest, status) = parse_socks4_reply(b"\x00\x5a\x00\x00\x00\x00\x00\x00\x16").unwrap();
        assert_eq!((rest, status), (&b"\x16"[..], 0x5a));
    }

    #[test]
    fn socks5_messages() {
        assert_eq!(
            parse_socks5_greeting(b"\x05\x02\x00\x02"),
            Ok((&b""[..], &b"\x00\x02"[..]))
        );
        assert_eq!(
            parse_socks5_method(b"\x05\x02"),
            Ok((&b""[..], AuthMethod::USERNAME_PASSWORD))
        );
        assert_eq!(
            parse_socks5_userpass(b"\x01\x01u\x02pw"),
            Ok((&b""[..], &b"u"[..]))
        );
        let (rest, request) =
            parse_socks5_message(b"\x05\x01\x00\x03\x0bexample.com\x01\xbb").unwrap();
        assert!(rest.is_empty());
        assert_eq!(request.address, Address::Name(b"example.com"));
        assert_eq!(request.port, 443);
        assert_eq!(
            parse_socks5_message(b"\x05\x00\x00\x09"),
            Err(ParseError::Invalid("socks5_bad_address_type"))
        );
        assert_eq!(
            parse_socks5_message(b"\x05\x00\x00\x04\x00"),
            Err(ParseError::Incomplete)
        );
    }
}
