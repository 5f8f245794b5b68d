//! The benchmark ceiling: a bare libpcap read loop. Opens each file given, reads every packet
//! with `next_packet()`, counts packets and captured bytes, prints them. Nothing else.
//!
//! `cargo run --release -p kordon-agent --example pcap_loop -- FILE...`

fn main() -> Result<(), pcap::Error> {
    let files: Vec<String> = std::env::args().skip(1).collect();
    if files.is_empty() {
        eprintln!("usage: pcap_loop FILE...");
        std::process::exit(2);
    }
    let (mut packets, mut bytes) = (0u64, 0u64);
    for f in &files {
        let mut cap = pcap::Capture::from_file(f)?;
        loop {
            match cap.next_packet() {
                Ok(p) => {
                    packets += 1;
                    bytes += p.data.len() as u64;
                }
                Err(pcap::Error::NoMorePackets) => break,
                Err(e) => return Err(e),
            }
        }
    }
    println!("packets {packets} bytes {bytes}");
    Ok(())
}
