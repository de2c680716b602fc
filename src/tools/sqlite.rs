//! SQLite database files read as bytes, the way the file format documents them (header, table
//! b-trees, records, overflow pages): the rows of one table, the columns asked for by name.
//!
//! The file is never opened through SQLite, so reading it takes no lock and can never make the
//! tool that owns it wait ("database is locked"). A database caught in the middle of a write may
//! not decode: that is an error like any other, and the next write event reads it again.
//!
//! Guarantees: every page number, offset and length is checked against the file (a truncated or
//! hostile file is an error, never a panic, a loop or an allocation of a claimed length); each
//! b-tree page is visited at most once and overflow pages at most twice per scan, so the work is
//! linear in the file's size; only the columns asked
//! for are decoded, and a record is read only up to the end of the last of them (a secret in a
//! later column, such as gcloud's `value`, is never copied out of the file's buffer); blobs are
//! never decoded at all.

use std::borrow::Cow;

const HEADER: &[u8; 16] = b"SQLite format 3\0";
const LEAF_TABLE: u8 = 0x0D;
const INTERIOR_TABLE: u8 = 0x05;

/// One value of a row, as far as a reader of logins needs it.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
    /// A blob: its content is not decoded.
    Blob,
}

impl Cell {
    pub fn text(&self) -> Option<&str> {
        match self {
            Cell::Text(text) => Some(text),
            _ => None,
        }
    }
}

pub struct Database<'a> {
    bytes: &'a [u8],
    page_size: usize,
    usable: usize,
    pages: usize,
    /// Overflow pages still allowed to be read in this scan: each page of the file belongs to
    /// one chain, read at most twice (a record's header, then its columns), so a file whose
    /// cells share or loop their chains is refused in linear time.
    overflow_budget: std::cell::Cell<usize>,
}

impl<'a> Database<'a> {
    pub fn open(bytes: &'a [u8]) -> Result<Self, String> {
        if bytes.len() < 100 || &bytes[..16] != HEADER {
            return Err("not an SQLite database (no SQLite header)".into());
        }
        let page_size = match u16::from_be_bytes([bytes[16], bytes[17]]) {
            1 => 65536,
            n if n >= 512 && n.is_power_of_two() => n as usize,
            _ => return Err("the SQLite header names an impossible page size".into()),
        };
        let reserved = bytes[20] as usize;
        if page_size - reserved < 480 {
            return Err("the SQLite header reserves too much of each page".into());
        }
        if u32::from_be_bytes([bytes[56], bytes[57], bytes[58], bytes[59]]) > 1 {
            return Err("the database keeps its text in UTF-16, which is not read".into());
        }
        let pages = bytes.len() / page_size;
        Ok(Database {
            bytes,
            page_size,
            usable: page_size - reserved,
            pages,
            overflow_budget: std::cell::Cell::new(0),
        })
    }

    /// The rows of `table`, each with the values of `columns` in that order (a column the table
    /// lacks, or a row written before it was added, gives `Null`); `None` when there is no such
    /// table.
    pub fn rows(&self, table: &str, columns: &[&str]) -> Result<Option<Vec<Vec<Cell>>>, String> {
        let schema = self.scan(1, &[0, 1, 3, 4])?;
        let Some(entry) = schema.into_iter().find(|row| {
            row[0].text() == Some("table")
                && row[1].text().is_some_and(|n| n.eq_ignore_ascii_case(table))
        }) else {
            return Ok(None);
        };
        let Cell::Integer(root) = entry[2] else {
            return Err(format!("the table {table} has no root page"));
        };
        let definition = entry[3].text().unwrap_or("");
        let names = column_names(definition);
        let mut wanted = Vec::new();
        let mut rowid_alias = Vec::new();
        for column in columns {
            let at = names
                .iter()
                .position(|(n, _)| n.eq_ignore_ascii_case(column));
            wanted.push(at);
            rowid_alias.push(at.is_some_and(|i| names[i].1));
        }
        let positions: Vec<usize> = wanted.iter().flatten().copied().collect();
        let root = usize::try_from(root).map_err(|_| "a root page out of range".to_string())?;
        let found = self.scan_with_rowid(root, &positions)?;
        Ok(Some(
            found
                .into_iter()
                .map(|(rowid, values)| {
                    let mut values = values.into_iter();
                    wanted
                        .iter()
                        .zip(&rowid_alias)
                        .map(|(at, alias)| match at {
                            None => Cell::Null,
                            Some(_) => match values.next().unwrap_or(Cell::Null) {
                                Cell::Null if *alias => Cell::Integer(rowid),
                                value => value,
                            },
                        })
                        .collect()
                })
                .collect(),
        ))
    }

