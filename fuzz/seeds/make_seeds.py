#!/usr/bin/env python3
"""Writes the fuzz seed corpus, fuzz/seeds/<target>/*, from nothing: XMP packets written here,
TIFF/EXIF blocks packed by hand, and tiny synthetic pictures (a 16x16 gradient) encoded by
Pillow and pillow-heif. No photo goes in. Run again only to change the seeds:

    python3 -m venv /tmp/seedenv && /tmp/seedenv/bin/pip install pillow pillow-heif
    /tmp/seedenv/bin/python fuzz/seeds/make_seeds.py
"""
import io
import os
import struct

from PIL import Image, PngImagePlugin
import pillow_heif

pillow_heif.register_heif_opener()
HERE = os.path.dirname(os.path.abspath(__file__))


def put(target, name, data):
    os.makedirs(os.path.join(HERE, target), exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(HERE, target, name), "wb") as f:
        f.write(data)


# --- XMP ---------------------------------------------------------------------------------
NS = ('xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
      'xmlns:mwg-rs="http://www.metadataworkinggroup.com/schemas/regions/" '
      'xmlns:stArea="http://ns.adobe.com/xmp/sType/Area#" '
      'xmlns:stDim="http://ns.adobe.com/xap/1.0/sType/Dimensions#" '
      'xmlns:MP="http://ns.microsoft.com/photo/1.2/" '
      'xmlns:MPRI="http://ns.microsoft.com/photo/1.2/t/RegionInfo#" '
      'xmlns:MPReg="http://ns.microsoft.com/photo/1.2/t/Region#" '
      'xmlns:dc="http://purl.org/dc/elements/1.1/"')


def packet(body, ns=NS):
    return ('<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
            '<x:xmpmeta xmlns:x="adobe:ns:meta/">\n'
            f' <rdf:RDF {ns}>\n{body}\n </rdf:RDF>\n</x:xmpmeta>\n<?xpacket end="w"?>\n')


MWG_ELEMENTS = packet('''  <rdf:Description rdf:about="">
   <dc:subject><rdf:Bag><rdf:li>holiday</rdf:li></rdf:Bag></dc:subject>
   <mwg-rs:Regions rdf:parseType="Resource">
    <mwg-rs:AppliedToDimensions rdf:parseType="Resource">
     <stDim:w>4000</stDim:w><stDim:h>3000</stDim:h><stDim:unit>pixel</stDim:unit>
    </mwg-rs:AppliedToDimensions>
    <mwg-rs:RegionList>
     <rdf:Bag>
      <rdf:li rdf:parseType="Resource">
       <mwg-rs:Area rdf:parseType="Resource">
        <stArea:x>0.5</stArea:x><stArea:y>0.4</stArea:y><stArea:w>0.2</stArea:w>
        <stArea:h>0.3</stArea:h><stArea:unit>normalized</stArea:unit>
       </mwg-rs:Area>
       <mwg-rs:Name>Ann &amp; Bo</mwg-rs:Name>
       <mwg-rs:Type>Face</mwg-rs:Type>
      </rdf:li>
      <rdf:li rdf:parseType="Resource">
       <mwg-rs:Area stArea:x="0.1" stArea:y="0.1" stArea:d="0.05" stArea:unit="normalized"/>
       <mwg-rs:Type>Pet</mwg-rs:Type>
      </rdf:li>
     </rdf:Bag>
    </mwg-rs:RegionList>
   </mwg-rs:Regions>
  </rdf:Description>''')

MWG_ATTRIBUTES = packet('''  <rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:Rating="3">
   <mwg-rs:Regions>
    <rdf:Description>
     <mwg-rs:AppliedToDimensions stDim:w="640" stDim:h="480" stDim:unit="pixel"/>
     <mwg-rs:RegionList>
      <rdf:Seq>
       <rdf:li>
        <rdf:Description mwg-rs:Name=" Cy " mwg-rs:Type="Face">
         <mwg-rs:Area stArea:x="0.9" stArea:y="0.95" stArea:w="0.4" stArea:h="0.2"/>
        </rdf:Description>
       </rdf:li>
      </rdf:Seq>
     </mwg-rs:RegionList>
    </rdf:Description>
   </mwg-rs:Regions>
  </rdf:Description>''')

