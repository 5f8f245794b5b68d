//! Head parser tests over requests and responses cut from suricata-verify captures, plus the
//! lenient and hostile cases.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use super::*;

/// http-ipv6/input.pcap: the request and the start of the response.
const IPV6_REQUEST: &[u8] =
    b"GET / HTTP/1.1\r\nHost: [::1]:8000\r\nUser-Agent: curl/7.54.0\r\nAccept: */*\r\n\r\n";
const IPV6_RESPONSE: &[u8] = b"HTTP/1.0 200 OK\r\nServer: SimpleHTTP/0.6 Python/3.9.1\r\n\
Date: Wed, 21 Jul 2021 11:58:06 GMT\r\nContent-type: text/html; charset=utf-8\r\n\
Content-Length: 563\r\n\r\n<html>";

#[test]
fn request_from_a_capture() {
    let (rest, head) = parse_http_request_head(IPV6_REQUEST).unwrap();
    assert!(rest.is_empty());
    assert_eq!(
        head,
        RequestHead {
            method: b"GET",
            target: b"/",
            version: b"HTTP/1.1",
            headers: Headers {
                host: Some(b"[::1]:8000"),
                user_agent: Some(b"curl/7.54.0"),
                content_length: None,
                chunked: false,
                count: 3,
            },
            anomalies: Anomalies::default(),
        }
    );
}

#[test]
fn response_from_a_capture() {
    let (rest, head) = parse_http_response_head(IPV6_RESPONSE).unwrap();
    assert_eq!(rest, b"<html>");
    assert_eq!(head.version, b"HTTP/1.0");
    assert_eq!(head.status, StatusCode::OK);
    assert_eq!(head.reason, b"OK");
    assert_eq!(head.headers.content_length, Some(563));
}

#[test]
fn every_prefix_is_incomplete() {
    for n in 0..IPV6_REQUEST.len() {
        assert_eq!(
            parse_http_request_head(&IPV6_REQUEST[..n]).err(),
            Some(ParseError::Incomplete { needed: 1 }),
            "prefix {n}"
        );
    }
}

#[test]
fn pipelined_requests() {
    let two = [
        IPV6_REQUEST,
        b"\r\nPOST /x HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc",
    ]
    .concat();
    let (rest, first) = parse_http_request_head(&two).unwrap();
    assert_eq!(first.method, b"GET");
    let (body, second) = parse_http_request_head(rest).unwrap();
    assert_eq!((second.method, second.target), (&b"POST"[..], &b"/x"[..]));
    assert!(second.anomalies.contains(Anomalies::LEADING_BLANK_LINES));
    assert_eq!(second.headers.content_length, Some(3));
    assert_eq!(body, b"abc");
}

#[test]
fn lenient_forms() {
    let raw = b"GET http://a.example/p?q HTTP/1.0\nhost : A.Example:8080\nUser-Agent: one\r\n\
                 \t two\nno colon here\nContent-Length: x\nTransfer-Encoding: gzip, Chunked\n\n";
    let (_, head) = parse_http_request_head(raw).unwrap();
    assert_eq!(head.target, b"http://a.example/p?q");
    assert_eq!(head.headers.host, Some(&b"A.Example:8080"[..]));
    assert_eq!(head.headers.user_agent, Some(&b"one\r\n\t two"[..]));
    assert!(head.headers.chunked);
    let names: Vec<_> = head.anomalies.names().collect();
    assert_eq!(
        names,
        [
            "bare_lf",
            "obs_fold",
            "bad_header_line",
            "bad_content_length"
        ]
    );
}

#[test]
fn invalid_heads() {
    let bad = |raw: &[u8]| parse_http_request_head(raw).err();
    let line = Some(ParseError::Invalid(InvalidKind::BadRequestLine));
    assert_eq!(bad(b"GET /\r\n\r\n"), line);
    assert_eq!(bad(b"G(T / HTTP/1.1\r\n\r\n"), line);
    assert_eq!(bad(b"GET / HTTP/2\r\n\r\n"), line);
    let mut long = b"GET / HTTP/1.1\r\nX: ".to_vec();
    long.resize(MAX_HEAD_BYTES + 10, b'a');
    assert_eq!(
        bad(&long),
        Some(ParseError::Invalid(InvalidKind::HeadTooLong))
    );
    assert_eq!(
        parse_http_response_head(b"HTTP/1.1 2x0 OK\r\n\r\n").err(),
        Some(ParseError::Invalid(InvalidKind::BadStatusLine))
    );
}

#[test]
fn header_count_is_capped() {
    let mut raw = b"GET / HTTP/1.1\r\n".to_vec();
    for i in 0..MAX_HEADERS + 5 {
        raw.extend_from_slice(format!("X-{i}: y\r\n").as_bytes());
    }
    raw.extend_from_slice(b"Host: late.example\r\n\r\n");
    let (_, head) = parse_http_request_head(&raw).unwrap();
    assert_eq!(head.headers.count, MAX_HEADERS);
    assert_eq!(head.headers.host, None);
    assert!(head.anomalies.contains(Anomalies::TOO_MANY_HEADERS));
}

#[test]
fn chunked_bodies_in_pieces() {
    let body = b"4;ext=1\r\nWiki\r\n5\r\npedia\r\n0\r\nTrailer: x\r\n\r\nNEXT";
    for cut in 0..body.len() {
        let (mut state, mut size, mut line) = (ChunkState::Size, 0, 0);
        let a = skip_chunked(&mut state, &mut size, &mut line, &body[..cut]).unwrap();
        assert_eq!(a, cut.min(body.len() - 4), "cut {cut}");
        let b = skip_chunked(&mut state, &mut size, &mut line, &body[a..]).unwrap();
        assert_eq!(state, ChunkState::Done, "cut {cut}");
        assert_eq!(a + b, body.len() - 4, "cut {cut}");
    }
    let (mut state, mut size, mut line) = (ChunkState::Size, 0, 0);
    assert!(skip_chunked(&mut state, &mut size, &mut line, b"fffffffffffffffffff\r\n").is_err());
}
