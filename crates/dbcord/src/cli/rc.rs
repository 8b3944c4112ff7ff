//! The rc file, run before anything else: SQL and dot-commands, as
//! sqlite3's `~/.sqliterc` and datafusion-cli's `~/.datafusionrc`.

use std::path::PathBuf;

use anyhow::{Context, Result};

use super::args::Args;

/// Where the rc file is looked for: `~/.dbcordrc`, then
/// `$XDG_CONFIG_HOME/dbcord/dbcordrc` (or `~/.config/dbcord/dbcordrc`).
pub fn default_paths() -> Vec<PathBuf> {
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let config = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| home.as_ref().map(|h| h.join(".config")));
    home.map(|h| h.join(".dbcordrc"))
        .into_iter()
        .chain(config.map(|c| c.join("dbcord").join("dbcordrc")))
        .collect()
}

/// The rc file to run and its text: `--rc` (which must exist), else the
/// first default that exists; none with `--no-rc`.
pub fn load(args: &Args) -> Result<Option<(PathBuf, String)>> {
    if args.no_rc {
        return Ok(None);
    }
    if let Some(path) = &args.rc {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the rc file {}", path.display()))?;
        return Ok(Some((path.clone(), text)));
    }
    for path in default_paths() {
        if path.is_file() {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("reading the rc file {}", path.display()))?;
            return Ok(Some((path, text)));
        }
    }
    Ok(None)
}