    fn scan(&self, root: usize, positions: &[usize]) -> Result<Vec<Vec<Cell>>, String> {
        Ok(self
            .scan_with_rowid(root, positions)?
            .into_iter()
            .map(|(_, values)| values)
            .collect())
    }

    /// Every row of the table b-tree at `root`: its rowid and the values at `positions`.
    fn scan_with_rowid(
        &self,
        root: usize,
        positions: &[usize],
    ) -> Result<Vec<(i64, Vec<Cell>)>, String> {
        self.overflow_budget.set(2 * self.pages);
        let mut visited = vec![false; self.pages + 1];
        let mut stack = vec![root];
        let mut rows = Vec::new();
        while let Some(number) = stack.pop() {
            let page = self.page(number)?;
            if std::mem::replace(&mut visited[number], true) {
                return Err("the database's pages form a loop (damaged)".into());
            }
            let start = if number == 1 { 100 } else { 0 };
            let kind = *page.get(start).ok_or_else(truncated)?;
            let header = if kind == INTERIOR_TABLE { 12 } else { 8 };
            let count = be16(page, start + 3)? as usize;
            let pointers = start + header;
            if kind != LEAF_TABLE && kind != INTERIOR_TABLE {
                return Err(format!("page {number} is not a table page (damaged)"));
            }
            if kind == INTERIOR_TABLE {
                stack.push(be32(page, start + 8)? as usize);
            }
            for i in 0..count {
                let offset = be16(page, pointers + 2 * i)? as usize;
                let cell = page.get(offset..).ok_or_else(truncated)?;
                if kind == INTERIOR_TABLE {
                    stack.push(be32(cell, 0)? as usize);
                    continue;
                }
                let (payload_size, a) = varint(cell)?;
                let (rowid, b) = varint(&cell[a..])?;
                let payload = Payload::new(self, &cell[a + b..], payload_size)?;
                rows.push((rowid as i64, self.record(&payload, positions)?));
            }
        }
        // Leaves were pushed right to left: restore the table's rowid order.
        rows.sort_by_key(|(rowid, _)| *rowid);
        Ok(rows)
    }

    fn page(&self, number: usize) -> Result<&'a [u8], String> {
        if number == 0 || number > self.pages {
            return Err(format!(
                "a page number ({number}) outside the database (damaged or truncated)"
            ));
        }
        Ok(&self.bytes[(number - 1) * self.page_size..number * self.page_size])
    }

    /// The values at `positions` (ascending) of a record, reading its payload no further than
    /// the end of the last of them.
    fn record(&self, payload: &Payload<'_>, positions: &[usize]) -> Result<Vec<Cell>, String> {
        let (header_size, _) = varint(&payload.prefix(9.min(payload.size))?)?;
        let header_size = usize::try_from(header_size).map_err(|_| truncated())?;
        let header = payload.prefix(header_size)?;
        let mut types = Vec::new();
        let mut at = varint(&header)?.1;
        while at < header.len() {
            let (serial, n) = varint(&header[at..])?;
            types.push(serial);
            at += n;
        }
        let mut offsets = Vec::with_capacity(types.len());
        let mut offset = header_size;
        for serial in &types {
            offsets.push(offset);
            offset = offset
                .checked_add(content_length(*serial)?)
                .ok_or_else(truncated)?;
        }
        let Some(end) = positions
            .iter()
            .filter_map(|&p| Some(offsets.get(p)? + content_length(types[p]).ok()?))
            .max()
        else {
            return Ok(vec![Cell::Null; positions.len()]);
        };
        let body = payload.prefix(end)?;
        positions
            .iter()
            .map(|&p| match types.get(p) {
                None => Ok(Cell::Null),
                Some(&serial) => decode(serial, &body[offsets[p]..]),
            })
            .collect()
    }
}

/// A cell's payload: the part on its page, then the chain of overflow pages.
struct Payload<'d> {
    db: &'d Database<'d>,
    local: &'d [u8],
    first_overflow: Option<usize>,
    size: usize,
}

impl<'d> Payload<'d> {
    fn new(db: &'d Database<'d>, cell: &'d [u8], size: u64) -> Result<Self, String> {
        let size = usize::try_from(size).map_err(|_| truncated())?;
        let usable = db.usable;
        let max_local = usable - 35;
        let local_size = if size <= max_local {
            size
        } else {
            let min_local = (usable - 12) * 32 / 255 - 23;
            let k = min_local + (size - min_local) % (usable - 4);
            if k <= max_local {
                k
            } else {
                min_local
            }
        };
        // No payload is longer than its page and every overflow page could hold.
        if size > local_size + db.pages * (usable - 4) {
            return Err(truncated());
        }
        let local = cell.get(..local_size).ok_or_else(truncated)?;
        let first_overflow = if local_size < size {
            Some(be32(cell, local_size)? as usize)
        } else {
            None
        };
        Ok(Payload {
            db,
            local,
            first_overflow,
            size,
        })
    }

