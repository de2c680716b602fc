//! Reading binary formats made of fixed-width integers and length-prefixed strings (OpenSSH's
//! wire format, Kerberos credential caches).
//!
//! Guarantees: every read is checked against what is left, so a truncated or hostile input is an
//! error naming what was cut short, never a panic, an overflow or an allocation of a claimed
//! length; the bytes read are borrowed, never copied.

pub(super) struct Reader<'a> {
    pub rest: &'a [u8],
    pub big_endian: bool,
    /// What is read, for the error: "the credential cache".
    what: &'static str,
}

impl<'a> Reader<'a> {
    /// A big-endian reader of `bytes`.
    pub fn new(bytes: &'a [u8], what: &'static str) -> Self {
        Reader {
            rest: bytes,
            big_endian: true,
            what,
        }
    }

    pub fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        if self.rest.len() < n {
            return Err(format!("{} ends early (truncated)", self.what));
        }
        let (head, rest) = self.rest.split_at(n);
        self.rest = rest;
        Ok(head)
    }

    pub fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }

    pub fn u16(&mut self) -> Result<u16, String> {
        let mut b = [0u8; 2];
        b.copy_from_slice(self.take(2)?);
        Ok(if self.big_endian {
            u16::from_be_bytes(b)
        } else {
            u16::from_le_bytes(b)
        })
    }

    pub fn u32(&mut self) -> Result<u32, String> {
        let mut b = [0u8; 4];
        b.copy_from_slice(self.take(4)?);
        Ok(if self.big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    }

    pub fn u64(&mut self) -> Result<u64, String> {
        let mut b = [0u8; 8];
        b.copy_from_slice(self.take(8)?);
        Ok(if self.big_endian {
            u64::from_be_bytes(b)
        } else {
            u64::from_le_bytes(b)
        })
    }

    /// A string or blob: a u32 length, then that many bytes.
    pub fn data(&mut self) -> Result<&'a [u8], String> {
        let length = self.u32()? as usize;
        self.take(length)
    }
}
