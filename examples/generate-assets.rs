//! Packaging helper: writes shell completions and man pages, generated from the clap definitions,
//! under the given directory (default `packaging`, where they are kept for `cargo deb`), and the
//! compiled presets (`presets/compiled.jsonl`, which the binary includes), and the table of
//! presets in docs/presets.md. A test fails when any of them is stale.
//!
//! `cargo run --example generate-assets [-- DIR]`

fn main() -> anyhow::Result<()> {
    let out_dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "packaging".into());
    credwatch::cmd::assets::generate(std::path::Path::new(&out_dir))?;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    credwatch::cmd::assets::compile_presets(root)?;
    credwatch::cmd::assets::write_presets_table(root)?;
    println!("wrote {out_dir}/completions, {out_dir}/man, presets/compiled.jsonl and docs/presets.md's presets table");
    Ok(())
}
