//! The bytes of a result video: a tiny but well-formed MP4 (`ftyp`, `moov`
//! with an `mvhd`, `mdat`), labelled with its task and index so a test can
//! tell which file it downloaded.
//!
//! This module only builds bytes; it must not know about HTTP or tasks.

/// Builds an MP4 of a few hundred bytes whose `mdat` carries `label`.
pub(crate) fn tiny_mp4(label: &str) -> Vec<u8> {
    let mut ftyp = Vec::new();
    ftyp.extend_from_slice(b"isom"); // major brand
    ftyp.extend_from_slice(&0x200u32.to_be_bytes()); // minor version
    for brand in [b"isom", b"iso2", b"mp41"] {
        ftyp.extend_from_slice(brand); // compatible brands
    }

    let mut mvhd = Vec::new();
    mvhd.extend_from_slice(&0u32.to_be_bytes()); // version 0, flags
    mvhd.extend_from_slice(&0u32.to_be_bytes()); // creation time
    mvhd.extend_from_slice(&0u32.to_be_bytes()); // modification time
    mvhd.extend_from_slice(&1000u32.to_be_bytes()); // timescale: ms
    mvhd.extend_from_slice(&5000u32.to_be_bytes()); // duration: 5 s
    mvhd.extend_from_slice(&0x0001_0000u32.to_be_bytes()); // rate 1.0
    mvhd.extend_from_slice(&0x0100u16.to_be_bytes()); // volume 1.0
    mvhd.extend_from_slice(&[0; 10]); // reserved
    for value in [0x0001_0000u32, 0, 0, 0, 0x0001_0000, 0, 0, 0, 0x4000_0000] {
        mvhd.extend_from_slice(&value.to_be_bytes()); // unity matrix
    }
    mvhd.extend_from_slice(&[0; 24]); // pre-defined
    mvhd.extend_from_slice(&1u32.to_be_bytes()); // next track id

    let mut mp4 = boxed(b"ftyp", &ftyp);
    mp4.extend(boxed(b"moov", &boxed(b"mvhd", &mvhd)));
    mp4.extend(boxed(b"mdat", format!("vidspec-sim {label}").as_bytes()));
    mp4
}

/// An ISO-BMFF box: 32-bit size, four-character type, payload.
fn boxed(kind: &[u8; 4], payload: &[u8]) -> Vec<u8> {
    let size = u32::try_from(payload.len() + 8).unwrap_or(u32::MAX);
    let mut out = Vec::with_capacity(payload.len() + 8);
    out.extend_from_slice(&size.to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(payload);
    out
}

#[cfg(test)]
mod tests {
    use super::tiny_mp4;

    #[test]
    fn boxes_are_well_formed() {
        let mp4 = tiny_mp4("task_X/0");
        assert_eq!(&mp4[4..8], b"ftyp");
        assert_eq!(&mp4[8..12], b"isom");
        let mut offset = 0;
        let mut kinds = Vec::new();
        while offset < mp4.len() {
            let size = u32::from_be_bytes([
                mp4[offset],
                mp4[offset + 1],
                mp4[offset + 2],
                mp4[offset + 3],
            ]) as usize;
            kinds.push(String::from_utf8_lossy(&mp4[offset + 4..offset + 8]).into_owned());
            offset += size;
        }
        assert_eq!(offset, mp4.len());
        assert_eq!(kinds, ["ftyp", "moov", "mdat"]);
        assert_eq!(&mp4[40..44], b"mvhd");
        assert_eq!(
            u32::from_be_bytes([mp4[36], mp4[37], mp4[38], mp4[39]]),
            108
        );
    }
}
