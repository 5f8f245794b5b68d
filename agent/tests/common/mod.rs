//! Helpers shared by the integration tests: where the corpus is, scratch directories,
//! running `kordon-agent` with a time limit, reading its EVE and stats output, telling capture
//! files apart by magic number, and a small parser for the YAML subset of suricata-verify's
//! `test.yaml` files, and a pcap writer for captures built in a test.

#![allow(dead_code)] // each test binary uses a different subset

use std::ffi::OsString;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use etherparse::PacketBuilder;
use serde_json::{Map, Value};

/// The reference corpus: `KORDON_CORPUS`, else `<workspace root>/../shared/corpus`.
pub fn corpus_path() -> PathBuf {
    std::env::var_os("KORDON_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("..")
                .join("..")
                .join("shared")
                .join("corpus")
        })
}

/// The corpus directory, or `None` after printing why the calling test is skipped.
pub fn corpus_or_skip(test: &str) -> Option<PathBuf> {
    let path = corpus_path();
    if path.is_dir() {
        // Absolute, because the agent runs in the tests' own directories.
        Some(path.canonicalize().unwrap_or(path))
    } else {
        println!("{test}: skipped: corpus not found at {}", path.display());
        None
    }
}

/// A scratch directory under the system temp dir, named after the test and this process, removed
/// when dropped.
pub struct Scratch {
    pub path: PathBuf,
}

impl Scratch {
    pub fn new(name: &str) -> Scratch {
        let safe: String = name
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        let path = std::env::temp_dir().join(format!("kordon-test-{safe}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path)
            .unwrap_or_else(|e| panic!("creating scratch dir {}: {e}", path.display()));
        Scratch { path }
    }

    pub fn join(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// What one run of the agent left behind.
pub struct AgentRun {
    pub status: ExitStatus,
    pub stderr: String,
    /// Every EVE line, parsed.
    pub events: Vec<Value>,
    /// The `--stats-json` document, when the agent wrote one.
    pub stats: Option<Value>,
}

impl AgentRun {
    pub fn alerts(&self) -> impl Iterator<Item = &Value> {
        self.events.iter().filter(|e| e["event_type"] == "alert")
    }

    pub fn flows(&self) -> impl Iterator<Item = &Value> {
        self.events.iter().filter(|e| e["event_type"] == "flow")
    }

    /// Panics with the agent's stderr unless it exited with status 0.
    pub fn expect_success(&self, what: &str) -> &Self {
        assert!(
            self.status.success(),
            "{what}: kordon-agent failed ({}); stderr:\n{}",
            self.status,
            self.stderr
        );
        self
    }
}

/// Longest a single agent run may take before it is killed and the test fails.
pub const AGENT_TIMEOUT: Duration = Duration::from_secs(60);

/// Runs `kordon-agent` in `cwd` with `args`, writing EVE and stats into `scratch` under `tag`.
/// The EVE path and `--stats-json` are added here; pass everything else.
pub fn run_agent(scratch: &Scratch, tag: &str, cwd: &Path, args: &[OsString]) -> AgentRun {
    let eve = scratch.join(&format!("{tag}.eve.json"));
    let stats = scratch.join(&format!("{tag}.stats.json"));
    let stderr_path = scratch.join(&format!("{tag}.stderr"));
    let _ = std::fs::remove_file(&eve);
    let _ = std::fs::remove_file(&stats);
    let stderr_file = std::fs::File::create(&stderr_path).expect("create stderr file");
    let mut child = Command::new(env!("CARGO_BIN_EXE_kordon-agent"))
        .current_dir(cwd)
        .args(args)
        .arg("--eve")
        .arg(&eve)
        .arg("--stats-json")
        .arg(&stats)
        .env("KORDON_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr_file)
        .spawn()
        .expect("start kordon-agent");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for kordon-agent") {
            break status;
        }
        if started.elapsed() > AGENT_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "{tag}: kordon-agent still running after {AGENT_TIMEOUT:?} (args {args:?}); killed"
            );
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let mut stderr = String::new();
    if let Ok(mut file) = std::fs::File::open(&stderr_path) {
        let _ = file.read_to_string(&mut stderr);
    }
    let events = if eve.exists() {
        read_eve(&eve)
    } else {
        Vec::new()
    };
    let stats = std::fs::read(&stats).ok().map(|bytes| {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|e| panic!("{tag}: stats JSON does not parse: {e}"))
    });
    AgentRun {
        status,
        stderr,
        events,
        stats,
    }
}

/// Every line of an EVE file as JSON; panics naming the line that is not JSON.
pub fn read_eve(path: &Path) -> Vec<Value> {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(n, line)| {
            serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("{}:{}: not JSON ({e}): {line}", path.display(), n + 1))
        })
        .collect()
}