MP_FORM = packet('''  <rdf:Description rdf:about="">
   <MP:RegionInfo rdf:parseType="Resource">
    <MPRI:Regions>
     <rdf:Bag>
      <rdf:li MPReg:PersonDisplayName="Dee" MPReg:Rectangle="0.1, 0.2, 0.3, 0.4"/>
      <rdf:li rdf:parseType="Resource">
       <MPReg:PersonDisplayName><rdf:Alt><rdf:li xml:lang="x-default">Eve</rdf:li></rdf:Alt></MPReg:PersonDisplayName>
       <MPReg:Rectangle>0.5 0.5 0.25 0.25</MPReg:Rectangle>
      </rdf:li>
      <rdf:li MPReg:PersonDisplayName="ffffffffffffffff" MPReg:Rectangle="0, 0, 1, 1"/>
     </rdf:Bag>
    </MPRI:Regions>
   </MP:RegionInfo>
  </rdf:Description>''')

NO_REGIONS = packet('''  <rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/">
   <xmp:Rating>5</xmp:Rating>
   <!-- a comment -->
  </rdf:Description>''')

SELF_CLOSED = ('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
               'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/></x:xmpmeta>')


def utf16(s):
    return b"\xff\xfe" + s.encode("utf-16-le")


def gradient(w=16, h=16):
    im = Image.new("RGB", (w, h))
    im.putdata([(x * 16, y * 16, 128) for y in range(h) for x in range(w)])
    return im


def encode(im, fmt, **kw):
    b = io.BytesIO()
    im.save(b, fmt, **kw)
    return b.getvalue()


put("xmp_regions", "mwg_elements.xmp", MWG_ELEMENTS)
put("xmp_regions", "mwg_attributes.xmp", MWG_ATTRIBUTES)
put("xmp_regions", "mp.xmp", MP_FORM)
put("xmp_regions", "utf16_mwg.xmp", utf16(MWG_ATTRIBUTES))
put("xmp_regions", "jpeg_app1.jpg", encode(gradient(), "JPEG", quality=50, xmp=MWG_ATTRIBUTES.encode()))
png_info = PngImagePlugin.PngInfo()
png_info.add_itxt("XML:com.adobe.xmp", MP_FORM)
put("xmp_regions", "png_itxt.png", encode(gradient(8, 8), "PNG", pnginfo=png_info))

# sidecar_merge: flags (bit 7: no existing sidecar; low 2 bits: face count), per face 4 u16
# coordinates + a name byte (>= 16: a name of (byte % 16) bytes follows), 2 u16 dims, sidecar.
def faces_header(flags, faces, dims=(4000, 3000)):
    out = bytes([flags])
    for (x, y, w, h, name) in faces:
        c = [int((v + 0.25) * 43690) for v in (x, y, w, h)]
        out += struct.pack("<4H", *c)
        if name is None:
            out += bytes([0])
        else:
            out += bytes([16 + len(name)]) + name.encode()
    return out + struct.pack("<2H", *dims)


TWO = [(0.1, 0.2, 0.3, 0.3, "Ann"), (0.6, 0.1, 0.2, 0.25, None)]
put("sidecar_merge", "into_mwg.bin", faces_header(2, TWO) + MWG_ELEMENTS.encode())
put("sidecar_merge", "into_plain.bin", faces_header(1, TWO[:1]) + NO_REGIONS.encode())
put("sidecar_merge", "into_mp_crlf.bin", faces_header(2, TWO) + MP_FORM.replace("\n", "\r\n").encode())
put("sidecar_merge", "into_self_closed.bin", faces_header(1, TWO[1:], (0, 0)) + SELF_CLOSED.encode())
put("sidecar_merge", "into_utf16.bin", faces_header(3, TWO + [(0.0, 0.0, 1.0, 1.0, " Bo ")]) + utf16(MWG_ATTRIBUTES))
put("sidecar_merge", "remove_all.bin", faces_header(0, []) + MWG_ATTRIBUTES.encode())
put("sidecar_merge", "fresh.bin", faces_header(0x80 | 2, TWO))


