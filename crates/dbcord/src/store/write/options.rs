//! How writes behave: the settings a session passes to every statement.

/// How writes behave.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WriteOptions {
    /// Fold the table into a checkpoint once this many commits follow the
    /// last one (0: never on its own).
    pub compact_after: usize,
}

impl Default for WriteOptions {
    fn default() -> Self {
        WriteOptions { compact_after: 100 }
    }
}