/// A capture file format told apart by its first bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Magic {
    /// Classic pcap, either byte order, micro- or nanosecond.
    Pcap,
    /// pcapng (section header block).
    PcapNg,
    /// gzip: look inside after decompressing.
    Gzip,
}

/// The format of a file by its magic number, or `None` when it is none of the above.
pub fn magic_of(head: &[u8]) -> Option<Magic> {
    const PCAP: [[u8; 4]; 4] = [
        [0xd4, 0xc3, 0xb2, 0xa1],
        [0xa1, 0xb2, 0xc3, 0xd4],
        [0x4d, 0x3c, 0xb2, 0xa1],
        [0xa1, 0xb2, 0x3c, 0x4d],
    ];
    if head.len() >= 4 && PCAP.iter().any(|m| head[..4] == m[..]) {
        Some(Magic::Pcap)
    } else if head.len() >= 4 && head[..4] == [0x0a, 0x0d, 0x0d, 0x0a] {
        Some(Magic::PcapNg)
    } else if head.len() >= 2 && head[..2] == [0x1f, 0x8b] {
        Some(Magic::Gzip)
    } else {
        None
    }
}

/// The magic of the file at `path` (reads at most 4 bytes).
pub fn file_magic(path: &Path) -> Option<Magic> {
    let mut head = [0u8; 4];
    let mut file = std::fs::File::open(path).ok()?;
    let mut read = 0;
    while read < head.len() {
        match file.read(&mut head[read..]) {
            Ok(0) => break,
            Ok(n) => read += n,
            Err(_) => return None,
        }
    }
    magic_of(&head[..read])
}

/// All regular files under `root`, recursively, in sorted order.
pub fn walk_files(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            match entry.file_type() {
                Ok(t) if t.is_dir() => stack.push(path),
                Ok(t) if t.is_file() => out.push(path),
                _ => {}
            }
        }
    }
    out.sort();
    out
}

// ---------------------------------------------------------------------------------------------
// YAML subset
// ---------------------------------------------------------------------------------------------

/// Parses the YAML subset used by suricata-verify's `test.yaml` (and the small `suricata.yaml`
/// files next to them): block maps and lists (a list may sit at its key's indentation), plain,
/// single- and double-quoted scalars, `|`/`>` block scalars, comments, `%` directives and `---`.
/// Integers and floats become JSON numbers, `true/false/yes/no/on/off` booleans, `~`/`null`
/// null; a flow sequence of scalars (`[a, b]`) becomes a list. Flow maps (`{..}`) and nested flow
/// collections are not supported and are kept as strings.
pub fn parse_yaml(text: &str) -> Result<Value, String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut parser = Yaml { lines, pos: 0 };
    parser.skip_insignificant();
    if parser.pos >= parser.lines.len() {
        return Ok(Value::Null);
    }
    let indent = indent_of(parser.lines[parser.pos]);
    let value = parser.block(indent, None)?;
    parser.skip_insignificant();
    if parser.pos < parser.lines.len() {
        return Err(format!(
            "line {}: unexpected indentation: {:?}",
            parser.pos + 1,
            parser.lines[parser.pos]
        ));
    }
    Ok(value)
}

struct Yaml<'a> {
    lines: Vec<&'a str>,
    pos: usize,
}

fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

/// The line without a trailing ` # comment` outside quotes.
fn strip_comment(line: &str) -> &str {
    let bytes = line.as_bytes();
    let (mut single, mut double) = (false, false);
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'\'' if !double => single = !single,
            b'"' if !single => double = !double,
            b'#' if !single && !double && (i == 0 || bytes[i - 1] == b' ') => {
                return line[..i].trim_end();
            }
            _ => {}
        }
    }
    line.trim_end()
}

impl<'a> Yaml<'a> {
    fn skip_insignificant(&mut self) {
        while self.pos < self.lines.len() {
            let t = self.lines[self.pos].trim();
            if t.is_empty() || t.starts_with('#') || t.starts_with('%') || t == "---" {
                self.pos += 1;
            } else {
                break;
            }
        }
    }

