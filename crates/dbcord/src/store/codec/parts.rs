//! Files larger than Discord takes in one attachment, cut into parts.
//!
//! Discord takes 10 MiB a file (and 25 MiB a request). A segment's data
//! file, a snapshot or a history archive longer than [`PART_BYTES`] goes
//! as consecutive attachments `name.part1`, `name.part2`, ...; a reader
//! joins them (or, for a range, reads the parts it spans).

use discord_api::NewFile;

/// Bytes of one part: under Discord's 10 MiB a file, with room to spare.
pub const PART_BYTES: usize = 8 << 20;

/// A named file as the attachments that carry it: itself if it is at most
/// `max` bytes, else its parts in order.
pub fn cut(name: &str, bytes: Vec<u8>, max: usize) -> Vec<NewFile> {
    if bytes.len() <= max {
        let filename = name.to_string();
        return vec![NewFile { filename, bytes }];
    }
    bytes
        .chunks(max)
        .enumerate()
        .map(|(i, c)| NewFile {
            filename: format!("{name}.part{}", i + 1),
            bytes: c.to_vec(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_cut_only_when_it_must_be_and_joins_back() {
        let whole = cut("a", vec![1, 2, 3], 3);
        assert_eq!((whole[0].filename.as_str(), whole.len()), ("a", 1));
        let parts = cut("a", (0..7).collect(), 3);
        let names: Vec<&str> = parts.iter().map(|f| f.filename.as_str()).collect();
        assert_eq!(names, ["a.part1", "a.part2", "a.part3"]);
        let joined: Vec<u8> = parts.into_iter().flat_map(|f| f.bytes).collect();
        assert_eq!(joined, (0..7).collect::<Vec<u8>>());
    }
}