# --- EXIF / TIFF ---------------------------------------------------------------------------
def tiff(be=False, orientation=6, date=b"2019:07:14 10:20:30\0", original=b"2019:07:14 10:20:31\0",
         extra=b""):
    """TIFF header, IFD0 (Orientation, DateTime, ExifIFD pointer), ExifIFD (DateTimeOriginal)."""
    e = ">" if be else "<"
    head = (b"MM\0*" if be else b"II*\0") + struct.pack(e + "I", 8)
    ifd0_len = 2 + 3 * 12 + 4
    date_at = 8 + ifd0_len
    exif_at = date_at + len(date)
    orig_at = exif_at + 2 + 12 + 4
    ifd0 = struct.pack(e + "H", 3)
    ifd0 += struct.pack(e + "HHIHH", 0x0112, 3, 1, orientation, 0)
    ifd0 += struct.pack(e + "HHII", 0x0132, 2, len(date), date_at)
    ifd0 += struct.pack(e + "HHII", 0x8769, 4, 1, exif_at)
    ifd0 += struct.pack(e + "I", 0)
    exif_ifd = struct.pack(e + "H", 1) + struct.pack(e + "HHII", 0x9003, 2, len(original), orig_at)
    exif_ifd += struct.pack(e + "I", 0)
    return head + ifd0 + date + exif_ifd + original + extra


put("exif", "raw_le.tiff", tiff())
put("exif", "raw_be_exif_prefix.bin", b"Exif\0\0" + tiff(be=True, orientation=8))
put("exif", "jpeg_exif.jpg", encode(gradient(8, 8), "JPEG", quality=50, exif=b"Exif\0\0" + tiff(orientation=3)))
put("exif", "png_exif.png", encode(gradient(8, 8), "PNG", exif=b"Exif\0\0" + tiff(orientation=5)))
put("exif", "webp_exif.webp", encode(gradient(8, 8), "WEBP", quality=50, exif=b"Exif\0\0" + tiff(orientation=2)))

# --- RAW: a TIFF-based "RAW" with a thumbnail and a larger preview JPEG ---------------------
thumb = encode(gradient(16, 12), "JPEG", quality=40)
preview = encode(gradient(48, 32), "JPEG", quality=40, exif=b"Exif\0\0" + tiff(orientation=1))
put("raw_previews", "tiff_raw.dng", tiff(orientation=6, extra=b"\0" * 16 + thumb + b"\xff\xd8\xff\x00sensor" + preview))
put("raw_previews", "progressive.cr3",
    struct.pack(">I", 24) + b"ftypcrx " + b"\0" * 12 + b"\xff\xd8\xff\xc3junk"
    + encode(gradient(32, 32), "JPEG", quality=40, progressive=True))
put("raw_previews", "grey_then_colour.orf",
    b"IIRO\x08\0\0\0" + encode(gradient(16, 16).convert("L"), "JPEG") + preview)

# --- HEIF / AVIF -----------------------------------------------------------------------------
exif6 = b"Exif\0\0" + tiff(orientation=6)
put("heif_avif", "tiny.heic", encode(gradient(), "HEIF", quality=30, exif=exif6))
put("heif_avif", "tiny.avif", encode(gradient(), "AVIF", quality=30, exif=exif6))
put("heif_avif", "tiny_plain.avif", encode(gradient(8, 16), "AVIF", quality=30))
