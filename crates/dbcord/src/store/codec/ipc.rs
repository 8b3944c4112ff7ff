//! Arrow IPC files as segments hold them: LZ4-compressed, their record
//! batches each named in a directory by the first key it holds and where
//! its bytes are, so that one batch is read with one HTTP range request.

use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::buffer::Buffer;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::error::ArrowError;
use datafusion::arrow::ipc::reader::{FileDecoder, FileReader, read_footer_length};
use datafusion::arrow::ipc::writer::{FileWriter, IpcWriteOptions};
use datafusion::arrow::ipc::{Block, CompressionType, MetadataVersion, root_as_footer};
use serde::{Deserialize, Serialize};

use super::key::Key;

/// One record batch of a file: its first key (or indexed value and key),
/// and where its bytes are.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BatchDir(pub String, pub u64, pub i32, pub i64);

impl BatchDir {
    pub fn first(&self) -> Option<Key> {
        Key::from_hex(&self.0)
    }

    pub fn offset(&self) -> u64 {
        self.1
    }

    /// Bytes of the batch: its metadata and body.
    pub fn len(&self) -> u64 {
        self.2 as u64 + self.3 as u64
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn block(&self) -> Block {
        Block::new(self.1 as i64, self.2, self.3)
    }
}

/// A file's bytes and its batch directory.
pub type WrittenFile = (Vec<u8>, Vec<BatchDir>);

/// Bytes of a key a header's key range keeps: longer keys are bounded by a
/// shorter one, so that a header stays short however long the keys are.
pub const KEY_BOUND: usize = 48;

/// Each batch's boundary in the directory: the shortest key that sorts
/// after the previous batch's last key and no later than its own first.
pub fn boundaries<T>(chunks: &[&[(Key, T)]]) -> Vec<Key> {
    let mut out = Vec::with_capacity(chunks.len());
    for (i, chunk) in chunks.iter().enumerate() {
        let first = &chunk[0].0;
        out.push(match i {
            0 => first.lower_bound(KEY_BOUND),
            _ => {
                let before = &chunks[i - 1][chunks[i - 1].len() - 1].0;
                Key::separator(before, first)
            }
        });
    }
    out
}

/// An LZ4-compressed IPC file, and its batches' places read back from its
/// footer, each named by its boundary in `firsts`.
pub fn write_file(
    schema: &SchemaRef,
    batches: &[RecordBatch],
    firsts: &[Key],
) -> Result<WrittenFile, ArrowError> {
    let options =
        IpcWriteOptions::default().try_with_compression(Some(CompressionType::LZ4_FRAME))?;
    let mut writer = FileWriter::try_new_with_options(Vec::new(), schema, options)?;
    for b in batches {
        writer.write(b)?;
    }
    writer.finish()?;
    let bytes = writer.into_inner()?;
    let blocks = footer_blocks(&bytes)?;
    let dir = blocks
        .iter()
        .zip(firsts)
        .map(|(b, k)| {
            BatchDir(
                k.to_hex(),
                b.offset() as u64,
                b.metaDataLength(),
                b.bodyLength(),
            )
        })
        .collect();
    Ok((bytes, dir))
}

fn footer_blocks(file: &[u8]) -> Result<Vec<Block>, ArrowError> {
    let n = file.len();
    let tail: [u8; 10] = file
        .get(n.saturating_sub(10)..)
        .and_then(|t| t.try_into().ok())
        .ok_or_else(|| ArrowError::IpcError("file too short".into()))?;
    let len = read_footer_length(tail)?;
    let footer = root_as_footer(&file[n - 10 - len..n - 10])
        .map_err(|e| ArrowError::IpcError(format!("unreadable footer: {e}")))?;
    Ok(footer
        .recordBatches()
        .map(|b| b.iter().copied().collect())
        .unwrap_or_default())
}

/// Rows of one batch, read from exactly its bytes.
pub fn decode_batch(
    schema: &SchemaRef,
    dir: &BatchDir,
    bytes: Vec<u8>,
) -> Result<RecordBatch, ArrowError> {
    let decoder = FileDecoder::new(Arc::clone(schema), MetadataVersion::V5);
    decoder
        .read_record_batch(&dir.block(), &Buffer::from_vec(bytes))?
        .ok_or_else(|| ArrowError::IpcError("an empty batch".into()))
}

/// Every batch of a whole file.
pub fn decode_file(bytes: Vec<u8>) -> Result<Vec<RecordBatch>, ArrowError> {
    FileReader::try_new(std::io::Cursor::new(bytes), None)?.collect()
}
