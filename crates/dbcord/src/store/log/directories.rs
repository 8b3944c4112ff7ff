//! Reading the directory of a manifest or staged commit from its
//! attachment, once, when the log first meets it.

use std::sync::Arc;

use discord_api::Discord;
use discord_api::attachments::download;

use super::commit::{Commit, CommitBody, DirCommit};
use super::table_log::TableLog;
use crate::error::{Error, Result};
use crate::store::codec::manifest::read_directory;
use crate::store::schema::TableDef;

/// Read every directory of `log` (its checkpoint's, its commits') still in
/// an attachment. A staged commit whose directory is damaged counts for no
/// reader; a damaged manifest is an error for every read (the table's
/// state is in it).
pub async fn resolve(discord: &Arc<dyn Discord>, def: &TableDef, log: &mut TableLog) -> Result<()> {
    if let Some(cp) = log.checkpoint.as_mut()
        && let Err(why) = read_one(discord, def, cp, &mut log.cdn).await?
    {
        return Err(Error::SegmentUnreadable {
            table: def.qualified_name(),
            message: cp.id,
            why: format!("the manifest is damaged: {why}"),
        });
    }
    let cdn = resolve_commits(discord, def, &mut log.commits).await?;
    log.cdn.0 += cdn.0;
    log.cdn.1 += cdn.1;
    Ok(())
}

/// Read the directories of `commits` still in attachments; a commit whose
/// directory is damaged is marked broken (it counts for nobody). Returns
/// the CDN reads and bytes it took.
pub async fn resolve_commits(
    discord: &Arc<dyn Discord>,
    def: &TableDef,
    commits: &mut [Commit],
) -> Result<(u64, u64)> {
    let mut cdn = (0, 0);
    for c in commits {
        if let Err(why) = read_one(discord, def, c, &mut cdn).await? {
            c.broken = Some(why);
        }
    }
    Ok(cdn)
}

/// Read `c`'s directory if it is one still unread; the inner error says
/// why the directory is no directory.
async fn read_one(
    discord: &Arc<dyn Discord>,
    def: &TableDef,
    c: &mut Commit,
    cdn: &mut (u64, u64),
) -> Result<std::result::Result<(), String>> {
    let CommitBody::Directory(d) = &c.body else {
        return Ok(Ok(()));
    };
    if d.read {
        return Ok(Ok(()));
    }
    let m = &d.message;
    let Some(a) = m.attachments.first() else {
        return Ok(Err("its directory attachment is missing".into()));
    };
    let bytes = download(discord.as_ref(), m.channel_id, m.id, a, None).await?;
    cdn.0 += 1;
    cdn.1 += bytes.len() as u64;
    let dir = match read_directory(&d.header, &bytes) {
        Ok(dir) => dir,
        Err(why) => return Ok(Err(why)),
    };
    let mut read = DirCommit {
        message: Arc::clone(&d.message),
        header: d.header.clone(),
        runs: Vec::new(),
        read: false,
    };
    read.set_directory(&dir, def.channel_id);
    c.body = CommitBody::Directory(Arc::new(read));
    Ok(Ok(()))
}
