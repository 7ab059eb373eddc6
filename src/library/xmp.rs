//! XMP face regions: read the MWG (`mwg-rs:Regions`) and Microsoft Photo (`MP:RegionInfo`) forms
//! from a sidecar or an embedded packet, write them into a sidecar without disturbing anything
//! else in it, and map normalised rectangles through the EXIF Orientation.
//!
//! Research and sources: `docs/research/xmp_regions.md`. In short: MWG gives the box CENTRE
//! (`stArea:x/y`) relative to the stored (un-rotated) pixels; MP gives the top-left corner in a
//! `"x, y, w, h"` string. Reading accepts every RDF/XML shape the common writers produce (element
//! form, `rdf:parseType="Resource"`, nested `rdf:Description`, attribute form, Bag/Seq/Alt).
//! Writing splices bytes: the old region properties are cut out and one new `rdf:Description` is
//! inserted before `</rdf:RDF>`, so every other byte of the sidecar stays as it was.
//!
//! Only std and roxmltree. Errors are a sentence; the caller adds the path.

use roxmltree::{Document, Node};
use std::ops::Range;

const RDF: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#";
const XML: &str = "http://www.w3.org/XML/1998/namespace";
const RS: &str = "http://www.metadataworkinggroup.com/schemas/regions/";
const AREA: &str = "http://ns.adobe.com/xmp/sType/Area#";
const DIM: &str = "http://ns.adobe.com/xap/1.0/sType/Dimensions#";
const MP: &str = "http://ns.microsoft.com/photo/1.2/";
const MPRI: &str = "http://ns.microsoft.com/photo/1.2/t/RegionInfo#";
const MPREG: &str = "http://ns.microsoft.com/photo/1.2/t/Region#";

/// MP's marker for a face the user chose to ignore (exiftool's convert_regions.config skips it).
const MP_IGNORED: &str = "ffffffffffffffff";

/// A new sidecar: the wrapper exiftool writes, with an empty `rdf:RDF` the regions go into.
const FRESH: &str = "<?xpacket begin=\"\u{feff}\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\n\
<x:xmpmeta xmlns:x=\"adobe:ns:meta/\" x:xmptk=\"Likeness\">\n \
<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\n \
</rdf:RDF>\n\
</x:xmpmeta>\n\
<?xpacket end=\"w\"?>\n";

/// A normalised rectangle, top-left x,y and width,height, all in 0..1 of the image.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NormRect {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
}

/// One face region.
#[derive(Debug, Clone, PartialEq)]
pub struct Region {
    /// Trimmed; None when absent or empty.
    pub name: Option<String>,
    /// Top-left form, in the frame the file uses (MWG: the stored pixels).
    pub rect: NormRect,
}

/// The face regions of one XMP packet.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Regions {
    /// MWG AppliedToDimensions (w, h) in pixels when present and unit is pixel (or unit absent).
    /// Always None for MP, which has no such field.
    pub applied_to: Option<(u32, u32)>,
    pub faces: Vec<Region>,
    /// "mwg" or "mp": where they were read from.
    pub source: &'static str,
}

// ---------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------

/// Face regions in one XMP packet (sidecar file or embedded packet bytes). MWG first; MP
/// (`MP:RegionInfo`) only when there is no MWG face region. Ok(None) when the packet has no face
/// regions (also for XML that is not XMP). Err when the bytes are not XML text.
///
/// MWG regions of Type `Face` or without Type are read (Pet, Focus, BarCode are skipped); the
/// area unit must be `normalized` or absent; the centre x,y is converted to top-left; a circle
/// (`d` without w/h) becomes a square w = h = d. MP regions named `ffffffffffffffff` are skipped.
/// Rectangles are clipped to 0..1; a region whose numbers are missing, unparseable, not finite,
/// or give an empty box is skipped without failing the rest.
pub fn parse(xmp: &[u8]) -> Result<Option<Regions>, String> {
    let (text, _) = decode(xmp).map_err(|e| format!("the XMP packet {e}"))?;
    parse_text(text.trim_end_matches('\0'))
}

fn parse_text(text: &str) -> Result<Option<Regions>, String> {
    let doc = Document::parse(text)
        .map_err(|e| format!("the XMP packet is not well-formed XML ({e})"))?;

    let mut applied_to = None;
    let mut mwg = Vec::new();
    for regions in top_properties(&doc, RS, "Regions") {
        if applied_to.is_none() {
            applied_to = child(regions, RS, "AppliedToDimensions").and_then(read_dimensions);
        }
        let Some(list) = child(regions, RS, "RegionList") else {
            continue;
        };
        mwg.extend(list_items(list).into_iter().filter_map(read_mwg_region));
    }
    if !mwg.is_empty() {
        return Ok(Some(Regions {
            applied_to,
            faces: mwg,
            source: "mwg",
        }));
    }

    let mut mp = Vec::new();
    for info in top_properties(&doc, MP, "RegionInfo") {
        let Some(list) = child(info, MPRI, "Regions") else {
            continue;
        };
        mp.extend(list_items(list).into_iter().filter_map(read_mp_region));
    }
    if !mp.is_empty() {
        return Ok(Some(Regions {
            applied_to: None,
            faces: mp,
            source: "mp",
        }));
    }
    Ok(None)
}

type N<'a, 'i> = Node<'a, 'i>;

fn elems<'a, 'i>(n: N<'a, 'i>) -> impl Iterator<Item = N<'a, 'i>> {
    n.children().filter(|c| c.is_element())
}

/// A top-level XMP property: a child of a node element (`rdf:Description`) that is a child of
/// `rdf:RDF`. Reading and writing both use exactly this set, so a write replaces what a read sees.
fn is_top_property(n: N) -> bool {
    n.parent_element().is_some_and(|d| {
        d.parent_element()
            .is_some_and(|r| r.has_tag_name((RDF, "RDF")))
    })
}

fn top_properties<'a, 'i>(
    doc: &'a Document<'i>,
    ns: &'a str,
    name: &'a str,
) -> impl Iterator<Item = N<'a, 'i>> + 'a {
    doc.descendants()
        .filter(move |n| n.has_tag_name((ns, name)) && is_top_property(*n))
}

/// The nodes that carry the fields of a struct value: the property element itself (its
/// attributes, or its children under `rdf:parseType="Resource"`) and any nested
/// `rdf:Description`, at any depth.
fn struct_nodes<'a, 'i>(n: N<'a, 'i>) -> Vec<N<'a, 'i>> {
    let mut out = vec![n];
    let mut i = 0;
    while i < out.len() {
        let cur = out[i];
        out.extend(elems(cur).filter(|c| c.has_tag_name((RDF, "Description"))));
        i += 1;
    }
    out
}

/// A struct field given as an element.
fn child<'a, 'i>(n: N<'a, 'i>, ns: &str, name: &str) -> Option<N<'a, 'i>> {
    struct_nodes(n)
        .into_iter()
        .find_map(|s| elems(s).find(|c| c.has_tag_name((ns, name))))
}

/// A simple struct field, given as an attribute or as an element; trimmed.
fn field(n: N, ns: &str, name: &str) -> Option<String> {
    field_at(n, ns, name, 0)
}

/// How deep `simple_value` follows `rdf:value`, nested descriptions and arrays. Real packets
/// nest a value two or three levels (a qualified value in a language alternative); a crafted
/// packet can nest a hundred thousand, and following it would overflow the stack and abort the
/// scan. Deeper than this is read as no value.
const MAX_VALUE_DEPTH: usize = 16;

fn field_at(n: N, ns: &str, name: &str, depth: usize) -> Option<String> {
    let nodes = struct_nodes(n);
    if let Some(v) = nodes.iter().find_map(|s| s.attribute((ns, name))) {
        return Some(v.trim().to_string());
    }
    nodes
        .iter()
        .find_map(|s| elems(*s).find(|c| c.has_tag_name((ns, name))))
        .and_then(|e| simple_value(e, depth))
}

/// The value of a simple property element: its text, or `rdf:resource`, or a qualified value
/// (`rdf:value`), or the x-default / first item of a language alternative or other array.
fn simple_value(e: N, depth: usize) -> Option<String> {
    if depth > MAX_VALUE_DEPTH {
        return None;
    }
    if let Some(v) = e
        .attribute((RDF, "resource"))
        .or_else(|| e.attribute((RDF, "value")))
    {
        return Some(v.trim().to_string());
    }
    let kids: Vec<N> = elems(e).collect();
    if kids.is_empty() {
        let s: String = e
            .children()
            .filter(|c| c.is_text())
            .filter_map(|c| c.text())
            .collect();
        return Some(s.trim().to_string());
    }
    for k in kids {
        if k.has_tag_name((RDF, "value")) {
            return simple_value(k, depth + 1);
        }
        if k.has_tag_name((RDF, "Description")) {
            if let Some(v) = field_at(k, RDF, "value", depth + 1) {
                return Some(v);
            }
        }
        if is_array(k) {
            let items: Vec<N> = elems(k).filter(|l| l.has_tag_name((RDF, "li"))).collect();
            let pick = items
                .iter()
                .find(|l| l.attribute((XML, "lang")) == Some("x-default"))
                .or(items.first());
            if let Some(li) = pick {
                return simple_value(*li, depth + 1);
            }
        }
    }
    None
}

fn is_array(n: N) -> bool {
    n.has_tag_name((RDF, "Bag")) || n.has_tag_name((RDF, "Seq")) || n.has_tag_name((RDF, "Alt"))
}

/// The `rdf:li` items of an array-valued property (Bag, Seq or Alt), in order.
fn list_items<'a, 'i>(prop: N<'a, 'i>) -> Vec<N<'a, 'i>> {
    struct_nodes(prop)
        .into_iter()
        .flat_map(elems)
        .filter(|c| is_array(*c))
        .flat_map(elems)
        .filter(|li| li.has_tag_name((RDF, "li")))
        .collect()
}

fn number(s: &str) -> Option<f64> {
    s.trim().parse::<f64>().ok().filter(|v| v.is_finite())
}

fn read_dimensions(d: N) -> Option<(u32, u32)> {
    if let Some(unit) = field(d, DIM, "unit") {
        if !unit.is_empty() && !unit.eq_ignore_ascii_case("pixel") {
            return None;
        }
    }
    let px = |k| {
        field(d, DIM, k)
            .and_then(|s| number(&s))
            .filter(|v| *v >= 0.5 && *v <= f64::from(u32::MAX))
            .map(|v| v.round() as u32)
    };
    Some((px("w")?, px("h")?))
}

