//! Generates the kordon.v1 messages and services. protoc comes from `$PROTOC` when set (e.g.
//! Debian's `protobuf-compiler`), else from the `protoc-bin-vendored` crate, so a fresh machine
//! builds without installing anything.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    if std::env::var_os("PROTOC").is_none() {
        let protoc = protoc_bin_vendored::protoc_bin_path()?;
        // SAFETY: build scripts are single-threaded; nothing else reads the environment here.
        unsafe { std::env::set_var("PROTOC", protoc) };
    }
    println!("cargo:rerun-if-changed=proto/kordon/v1/kordon.proto");
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .compile_protos(&["proto/kordon/v1/kordon.proto"], &["proto"])?;
    Ok(())
}