    /// The next significant line's indentation and content (comment stripped), if any.
    fn peek(&mut self) -> Option<(usize, &'a str)> {
        self.skip_insignificant();
        let line = *self.lines.get(self.pos)?;
        Some((indent_of(line), strip_comment(line).trim_start()))
    }

    /// A block at exactly `indent`. `first` replaces the content of the current line (used for
    /// the part of a list item after its `- `).
    fn block(&mut self, indent: usize, first: Option<&'a str>) -> Result<Value, String> {
        let content = match first {
            Some(c) => c,
            None => self.peek().map(|(_, c)| c).unwrap_or(""),
        };
        if content == "-" || content.starts_with("- ") {
            self.list(indent, first)
        } else {
            self.map(indent, first)
        }
    }

    fn list(&mut self, indent: usize, mut first: Option<&'a str>) -> Result<Value, String> {
        let mut items = Vec::new();
        loop {
            let content = match first.take() {
                Some(c) => c,
                None => match self.peek() {
                    Some((i, c)) if i == indent && (c == "-" || c.starts_with("- ")) => c,
                    _ => break,
                },
            };
            let rest = content[1..].trim_start();
            let item_indent = indent + (content.len() - rest.len());
            if rest.is_empty() {
                self.pos += 1;
                match self.peek() {
                    Some((i, _)) if i > indent => {
                        let value = self.block(i, None)?;
                        items.push(value);
                    }
                    _ => items.push(Value::Null),
                }
            } else if rest.starts_with("- ") || key_split(rest).is_some() {
                items.push(self.block(item_indent, Some(rest))?);
            } else {
                items.push(scalar(rest));
                self.pos += 1;
            }
        }
        Ok(Value::Array(items))
    }

    fn map(&mut self, indent: usize, mut first: Option<&'a str>) -> Result<Value, String> {
        let mut map = Map::new();
        loop {
            let content = match first.take() {
                Some(c) => c,
                None => match self.peek() {
                    Some((i, c)) if i == indent && !(c == "-" || c.starts_with("- ")) => c,
                    _ => break,
                },
            };
            let line_no = self.pos + 1;
            let (key, rest) = key_split(content)
                .ok_or_else(|| format!("line {line_no}: expected `key: value`: {content:?}"))?;
            self.pos += 1;
            let value = if rest.is_empty() {
                match self.peek() {
                    Some((i, _)) if i > indent => self.block(i, None)?,
                    Some((i, c)) if i == indent && (c == "-" || c.starts_with("- ")) => {
                        self.list(indent, None)?
                    }
                    _ => Value::Null,
                }
            } else if rest.starts_with('|') || rest.starts_with('>') {
                self.block_scalar(indent, rest.starts_with('>'))
            } else {
                // A plain scalar may continue on deeper-indented lines (folded with spaces).
                let mut text = rest.to_string();
                while let Some((i, more)) = self.peek() {
                    if i <= indent {
                        break;
                    }
                    text.push(' ');
                    text.push_str(more);
                    self.pos += 1;
                }
                scalar(&text)
            };
            map.insert(unquote(key), value);
        }
        Ok(Value::Object(map))
    }

    /// The lines after a `|`/`>` indicator that are indented deeper than the key.
    fn block_scalar(&mut self, key_indent: usize, folded: bool) -> Value {
        let mut body: Vec<&str> = Vec::new();
        let mut content_indent = None;
        while self.pos < self.lines.len() {
            let line = self.lines[self.pos];
            if line.trim().is_empty() {
                body.push("");
                self.pos += 1;
                continue;
            }
            let i = indent_of(line);
            if i <= key_indent {
                break;
            }
            let ci = *content_indent.get_or_insert(i);
            body.push(line.get(ci.min(i)..).unwrap_or(""));
            self.pos += 1;
        }
        while body.last() == Some(&"") {
            body.pop();
        }
        let joined = if folded {
            body.join(" ")
        } else {
            body.join("\n")
        };
        Value::String(joined + "\n")
    }
}

/// Splits `key: value` (or `key:`) at the first `: ` outside quotes.
fn key_split(content: &str) -> Option<(&str, &str)> {
    let bytes = content.as_bytes();
    let (mut single, mut double) = (false, false);
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'\'' if !double => single = !single,
            b'"' if !single => double = !double,
            b':' if !single && !double && (i + 1 == bytes.len() || bytes[i + 1] == b' ') => {
                return Some((content[..i].trim(), content[i + 1..].trim()));
            }
            _ => {}
        }
    }
    None
}