fn clean_name(name: Option<String>) -> Option<String> {
    name.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

fn read_mwg_region(li: N) -> Option<Region> {
    if let Some(ty) = field(li, RS, "Type") {
        if !ty.is_empty() && !ty.eq_ignore_ascii_case("face") {
            return None;
        }
    }
    let area = child(li, RS, "Area")?;
    if let Some(unit) = field(area, AREA, "unit") {
        if !unit.is_empty() && !unit.eq_ignore_ascii_case("normalized") {
            return None;
        }
    }
    let num = |k| field(area, AREA, k).and_then(|s| number(&s));
    let (cx, cy) = (num("x")?, num("y")?);
    let (w, h) = match (num("w"), num("h")) {
        (Some(w), Some(h)) => (w, h),
        _ => {
            let d = num("d")?;
            (d, d)
        }
    };
    let rect = clip(NormRect {
        x: cx - w / 2.0,
        y: cy - h / 2.0,
        w,
        h,
    })?;
    Some(Region {
        name: clean_name(field(li, RS, "Name")),
        rect,
    })
}

fn read_mp_region(li: N) -> Option<Region> {
    let name = clean_name(field(li, MPREG, "PersonDisplayName"));
    if name
        .as_deref()
        .is_some_and(|n| n.eq_ignore_ascii_case(MP_IGNORED))
    {
        return None;
    }
    let rect = field(li, MPREG, "Rectangle")?;
    let nums: Vec<f64> = rect
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(number)
        .collect::<Option<_>>()?;
    let [x, y, w, h] = nums[..] else {
        return None;
    };
    Some(Region {
        name,
        rect: clip(NormRect { x, y, w, h })?,
    })
}

/// The part of `r` inside the unit square; None for NaN/infinite values or an empty box.
fn clip(r: NormRect) -> Option<NormRect> {
    if ![r.x, r.y, r.w, r.h].iter().all(|v| v.is_finite()) || r.w <= 0.0 || r.h <= 0.0 {
        return None;
    }
    // [a, a+len] clipped to 0..1; untouched (no rounding noise) when already inside.
    let side = |a: f64, len: f64| {
        let (lo, hi) = (a.clamp(0.0, 1.0), (a + len).clamp(0.0, 1.0));
        if lo == a && hi == a + len {
            (a, len)
        } else {
            (lo, hi - lo)
        }
    };
    let (x, w) = side(r.x, r.w);
    let (y, h) = side(r.y, r.h);
    (w > 0.0 && h > 0.0).then_some(NormRect { x, y, w, h })
}

// ---------------------------------------------------------------------------------------------
// Text encodings (XMP allows UTF-8, UTF-16 and UTF-32)
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq)]
enum Enc {
    Utf8 { bom: bool },
    Utf16 { be: bool, bom: bool },
    Utf32 { be: bool, bom: bool },
}

/// The packet as text (without any byte-order mark) and how it was encoded. The error is the
/// end of a sentence that starts with the thing's name.
fn decode(b: &[u8]) -> Result<(String, Enc), String> {
    let enc = if b.starts_with(&[0, 0, 0xFE, 0xFF]) {
        Enc::Utf32 {
            be: true,
            bom: true,
        }
    } else if b.starts_with(&[0xFF, 0xFE, 0, 0]) {
        Enc::Utf32 {
            be: false,
            bom: true,
        }
    } else if b.starts_with(&[0xEF, 0xBB, 0xBF]) {
        Enc::Utf8 { bom: true }
    } else if b.starts_with(&[0xFE, 0xFF]) {
        Enc::Utf16 {
            be: true,
            bom: true,
        }
    } else if b.starts_with(&[0xFF, 0xFE]) {
        Enc::Utf16 {
            be: false,
            bom: true,
        }
    } else if b.starts_with(&[0, 0, 0, b'<']) {
        Enc::Utf32 {
            be: true,
            bom: false,
        }
    } else if b.starts_with(&[b'<', 0, 0, 0]) {
        Enc::Utf32 {
            be: false,
            bom: false,
        }
    } else if b.starts_with(&[0, b'<']) {
        Enc::Utf16 {
            be: true,
            bom: false,
        }
    } else if b.starts_with(&[b'<', 0]) {
        Enc::Utf16 {
            be: false,
            bom: false,
        }
    } else {
        Enc::Utf8 { bom: false }
    };
    let bad = || "is neither UTF-8 nor UTF-16/32 text".to_string();
    let text = match enc {
        Enc::Utf8 { bom } => {
            let body = if bom { &b[3..] } else { b };
            std::str::from_utf8(body).map_err(|_| bad())?.to_string()
        }
        Enc::Utf16 { be, bom } => {
            let body = if bom { &b[2..] } else { b };
            if body.len() % 2 != 0 {
                return Err(bad());
            }
            let units = body.chunks_exact(2).map(|c| {
                if be {
                    u16::from_be_bytes([c[0], c[1]])
                } else {
                    u16::from_le_bytes([c[0], c[1]])
                }
            });
            char::decode_utf16(units)
                .collect::<Result<String, _>>()
                .map_err(|_| bad())?
        }
        Enc::Utf32 { be, bom } => {
            let body = if bom { &b[4..] } else { b };
            if body.len() % 4 != 0 {
                return Err(bad());
            }
            body.chunks_exact(4)
                .map(|c| {
                    let v = [c[0], c[1], c[2], c[3]];
                    char::from_u32(if be {
                        u32::from_be_bytes(v)
                    } else {
                        u32::from_le_bytes(v)
                    })
                })
                .collect::<Option<String>>()
                .ok_or_else(bad)?
        }
    };
    Ok((text, enc))
}