    /// The first `n` bytes of the payload, following overflow pages only as far as needed.
    fn prefix(&self, n: usize) -> Result<Cow<'d, [u8]>, String> {
        if n > self.size {
            return Err("a record is longer than its cell (damaged)".into());
        }
        if n <= self.local.len() {
            return Ok(Cow::Borrowed(&self.local[..n]));
        }
        let mut bytes = self.local.to_vec();
        let mut next = self.first_overflow;
        while bytes.len() < n {
            let number = next.ok_or_else(truncated)?;
            let budget = self.db.overflow_budget.get();
            if budget == 0 {
                return Err(
                    "the database's overflow pages are shared or form a loop (damaged)".into(),
                );
            }
            self.db.overflow_budget.set(budget - 1);
            let page = self.db.page(number)?;
            let content = &page[4..self.db.usable];
            let take = content.len().min(n - bytes.len());
            bytes.extend_from_slice(&content[..take]);
            next = Some(be32(page, 0)? as usize).filter(|&p| p != 0);
        }
        Ok(Cow::Owned(bytes))
    }
}

fn decode(serial: u64, bytes: &[u8]) -> Result<Cell, String> {
    let length = content_length(serial)?;
    let bytes = bytes.get(..length).ok_or_else(truncated)?;
    Ok(match serial {
        0 => Cell::Null,
        1..=6 => {
            let mut value: i64 = if bytes[0] & 0x80 != 0 { -1 } else { 0 };
            for byte in bytes {
                value = (value << 8) | i64::from(*byte);
            }
            Cell::Integer(value)
        }
        7 => {
            let mut b = [0u8; 8];
            b.copy_from_slice(bytes);
            Cell::Real(f64::from_be_bytes(b))
        }
        8 => Cell::Integer(0),
        9 => Cell::Integer(1),
        n if n >= 13 && n % 2 == 1 => Cell::Text(String::from_utf8_lossy(bytes).into_owned()),
        _ => Cell::Blob,
    })
}

/// How many bytes a value of a serial type takes in the record's body.
fn content_length(serial: u64) -> Result<usize, String> {
    Ok(match serial {
        0 | 8 | 9 => 0,
        1..=4 => serial as usize,
        5 => 6,
        6 | 7 => 8,
        10 | 11 => return Err("a record uses a reserved serial type (damaged)".into()),
        n => usize::try_from((n - 12) / 2).map_err(|_| truncated())?,
    })
}

/// SQLite's variable-length integer: 1 to 9 bytes, 7 bits each, all 8 of the ninth.
fn varint(bytes: &[u8]) -> Result<(u64, usize), String> {
    let mut value = 0u64;
    for (i, byte) in bytes.iter().take(9).enumerate() {
        if i == 8 {
            return Ok(((value << 8) | u64::from(*byte), 9));
        }
        value = (value << 7) | u64::from(byte & 0x7F);
        if byte & 0x80 == 0 {
            return Ok((value, i + 1));
        }
    }
    Err(truncated())
}

fn be16(bytes: &[u8], at: usize) -> Result<u16, String> {
    let b = bytes.get(at..at + 2).ok_or_else(truncated)?;
    Ok(u16::from_be_bytes([b[0], b[1]]))
}