fn unquote(s: &str) -> String {
    let s = s.trim();
    if s.len() >= 2 && s.starts_with('\'') && s.ends_with('\'') {
        s[1..s.len() - 1].replace("''", "'")
    } else if s.len() >= 2 && s.starts_with('"') && s.ends_with('"') {
        let inner = &s[1..s.len() - 1];
        let mut out = String::new();
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            if c == '\\' {
                match chars.next() {
                    Some('n') => out.push('\n'),
                    Some('t') => out.push('\t'),
                    Some('r') => out.push('\r'),
                    Some('0') => out.push('\0'),
                    Some(kind @ ('x' | 'u' | 'U')) => {
                        let digits = match kind {
                            'x' => 2,
                            'u' => 4,
                            _ => 8,
                        };
                        let hex: String = chars.by_ref().take(digits).collect();
                        match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                            Some(decoded) => out.push(decoded),
                            None => {
                                out.push('\\');
                                out.push(kind);
                                out.push_str(&hex);
                            }
                        }
                    }
                    Some(other) => out.push(other),
                    None => out.push('\\'),
                }
            } else {
                out.push(c);
            }
        }
        out
    } else {
        s.to_string()
    }
}

fn scalar(s: &str) -> Value {
    let s = s.trim();
    if s.starts_with('\'') || s.starts_with('"') {
        return Value::String(unquote(s));
    }
    match s {
        "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" => {
            return Value::Bool(true);
        }
        "false" | "False" | "FALSE" | "no" | "No" | "NO" | "off" | "Off" | "OFF" => {
            return Value::Bool(false);
        }
        _ => {}
    }
    if let Some(inner) = s.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
        // A flow sequence of scalars (no nesting).
        return Value::Array(
            inner
                .split(',')
                .map(str::trim)
                .filter(|item| !item.is_empty())
                .map(scalar)
                .collect(),
        );
    }
    if let Ok(n) = s.parse::<i64>() {
        return Value::from(n);
    }
    if let Ok(n) = s.parse::<u64>() {
        return Value::from(n);
    }
    let float_like = s.contains('.')
        && s.chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E'));
    if float_like && let Some(n) = s.parse::<f64>().ok().and_then(serde_json::Number::from_f64) {
        return Value::Number(n);
    }
    Value::String(s.to_string())
}

/// Unit tests of the YAML subset, run from whichever test binary calls it.
pub fn yaml_self_test() {
    let doc = r#"%YAML 1.1
---
# comment
pcap: ../x/input.pcap   # trailing comment
requires:
  min-version: 7
args:
 - -k none
list-at-key-indent:
- a
- 'b: c'
flow: [x, 1, 2.5]
escaped: "a\x41\u0042"
command: |
  suricata -r ${TEST_DIR}/x.pcap \
      -S rules # not a comment in a block

checks:
  - filter:
      count: 3
      match:
        event_type: alert
        alert.signature_id: 2402000
        tcp.tcp_flags_tc: '12'
        alert.signature: a long
          folded line
  - file-compare:
      filename: state.csv
      expected: expected/state.csv
"#;
    let v = parse_yaml(doc).expect("self-test document parses");
    assert_eq!(v["pcap"], "../x/input.pcap");
    assert_eq!(v["requires"]["min-version"], 7);
    assert_eq!(v["args"][0], "-k none");
    assert_eq!(v["list-at-key-indent"][1], "b: c");
    assert_eq!(v["flow"], serde_json::json!(["x", 1, 2.5]));
    assert_eq!(v["escaped"], "aAB");
    assert_eq!(
        v["command"],
        "suricata -r ${TEST_DIR}/x.pcap \\\n    -S rules # not a comment in a block\n"
    );
    assert_eq!(v["checks"][0]["filter"]["count"], 3);
    assert_eq!(v["checks"][0]["filter"]["match"]["event_type"], "alert");
    assert_eq!(
        v["checks"][0]["filter"]["match"]["alert.signature_id"],
        2402000
    );
    assert_eq!(v["checks"][0]["filter"]["match"]["tcp.tcp_flags_tc"], "12");
    assert_eq!(
        v["checks"][0]["filter"]["match"]["alert.signature"],
        "a long folded line"
    );
    assert_eq!(v["checks"][1]["file-compare"]["filename"], "state.csv");
}

const MAC_A: [u8; 6] = [2, 0, 0, 0, 0, 1];
const MAC_B: [u8; 6] = [2, 0, 0, 0, 0, 2];

