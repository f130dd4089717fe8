//! The DXF group-code reader.
//!
//! Written by hand rather than taken from the `dxf` crate because Swarf must name the *line* of
//! every problem, must keep going past damaged or minimal files (no HEADER, missing subclass
//! markers, unknown entities), and must stay fast on drawings with hundreds of thousands of
//! group codes. The format itself is trivial: a code line, a value line, repeated.

use super::DxfError;

/// One group: the code, its value (trimmed) and the 1-based line of the code.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Pair<'a> {
    pub code: i32,
    pub value: &'a str,
    pub line: usize,
}

/// Decodes the bytes of a DXF file: UTF-8 when valid (R2007 and later), else Latin-1 (older
/// files use the ANSI code page; every byte maps to some character, so nothing fails here).
pub(crate) fn decode(bytes: &[u8]) -> Result<std::borrow::Cow<'_, str>, DxfError> {
    if bytes.starts_with(b"AutoCAD Binary DXF") {
        return Err(DxfError::Binary);
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(DxfError::Empty);
    }
    Ok(match std::str::from_utf8(bytes) {
        Ok(s) => std::borrow::Cow::Borrowed(s),
        Err(_) => std::borrow::Cow::Owned(bytes.iter().map(|&b| char::from(b)).collect()),
    })
}

/// Splits the text into groups. A trailing lone code line or trailing blank lines are
/// tolerated when the file has already ended with `EOF`.
pub(crate) fn pairs(text: &str) -> Result<Vec<Pair<'_>>, DxfError> {
    let mut out = Vec::with_capacity(text.len() / 12);
    let mut lines = text.lines().enumerate();
    while let Some((i, code_line)) = lines.next() {
        let code_str = code_line.trim();
        if code_str.is_empty() {
            // Blank lines between groups happen at the end of files; anywhere else the next
            // line decides.
            if lines.clone().all(|(_, l)| l.trim().is_empty()) {
                break;
            }
            return Err(DxfError::BadCode {
                line: i + 1,
                text: String::new(),
            });
        }
        let code: i32 = code_str.parse().map_err(|_| DxfError::BadCode {
            line: i + 1,
            text: code_str.chars().take(40).collect(),
        })?;
        let Some((_, value)) = lines.next() else {
            if out
                .last()
                .is_some_and(|p: &Pair| p.code == 0 && p.value == "EOF")
            {
                break;
            }
            return Err(DxfError::Truncated { line: i + 1, code });
        };
        let value = value.trim();
        out.push(Pair {
            code,
            value,
            line: i + 1,
        });
        if code == 0 && value == "EOF" {
            break;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_pairs_with_line_numbers_and_crlf() {
        let p = pairs("  0\r\nSECTION\r\n  2\r\nENTITIES\r\n0\nEOF\n").unwrap();
        assert_eq!(p.len(), 3);
        assert_eq!(p[1].code, 2);
        assert_eq!(p[1].value, "ENTITIES");
        assert_eq!(p[1].line, 3);
    }

    #[test]
    fn damaged_files_name_the_line() {
        match pairs("0\nSECTION\nabc\nX\n") {
            Err(DxfError::BadCode { line: 3, .. }) => {}
            other => panic!("{other:?}"),
        }
        match pairs("0\nSECTION\n2\n") {
            Err(DxfError::Truncated { line: 3, code: 2 }) => {}
            other => panic!("{other:?}"),
        }
        assert!(matches!(decode(b"  \n"), Err(DxfError::Empty)));
        assert!(matches!(
            decode(b"AutoCAD Binary DXF\r\n\x1a\x00"),
            Err(DxfError::Binary)
        ));
    }
}
