//! A line reader that never holds more than one capped line in memory.
//!
//! `BufRead::read_line` grows its buffer to the longest line, so a 1 GB file without a
//! newline would be read whole; here a longer line is flagged and its rest discarded.

use std::io::{self, BufRead};

/// Longest accepted line in bytes (without the line ending).
pub(crate) const MAX_LINE: usize = 64 * 1024;

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// One physical line without `\n` / `\r\n`; the BOM is stripped from line 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Line {
    /// 1-based.
    pub no: u64,
    /// Empty when `too_long`.
    pub bytes: Vec<u8>,
    pub too_long: bool,
}

pub(crate) struct BoundedLines<R> {
    inner: R,
    line_no: u64,
    max: usize,
    done: bool,
}

impl<R: BufRead> BoundedLines<R> {
    pub(crate) fn new(inner: R) -> Self {
        Self::with_max(inner, MAX_LINE)
    }

    pub(crate) fn with_max(inner: R, max: usize) -> Self {
        BoundedLines {
            inner,
            line_no: 0,
            max,
            done: false,
        }
    }

    /// The next line; `None` at end of input. After an I/O error the reader is finished.
    pub(crate) fn next_line(&mut self) -> Option<io::Result<Line>> {
        if self.done {
            return None;
        }
        let mut bytes = Vec::new();
        let mut too_long = false;
        let mut any = false;
        loop {
            let buf = match self.inner.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            };
            if buf.is_empty() {
                self.done = true;
                if !any {
                    return None;
                }
                break;
            }
            any = true;
            let (chunk, found) = match buf.iter().position(|&b| b == b'\n') {
                Some(i) => (buf.get(..i).unwrap_or_default(), true),
                None => (buf, false),
            };
            let used = chunk.len() + usize::from(found);
            // Room for max bytes plus a '\r' that is stripped below.
            if !too_long {
                if bytes.len() + chunk.len() <= self.max.saturating_add(1) {
                    bytes.extend_from_slice(chunk);
                } else {
                    too_long = true;
                    bytes = Vec::new();
                }
            }
            self.inner.consume(used);
            if found {
                break;
            }
        }
        self.line_no += 1;
        if bytes.last() == Some(&b'\r') {
            bytes.pop();
        }
        if self.line_no == 1 && bytes.starts_with(BOM) {
            bytes.drain(..BOM.len());
        }
        if bytes.len() > self.max {
            too_long = true;
            bytes = Vec::new();
        }
        Some(Ok(Line {
            no: self.line_no,
            bytes,
            too_long,
        }))
    }

    /// Lines read so far (the number of the last line returned).
    pub(crate) fn line_no(&self) -> u64 {
        self.line_no
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufReader, Cursor, Read};

    fn all(input: &[u8], max: usize, cap: usize) -> Vec<Line> {
        let mut r = BoundedLines::with_max(
            BufReader::with_capacity(cap, Cursor::new(input.to_vec())),
            max,
        );
        let mut out = Vec::new();
        while let Some(l) = r.next_line() {
            out.push(l.unwrap());
        }
        out
    }
    fn line(no: u64, s: &str) -> Line {
        Line {
            no,
            bytes: s.as_bytes().to_vec(),
            too_long: false,
        }
    }

    #[test]
    fn splits_crlf_bom_and_last_line() {
        let got = all(b"\xEF\xBB\xBFa\r\nb\n\nc", 100, 3);
        assert_eq!(
            got,
            vec![line(1, "a"), line(2, "b"), line(3, ""), line(4, "c")]
        );
        assert!(all(b"", 100, 8).is_empty());
        assert_eq!(all(b"\n", 100, 8), vec![line(1, "")]);
        // A BOM only counts on line 1.
        assert_eq!(all(b"x\n\xEF\xBB\xBFy", 100, 8)[1].bytes, b"\xEF\xBB\xBFy");
    }

    #[test]
    fn long_lines_flagged_and_skipped() {
        let mut input = b"ok\n".to_vec();
        input.extend(std::iter::repeat_n(b'x', 50));
        input.extend_from_slice(b"\nnext\n");
        // Small buffer: the long line spans many fill_buf calls.
        let got = all(&input, 10, 4);
        assert_eq!(got.len(), 3);
        assert_eq!(got[0], line(1, "ok"));
        assert_eq!(
            got[1],
            Line {
                no: 2,
                bytes: vec![],
                too_long: true
            }
        );
        assert_eq!(got[2], line(3, "next"));
        // Exactly max bytes (plus CRLF) is fine; max + 1 is not.
        assert_eq!(all(b"0123456789\r\n", 10, 4), vec![line(1, "0123456789")]);
        assert!(all(b"0123456789a\n", 10, 4)[0].too_long);
    }

    struct Failing;
    impl Read for Failing {
        fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
            Err(io::Error::other("disk on fire"))
        }
    }

    #[test]
    fn io_error_ends_reading() {
        let mut r = BoundedLines::new(BufReader::new(Failing));
        assert!(r.next_line().unwrap().is_err());
        assert!(r.next_line().is_none());
    }
}
