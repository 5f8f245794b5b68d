//! Parser tests over messages cut from suricata-verify captures, plus hostile constructions.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use super::*;

fn hex(s: &str) -> Vec<u8> {
    let digits: Vec<u8> = s.bytes().filter(u8::is_ascii_hexdigit).collect();
    digits
        .chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap())
        .collect()
}

/// dns-udp-junkrequest-first/input.pcap, packet 3: `A? catenacyber.Fr` with an EDNS OPT record.
const QUERY: &str = "c58e 0120 0001 0000 0000 0001 0b63 6174 656e 6163 7962 6572 0246 7200 \
                     0001 0001 0000 2910 0000 0000 0000 00";
/// The same capture, packet 4: the answer, its name compressed to the question's.
const ANSWER: &str = "c58e 81a0 0001 0001 0000 0000 0b63 6174 656e 6163 7962 6572 0246 7200 \
                      0001 0001 c00c 0001 0001 0000 0d22 0004 bca5 35b9";
/// dns-eve-v2-udp-nxdomain-soa: NXDOMAIN for `dne.oisf.net` with the zone's SOA in authority.
const NXDOMAIN: &str = "8295 8183 0001 0000 0001 0001 0364 6e65 046f 6973 6603 6e65 7400 0001 \
                        0001 c010 0006 0001 0000 0383 0045 066e 732d 3131 3009 6177 7364 6e73 \
                        2d31 3303 636f 6d00 1161 7773 646e 732d 686f 7374 6d61 7374 6572 0661 \
                        6d61 7a6f 6ec0 3b00 0000 0100 001c 2000 0003 8400 1275 0000 0151 8000 \
                        0029 0200 0000 0000 0000";

fn parse(bytes: &[u8]) -> Result<Message, ParseError> {
    let mut message = Message::default();
    parse_dns_message(bytes, &mut message).map(|()| message)
}

#[test]
fn header_fields() {
    let bytes = hex(ANSWER);
    let (rest, header) = parse_dns_header(&bytes).unwrap();
    assert_eq!(rest.len(), bytes.len() - HEADER_LEN);
    assert_eq!(
        header,
        Header {
            id: 50574,
            flags: Flags(0x81a0),
            qdcount: 1,
            ancount: 1,
            nscount: 0,
            arcount: 0,
        }
    );
    assert!(header.flags.qr() && header.flags.rd() && header.flags.ra() && header.flags.ad());
    assert!(!header.flags.aa() && !header.flags.tc() && !header.flags.cd());
    assert_eq!(header.flags.rcode(), Rcode::NOERROR);
    assert_eq!(
        parse_dns_header(&bytes[..5]),
        Err(ParseError::Incomplete { needed: 7 })
    );
}

#[test]
fn query_with_edns() {
    let m = parse(&hex(QUERY)).unwrap();
    assert!(!m.header.flags.qr());
    assert_eq!(m.anomalies, Anomalies::default());
    assert_eq!(m.records.len(), 2);
    let q = m.records[0];
    assert_eq!(
        (q.section, m.name(q.name), q.rrtype, q.class, q.data),
        (
            Section::Question,
            "catenacyber.Fr",
            RrType::A,
            1,
            Rdata::None
        )
    );
    let opt = m.records[1];
    assert_eq!(
        (opt.section, m.name(opt.name), opt.rrtype, opt.class),
        (Section::Additional, "", RrType::OPT, 4096)
    );
    assert!(matches!(opt.data, Rdata::Other { len: 0, .. }));
}

#[test]
fn answer_with_compressed_name() {
    let m = parse(&hex(ANSWER)).unwrap();
    assert_eq!(m.anomalies, Anomalies::default());
    let answers: Vec<_> = m.section(Section::Answer).collect();
    assert_eq!(answers.len(), 1);
    assert_eq!(m.name(answers[0].name), "catenacyber.Fr");
    assert_eq!(answers[0].ttl, 3362);
    assert_eq!(answers[0].data, Rdata::A(Ipv4Addr::new(188, 165, 53, 185)));
}

