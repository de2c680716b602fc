//! Packaging helper: writes shell completions and man pages, generated from the clap definitions,
//! under the given directory (default `packaging`, where they are kept for `cargo deb`; a test
//! fails when they are stale).
//!
//! `cargo run --example generate-assets [-- DIR]`

fn main() -> anyhow::Result<()> {
    let out_dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "packaging".into());
    credwatch::cmd::assets::generate(std::path::Path::new(&out_dir))?;
    println!("wrote {out_dir}/completions and {out_dir}/man");
    Ok(())
}
