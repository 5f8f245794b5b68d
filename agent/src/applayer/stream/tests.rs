//! Reassembly cases: order, retransmission, overlap, out of order, SYN data, depth, gaps, wrap.

use super::*;

#[derive(Debug, PartialEq, Eq)]
enum Out {
    Data(Vec<u8>),
    Gap,
}

/// Feeds (seq, syn, payload) segments and collects what is delivered (adjacent data merged).
fn run(config: StreamConfig, segments: &[(u32, bool, &[u8])]) -> Vec<Out> {
    let mut dir = StreamDir::default();
    let mut out: Vec<Out> = Vec::new();
    for &(seq, syn, payload) in segments {
        dir.segment(&config, seq, syn, payload, &mut |chunk| {
            match chunk {
                Chunk::Data(d) => match out.last_mut() {
                    Some(Out::Data(prev)) => prev.extend_from_slice(d),
                    _ => out.push(Out::Data(d.to_vec())),
                },
                Chunk::Gap => out.push(Out::Gap),
            }
            true
        });
    }
    out
}

fn data(bytes: &[u8]) -> Vec<Out> {
    vec![Out::Data(bytes.to_vec())]
}

#[test]
fn reassembly_cases() {
    let small = StreamConfig {
        depth: 8,
        max_out_of_order_bytes: 64,
    };
    let tight = StreamConfig {
        depth: 1024,
        max_out_of_order_bytes: 4,
    };
    let default = StreamConfig::default();
    type Segments<'a> = Vec<(u32, bool, &'a [u8])>;
    let cases: Vec<(&str, StreamConfig, Segments<'_>, Vec<Out>)> = vec![
        (
            "in order after syn",
            default,
            vec![(100, true, b""), (101, false, b"abc"), (104, false, b"def")],
            data(b"abcdef"),
        ),
        (
            "retransmission ignored",
            default,
            vec![
                (100, true, b""),
                (101, false, b"abc"),
                (101, false, b"abc"),
                (104, false, b"d"),
            ],
            data(b"abcd"),
        ),
        (
            "overlap trimmed",
            default,
            vec![
                (100, true, b""),
                (101, false, b"abc"),
                (102, false, b"bcde"),
            ],
            data(b"abcde"),
        ),
        (
            "out of order filled",
            default,
            vec![(100, true, b""), (104, false, b"def"), (101, false, b"abc")],
            data(b"abcdef"),
        ),
        (
            "two holes",
            default,
            vec![
                (0, true, b""),
                (7, false, b"g"),
                (4, false, b"def"),
                (1, false, b"abc"),
            ],
            data(b"abcdefg"),
        ),
        (
            "syn data (fast open)",
            default,
            vec![(100, true, b"GET"), (104, false, b" /")],
            data(b"GET /"),
        ),
        (
            "midstream start",
            default,
            vec![(5000, false, b"xy"), (5002, false, b"z")],
            data(b"xyz"),
        ),
        (
            "depth cuts",
            small,
            vec![(0, true, b""), (1, false, b"0123456789")],
            data(b"01234567"),
        ),
        (
            "sequence wraps",
            default,
            vec![
                (u32::MAX - 1, true, b""),
                (u32::MAX, false, b"ab"),
                (1, false, b"cd"),
            ],
            data(b"abcd"),
        ),
        (
            "full buffer declares gap",
            tight,
            vec![(0, true, b""), (10, false, b"xyz"), (20, false, b"uvw")],
            vec![Out::Gap, Out::Data(b"xyz".to_vec())],
        ),
        (
            "far ahead ignored",
            default,
            vec![(0, true, b""), (5_000_000, false, b"zz"), (1, false, b"a")],
            data(b"a"),
        ),
    ];
    let mut names: Vec<&str> = cases.iter().map(|c| c.0).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), cases.len(), "case names must be unique");
    for (name, config, segments, want) in cases {
        assert_eq!(run(config, &segments), want, "{name}");
    }
}

#[test]
fn done_direction_frees_buffer_and_ignores_more() {
    let config = StreamConfig::default();
    let mut dir = StreamDir::default();
    dir.segment(&config, 0, true, b"", &mut |_| true);
    dir.segment(&config, 10, false, b"later", &mut |_| true);
    assert_eq!(dir.buffered_bytes(), 5);
    let mut calls = 0;
    dir.segment(&config, 1, false, b"abcdefghi", &mut |_| {
        calls += 1;
        false
    });
    assert!(dir.is_done());
    assert_eq!(dir.buffered_bytes(), 0);
    dir.segment(&config, 20, false, b"more", &mut |_| {
        panic!("no delivery after done")
    });
    assert_eq!(calls, 1);
}

#[test]
fn ack_past_a_hole_declares_a_gap() {
    let config = StreamConfig::default();
    let mut dir = StreamDir::default();
    let mut out: Vec<Out> = Vec::new();
    let mut collect = |chunk: Chunk<'_>| {
        out.push(match chunk {
            Chunk::Data(d) => Out::Data(d.to_vec()),
            Chunk::Gap => Out::Gap,
        });
        true
    };
    dir.segment(&config, 0, true, b"", &mut collect);
    dir.segment(&config, 1, false, b"ab", &mut collect);
    dir.segment(&config, 10, false, b"later", &mut collect);
    // An ACK that does not pass the hole changes nothing.
    dir.acked(&config, 3, &mut collect);
    // The receiver acknowledges the missing bytes 3..10: they are lost.
    dir.acked(&config, 12, &mut collect);
    assert_eq!(
        out,
        vec![
            Out::Data(b"ab".to_vec()),
            Out::Gap,
            Out::Data(b"later".to_vec())
        ]
    );
}
