//! The image sizes a HEIF/AVIF container claims, read in Rust from its `ispe` properties
//! (meta → iprp → ipco → ispe, ISO/IEC 23008-12 §6.5.3), so that a decompression bomb — a small
//! file whose header promises a huge picture — is refused before libheif or libavif sees a byte.
//! Only box headers are walked: sizes are checked against the data, depth is bounded, and
//! anything unreadable is simply not a claim (the decoder then says what is wrong).

/// One box: its type and payload.
struct Bx<'a> {
    kind: [u8; 4],
    body: &'a [u8],
}

/// The boxes laid end to end in `data` (stops at the first one that does not fit).
fn boxes(mut data: &[u8]) -> impl Iterator<Item = Bx<'_>> {
    std::iter::from_fn(move || {
        if data.len() < 8 {
            return None;
        }
        let size32 = u32::from_be_bytes(data[0..4].try_into().ok()?) as u64;
        let kind: [u8; 4] = data[4..8].try_into().ok()?;
        let (head, size) = match size32 {
            0 => (8, data.len() as u64),
            1 => {
                let big = u64::from_be_bytes(data.get(8..16)?.try_into().ok()?);
                (16, big)
            }
            n => (8, n),
        };
        if size < head as u64 || size > data.len() as u64 {
            data = &[];
            return None;
        }
        let (this, rest) = data.split_at(size as usize);
        data = rest;
        Some(Bx {
            kind,
            body: &this[head..],
        })
    })
}

/// The largest picture (width × height) any `ispe` of the file's `meta` claims, if any.
pub fn largest_claim(bytes: &[u8]) -> Option<(u32, u32)> {
    let meta = boxes(bytes).find(|b| &b.kind == b"meta")?;
    // `meta` is a full box: version and flags come first.
    let meta = meta.body.get(4..)?;
    let mut best: Option<(u32, u32)> = None;
    for iprp in boxes(meta).filter(|b| &b.kind == b"iprp") {
        for ipco in boxes(iprp.body).filter(|b| &b.kind == b"ipco") {
            for ispe in boxes(ipco.body).filter(|b| &b.kind == b"ispe") {
                let Some(p) = ispe.body.get(4..12) else {
                    continue;
                };
                let w = u32::from_be_bytes([p[0], p[1], p[2], p[3]]);
                let h = u32::from_be_bytes([p[4], p[5], p[6], p[7]]);
                if best.is_none_or(|(bw, bh)| w as u64 * h as u64 > bw as u64 * bh as u64) {
                    best = Some((w, h));
                }
            }
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bx(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut v = ((body.len() + 8) as u32).to_be_bytes().to_vec();
        v.extend_from_slice(kind);
        v.extend_from_slice(body);
        v
    }

    fn ispe(w: u32, h: u32) -> Vec<u8> {
        let mut b = vec![0; 4];
        b.extend_from_slice(&w.to_be_bytes());
        b.extend_from_slice(&h.to_be_bytes());
        bx(b"ispe", &b)
    }

    fn heif(props: &[Vec<u8>]) -> Vec<u8> {
        let ipco = bx(b"ipco", &props.concat());
        let iprp = bx(b"iprp", &ipco);
        let mut meta = vec![0; 4];
        meta.extend_from_slice(&bx(b"hdlr", &[0; 24]));
        meta.extend_from_slice(&iprp);
        [bx(b"ftyp", b"heic\0\0\0\0mif1heic"), bx(b"meta", &meta)].concat()
    }

    #[test]
    fn the_largest_claim_of_every_ispe() {
        let f = heif(&[
            ispe(512, 512),
            bx(b"hvcC", &[1; 30]),
            ispe(100_000, 100_000),
        ]);
        assert_eq!(largest_claim(&f), Some((100_000, 100_000)));
        assert_eq!(
            largest_claim(&heif(&[ispe(4032, 3024)])),
            Some((4032, 3024))
        );
    }

    #[test]
    fn nothing_readable_is_no_claim() {
        assert_eq!(largest_claim(b""), None);
        assert_eq!(largest_claim(&heif(&[])), None);
        // A box that says it is larger than the file, and one smaller than its own header.
        let mut f = heif(&[ispe(100_000, 100_000)]);
        let meta_at = f.windows(4).position(|w| w == b"meta").unwrap() - 4;
        f[meta_at..meta_at + 4].copy_from_slice(&u32::MAX.to_be_bytes());
        assert_eq!(largest_claim(&f), None);
        f[meta_at..meta_at + 4].copy_from_slice(&3u32.to_be_bytes());
        assert_eq!(largest_claim(&f), None);
        // A truncated ispe.
        let short = heif(&[bx(b"ispe", &[0, 0, 0, 0, 1])]);
        assert_eq!(largest_claim(&short), None);
    }
}