#[test]
fn nxdomain_with_soa() {
    let m = parse(&hex(NXDOMAIN)).unwrap();
    assert_eq!(m.header.flags.rcode(), Rcode::NXDOMAIN);
    assert_eq!(m.header.flags.rcode().name(), Some("NXDOMAIN"));
    let soa = m.section(Section::Authority).next().unwrap();
    assert_eq!(m.name(soa.name), "oisf.net");
    let Rdata::Soa {
        mname,
        rname,
        serial,
        refresh,
        retry,
        expire,
        minimum,
    } = soa.data
    else {
        panic!("not a SOA: {:?}", soa.data);
    };
    assert_eq!(m.name(mname), "ns-110.awsdns-13.com");
    assert_eq!(m.name(rname), "awsdns-hostmaster.amazon.com");
    assert_eq!(
        (serial, refresh, retry, expire, minimum),
        (1, 7200, 900, 1_209_600, 86400)
    );
}

/// A header followed by `body`, with the given counts.
fn message(flags: u16, counts: [u16; 4], body: &[u8]) -> Vec<u8> {
    let mut out = vec![0x12, 0x34];
    out.extend_from_slice(&flags.to_be_bytes());
    for c in counts {
        out.extend_from_slice(&c.to_be_bytes());
    }
    out.extend_from_slice(body);
    out
}

#[test]
fn rdata_types() {
    let mut body = hex("01 61 00 0001 0001"); // a. IN A (question at offset 12)
    let rr = |body: &mut Vec<u8>, rrtype: u16, rdata: &[u8]| {
        body.extend_from_slice(&hex("c00c"));
        body.extend_from_slice(&rrtype.to_be_bytes());
        body.extend_from_slice(&hex("0001 0000 003c"));
        body.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
        body.extend_from_slice(rdata);
    };
    rr(
        &mut body,
        28,
        &hex("2001 0db8 0000 0000 0000 0000 0000 0001"),
    );
    rr(&mut body, 5, &hex("01 62 c00c")); // CNAME b.a
    rr(&mut body, 15, &hex("000a 02 6d78 c00c")); // MX 10 mx.a
    rr(&mut body, 33, &hex("0001 0002 1f90 03 737276 00")); // SRV 1 2 8080 srv
    rr(&mut body, 16, &hex("03 6f6e65 03 74776f")); // TXT "one" "two"
    rr(&mut body, 99, &hex("dead")); // unknown
    rr(&mut body, 1, &hex("0102 03")); // A with 3 bytes
    let bytes = message(0x8180, [1, 7, 0, 0], &body);
    let m = parse(&bytes).unwrap();
    let data: Vec<Rdata> = m.section(Section::Answer).map(|r| r.data).collect();
    assert_eq!(data[0], Rdata::Aaaa("2001:db8::1".parse().unwrap()));
    let Rdata::Name(cname) = data[1] else {
        panic!("{:?}", data[1])
    };
    assert_eq!(m.name(cname), "b.a");
    let Rdata::Mx {
        preference,
        exchange,
    } = data[2]
    else {
        panic!("{:?}", data[2])
    };
    assert_eq!((preference, m.name(exchange)), (10, "mx.a"));
    let Rdata::Srv {
        priority,
        weight,
        port,
        target,
    } = data[3]
    else {
        panic!("{:?}", data[3])
    };
    assert_eq!(
        (priority, weight, port, m.name(target)),
        (1, 2, 8080, "srv")
    );
    let Rdata::Txt { offset, len } = data[4] else {
        panic!("{:?}", data[4])
    };
    let txt = &bytes[offset as usize..offset as usize + usize::from(len)];
    let strings: Vec<&[u8]> = txt_strings(txt).collect();
    assert_eq!(strings, [&b"one"[..], b"two"]);
    assert!(matches!(data[5], Rdata::Other { len: 2, .. }));
    assert!(matches!(data[6], Rdata::Other { len: 3, .. }));
    assert!(m.anomalies.contains(Anomalies::RDATA_LENGTH));
    assert_eq!(RrType(99).name(), None);
}