/// A classic pcap file (microsecond timestamps, Ethernet) written packet by packet.
pub struct PcapWriter {
    pub bytes: Vec<u8>,
    ts_us: i64,
}

impl PcapWriter {
    pub fn new() -> Self {
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
        bytes.extend_from_slice(&2u16.to_le_bytes());
        bytes.extend_from_slice(&4u16.to_le_bytes());
        bytes.extend_from_slice(&0i32.to_le_bytes());
        bytes.extend_from_slice(&0u32.to_le_bytes());
        bytes.extend_from_slice(&65535u32.to_le_bytes());
        bytes.extend_from_slice(&1u32.to_le_bytes());
        PcapWriter {
            bytes,
            ts_us: 1_700_000_000_000_000,
        }
    }

    pub fn frame(&mut self, frame: &[u8]) {
        self.ts_us += 1000;
        let secs = (self.ts_us / 1_000_000) as u32;
        let micros = (self.ts_us % 1_000_000) as u32;
        for word in [secs, micros, frame.len() as u32, frame.len() as u32] {
            self.bytes.extend_from_slice(&word.to_le_bytes());
        }
        self.bytes.extend_from_slice(frame);
    }

    pub fn tcp(
        &mut self,
        src: [u8; 4],
        dst: [u8; 4],
        sport: u16,
        dport: u16,
        flags: &str,
        payload: &[u8],
    ) {
        let mut builder = PacketBuilder::ethernet2(MAC_A, MAC_B)
            .ipv4(src, dst, 64)
            .tcp(sport, dport, 1000, 65535);
        if flags.contains('S') {
            builder = builder.syn();
        }
        if flags.contains('A') {
            builder = builder.ack(1);
        }
        let mut out = Vec::new();
        builder.write(&mut out, payload).expect("build tcp");
        self.frame(&out);
    }

    pub fn udp(&mut self, src: [u8; 4], dst: [u8; 4], sport: u16, dport: u16) {
        let mut out = Vec::new();
        PacketBuilder::ethernet2(MAC_A, MAC_B)
            .ipv4(src, dst, 64)
            .udp(sport, dport)
            .write(&mut out, b"query")
            .expect("build udp");
        self.frame(&out);
    }
}

impl PcapWriter {
    /// A TCP segment with an explicit sequence number (and ACK flag set), for captures whose
    /// payload must reassemble into a stream.
    #[allow(clippy::too_many_arguments)]
    pub fn tcp_seq(
        &mut self,
        src: [u8; 4],
        dst: [u8; 4],
        sport: u16,
        dport: u16,
        syn: bool,
        seq: u32,
        payload: &[u8],
    ) {
        let mut builder = PacketBuilder::ethernet2(MAC_A, MAC_B)
            .ipv4(src, dst, 64)
            .tcp(sport, dport, seq, 65535);
        builder = if syn { builder.syn() } else { builder.ack(1) };
        let mut out = Vec::new();
        builder.write(&mut out, payload).expect("build tcp");
        self.frame(&out);
    }

    /// A whole TCP conversation: handshake, then each `(to_server, payload)` in order with
    /// consecutive sequence numbers per side.
    pub fn tcp_flow(
        &mut self,
        client: ([u8; 4], u16),
        server: ([u8; 4], u16),
        messages: &[(bool, &[u8])],
    ) {
        let (mut cseq, mut sseq) = (1000u32, 5000u32);
        self.tcp_seq(client.0, server.0, client.1, server.1, true, cseq, b"");
        cseq += 1;
        let mut out = Vec::new();
        PacketBuilder::ethernet2(MAC_B, MAC_A)
            .ipv4(server.0, client.0, 64)
            .tcp(server.1, client.1, sseq, 65535)
            .syn()
            .ack(cseq)
            .write(&mut out, b"")
            .expect("build syn-ack");
        self.frame(&out);
        sseq += 1;
        for (to_server, payload) in messages {
            if *to_server {
                self.tcp_seq(client.0, server.0, client.1, server.1, false, cseq, payload);
                cseq = cseq.wrapping_add(payload.len() as u32);
            } else {
                self.tcp_seq(server.0, client.0, server.1, client.1, false, sseq, payload);
                sseq = sseq.wrapping_add(payload.len() as u32);
            }
        }
    }
}