fn be32(bytes: &[u8], at: usize) -> Result<u32, String> {
    let b = bytes.get(at..at + 4).ok_or_else(truncated)?;
    Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

fn truncated() -> String {
    "the database ends early or points past its end (truncated or damaged)".into()
}

/// The column names of a `CREATE TABLE` statement, in order, each with whether it is an alias
/// of the rowid (`INTEGER PRIMARY KEY`, stored as NULL in the record).
fn column_names(sql: &str) -> Vec<(String, bool)> {
    let (Some(open), Some(close)) = (sql.find('('), sql.rfind(')')) else {
        return Vec::new();
    };
    if close <= open {
        return Vec::new();
    }
    let mut definitions = Vec::new();
    let (mut depth, mut start) = (0usize, open + 1);
    for (i, c) in sql[..close].char_indices().skip_while(|(i, _)| *i <= open) {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                definitions.push(&sql[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    definitions.push(&sql[start..close]);
    definitions
        .into_iter()
        .filter_map(|definition| {
            let definition = definition.trim();
            let mut words = definition.split_whitespace();
            let name = words.next()?;
            let constraint = ["CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN"]
                .iter()
                .any(|k| name.eq_ignore_ascii_case(k));
            if constraint {
                return None;
            }
            let name = name.trim_matches(|c| matches!(c, '"' | '`' | '[' | ']' | '\''));
            let rest: Vec<String> = words.map(str::to_ascii_uppercase).collect();
            let alias = rest.first().is_some_and(|t| t == "INTEGER")
                && rest.windows(2).any(|w| w[0] == "PRIMARY" && w[1] == "KEY");
            Some((name.to_string(), alias))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A database made by the real sqlite3 (the command-line shell), or `None` where it is not
    /// installed: a skip, said on stderr, as the integration harness's `skip` does; under
    /// `CREDWATCH_TEST_STRICT=1` (scripts/test, which installs sqlite3) a failure, for sqlite3 is
    /// not among the tools a machine may lack (`CANNOT_RUN_HERE` in tests/integration/harness.rs).
    fn made_by_sqlite3(sql: &str) -> Option<Vec<u8>> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let status = match std::process::Command::new("sqlite3")
            .arg(&path)
            .arg(sql)
            .status()
        {
            Ok(status) => status,
            Err(e) => {
                let why = format!("sqlite3 could not run ({e}; scripts/test installs it)");
                assert!(
                    std::env::var_os("CREDWATCH_TEST_STRICT").is_none_or(|v| v != "1"),
                    "{why}: a skip here fails under CREDWATCH_TEST_STRICT=1"
                );
                eprintln!("skipped: {why}");
                return None;
            }
        };
        assert!(status.success());
        Some(std::fs::read(path).unwrap())
    }

    #[test]
    fn column_names_skip_constraints_and_see_rowid_aliases() {
        assert_eq!(
            column_names(
                r#"CREATE TABLE "t" (account_id TEXT PRIMARY KEY, value BLOB, CHECK (a > 1), PRIMARY KEY (x, y))"#
            ),
            vec![("account_id".into(), false), ("value".into(), false)]
        );
        assert_eq!(
            column_names("CREATE TABLE t (id integer primary key, [name] text)"),
            vec![("id".into(), true), ("name".into(), false)]
        );
    }

    #[test]
    fn rows_across_interior_and_overflow_pages_decode_as_sqlite_wrote_them() {
        // 600 rows of a 3 KiB blob each (overflow on 1 KiB pages, many levels of the b-tree),
        // a column added after the first rows.
        let Some(bytes) = made_by_sqlite3(
            "PRAGMA page_size=1024; CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, secret BLOB);
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 300)
             INSERT INTO t SELECT i, 'name-' || i, randomblob(3000) FROM n;
             ALTER TABLE t ADD COLUMN added REAL;
             WITH RECURSIVE n(i) AS (SELECT 301 UNION ALL SELECT i+1 FROM n WHERE i < 600)
             INSERT INTO t SELECT i, printf('%.2000c', 'x') || i, randomblob(10), i + 0.25 FROM n;",
        ) else {
            return;
        };
        let db = Database::open(&bytes).unwrap();
        let rows = db
            .rows("t", &["id", "name", "added", "missing"])
            .unwrap()
            .unwrap();
        assert_eq!(rows.len(), 600);
        assert_eq!(
            rows[0],
            vec![
                Cell::Integer(1),
                Cell::Text("name-1".into()),
                Cell::Null,
                Cell::Null
            ]
        );
        let last = &rows[599];
        assert_eq!(last[0], Cell::Integer(600));
        assert_eq!(last[1].text().unwrap().len(), 2003);
        assert_eq!(last[2], Cell::Real(600.25));
        assert!(db.rows("nope", &["id"]).unwrap().is_none());
    }

    #[test]
    fn damaged_databases_are_errors_never_panics() {
        let Some(bytes) = made_by_sqlite3(
            "PRAGMA page_size=512; CREATE TABLE t (a TEXT, b BLOB);
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 50)
             INSERT INTO t SELECT 'row' || i, randomblob(700) FROM n;",
        ) else {
            return;
        };
        for cut in (0..bytes.len()).step_by(97) {
            let _ = Database::open(&bytes[..cut]).and_then(|db| db.rows("t", &["a"]));
        }
        for at in (100..bytes.len()).step_by(13) {
            let mut damaged = bytes.clone();
            damaged[at] ^= 0xFF;
            let _ = Database::open(&damaged).and_then(|db| db.rows("t", &["a", "b"]));
        }
        // A page that points at itself is a loop, said so.
        let mut looped = bytes.clone();
        looped[100] = INTERIOR_TABLE;
        looped[100 + 3..100 + 5].copy_from_slice(&0u16.to_be_bytes());
        looped[100 + 8..100 + 12].copy_from_slice(&1u32.to_be_bytes());
        let error = Database::open(&looped)
            .unwrap()
            .rows("t", &["a"])
            .unwrap_err();
        assert!(error.contains("loop"), "{error}");
        assert!(Database::open(b"not a database at all, just some text to fill a header ......................................")
            .is_err());
    }
}