fn encode(text: &str, enc: Enc) -> Vec<u8> {
    match enc {
        Enc::Utf8 { bom } => {
            let mut out = Vec::with_capacity(text.len() + 3);
            if bom {
                out.extend_from_slice(&[0xEF, 0xBB, 0xBF]);
            }
            out.extend_from_slice(text.as_bytes());
            out
        }
        Enc::Utf16 { be, bom } => {
            let bom = bom.then_some(0xFEFF_u16);
            bom.into_iter()
                .chain(text.encode_utf16())
                .flat_map(|u| if be { u.to_be_bytes() } else { u.to_le_bytes() })
                .collect()
        }
        Enc::Utf32 { be, bom } => {
            let bom = bom.then_some(0xFEFF_u32);
            bom.into_iter()
                .chain(text.chars().map(u32::from))
                .flat_map(|u| if be { u.to_be_bytes() } else { u.to_le_bytes() })
                .collect()
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------

/// The bytes of a sidecar holding `faces` as MWG regions (and the same faces as an
/// `MP:RegionInfo` second copy, as digiKam does), with AppliedToDimensions = `applied_to`
/// (`stDim:unit` pixel; left out when either side is 0).
///
/// `existing`: the current sidecar bytes, if any. Every top-level `mwg-rs:Regions` and
/// `MP:RegionInfo` property in it is cut out; every other byte is kept (other namespaces,
/// comments, attributes, the xpacket wrapper, the text encoding). Cutting an element that sits
/// alone on its lines also cuts its indentation and line break, and an `rdf:Description` left
/// with nothing but those properties is cut whole. The new regions go into one new
/// `rdf:Description` just before `</rdf:RDF>`. With `existing` None or blank, a fresh packet is
/// written; when `existing` is not XMP this is an Err, so the caller never clobbers a file it
/// cannot read.
///
/// Faces are written clipped to 0..1; a face with non-finite numbers or an empty box is left out.
/// Names are trimmed and XML-escaped; characters XML cannot carry are dropped. With no faces,
/// the old regions are removed and nothing is inserted. The result is parsed again before it is
/// returned and must give back the same faces (within 1e-6).
pub fn write_sidecar(
    existing: Option<&[u8]>,
    faces: &[Region],
    applied_to: (u32, u32),
) -> Result<Vec<u8>, String> {
    let faces: Vec<Region> = faces
        .iter()
        .filter_map(|f| {
            Some(Region {
                name: clean_name(f.name.as_deref().map(xml_chars)),
                rect: clip(f.rect)?,
            })
        })
        .collect();
    let applied_to = (applied_to.0 > 0 && applied_to.1 > 0).then_some(applied_to);

    let (text, enc) = match existing {
        None => (FRESH.to_string(), Enc::Utf8 { bom: false }),
        Some(b) => {
            let (text, enc) =
                decode(b).map_err(|e| format!("the existing sidecar is not XMP: it {e}"))?;
            if text
                .trim_matches(|c: char| c.is_whitespace() || c == '\0' || c == '\u{feff}')
                .is_empty()
            {
                (FRESH.to_string(), Enc::Utf8 { bom: false })
            } else {
                (text, enc)
            }
        }
    };
    // Trailing NULs (padding some writers leave) are kept but not parsed.
    let body_len = text.trim_end_matches('\0').len();
    let mut out = splice(&text[..body_len], &faces, applied_to)?;
    out.push_str(&text[body_len..]);

    check_round_trip(&out, &faces, applied_to)?;
    Ok(encode(&out, enc))
}

fn is_region_property(n: N) -> bool {
    n.has_tag_name((RS, "Regions")) || n.has_tag_name((MP, "RegionInfo"))
}

fn splice(text: &str, faces: &[Region], applied_to: Option<(u32, u32)>) -> Result<String, String> {
    let doc = Document::parse(text).map_err(|e| {
        format!("the existing sidecar is not XMP: it is not well-formed XML ({e}); it was left as it is")
    })?;
    let rdfs: Vec<N> = doc
        .descendants()
        .filter(|n| n.has_tag_name((RDF, "RDF")))
        .collect();
    let Some(&rdf) = rdfs.first() else {
        return Err(
            "the existing sidecar is not XMP: it has no rdf:RDF element; it was left as it is"
                .to_string(),
        );
    };

    // What to cut: the region properties, or their whole rdf:Description when nothing else is
    // in it (so that rewriting again and again does not pile up empty Descriptions).
    let mut cuts: Vec<Range<usize>> = Vec::new();
    for node in rdfs.iter().flat_map(|r| elems(*r)) {
        let props: Vec<N> = elems(node).filter(|p| is_region_property(*p)).collect();
        if props.is_empty() {
            continue;
        }
        let only_regions = node.has_tag_name((RDF, "Description"))
            && node
                .attributes()
                .all(|a| a.namespace() == Some(RDF) && a.name() == "about")
            && node.children().all(|c| {
                (c.is_element() && is_region_property(c))
                    || (c.is_text() && c.text().is_some_and(|t| t.trim().is_empty()))
            });
        if only_regions {
            cuts.push(whole_lines(text, node.range()));
        } else {
            cuts.extend(props.iter().map(|p| whole_lines(text, p.range())));
        }
    }
    // An rdf:RDF nested inside a property that is cut gives cuts inside that cut: keep only the
    // outermost, or applying both would cut bytes twice (or past the end of the text).
    cuts.sort_by_key(|c| (c.start, std::cmp::Reverse(c.end)));
    let mut outer: Vec<Range<usize>> = Vec::with_capacity(cuts.len());
    for c in cuts {
        match outer.last_mut() {
            Some(last) if c.start < last.end => last.end = last.end.max(c.end),
            _ => outer.push(c),
        }
    }
    let cuts = outer;

    // Where to insert: before the closing tag of the first rdf:RDF, at the start of its line
    // when only indentation precedes it.
    let mut insert: Option<(Range<usize>, String)> = None;
    if !faces.is_empty() {
        let r = rdf.range();
        let inner = &text[r.clone()];
        let declare_rdf = rdf.lookup_namespace_uri(Some("rdf")) != Some(RDF);
        let child_indent = elems(rdf)
            .find_map(|c| line_indent(text, c.range().start))
            .map(str::to_string);
        if rdf.first_child().is_none() && inner.ends_with("/>") {
            // <rdf:RDF .../> : open it up.
            let qname: String = inner[1..]
                .chars()
                .take_while(|c| !c.is_whitespace() && *c != '/' && *c != '>')
                .collect();
            let close_indent = line_indent(text, r.start).unwrap_or("").to_string();
            let indent = child_indent.unwrap_or_else(|| format!("{close_indent} "));
            let block = region_block(faces, applied_to, &indent, declare_rdf);
            insert = Some((
                r.end - 2..r.end,
                format!(">\n{block}{close_indent}</{qname}>"),
            ));
        } else {
            let close = r.start
                + inner
                    .rfind("</")
                    .ok_or("the existing sidecar's rdf:RDF element has no closing tag")?;
            let (at, close_indent, newline) = match line_indent(text, close) {
                Some(ind) => (close - ind.len(), ind, ""),
                None => (close, "", "\n"),
            };
            let indent = child_indent.unwrap_or_else(|| format!("{close_indent} "));
            let block = region_block(faces, applied_to, &indent, declare_rdf);
            let tail = if newline.is_empty() { "" } else { close_indent };
            insert = Some((at..at, format!("{newline}{block}{tail}")));
        }
    }

    // Apply the edits from the end backwards so earlier positions stay valid. The cuts are
    // disjoint, and the insertion point is never inside one.
    // Keep Windows line ends Windows line ends.
    if text.contains("\r\n") {
        if let Some((_, s)) = &mut insert {
            *s = s.replace('\n', "\r\n");
        }
    }
    let mut edits: Vec<(Range<usize>, String)> =
        cuts.into_iter().map(|c| (c, String::new())).collect();
    edits.extend(insert);
    edits.sort_by_key(|(r, _)| std::cmp::Reverse((r.start, r.end)));
    let mut out = text.to_string();
    for (range, s) in edits {
        out.replace_range(range, &s);
    }
    Ok(out)
}

/// The indentation before `pos` when only spaces/tabs lie between the line start and `pos`.
fn line_indent(text: &str, pos: usize) -> Option<&str> {
    let start = text[..pos].rfind('\n').map_or(0, |i| i + 1);
    let ind = &text[start..pos];
    ind.chars().all(|c| c == ' ' || c == '\t').then_some(ind)
}

/// `r` widened to whole lines (indentation and the line break) when the element is alone on them.
fn whole_lines(text: &str, r: Range<usize>) -> Range<usize> {
    let Some(ind) = line_indent(text, r.start) else {
        return r;
    };
    let rest = &text[r.end..];
    let trailing = rest
        .find(|c: char| c != ' ' && c != '\t' && c != '\r')
        .unwrap_or(rest.len());
    match rest[trailing..].chars().next() {
        Some('\n') => r.start - ind.len()..r.end + trailing + 1,
        None => r.start - ind.len()..text.len(),
        Some(_) => r,
    }
}

/// The new `rdf:Description`, each line starting with `indent` and ending with a line break.
fn region_block(
    faces: &[Region],
    applied_to: Option<(u32, u32)>,
    indent: &str,
    declare_rdf: bool,
) -> String {
    let mut s = String::new();
    let mut line = |depth: usize, text: &str| {
        s.push_str(indent);
        s.push_str(&" ".repeat(depth));
        s.push_str(text);
        s.push('\n');
    };
    line(0, "<rdf:Description rdf:about=\"\"");
    if declare_rdf {
        line(1, &format!("xmlns:rdf=\"{RDF}\""));
    }
    line(1, &format!("xmlns:mwg-rs=\"{RS}\""));
    line(1, &format!("xmlns:stArea=\"{AREA}\""));
    line(1, &format!("xmlns:stDim=\"{DIM}\""));
    line(1, &format!("xmlns:MP=\"{MP}\""));
    line(1, &format!("xmlns:MPRI=\"{MPRI}\""));
    line(1, &format!("xmlns:MPReg=\"{MPREG}\">"));

    line(1, "<mwg-rs:Regions rdf:parseType=\"Resource\">");
    if let Some((w, h)) = applied_to {
        line(2, "<mwg-rs:AppliedToDimensions rdf:parseType=\"Resource\">");
        line(3, &format!("<stDim:w>{w}</stDim:w>"));
        line(3, &format!("<stDim:h>{h}</stDim:h>"));
        line(3, "<stDim:unit>pixel</stDim:unit>");
        line(2, "</mwg-rs:AppliedToDimensions>");
    }
    line(2, "<mwg-rs:RegionList>");
    line(3, "<rdf:Bag>");
    for f in faces {
        let r = f.rect;
        line(4, "<rdf:li rdf:parseType=\"Resource\">");
        line(5, "<mwg-rs:Area rdf:parseType=\"Resource\">");
        line(6, &format!("<stArea:x>{}</stArea:x>", num(r.x + r.w / 2.0)));
        line(6, &format!("<stArea:y>{}</stArea:y>", num(r.y + r.h / 2.0)));
        line(6, &format!("<stArea:w>{}</stArea:w>", num(r.w)));
        line(6, &format!("<stArea:h>{}</stArea:h>", num(r.h)));
        line(6, "<stArea:unit>normalized</stArea:unit>");
        line(5, "</mwg-rs:Area>");
        if let Some(name) = &f.name {
            line(5, &format!("<mwg-rs:Name>{}</mwg-rs:Name>", escape(name)));
        }
        line(5, "<mwg-rs:Type>Face</mwg-rs:Type>");
        line(4, "</rdf:li>");
    }
    line(3, "</rdf:Bag>");
    line(2, "</mwg-rs:RegionList>");
    line(1, "</mwg-rs:Regions>");

    line(1, "<MP:RegionInfo rdf:parseType=\"Resource\">");
    line(2, "<MPRI:Regions>");
    line(3, "<rdf:Bag>");
    for f in faces {
        let r = f.rect;
        line(4, "<rdf:li rdf:parseType=\"Resource\">");
        if let Some(name) = &f.name {
            let name = escape(name);
            line(
                5,
                &format!("<MPReg:PersonDisplayName>{name}</MPReg:PersonDisplayName>"),
            );
        }
        let rect = format!("{}, {}, {}, {}", num(r.x), num(r.y), num(r.w), num(r.h));
        line(5, &format!("<MPReg:Rectangle>{rect}</MPReg:Rectangle>"));
        line(4, "</rdf:li>");
    }
    line(3, "</rdf:Bag>");
    line(2, "</MPRI:Regions>");
    line(1, "</MP:RegionInfo>");
    line(0, "</rdf:Description>");
    s
}

/// A normalised number: 8 decimals (1e-8 of the image), trailing zeros dropped.
fn num(v: f64) -> String {
    let s = format!("{v:.8}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".to_string()
    } else {
        s.to_string()
    }
}

/// Only the characters XML 1.0 can carry.
fn xml_chars(s: &str) -> String {
    s.chars()
        .filter(|&c| {
            matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}')
                || c >= '\u{10000}'
        })
        .collect()
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
    out
}

fn check_round_trip(
    out: &str,
    faces: &[Region],
    applied_to: Option<(u32, u32)>,
) -> Result<(), String> {
    let fail = |what: &str| {
        Err(format!(
            "the regions written to the sidecar did not read back the same ({what}); nothing was written"
        ))
    };
    let back = match parse_text(out.trim_end_matches('\0')) {
        Ok(b) => b,
        Err(_) => return fail("not well-formed"),
    };
    match back {
        None if faces.is_empty() => Ok(()),
        None => fail("no regions"),
        Some(_) if faces.is_empty() => fail("regions left over"),
        Some(b) => {
            let same = b.source == "mwg"
                && b.applied_to == applied_to
                && b.faces.len() == faces.len()
                && b.faces.iter().zip(faces).all(|(a, f)| {
                    a.name == f.name
                        && (a.rect.x - f.rect.x).abs() < 1e-6
                        && (a.rect.y - f.rect.y).abs() < 1e-6
                        && (a.rect.w - f.rect.w).abs() < 1e-6
                        && (a.rect.h - f.rect.h).abs() < 1e-6
                });
            if same {
                Ok(())
            } else {
                fail("different faces")
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Orientation and geometry
// ---------------------------------------------------------------------------------------------

/// EXIF orientation (1..=8; other values act as 1): a rect relative to the stored pixels →
/// relative to the displayed (oriented) image, as `image::DynamicImage::apply_orientation` turns
/// the pixels. 2 mirror horizontal, 3 rotate 180, 4 mirror vertical, 5 transpose, 6 rotate 90 CW,
/// 7 transverse, 8 rotate 270 CW. Width and height swap for 5..=8.
pub fn stored_to_display(r: NormRect, orientation: u8) -> NormRect {
    // [a, a+len] under t -> 1 - t.
    let flip = |a: f64, len: f64| 1.0 - a - len;
    let NormRect { x, y, w, h } = r;
    let (x, y, w, h) = match orientation {
        2 => (flip(x, w), y, w, h),
        3 => (flip(x, w), flip(y, h), w, h),
        4 => (x, flip(y, h), w, h),
        5 => (y, x, h, w),
        6 => (flip(y, h), x, h, w),
        7 => (flip(y, h), flip(x, w), h, w),
        8 => (y, flip(x, w), h, w),
        _ => (x, y, w, h),
    };
    NormRect { x, y, w, h }
}

/// The inverse of [`stored_to_display`]: a rect relative to the displayed image → relative to
/// the stored pixels. 6 and 8 undo each other; every other orientation is its own inverse.
pub fn display_to_stored(r: NormRect, orientation: u8) -> NormRect {
    let inverse = match orientation {
        6 => 8,
        8 => 6,
        o => o,
    };
    stored_to_display(r, inverse)
}

/// Intersection over union of two rectangles; 0 when they do not overlap or are empty.
pub fn iou(a: NormRect, b: NormRect) -> f64 {
    if ![a.x, a.y, a.w, a.h, b.x, b.y, b.w, b.h]
        .iter()
        .all(|v| v.is_finite())
    {
        return 0.0;
    }
    let ix = ((a.x + a.w).min(b.x + b.w) - a.x.max(b.x)).max(0.0);
    let iy = ((a.y + a.h).min(b.y + b.h) - a.y.max(b.y)).max(0.0);
    let inter = ix * iy;
    let union = a.w.max(0.0) * a.h.max(0.0) + b.w.max(0.0) * b.h.max(0.0) - inter;
    if union > 0.0 {
        inter / union
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Research doc §1.3: exiftool's element form (the `begin=` value holds a U+FEFF).
    const EXIFTOOL_ELEMENT: &str = "<?xpacket begin='\u{feff}' id='W5M0MpCehiHzreSzNTczkc9d'?>
<x:xmpmeta xmlns:x='adobe:ns:meta/'>
<rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'>
 <rdf:Description rdf:about=''
  xmlns:mwg-rs='http://www.metadataworkinggroup.com/schemas/regions/'
  xmlns:stArea='http://ns.adobe.com/xmp/sType/Area#'
  xmlns:stDim='http://ns.adobe.com/xap/1.0/sType/Dimensions#'>
  <mwg-rs:Regions rdf:parseType='Resource'>
   <mwg-rs:AppliedToDimensions rdf:parseType='Resource'><stDim:h>512</stDim:h><stDim:unit>pixel</stDim:unit>
    <stDim:w>512</stDim:w></mwg-rs:AppliedToDimensions>
   <mwg-rs:RegionList><rdf:Bag>
     <rdf:li rdf:parseType='Resource'>
      <mwg-rs:Area rdf:parseType='Resource'><stArea:h>0.2</stArea:h><stArea:unit>normalized</stArea:unit>
       <stArea:w>0.15</stArea:w><stArea:x>0.3</stArea:x><stArea:y>0.4</stArea:y></mwg-rs:Area>
      <mwg-rs:Name>Alice Example</mwg-rs:Name><mwg-rs:Type>Face</mwg-rs:Type>
     </rdf:li>
     <rdf:li rdf:parseType='Resource'>
      <mwg-rs:Area rdf:parseType='Resource'><stArea:h>0.18</stArea:h><stArea:unit>normalized</stArea:unit>
       <stArea:w>0.12</stArea:w><stArea:x>0.7</stArea:x><stArea:y>0.45</stArea:y></mwg-rs:Area>
      <mwg-rs:Description>left of Alice</mwg-rs:Description>
      <mwg-rs:Name>Bob Example</mwg-rs:Name><mwg-rs:Type>Face</mwg-rs:Type>
     </rdf:li>
   </rdf:Bag></mwg-rs:RegionList>
  </mwg-rs:Regions>
 </rdf:Description>
</rdf:RDF>
</x:xmpmeta>
<?xpacket end='w'?>";

    /// Research doc §1.3, second block (exiv2 / Adobe toolkit attribute form), in a packet.
    const EXIV2_ATTRIBUTES: &str = r#"<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="XMP Core 4.4.0-Exiv2">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:mwg-rs="http://www.metadataworkinggroup.com/schemas/regions/"
    xmlns:stDim="http://ns.adobe.com/xap/1.0/sType/Dimensions#"
    xmlns:stArea="http://ns.adobe.com/xmp/sType/Area#">
   <mwg-rs:Regions rdf:parseType="Resource">
    <mwg-rs:AppliedToDimensions stDim:w="1600" stDim:h="800" stDim:unit="pixel"/>
    <mwg-rs:RegionList><rdf:Bag><rdf:li>
      <rdf:Description mwg-rs:Name="Baby Gnu" mwg-rs:Type="Face">
       <mwg-rs:Area stArea:x="0.275312" stArea:y="0.3775" stArea:w="0.164375" stArea:h="0.28125" stArea:unit="normalized"/>
      </rdf:Description>
    </rdf:li></rdf:Bag></mwg-rs:RegionList>
   </mwg-rs:Regions>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>"#;

    /// Research doc §2: exiftool's MP output.
    const MP_ELEMENT: &str = "<x:xmpmeta xmlns:x='adobe:ns:meta/'>
<rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'>
<rdf:Description rdf:about='' xmlns:MP='http://ns.microsoft.com/photo/1.2/'
  xmlns:MPRI='http://ns.microsoft.com/photo/1.2/t/RegionInfo#' xmlns:MPReg='http://ns.microsoft.com/photo/1.2/t/Region#'>
 <MP:RegionInfo rdf:parseType='Resource'><MPRI:Regions><rdf:Bag>
   <rdf:li rdf:parseType='Resource'>
    <MPReg:PersonDisplayName>Alice Example</MPReg:PersonDisplayName><MPReg:Rectangle>0.225, 0.3, 0.15, 0.2</MPReg:Rectangle>
   </rdf:li>
 </rdf:Bag></MPRI:Regions></MP:RegionInfo>
</rdf:Description>
</rdf:RDF>
</x:xmpmeta>";

    const NS: &str = r#"xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
  xmlns:mwg-rs="http://www.metadataworkinggroup.com/schemas/regions/"
  xmlns:stDim="http://ns.adobe.com/xap/1.0/sType/Dimensions#"
  xmlns:stArea="http://ns.adobe.com/xmp/sType/Area#"
  xmlns:MP="http://ns.microsoft.com/photo/1.2/"
  xmlns:MPRI="http://ns.microsoft.com/photo/1.2/t/RegionInfo#"
  xmlns:MPReg="http://ns.microsoft.com/photo/1.2/t/Region#""#;

    /// A bare rdf:RDF (no wrapper) with one Description holding `body`.
    fn bare(body: &str) -> String {
        format!("<rdf:RDF {NS}>\n<rdf:Description rdf:about=\"\">\n{body}\n</rdf:Description>\n</rdf:RDF>\n")
    }

    /// An MWG element-form region list item.
    fn mwg_li(area: &str, rest: &str) -> String {
        format!(
            "<rdf:li rdf:parseType=\"Resource\"><mwg-rs:Area rdf:parseType=\"Resource\">{area}</mwg-rs:Area>{rest}</rdf:li>"
        )
    }

    fn mwg_regions(items: &[String]) -> String {
        format!(
            "<mwg-rs:Regions rdf:parseType=\"Resource\"><mwg-rs:RegionList><rdf:Bag>{}</rdf:Bag></mwg-rs:RegionList></mwg-rs:Regions>",
            items.concat()
        )
    }

    fn area(x: &str, y: &str, w: &str, h: &str) -> String {
        format!(
            "<stArea:x>{x}</stArea:x><stArea:y>{y}</stArea:y><stArea:w>{w}</stArea:w><stArea:h>{h}</stArea:h><stArea:unit>normalized</stArea:unit>"
        )
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    fn rect_close(a: NormRect, b: NormRect, tol: f64) -> bool {
        (a.x - b.x).abs() < tol
            && (a.y - b.y).abs() < tol
            && (a.w - b.w).abs() < tol
            && (a.h - b.h).abs() < tol
    }

    fn r(x: f64, y: f64, w: f64, h: f64) -> NormRect {
        NormRect { x, y, w, h }
    }

    fn face(name: Option<&str>, rect: NormRect) -> Region {
        Region {
            name: name.map(str::to_string),
            rect,
        }
    }

    fn parse_str(s: &str) -> Regions {
        parse(s.as_bytes()).unwrap().expect("regions")
    }

    fn names(r: &Regions) -> Vec<Option<&str>> {
        r.faces.iter().map(|f| f.name.as_deref()).collect()
    }

    // ---- parse ----

    #[test]
    fn exiftool_element_form() {
        let r = parse_str(EXIFTOOL_ELEMENT);
        assert_eq!(r.source, "mwg");
        assert_eq!(r.applied_to, Some((512, 512)));
        assert_eq!(names(&r), [Some("Alice Example"), Some("Bob Example")]);
        let a = r.faces[0].rect;
        assert!(close(a.x, 0.3 - 0.075) && close(a.y, 0.4 - 0.1), "{a:?}");
        assert!(close(a.w, 0.15) && close(a.h, 0.2), "{a:?}");
        let b = r.faces[1].rect;
        assert!(close(b.x, 0.7 - 0.06) && close(b.y, 0.45 - 0.09), "{b:?}");
        assert!(close(b.w, 0.12) && close(b.h, 0.18), "{b:?}");
    }

    #[test]
    fn exiv2_attribute_form() {
        let r = parse_str(EXIV2_ATTRIBUTES);
        assert_eq!(r.source, "mwg");
        assert_eq!(r.applied_to, Some((1600, 800)));
        assert_eq!(names(&r), [Some("Baby Gnu")]);
        let a = r.faces[0].rect;
        assert!(close(a.x, 0.275312 - 0.164375 / 2.0), "{a:?}");
        assert!(close(a.y, 0.3775 - 0.28125 / 2.0), "{a:?}");
        assert!(close(a.w, 0.164375) && close(a.h, 0.28125), "{a:?}");
    }

    #[test]
    fn attributes_on_li_and_area_and_nested_descriptions() {
        // Attributes straight on rdf:li, a nested Description inside Area, a Seq, Name given as
        // a language alternative, and Type as an attribute on a Description inside a Description.
        let body = r#"<mwg-rs:Regions><rdf:Description>
 <mwg-rs:AppliedToDimensions><rdf:Description stDim:w="4000" stDim:h="3000"/></mwg-rs:AppliedToDimensions>
 <mwg-rs:RegionList><rdf:Seq>
  <rdf:li mwg-rs:Name=" Carol " mwg-rs:Type="Face"><mwg-rs:Area stArea:x="0.5" stArea:y="0.5" stArea:w="0.2" stArea:h="0.4"/></rdf:li>
  <rdf:li><rdf:Description><rdf:Description mwg-rs:Type="Face"/>
   <mwg-rs:Area><rdf:Description stArea:x="0.25" stArea:unit="normalized"><stArea:y>0.25</stArea:y><stArea:w>0.1</stArea:w><stArea:h>0.1</stArea:h></rdf:Description></mwg-rs:Area>
   <mwg-rs:Name><rdf:Alt><rdf:li xml:lang="de">Dora DE</rdf:li><rdf:li xml:lang="x-default">Dora</rdf:li></rdf:Alt></mwg-rs:Name>
  </rdf:Description></rdf:li>
 </rdf:Seq></mwg-rs:RegionList>
</rdf:Description></mwg-rs:Regions>"#;
        let r = parse_str(&bare(body));
        assert_eq!(r.applied_to, Some((4000, 3000)));
        assert_eq!(names(&r), [Some("Carol"), Some("Dora")]);
        assert!(rect_close(
            r.faces[0].rect,
            self::r(0.4, 0.3, 0.2, 0.4),
            1e-12
        ));
        assert!(rect_close(
            r.faces[1].rect,
            self::r(0.2, 0.2, 0.1, 0.1),
            1e-12
        ));
    }

    #[test]
    fn several_descriptions_and_no_wrapper() {
        // Regions in the second of two Descriptions; the first holds something else.
        let xml = format!(
            "<rdf:RDF {NS}><rdf:Description rdf:about=\"\" xmlns:xmp=\"http://ns.adobe.com/xap/1.0/\" xmp:Rating=\"3\"/>\
             <rdf:Description rdf:about=\"\">{}</rdf:Description></rdf:RDF>",
            mwg_regions(&[mwg_li(&area("0.5", "0.5", "0.2", "0.2"), "<mwg-rs:Name>E</mwg-rs:Name>")])
        );
        let r = parse_str(&xml);
        assert_eq!(names(&r), [Some("E")]);
        assert_eq!(r.applied_to, None);
    }

    #[test]
    fn mp_element_form() {
        let r = parse_str(MP_ELEMENT);
        assert_eq!(r.source, "mp");
        assert_eq!(r.applied_to, None);
        assert_eq!(names(&r), [Some("Alice Example")]);
        assert!(rect_close(
            r.faces[0].rect,
            self::r(0.225, 0.3, 0.15, 0.2),
            1e-12
        ));
    }

    #[test]
    fn mp_exiv2_attributes_on_li() {
        let body = r#"<MP:RegionInfo rdf:parseType="Resource"><MPRI:Regions><rdf:Bag>
 <rdf:li MPReg:Rectangle="0.11, 0.22, 0.33, 0.44" MPReg:PersonDisplayName="Baby Gnu"/>
 <rdf:li MPReg:Rectangle="0.5,0.5,0.1,0.1"/>
 <rdf:li MPReg:Rectangle="0.1, 0.1, 0.1, 0.1" MPReg:PersonDisplayName="ffffffffffffffff"/>
 <rdf:li MPReg:Rectangle="0.1, 0.1, 0.1" MPReg:PersonDisplayName="three numbers"/>
 <rdf:li MPReg:Rectangle="0.1, x, 0.1, 0.1" MPReg:PersonDisplayName="not a number"/>
 <rdf:li MPReg:PersonDisplayName="no rectangle"/>
</rdf:Bag></MPRI:Regions></MP:RegionInfo>"#;
        let r = parse_str(&bare(body));
        assert_eq!(r.source, "mp");
        assert_eq!(names(&r), [Some("Baby Gnu"), None]);
        assert!(rect_close(
            r.faces[0].rect,
            self::r(0.11, 0.22, 0.33, 0.44),
            1e-12
        ));
        assert!(rect_close(
            r.faces[1].rect,
            self::r(0.5, 0.5, 0.1, 0.1),
            1e-12
        ));
    }

    #[test]
    fn mwg_wins_over_mp() {
        let body = format!(
            "{}\n<MP:RegionInfo rdf:parseType=\"Resource\"><MPRI:Regions><rdf:Bag>\
             <rdf:li MPReg:Rectangle=\"0.1, 0.1, 0.1, 0.1\" MPReg:PersonDisplayName=\"From MP\"/>\
             </rdf:Bag></MPRI:Regions></MP:RegionInfo>",
            mwg_regions(&[mwg_li(
                &area("0.5", "0.5", "0.2", "0.2"),
                "<mwg-rs:Name>From MWG</mwg-rs:Name>"
            )])
        );
        let r = parse_str(&bare(&body));
        assert_eq!(r.source, "mwg");
        assert_eq!(names(&r), [Some("From MWG")]);
    }

    #[test]
    fn mp_used_when_mwg_has_no_face() {
        // MWG holds only a Focus region: MP is read instead.
        let body = format!(
            "{}\n<MP:RegionInfo rdf:parseType=\"Resource\"><MPRI:Regions><rdf:Bag>\
             <rdf:li MPReg:Rectangle=\"0.1, 0.1, 0.1, 0.1\" MPReg:PersonDisplayName=\"From MP\"/>\
             </rdf:Bag></MPRI:Regions></MP:RegionInfo>",
            mwg_regions(&[mwg_li(
                &area("0.5", "0.5", "0.2", "0.2"),
                "<mwg-rs:Type>Focus</mwg-rs:Type>"
            )])
        );
        let r = parse_str(&bare(&body));
        assert_eq!(r.source, "mp");
        assert_eq!(names(&r), [Some("From MP")]);
    }

    #[test]
    fn types_names_and_bad_entries() {
        let a = area("0.5", "0.5", "0.2", "0.2");
        let items = [
            mwg_li(&a, "<mwg-rs:Type>Focus</mwg-rs:Type><mwg-rs:Name>focus</mwg-rs:Name>"),
            mwg_li(&a, "<mwg-rs:Type>Pet</mwg-rs:Type><mwg-rs:Name>pet</mwg-rs:Name>"),
            mwg_li(&a, "<mwg-rs:Type>BarCode</mwg-rs:Type>"),
            mwg_li(&a, "<mwg-rs:Type>Face</mwg-rs:Type>"),               // no name
            mwg_li(&a, "<mwg-rs:Name>   </mwg-rs:Name>"),                // blank name, no type
            mwg_li(&area("0.5", "abc", "0.2", "0.2"), "<mwg-rs:Name>bad y</mwg-rs:Name>"),
            mwg_li(&area("NaN", "0.5", "0.2", "0.2"), "<mwg-rs:Name>nan</mwg-rs:Name>"),
            mwg_li(&area("0.5", "0.5", "inf", "0.2"), "<mwg-rs:Name>inf</mwg-rs:Name>"),
            mwg_li(&area("0.5", "0.5", "0", "0.2"), "<mwg-rs:Name>zero w</mwg-rs:Name>"),
            mwg_li(&area("0.5", "0.5", "0.2", "-0.1"), "<mwg-rs:Name>negative h</mwg-rs:Name>"),
            mwg_li(&area("1.5", "0.5", "0.2", "0.2"), "<mwg-rs:Name>outside</mwg-rs:Name>"),
            mwg_li("<stArea:x>0.5</stArea:x><stArea:y>0.5</stArea:y>", "<mwg-rs:Name>point</mwg-rs:Name>"),
            mwg_li(
                "<stArea:x>0.5</stArea:x><stArea:y>0.5</stArea:y><stArea:w>0.1</stArea:w><stArea:h>0.1</stArea:h><stArea:unit>pixel</stArea:unit>",
                "<mwg-rs:Name>pixel unit</mwg-rs:Name>",
            ),
            "<rdf:li rdf:parseType=\"Resource\"><mwg-rs:Name>no area</mwg-rs:Name></rdf:li>".to_string(),
            // Clipped at the edge: centre 0.95, w 0.2 -> 0.85..1.0.
            mwg_li(&area("0.95", "0.5", "0.2", "0.2"), "<mwg-rs:Name>clipped</mwg-rs:Name>"),
            // A circle: w = h = d.
            mwg_li(
                "<stArea:x>0.5</stArea:x><stArea:y>0.5</stArea:y><stArea:d>0.2</stArea:d>",
                "<mwg-rs:Name>circle</mwg-rs:Name>",
            ),
            // Numbers with spaces and exponent.
            mwg_li(&area(" 0.5 ", "5e-1", "0.2", "0.2"), "<mwg-rs:Name>Jos&#233; &amp; co</mwg-rs:Name>"),
        ];
        let r = parse_str(&bare(&mwg_regions(&items)));
        assert_eq!(
            names(&r),
            [
                None,
                None,
                Some("clipped"),
                Some("circle"),
                Some("José & co")
            ]
        );
        assert!(rect_close(
            r.faces[0].rect,
            self::r(0.4, 0.4, 0.2, 0.2),
            1e-12
        ));
        assert!(rect_close(
            r.faces[2].rect,
            self::r(0.85, 0.4, 0.15, 0.2),
            1e-12
        ));
        assert!(rect_close(
            r.faces[3].rect,
            self::r(0.4, 0.4, 0.2, 0.2),
            1e-12
        ));
        assert!(rect_close(
            r.faces[4].rect,
            self::r(0.4, 0.4, 0.2, 0.2),
            1e-12
        ));
    }

    #[test]
    fn applied_to_needs_pixel_unit() {
        let regions = |dims: &str| {
            format!(
                "<mwg-rs:Regions rdf:parseType=\"Resource\">{dims}<mwg-rs:RegionList><rdf:Bag>{}</rdf:Bag></mwg-rs:RegionList></mwg-rs:Regions>",
                mwg_li(&area("0.5", "0.5", "0.2", "0.2"), "")
            )
        };
        let get = |dims: &str| parse_str(&bare(&regions(dims))).applied_to;
        assert_eq!(
            get("<mwg-rs:AppliedToDimensions stDim:w=\"640\" stDim:h=\"480\"/>"),
            Some((640, 480))
        );
        assert_eq!(get("<mwg-rs:AppliedToDimensions stDim:w=\"640.0\" stDim:h=\"480\" stDim:unit=\"pixel\"/>"), Some((640, 480)));
        assert_eq!(
            get(
                "<mwg-rs:AppliedToDimensions stDim:w=\"6.4\" stDim:h=\"4.8\" stDim:unit=\"inch\"/>"
            ),
            None
        );
        assert_eq!(get("<mwg-rs:AppliedToDimensions stDim:w=\"640\"/>"), None);
        assert_eq!(
            get("<mwg-rs:AppliedToDimensions stDim:w=\"0\" stDim:h=\"480\"/>"),
            None
        );
        assert_eq!(get(""), None);
    }

    #[test]
    fn nested_regions_are_not_top_level() {
        // A Regions struct buried in some other property is not the image's regions.
        let body = format!(
            "<my:History xmlns:my=\"http://example.com/my/\" rdf:parseType=\"Resource\">{}</my:History>",
            mwg_regions(&[mwg_li(&area("0.5", "0.5", "0.2", "0.2"), "")])
        );
        assert_eq!(parse(bare(&body).as_bytes()).unwrap(), None);
    }

    fn utf16(s: &str, be: bool) -> Vec<u8> {
        encode(s, Enc::Utf16 { be, bom: true })
    }

    #[test]
    fn utf16_and_utf32_and_bom() {
        let want = parse_str(EXIFTOOL_ELEMENT);
        assert_eq!(
            parse(&utf16(EXIFTOOL_ELEMENT, false)).unwrap(),
            Some(want.clone())
        );
        assert_eq!(
            parse(&utf16(EXIFTOOL_ELEMENT, true)).unwrap(),
            Some(want.clone())
        );
        let no_bom = encode(
            EXIFTOOL_ELEMENT,
            Enc::Utf16 {
                be: false,
                bom: false,
            },
        );
        assert_eq!(parse(&no_bom).unwrap(), Some(want.clone()));
        let u32le = encode(
            EXIFTOOL_ELEMENT,
            Enc::Utf32 {
                be: false,
                bom: true,
            },
        );
        assert_eq!(parse(&u32le).unwrap(), Some(want.clone()));
        let mut bom8 = vec![0xEF, 0xBB, 0xBF];
        bom8.extend_from_slice(EXIFTOOL_ELEMENT.as_bytes());
        assert_eq!(parse(&bom8).unwrap(), Some(want.clone()));
        // Trailing NUL padding.
        let mut padded = EXIFTOOL_ELEMENT.as_bytes().to_vec();
        padded.extend_from_slice(&[0, 0, 0]);
        assert_eq!(parse(&padded).unwrap(), Some(want));
    }

    /// A packet nesting a name's value 100,000 levels deep (`rdf:value` in `rdf:Alt` in
    /// `rdf:Description`…) must not overflow the stack of a scan thread: the reader follows a
    /// value `MAX_VALUE_DEPTH` levels and reads deeper as no name. The face itself is kept, and
    /// the writer can still replace the regions.
    #[test]
    fn deeply_nested_values_do_not_overflow_the_stack() {
        let depth = 100_000;
        let mut name = String::new();
        for i in 0..depth {
            name.push_str(match i % 3 {
                0 => "<rdf:value>",
                1 => "<rdf:Alt><rdf:li>",
                _ => "<rdf:Description>",
            });
        }
        name.push_str("deep");
        for i in (0..depth).rev() {
            name.push_str(match i % 3 {
                0 => "</rdf:value>",
                1 => "</rdf:li></rdf:Alt>",
                _ => "</rdf:Description>",
            });
        }
        let rest = format!("<mwg-rs:Name>{name}</mwg-rs:Name>");
        let li = mwg_li(&area("0.5", "0.5", "0.2", "0.2"), &rest);
        let packet = bare(&mwg_regions(&[li]));
        // 256 KB: smaller than any thread the app reads XMP on (rayon and std use 2 MB).
        let (regions, written) = std::thread::Builder::new()
            .stack_size(256 << 10)
            .spawn(move || {
                let regions = parse(packet.as_bytes()).unwrap().expect("regions");
                let written = write_sidecar(Some(packet.as_bytes()), &regions.faces, (0, 0));
                (regions, written.map(|b| b.len()))
            })
            .unwrap()
            .join()
            .expect("the reader overflowed its stack");
        assert_eq!(names(&regions), vec![None]);
        assert!(rect_close(
            regions.faces[0].rect,
            r(0.4, 0.4, 0.2, 0.2),
            1e-9
        ));
        assert!(written.is_ok(), "{written:?}");
        // Shallow nesting is still read.
        let shallow = "<mwg-rs:Name><rdf:Alt><rdf:li xml:lang=\"x-default\"><rdf:Description><rdf:value>Ann</rdf:value></rdf:Description></rdf:li></rdf:Alt></mwg-rs:Name>";
        let li = mwg_li(&area("0.5", "0.5", "0.2", "0.2"), shallow);
        assert_eq!(
            names(&parse_str(&bare(&mwg_regions(&[li])))),
            vec![Some("Ann")]
        );
    }

    #[test]
    fn no_regions_and_garbage() {
        let plain = bare("<xmp:Rating xmlns:xmp=\"http://ns.adobe.com/xap/1.0/\">3</xmp:Rating>");
        assert_eq!(parse(plain.as_bytes()).unwrap(), None);
        assert_eq!(parse(b"<foo/>").unwrap(), None);
        // Regions with an empty list.
        assert_eq!(parse(bare(&mwg_regions(&[])).as_bytes()).unwrap(), None);
        for bad in [
            &b"not xml at all"[..],
            b"",
            b"<x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF>",
            b"\xff\xfe\x00",
            b"\xc3\x28<a/>",
        ] {
            let e = parse(bad).unwrap_err();
            assert!(e.starts_with("the XMP packet"), "{e}");
        }
    }

    // ---- write_sidecar ----

    const HEAD: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>
<?xpacket begin=\"\u{feff}\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>
<x:xmpmeta xmlns:x=\"adobe:ns:meta/\" x:xmptk=\"XMP Core 4.4.0-Exiv2\">
  <!-- keep this comment -->
  <rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">
    <rdf:Description rdf:about=\"\"
        xmlns:xmp=\"http://ns.adobe.com/xap/1.0/\"
        xmlns:dc=\"http://purl.org/dc/elements/1.1/\"
        xmlns:my=\"http://example.com/my/1.0/\"
        xmlns:mwg-rs=\"http://www.metadataworkinggroup.com/schemas/regions/\"
        xmlns:stArea=\"http://ns.adobe.com/xmp/sType/Area#\"
        xmlns:stDim=\"http://ns.adobe.com/xap/1.0/sType/Dimensions#\"
        xmlns:MP=\"http://ns.microsoft.com/photo/1.2/\"
        xmlns:MPRI=\"http://ns.microsoft.com/photo/1.2/t/RegionInfo#\"
        xmlns:MPReg=\"http://ns.microsoft.com/photo/1.2/t/Region#\"
        xmp:Rating=\"4\">
      <dc:subject>
        <rdf:Bag>
          <rdf:li>holiday</rdf:li>
          <rdf:li>beach &amp; sun</rdf:li>
        </rdf:Bag>
      </dc:subject>
";
    const OLD_MWG: &str = "      <mwg-rs:Regions rdf:parseType=\"Resource\">
        <mwg-rs:AppliedToDimensions stDim:w=\"100\" stDim:h=\"100\" stDim:unit=\"pixel\"/>
        <mwg-rs:RegionList><rdf:Bag><rdf:li>
          <rdf:Description mwg-rs:Name=\"Old Person\" mwg-rs:Type=\"Face\">
            <mwg-rs:Area stArea:x=\"0.5\" stArea:y=\"0.5\" stArea:w=\"0.1\" stArea:h=\"0.1\" stArea:unit=\"normalized\"/>
          </rdf:Description>
        </rdf:li></rdf:Bag></mwg-rs:RegionList>
      </mwg-rs:Regions>
";
    const MID: &str =
        "      <my:Thing my:attr='single quoted'>custom <!-- inner --> value</my:Thing>
";
    const OLD_MP: &str = "      <MP:RegionInfo rdf:parseType=\"Resource\"><MPRI:Regions><rdf:Bag>
        <rdf:li MPReg:Rectangle=\"0.1, 0.1, 0.1, 0.1\" MPReg:PersonDisplayName=\"Old MP Person\"/>
      </rdf:Bag></MPRI:Regions></MP:RegionInfo>
";
    const MID2: &str = "    </rdf:Description>
";
    /// A Description holding only regions (as a previous write leaves): cut whole.
    const OLD_DESC: &str = "    <rdf:Description rdf:about=\"\"
        xmlns:mwg-rs=\"http://www.metadataworkinggroup.com/schemas/regions/\"
        xmlns:stArea=\"http://ns.adobe.com/xmp/sType/Area#\">
      <mwg-rs:Regions rdf:parseType=\"Resource\"><mwg-rs:RegionList><rdf:Bag>
        <rdf:li mwg-rs:Name=\"Older Person\"><mwg-rs:Area stArea:x=\"0.5\" stArea:y=\"0.5\" stArea:w=\"0.1\" stArea:h=\"0.1\"/></rdf:li>
      </rdf:Bag></mwg-rs:RegionList></mwg-rs:Regions>
    </rdf:Description>
";
    const TAIL_BEFORE: &str = "    <rdf:Description rdf:about=\"\" xmlns:photoshop=\"http://ns.adobe.com/photoshop/1.0/\" photoshop:City=\"Köln\"/>
";
    const TAIL_AFTER: &str = "  </rdf:RDF>
</x:xmpmeta>
<!-- trailing comment -->
<?xpacket end=\"w\"?>";

    fn existing() -> String {
        [
            HEAD,
            OLD_MWG,
            MID,
            OLD_MP,
            MID2,
            OLD_DESC,
            TAIL_BEFORE,
            TAIL_AFTER,
        ]
        .concat()
    }

    fn new_faces() -> Vec<Region> {
        vec![
            face(Some("Alice"), r(0.1, 0.2, 0.3, 0.4)),
            face(None, r(0.6, 0.6, 0.1, 0.15)),
            face(
                Some("Tom & Jerry <\"the 'pair'\">"),
                r(0.0, 0.0, 1.0 / 3.0, 0.123456789),
            ),
        ]
    }

    fn assert_faces(got: &[Region], want: &[Region], tol: f64) {
        assert_eq!(got.len(), want.len(), "{got:?}");
        for (g, w) in got.iter().zip(want) {
            assert_eq!(g.name, w.name);
            assert!(
                rect_close(g.rect, w.rect, tol),
                "{:?} vs {:?}",
                g.rect,
                w.rect
            );
        }
    }

    #[test]
    fn existing_sidecar_is_preserved_byte_for_byte() {
        let old = existing();
        // The fixture really holds the old regions (MWG wins, two Regions props).
        assert_eq!(
            names(&parse_str(&old)),
            [Some("Old Person"), Some("Older Person")]
        );

        let faces = new_faces();
        let out = write_sidecar(Some(old.as_bytes()), &faces, (4000, 3000)).unwrap();
        let out = String::from_utf8(out).unwrap();

        // Everything but the old regions, in order and byte-identical, with the new
        // Description at the start of the `</rdf:RDF>` line.
        let before = [HEAD, MID, MID2, TAIL_BEFORE].concat();
        assert!(out.starts_with(&before), "{out}");
        assert!(out.ends_with(TAIL_AFTER), "{out}");
        let block = &out[before.len()..out.len() - TAIL_AFTER.len()];
        assert!(
            block.starts_with("    <rdf:Description rdf:about=\"\"\n"),
            "{block}"
        );
        assert!(block.ends_with("    </rdf:Description>\n"), "{block}");
        assert_eq!(block.matches("<rdf:Description").count(), 1);
        assert!(
            !out.contains("Old Person") && !out.contains("Older Person") && !out.contains("Old MP")
        );
        for keep in [
            "<!-- keep this comment -->",
            "xmp:Rating=\"4\"",
            "<rdf:li>beach &amp; sun</rdf:li>",
            "<my:Thing my:attr='single quoted'>custom <!-- inner --> value</my:Thing>",
            "photoshop:City=\"Köln\"",
            "<!-- trailing comment -->",
            "<?xpacket end=\"w\"?>",
            "begin=\"\u{feff}\"",
        ] {
            assert!(out.contains(keep), "lost {keep}");
        }
        // Escaped name.
        assert!(out.contains(
            "<mwg-rs:Name>Tom &amp; Jerry &lt;&quot;the &apos;pair&apos;&quot;&gt;</mwg-rs:Name>"
        ));

        let back = parse_str(&out);
        assert_eq!(back.source, "mwg");
        assert_eq!(back.applied_to, Some((4000, 3000)));
        assert_faces(&back.faces, &faces, 1e-7);

        // The MP copy holds the same faces.
        let mp_only = out.replace("mwg-rs:Regions", "mwg-rs:RegionsGone");
        let mp = parse_str(&mp_only);
        assert_eq!(mp.source, "mp");
        assert_faces(&mp.faces, &faces, 1e-7);

        // Writing again replaces our own Description whole: the same bytes come out.
        let again = write_sidecar(Some(out.as_bytes()), &faces, (4000, 3000)).unwrap();
        assert_eq!(String::from_utf8(again).unwrap(), out);

        // Empty faces: regions gone, nothing inserted, everything else kept.
        let cleared = write_sidecar(Some(out.as_bytes()), &[], (4000, 3000)).unwrap();
        assert_eq!(
            String::from_utf8(cleared).unwrap(),
            [before.as_str(), TAIL_AFTER].concat()
        );
        let cleared = write_sidecar(Some(old.as_bytes()), &[], (4000, 3000)).unwrap();
        assert_eq!(
            String::from_utf8(cleared.clone()).unwrap(),
            [before.as_str(), TAIL_AFTER].concat()
        );
        assert_eq!(parse(&cleared).unwrap(), None);
    }

    #[test]
    fn fresh_sidecar() {
        let faces = new_faces();
        for existing in [None, Some(&b""[..]), Some(&b" \n"[..])] {
            let out = write_sidecar(existing, &faces, (640, 480)).unwrap();
            let s = String::from_utf8(out.clone()).unwrap();
            assert!(
                s.starts_with("<?xpacket begin=\"\u{feff}\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\n")
            );
            assert!(s.contains("<x:xmpmeta xmlns:x=\"adobe:ns:meta/\" x:xmptk=\"Likeness\">"));
            assert!(
                s.ends_with("</rdf:RDF>\n</x:xmpmeta>\n<?xpacket end=\"w\"?>\n"),
                "{s}"
            );
            assert_eq!(s.matches("<rdf:Description").count(), 1);
            let back = parse(&out).unwrap().unwrap();
            assert_eq!(back.applied_to, Some((640, 480)));
            assert_faces(&back.faces, &faces, 1e-7);
        }
        // No faces, no file: a valid packet without regions.
        let out = write_sidecar(None, &[], (640, 480)).unwrap();
        assert_eq!(parse(&out).unwrap(), None);
        assert!(!String::from_utf8(out).unwrap().contains("Regions"));
        // Unknown size: no AppliedToDimensions.
        let out = write_sidecar(None, &faces, (0, 0)).unwrap();
        assert!(!String::from_utf8(out.clone())
            .unwrap()
            .contains("AppliedToDimensions"));
        assert_eq!(parse(&out).unwrap().unwrap().applied_to, None);
    }

    #[test]
    fn names_escape_and_round_trip() {
        let faces = vec![
            face(Some("A & B"), r(0.1, 0.1, 0.2, 0.2)),
            face(Some("<script>\"x\"</script>"), r(0.3, 0.3, 0.2, 0.2)),
            face(Some("  O'Brien ]]> \u{1F600} "), r(0.5, 0.5, 0.2, 0.2)),
            face(Some("bell\u{7}name"), r(0.7, 0.7, 0.2, 0.2)),
            face(Some("   "), r(0.2, 0.7, 0.1, 0.1)),
        ];
        let out = write_sidecar(None, &faces, (10, 10)).unwrap();
        let back = parse(&out).unwrap().unwrap();
        assert_eq!(
            names(&back),
            [
                Some("A & B"),
                Some("<script>\"x\"</script>"),
                Some("O'Brien ]]> \u{1F600}"),
                Some("bellname"),
                None
            ]
        );
    }

    #[test]
    fn bad_faces_are_clipped_or_dropped() {
        let faces = vec![
            face(Some("nan"), r(f64::NAN, 0.1, 0.2, 0.2)),
            face(Some("empty"), r(0.1, 0.1, 0.0, 0.2)),
            face(Some("overhang"), r(0.9, -0.1, 0.2, 0.3)),
        ];
        let out = write_sidecar(None, &faces, (10, 10)).unwrap();
        let back = parse(&out).unwrap().unwrap();
        assert_faces(
            &back.faces,
            &[face(Some("overhang"), r(0.9, 0.0, 0.1, 0.2))],
            1e-9,
        );
    }

    #[test]
    fn not_xmp_is_refused() {
        for bad in [&b"hello"[..], b"<a><b></a>", b"<foo/>", b"\xc3\x28"] {
            let e = write_sidecar(Some(bad), &new_faces(), (1, 1)).unwrap_err();
            assert!(e.contains("is not XMP"), "{e}");
        }
    }

    #[test]
    fn odd_layouts() {
        let faces = new_faces();
        // Bare rdf:RDF with another prefix for the RDF namespace, on one line, self-closed
        // Description: our block declares rdf itself.
        let odd = "<R:RDF xmlns:R=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\"><R:Description R:about=\"\"/></R:RDF>";
        let out = write_sidecar(Some(odd.as_bytes()), &faces, (2, 1)).unwrap();
        let s = String::from_utf8(out.clone()).unwrap();
        assert!(s.starts_with("<R:RDF xmlns:R=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\"><R:Description R:about=\"\"/>\n"), "{s}");
        assert!(s.ends_with("</rdf:Description>\n</R:RDF>"), "{s}");
        assert!(s.contains(&format!("xmlns:rdf=\"{RDF}\"")));
        assert_faces(&parse(&out).unwrap().unwrap().faces, &faces, 1e-7);

        // A self-closed rdf:RDF.
        let odd = "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\">\n <rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\"/>\n</x:xmpmeta>\n";
        let out = write_sidecar(Some(odd.as_bytes()), &faces, (2, 1)).unwrap();
        let s = String::from_utf8(out.clone()).unwrap();
        assert!(s.ends_with(" </rdf:RDF>\n</x:xmpmeta>\n"), "{s}");
        assert_faces(&parse(&out).unwrap().unwrap().faces, &faces, 1e-7);

        // Old regions inline with other properties on one line: cut exactly, nothing else.
        let inline = format!(
            "<rdf:RDF {NS}><rdf:Description rdf:about=\"\"><a:b xmlns:a=\"urn:a\">1</a:b>{}<a:c xmlns:a=\"urn:a\">2</a:c></rdf:Description></rdf:RDF>",
            mwg_regions(&[mwg_li(&area("0.5", "0.5", "0.2", "0.2"), "<mwg-rs:Name>Old</mwg-rs:Name>")])
        );
        let out = write_sidecar(Some(inline.as_bytes()), &[], (2, 1)).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            format!("<rdf:RDF {NS}><rdf:Description rdf:about=\"\"><a:b xmlns:a=\"urn:a\">1</a:b><a:c xmlns:a=\"urn:a\">2</a:c></rdf:Description></rdf:RDF>")
        );
    }

    /// Found by fuzzing (fuzz/sidecar_merge): an rdf:RDF nested in a region property gave a cut
    /// inside a cut, and removing the regions panicked (`range end index 460 out of range`).
    #[test]
    fn regions_in_a_nested_rdf_inside_regions_are_cut_once() {
        let nested = "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\">
<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\" xmlns:mwg-rs=\"http://www.metadataworkinggroup.com/schemas/regions/\">
 <rdf:Description rdf:about=\"\">
  <mwg-rs:Regions>
   <rdf:RDF>
    <rdf:Description rdf:about=\"\">
     <mwg-rs:Regions rdf:parseType=\"Resource\"><mwg-rs:RegionList><rdf:Bag/></mwg-rs:RegionList></mwg-rs:Regions>
    </rdf:Description>
   </rdf:RDF>
  </mwg-rs:Regions>
 </rdf:Description>
</rdf:RDF></x:xmpmeta>";
        let out = write_sidecar(Some(nested.as_bytes()), &[], (0, 0)).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\">
<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\" xmlns:mwg-rs=\"http://www.metadataworkinggroup.com/schemas/regions/\">
</rdf:RDF></x:xmpmeta>"
        );
        let faces = new_faces();
        let out = write_sidecar(Some(nested.as_bytes()), &faces, (4, 3)).unwrap();
        assert_faces(&parse(&out).unwrap().unwrap().faces, &faces, 1e-7);
    }

    #[test]
    fn crlf_sidecar_stays_crlf() {
        let old = existing().replace('\n', "\r\n");
        let out = write_sidecar(Some(old.as_bytes()), &new_faces(), (3, 3)).unwrap();
        let s = String::from_utf8(out.clone()).unwrap();
        assert_eq!(s.matches('\n').count(), s.matches("\r\n").count());
        let before = [HEAD, MID, MID2, TAIL_BEFORE]
            .concat()
            .replace('\n', "\r\n");
        assert!(s.starts_with(&before));
        assert!(s.ends_with(&TAIL_AFTER.replace('\n', "\r\n")));
        assert_faces(&parse(&out).unwrap().unwrap().faces, &new_faces(), 1e-7);
    }

    #[test]
    fn utf16_sidecar_stays_utf16() {
        let old = existing();
        let bytes = utf16(&old, false);
        let out = write_sidecar(Some(&bytes), &new_faces(), (3, 3)).unwrap();
        assert_eq!(&out[..2], &[0xFF, 0xFE]);
        let (text, enc) = decode(&out).unwrap();
        assert_eq!(
            enc,
            Enc::Utf16 {
                be: false,
                bom: true
            }
        );
        let utf8 = write_sidecar(Some(old.as_bytes()), &new_faces(), (3, 3)).unwrap();
        assert_eq!(text.as_bytes(), &utf8[..]);
    }

    #[test]
    fn number_format() {
        assert_eq!(num(0.3), "0.3");
        assert_eq!(num(1.0), "1");
        assert_eq!(num(0.0), "0");
        assert_eq!(num(-0.0), "0");
        assert_eq!(num(1.0 / 3.0), "0.33333333");
        assert_eq!(num(0.123456789), "0.12345679");
    }

    // ---- orientation ----

    /// Where stored pixel (c, r) of a w×h image lands in the displayed image, straight from the
    /// EXIF definition "the 0th row is the visual <side>, the 0th column is the visual <side>".
    fn exif_definition(
        o: u8,
        c: usize,
        r: usize,
        w: usize,
        h: usize,
    ) -> (usize, usize, usize, usize) {
        let (row0, col0) = match o {
            2 => ("top", "right"),
            3 => ("bottom", "right"),
            4 => ("bottom", "left"),
            5 => ("left", "top"),
            6 => ("right", "top"),
            7 => ("right", "bottom"),
            8 => ("left", "bottom"),
            _ => ("top", "left"),
        };
        let (dw, dh) = if matches!(row0, "top" | "bottom") {
            (w, h)
        } else {
            (h, w)
        };
        let (mut x, mut y) = (usize::MAX, usize::MAX);
        // Stored row r lies r rows/columns away from the side row 0 is on.
        match row0 {
            "top" => y = r,
            "bottom" => y = dh - 1 - r,
            "left" => x = r,
            _ => x = dw - 1 - r,
        }
        match col0 {
            "top" => y = c,
            "bottom" => y = dh - 1 - c,
            "left" => x = c,
            _ => x = dw - 1 - c,
        }
        (x, y, dw, dh)
    }

    /// A labelled grid, turned the way `image::DynamicImage::apply_orientation` turns it
    /// (index math copied from image 0.25 imageops: rotate90 puts (x, y) at (h-1-y, x),
    /// rotate270 at (y, w-1-x), fliph at (w-1-x, y), flipv at (x, h-1-y)).
    fn image_crate(o: u8, grid: &[Vec<usize>]) -> Vec<Vec<usize>> {
        type G = Vec<Vec<usize>>;
        let dims = |g: &G| (g[0].len(), g.len());
        let rot90 = |g: &G| {
            let (w, h) = dims(g);
            let mut out = vec![vec![0; h]; w];
            for y in 0..h {
                for x in 0..w {
                    out[x][h - 1 - y] = g[y][x];
                }
            }
            out
        };
        let rot270 = |g: &G| {
            let (w, h) = dims(g);
            let mut out = vec![vec![0; h]; w];
            for y in 0..h {
                for x in 0..w {
                    out[w - 1 - x][y] = g[y][x];
                }
            }
            out
        };
        let fliph = |g: &G| {
            g.iter()
                .map(|row| row.iter().rev().copied().collect())
                .collect::<G>()
        };
        let flipv = |g: &G| g.iter().rev().cloned().collect::<G>();
        let g = grid.to_vec();
        match o {
            2 => fliph(&g),
            3 => flipv(&fliph(&g)),
            4 => flipv(&g),
            5 => fliph(&rot90(&g)),
            6 => rot90(&g),
            7 => fliph(&rot270(&g)),
            8 => rot270(&g),
            _ => g,
        }
    }

    #[test]
    fn orientation_matches_exif_and_image_crate_pixel_by_pixel() {
        let (w, h) = (5usize, 3usize);
        let grid: Vec<Vec<usize>> = (0..h)
            .map(|r| (0..w).map(|c| r * w + c).collect())
            .collect();
        for o in 1..=8u8 {
            // Display grid from the EXIF definition.
            let (_, _, dw, dh) = exif_definition(o, 0, 0, w, h);
            let mut display = vec![vec![usize::MAX; dw]; dh];
            for r in 0..h {
                for c in 0..w {
                    let (x, y, _, _) = exif_definition(o, c, r, w, h);
                    display[y][x] = r * w + c; // the label grid[r][c]
                }
            }
            assert_eq!(display, image_crate(o, &grid), "orientation {o}");
            for r in 0..h {
                for c in 0..w {
                    let label = r * w + c;
                    let (y, x) = (0..dh)
                        .flat_map(|y| (0..dw).map(move |x| (y, x)))
                        .find(|&(y, x)| display[y][x] == label)
                        .unwrap();
                    let stored = NormRect {
                        x: c as f64 / w as f64,
                        y: r as f64 / h as f64,
                        w: 1.0 / w as f64,
                        h: 1.0 / h as f64,
                    };
                    let shown = NormRect {
                        x: x as f64 / dw as f64,
                        y: y as f64 / dh as f64,
                        w: 1.0 / dw as f64,
                        h: 1.0 / dh as f64,
                    };
                    let got = stored_to_display(stored, o);
                    assert!(
                        rect_close(got, shown, 1e-12),
                        "o={o} ({c},{r}): {got:?} vs {shown:?}"
                    );
                    let back = display_to_stored(shown, o);
                    assert!(
                        rect_close(back, stored, 1e-12),
                        "o={o} ({c},{r}) back: {back:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn orientation_round_trips() {
        let rects = [
            r(0.1, 0.2, 0.3, 0.4),
            r(0.0, 0.0, 1.0, 1.0),
            r(0.55, 0.05, 0.4, 0.1),
        ];
        for o in 0..=9u8 {
            for &a in &rects {
                let d = stored_to_display(a, o);
                assert!(rect_close(display_to_stored(d, o), a, 1e-12), "o={o}");
                assert!(
                    rect_close(stored_to_display(display_to_stored(a, o), o), a, 1e-12),
                    "o={o}"
                );
            }
        }
        // Unknown values act as 1.
        assert_eq!(stored_to_display(rects[0], 0), rects[0]);
        assert_eq!(stored_to_display(rects[0], 9), rects[0]);
    }

    #[test]
    fn orientation_known_cases() {
        let a = r(0.0, 0.0, 0.2, 0.1); // stored top-left corner
                                       // 6 (rotate 90 CW): the top-left corner goes to the top-right; w and h swap.
        assert!(rect_close(
            stored_to_display(a, 6),
            r(0.9, 0.0, 0.1, 0.2),
            1e-12
        ));
        // 8 (rotate 270 CW): to the bottom-left.
        assert!(rect_close(
            stored_to_display(a, 8),
            r(0.0, 0.8, 0.1, 0.2),
            1e-12
        ));
        // 3: to the bottom-right.
        assert!(rect_close(
            stored_to_display(a, 3),
            r(0.8, 0.9, 0.2, 0.1),
            1e-12
        ));
        // 2: top-right; 4: bottom-left.
        assert!(rect_close(
            stored_to_display(a, 2),
            r(0.8, 0.0, 0.2, 0.1),
            1e-12
        ));
        assert!(rect_close(
            stored_to_display(a, 4),
            r(0.0, 0.9, 0.2, 0.1),
            1e-12
        ));
        // 5 (transpose): stays top-left; 7 (transverse): goes bottom-right.
        assert!(rect_close(
            stored_to_display(a, 5),
            r(0.0, 0.0, 0.1, 0.2),
            1e-12
        ));
        assert!(rect_close(
            stored_to_display(a, 7),
            r(0.9, 0.8, 0.1, 0.2),
            1e-12
        ));
        // Table in the research doc, for centres: 6 maps (x, y) -> (1-y, x).
        let c = stored_to_display(r(0.25, 0.05, 0.1, 0.1), 6);
        assert!(close(c.x + c.w / 2.0, 1.0 - 0.1) && close(c.y + c.h / 2.0, 0.3));
    }

    // ---- iou ----

    #[test]
    fn iou_cases() {
        let a = r(0.0, 0.0, 0.5, 0.5);
        assert!(close(iou(a, a), 1.0));
        assert!(close(iou(a, r(0.5, 0.0, 0.5, 0.5)), 0.0)); // touching
        assert!(close(iou(a, r(0.6, 0.6, 0.1, 0.1)), 0.0)); // apart
        assert!(close(iou(a, r(0.25, 0.0, 0.5, 0.5)), 0.125 / 0.375)); // half overlap
        assert!(close(iou(a, r(0.0, 0.0, 0.25, 0.25)), 0.25)); // contained
        assert!(close(
            iou(a, r(0.0, 0.0, 0.25, 0.25)),
            iou(r(0.0, 0.0, 0.25, 0.25), a)
        ));
        assert!(close(
            iou(r(0.1, 0.1, 0.0, 0.0), r(0.1, 0.1, 0.0, 0.0)),
            0.0
        )); // empty
        assert!(close(iou(a, r(f64::NAN, 0.0, 0.5, 0.5)), 0.0));
    }
}