/// One TCP or UDP packet of a classic pcap file (Ethernet or raw IPv4 link types; other
/// packets are skipped), for decoder-level tests that bypass flow reassembly.
pub struct L4Packet {
    pub tcp: bool,
    pub src: std::net::Ipv4Addr,
    pub dst: std::net::Ipv4Addr,
    pub sport: u16,
    pub dport: u16,
    pub payload: Vec<u8>,
}

/// The TCP/UDP-over-IPv4 packets of a classic little-endian pcap file (empty for other
/// formats).
pub fn pcap_l4_packets(path: &Path) -> Vec<L4Packet> {
    let Ok(bytes) = std::fs::read(path) else {
        return Vec::new();
    };
    let u32_at = |at: usize| {
        bytes
            .get(at..at + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    if u32_at(0) != Some(0xa1b2_c3d4) {
        return Vec::new();
    }
    let link = u32_at(20).unwrap_or(0);
    let mut out = Vec::new();
    let mut off = 24;
    while let (Some(caplen), true) = (u32_at(off + 8), off + 16 <= bytes.len()) {
        let start = off + 16;
        let end = (start + caplen as usize).min(bytes.len());
        off = end;
        let frame = &bytes[start..end];
        let ip = match link {
            1 if frame.len() > 14 && frame[12..14] == [0x08, 0x00] => &frame[14..],
            101 | 228 => frame,
            _ => continue,
        };
        if ip.len() < 20 || ip[0] >> 4 != 4 {
            continue;
        }
        let ihl = usize::from(ip[0] & 15) * 4;
        let total = usize::from(u16::from_be_bytes([ip[2], ip[3]])).min(ip.len());
        if total < ihl + 8 {
            continue;
        }
        let l4 = &ip[ihl..total];
        let src = std::net::Ipv4Addr::new(ip[12], ip[13], ip[14], ip[15]);
        let dst = std::net::Ipv4Addr::new(ip[16], ip[17], ip[18], ip[19]);
        let sport = u16::from_be_bytes([l4[0], l4[1]]);
        let dport = u16::from_be_bytes([l4[2], l4[3]]);
        let (tcp, payload) = match ip[9] {
            6 if l4.len() >= 20 => {
                let doff = usize::from(l4[12] >> 4) * 4;
                (true, l4.get(doff..).unwrap_or_default())
            }
            17 => (false, &l4[8..]),
            _ => continue,
        };
        out.push(L4Packet {
            tcp,
            src,
            dst,
            sport,
            dport,
            payload: payload.to_vec(),
        });
    }
    out
}

/// suricata-verify tests with string/md5/sha256 `dataset`/`datarep` rules on DNS and HTTP
/// buffers, run by `corpus_suricata_verify_app.rs` (the IP harness's coverage check accepts
/// them as covered).
pub const SV_APP_DATASET_TESTS: &[&str] = &[
    "datasets-02-load",
    "datasets-04-http-dns",
    "datasets-05-state",
    "datasets-06-state-long",
    "datasets-invalid-encoding",
    "datarep-01",
    "datarep-02",
];

/// The capture timestamp (µs since the epoch) of every record of a classic little-endian pcap
/// file, in file order: index `n − 1` is Suricata's `pcap_cnt` `n`.
pub fn pcap_packet_times_us(path: &Path) -> Vec<i64> {
    let Ok(bytes) = std::fs::read(path) else {
        return Vec::new();
    };
    let u32_at = |at: usize| {
        bytes
            .get(at..at + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    if u32_at(0) != Some(0xa1b2_c3d4) {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut off = 24;
    while let (Some(secs), Some(usecs), Some(caplen)) =
        (u32_at(off), u32_at(off + 4), u32_at(off + 8))
    {
        out.push(i64::from(secs) * 1_000_000 + i64::from(usecs));
        off += 16 + caplen as usize;
    }
    out
}

/// µs since the epoch of an EVE `timestamp` (`2015-07-14T17:45:56.279908+0000`).
pub fn eve_timestamp_us(ts: &str) -> Option<i64> {
    let num = |r: std::ops::Range<usize>| ts.get(r)?.parse::<i64>().ok();
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hh, mm, ss, us) = (num(11..13)?, num(14..16)?, num(17..19)?, num(20..26)?);
    let sign = if ts.get(26..27)? == "-" { -1 } else { 1 };
    let offset = sign * (num(27..29)? * 3600 + num(29..31)? * 60);
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(((days * 86_400 + hh * 3600 + mm * 60 + ss - offset) * 1_000_000) + us)
}