#[test]
fn pointer_loop_is_an_anomaly_not_a_hang() {
    // The question name is a pointer to itself.
    let bytes = message(0x0100, [1, 0, 0, 0], &hex("c00c 0001 0001"));
    let m = parse(&bytes).unwrap();
    assert!(m.anomalies.contains(Anomalies::POINTER_LOOP));
    assert_eq!(m.records.len(), 1);
    // Two labels pointing at each other.
    let bytes = message(
        0x0100,
        [1, 0, 0, 0],
        &hex("01 61 c00e 01 62 c00c 0001 0001"),
    );
    let mut m = Message::default();
    let _ = parse_dns_message(&bytes, &mut m);
    assert!(m.anomalies.contains(Anomalies::POINTER_LOOP));
}

#[test]
fn long_names_are_capped() {
    // 10 labels of 63 bytes = 640 wire bytes > 255.
    let mut body = Vec::new();
    for _ in 0..10 {
        body.push(63);
        body.extend_from_slice(&[b'x'; 63]);
    }
    body.extend_from_slice(&hex("00 0001 0001"));
    let m = parse(&message(0x0100, [1, 0, 0, 0], &body)).unwrap();
    assert!(m.anomalies.contains(Anomalies::NAME_TOO_LONG));
    assert!(m.name(m.records[0].name).len() <= MAX_NAME_WIRE_LEN);
    assert!(m.records[0].name.truncated);
}

#[test]
fn odd_bytes_are_escaped() {
    let m = parse(&message(
        0x0100,
        [1, 0, 0, 0],
        &hex("04 612e5c20 02 c3a9 00 0001 0001"),
    ))
    .unwrap();
    assert_eq!(m.name(m.records[0].name), "a\\.\\\\\\032.\\195\\169");
}

#[test]
fn errors_and_truncation() {
    assert_eq!(
        parse(&message(0x0100, [1, 0, 0, 0], &hex("05 6162"))).err(),
        Some(ParseError::Invalid(InvalidKind::Truncated))
    );
    assert_eq!(
        parse(&message(0x0100, [1, 0, 0, 0], &hex("40 00 0001 0001"))).err(),
        Some(ParseError::Invalid(InvalidKind::BadLabelType))
    );
    // The question parses, the declared answer is missing: kept, flagged.
    let m = parse(&message(
        0x8180,
        [1, 1, 0, 0],
        &hex("01 61 00 0001 0001 c0"),
    ))
    .unwrap();
    assert_eq!(m.records.len(), 1);
    assert!(m.anomalies.contains(Anomalies::TRUNCATED));
    let m = parse(&message(
        0x0100,
        [1, 0, 0, 0],
        &hex("01 61 00 0001 0001 ff"),
    ))
    .unwrap();
    assert!(m.anomalies.contains(Anomalies::TRAILING_BYTES));
    let names: Vec<_> = m.anomalies.names().collect();
    assert_eq!(names, ["trailing_bytes"]);
}

#[test]
fn record_count_is_capped() {
    let mut body = hex("01 61 00 0001 0001");
    for _ in 0..MAX_RECORDS + 10 {
        body.extend_from_slice(&hex("c00c 0001 0001 0000 003c 0004 01020304"));
    }
    let count = (MAX_RECORDS + 10) as u16;
    let m = parse(&message(0x8180, [1, count, 0, 0], &body)).unwrap();
    assert_eq!(m.records.len(), MAX_RECORDS);
    assert!(m.anomalies.contains(Anomalies::RECORD_LIMIT));
}

#[test]
fn buffers_are_reused() {
    let mut m = Message::default();
    parse_dns_message(&hex(NXDOMAIN), &mut m).unwrap();
    let (records, names) = (m.records.capacity(), m.names.capacity());
    for _ in 0..10 {
        parse_dns_message(&hex(ANSWER), &mut m).unwrap();
        parse_dns_message(&hex(NXDOMAIN), &mut m).unwrap();
    }
    assert_eq!((m.records.capacity(), m.names.capacity()), (records, names));
}
