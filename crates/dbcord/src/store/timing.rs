//! How long the store keeps things and waits for them, and why: the three
//! durations its concurrency rules rest on, in one place.

use std::time::Duration;

/// How long a replaced commit stays before vacuum deletes it. A writer
/// whose commit a compaction folded before the writer read it back judges
/// it from the messages between its snapshot and itself; they are all
/// still there while its snapshot is younger than this (see
/// `write::commit`'s confirmation). Older, the writer says it cannot tell.
pub const VACUUM_GRACE: Duration = Duration::from_secs(300);

/// A writer reads the catalog again before posting a commit if it last read
/// it longer ago than this (see [`UNIQUE_INDEX_WAIT`]).
pub const CATALOG_FRESH: Duration = Duration::from_secs(15);

/// The longest a statement's commit waits, after its last look at the
/// catalog, before it is posted: [`CATALOG_FRESH`], plus the send itself.
/// A new UNIQUE index waits this long after it is declared before it
/// checks the rows, so that every commit made without knowing of it has
/// been posted (and is checked) by then; every later one knew of it. This
/// holds on real time unless a send outlasts the margin (long 429 waits);
/// on virtual time the wait passes at once and protects nothing, which
/// `dbcord sim --unique-index-ddl` shows (see the README).
pub const UNIQUE_INDEX_WAIT: Duration = Duration::from_secs(60);

/// How long a staged segment no directory names is left alone: the
/// statement or compaction that staged it may still be writing the rest,
/// and name it when done. Vacuum deletes such segments only once their
/// stage began longer ago than this, and a stage that has run for half of
/// it gives up before posting what would name them.
pub const STAGE_GRACE: Duration = Duration::from_secs(3600);

/// How long after a transaction's first part its commit point may be
/// posted and still count (see `store::txn`). A point posted later counts
/// for nothing, so once this has passed with no point, every reader and
/// compaction knows for good that the transaction did not commit. The
/// committer gives up without posting if less than [`TXN_MARGIN`] is left.
pub const TXN_DEADLINE: Duration = Duration::from_secs(60);

/// What a committer keeps in hand before the deadline, for the point's own
/// send.
pub const TXN_MARGIN: Duration = Duration::from_secs(15);

/// How long after its commit point a transaction's parts are left out of
/// compactions: a statement that began before the point judges the parts
/// as not committed, and reads their tables soon after it began; folding
/// a part into a checkpoint any sooner could show that statement one
/// table's part and not another's.
pub const TXN_FOLD_GRACE: Duration = Duration::from_secs(60);
