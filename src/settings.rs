//! Every tunable of Likeness in one place, each with the reason for its value.
//!
//! Thresholds that were chosen by measurement say where the measurement lives.

/// Photos whose decoded size exceeds this many pixels are refused (decompression-bomb guard).
/// 100 MP covers every consumer camera and phone (the largest are ~61 MP / ~200 MP binned to 50).
pub const MAX_PIXELS: u64 = 120_000_000;

/// Files larger than this are refused before being read (a photo this large is not a photo).
pub const MAX_FILE_BYTES: u64 = 512 * 1024 * 1024;

/// Longest a decode worker may take for one photo (HEIC, AVIF: `library::isolate`) before it is
/// killed and the photo failed ("took longer than 30 s"); `LIKENESS_DECODE_TIMEOUT_S` overrides
/// it. Measured (release, this 2-core VM): the dev set's 12 MP HEIC decodes in ~0.3 s in the
/// worker, a 120 MP one (the MAX_PIXELS cap) scales to ~3–4 s: 30 s is ~10× the slowest real
/// photo on a slow laptop, and a hang costs one photo 30 s, not the scan.
pub const DECODE_TIMEOUT_S: f64 = 30.0;

/// Decode workers alive at once (`library::isolate`; `LIKENESS_DECODE_WORKERS` overrides it):
/// one per decoding thread of a scan on a 2-core laptop. More would only queue behind the
/// inference threads (HEIC decoding is ~15% of a 12 MP HEIC scan's thread time), and each
/// holds its decoder's memory between photos.
pub const DECODE_WORKERS: usize = 2;

/// Address-space limit of a decode worker (RLIMIT_AS, `LIKENESS_DECODE_MEMORY_MB` overrides it):
/// beyond it the decoder's allocations fail and the photo is failed ("needed more than 4 GB").
/// Measured on the dev set's 12 MP iPhone HEIC: the worker peaks at 1.13 GB of address space
/// (VmPeak; mimalloc's reservations and the decoder threads' stacks) with 185 MB resident, and
/// fails under a 1 GB limit. Resident memory grows with the pixels (~15 bytes each), so a photo
/// at the 120 MP cap needs ~1.8 GB more: ~3 GB. 4 GiB takes every photo the cap allows and stops
/// a bomb that got past the header check long before it hurts an 8 GB laptop.
pub const DECODE_MEMORY_LIMIT: u64 = 4 << 30;

/// A photo whose decoding was under way this many times in a row when the whole process ended
/// (killed, power off: `store::InFlight`) is failed instead of tried again, so that one file can
/// never keep a library from finishing its scan. Two, as the issue asks: one death may be the
/// user closing the laptop; two on the same file are the file.
pub const DECODE_INTERRUPTED_MAX: u32 = 2;

/// Longest side, in pixels, of the decoded photo the scan works from: face chips, thumbnails and
/// the O-Net check read this image, the detector a smaller copy (DETECT_MAX_SIDE). 4096 keeps a
/// 12 MP photo (4000–4032 px) whole and takes 48 MP JPEGs (8000–8064 px) at 1/2 in the IDCT.
pub const WORK_MAX_SIDE: u32 = 4096;

/// Longest side, in pixels, of the image the detector sees; larger photos are downscaled first
/// (JPEGs of twice this or more are decoded at 1/2..1/8 scale in the IDCT). Measured on 4000x3000
/// composites of the labelled dev faces (score 0.8): recall of 20 px faces 5.7% at 2048, 31% at
/// 2560, 75% at 3200 (89% with the 0.65 threshold below), 91% at full size; 30 px faces 68% /
/// 90% / 96% / 98%. Detector time relative to 2048: 1.6x at 2560, 2.5x at 3200, 4.4x at 4000.
/// 3200 finds ~90% of 20 px faces in 12 MP photos at 57% of full-size cost.
/// Re-measured for the full-size speed work with `likeness bench recall` on 60 composites of
/// 4000x3000 (`bench photos --min-face-px 30 --seed 11`, 260 faces, 215 >= 40 px): those found
/// 0.991 at 2600 and 2800, 0.995 at 3000, 1.000 at 3200 (40-60 px: 26, 26, 27, 28 of 28); 30-40
/// px 0.43 / 0.55 / 0.70 / 0.88. Smaller sizes lose faces the target keeps, so 3200 stays and
/// the speed came from elsewhere (decode, resize, memory: see `resize.rs`, `memory.rs`).
pub const DETECT_MAX_SIDE: u32 = 3200;

/// Faces whose detector score is below this are dropped. RetinaFace's upstream default is 0.9;
/// 0.65 lifts recall of ~16 px faces from 75% to 89% (see DETECT_MAX_SIDE); the false positives
/// it adds are removed by the O-Net check (dev group: 43/43 labelled faces, no extra, no dog).
pub const DETECT_SCORE_THRESHOLD: f32 = 0.65;

/// Minimum MTCNN O-Net face probability for a RetinaFace detection to count as a human face.
/// Measured: dog faces 0.03-0.33 (RetinaFace scored them up to 0.99), the 43 labelled dev faces
/// all >= 0.96, LFW centre faces >= 0.76; partial faces cut by the image border fall near 0.4.
pub const FACE_CHECK_THRESHOLD: f32 = 0.5;

/// Greedy NMS overlap for RetinaFace, as upstream.
pub const DETECT_NMS_IOU: f32 = 0.4;

/// Faces too large for RetinaFace's anchors (its largest is 512 px) are found on a second,
/// smaller copy of the detector image whose shorter side is this (`vision::detect::DETECTION`).
/// Measured with the size sweep (`likeness bench sizes`, `benches/sizes.sh`; faces 20 px to the
/// whole width): with one pass (detection 1) at 12 MP (3024×4032) faces of 400–630 px were found
/// exactly once 86%, 630–1000 px 30%, wider ones 0–1.5% (missed: 476 of 1,700); under 1 MP
/// (756×1008) 60–80% of the width 74% and 80–100% 22% (found two or three times: 109 faces).
/// Coarse side 384 and 480 gave the same on a first sweep (30 faces a band: every band from
/// 40 px 100% at 1 MP; at 12 MP 503/508, the rest faces under 40 px), 640 did not (1 MP: 94%
/// found once, 21 faces doubled: a full-width face is beyond the anchors again). With 480, 100
/// faces a band, every band from 40 px to 100% of the width is 100% found once at both sizes.
/// Cost: at 12 MP the coarse copy is 4% of the detector's pixels; 50 composites of 12 MP
/// (`bench photos`) scanned at 2.69–2.70 photos/s vs 2.45–2.78 before, same run.
pub const DETECT_COARSE_SHORT_SIDE: f32 = 480.0;

/// The coarse pass runs only where it sees the image at least this much smaller than the first:
/// below, a face as wide as the photo fits the anchors (600 px shorter side: the 512 px anchor
/// with RetinaFace's box regression), and LFW's 250 px photos keep their one pass.
pub const DETECT_COARSE_MIN_GAIN: f32 = 1.25;

/// Largest face (longer box side, detector pixels) the first pass keeps when a coarse pass runs:
/// below the 512 px anchor, where detection 1 still found 99% of faces once (250–400 px at 12 MP:
/// 98.6%) while at 400–630 px it found 86%. The coarse pass keeps faces from half of this (at
/// its scale) so that a face at the hand-over is seen by both; the suppression keeps one.
pub const DETECT_FINE_MAX_FACE: f32 = 400.0;

/// Two boxes are one face when this much of the smaller lies inside the other (overlap over the
/// smaller box): a part of a face found again (the nested boxes of the older detection, scores
/// 0.68–0.98), or one face seen by both passes. Faces side by side overlap far less: in the
/// sweep's touching pairs (boxes within ±5% of a width of each other, the second 0.5–1× the first)
/// face from 40 px is found once at 0.6 (12 MP 303 of 303, 1 MP 184 of 184), and over the
/// whole sweep one face of 2,980 is found twice (30–40 px, 1 MP).
pub const DETECT_NEST_IOS: f32 = 0.6;

/// A box this much covered by the faces kept before it goes: a box straddling two faces that
/// touch (seen at 0.92–0.94 covered on the sweep's pairs, scores 0.87–0.97, passing O-Net). A
/// face half hidden behind two others is covered far less; the dev group photos keep 43/43.
pub const DETECT_COVERED: f32 = 0.8;

/// Faces smaller than this (shorter box side, original photo pixels) are not kept at all: below
/// ~12 px the embedding is noise.
pub const MIN_FACE_PX: f32 = 12.0;

/// Where the five landmarks sit in a RetinaFace box on average, as fractions of its width and
/// height (left eye, right eye, nose, mouth corners): medians over 561 detected faces of two
/// composite libraries (`bench photos`), which agreed within 0.006. A face known only by a box
/// (drawn by hand, or an XMP region where the detector finds nothing) is aligned from these.
pub const LANDMARKS_IN_BOX: [[f32; 2]; 5] = [
    [0.26, 0.39],
    [0.715, 0.39],
    [0.485, 0.58],
    [0.31, 0.745],
    [0.69, 0.74],
];

/// Side of the canvas an embedder's landmarks are refined on (`AlignSpec::refine_landmarks`),
/// the face at the chip's scale in its middle. `likeness eval lfw --model face_reid_0095`:
/// 99.42% → 99.58% (stored vectors). The variants were compared in a Python reproduction of the
/// pipeline (10-fold, float vectors, 6,000 pairs; the detector's landmarks alone 99.42%, 35
/// errors): the refined landmarks alone 99.52%, their average with the detector's 99.60% (24
/// errors, none that the detector's landmarks got right); a rotated canvas 99.52% alone, 99.48%
/// averaged; a 320 px canvas with the face 1.5× larger 99.47% averaged. About 20 variants were
/// tried, so part of the best one's lead is luck: every averaged variant fixed pairs and broke
/// none, which is the effect relied on.
pub const REFINE_CANVAS: usize = 256;

/// Score a detection on the refinement canvas needs: the face is known to be there, centred and
/// at a size RetinaFace sees well, so a low bar only keeps a blurred face from losing its
/// refinement (the nearest detection to the centre is taken).
pub const REFINE_SCORE_THRESHOLD: f32 = 0.3;

/// The refinement is used only if the canvas face's landmark centre lies within this many eye
/// distances of the given one. A second detection of the same face moves its points ~1.5 px at
/// ~45 px between the eyes (0.03); a neighbour in a group photo is a whole face away (> 1).
/// Rough landmarks from a drawn box land well within 0.5 of the face inside it.
pub const REFINE_MAX_SHIFT: f32 = 0.5;

/// A detection is the face a box was drawn around (by hand, or as an XMP region) when they
/// overlap at least this much (intersection over union). Other programs and people draw looser
/// or tighter boxes than RetinaFace: a box 1.5x as wide and tall around the same face still has
/// an IoU of 0.44, while two detections the detector keeps apart overlap less than
/// `DETECT_NMS_IOU` (0.4) and faces side by side in a group photo far less.
pub const BOX_MATCH_IOU: f32 = 0.3;

/// A box drawn over a face Likeness already has (this much overlap with it) is that face: the
/// user is told to name it rather than getting a duplicate. Same overlap that keeps a face's id
/// when its photo is processed again.
pub const DRAWN_SAME_FACE_IOU: f32 = 0.5;

/// When looking for the face inside a drawn box, the box plus its margin is enlarged to at least
/// this many pixels on its longer side, so a 30 px face reaches RetinaFace's 16 px anchors with
/// room to spare.
pub const BOX_DETECT_MIN_SIDE: u32 = 320;

/// Side of the face thumbnail stored at scan time, so the UI never decodes a photo to show a face.
pub const THUMB_SIDE: u32 = 160;

/// JPEG quality of face thumbnails (~5-8 KB each at 160 px).
pub const THUMB_QUALITY: u8 = 85;

/// Margin around the face box in the thumbnail, as a fraction of the box side.
pub const THUMB_MARGIN: f32 = 0.35;

/// Faces per embedder call. Larger batches amortise per-call overhead; 16 was the knee on 2 cores.
pub const EMBED_BATCH: usize = 16;

/// Photos per database transaction in the writer. Small enough that a kill loses little work,
/// large enough that fsyncs don't dominate.
pub const WRITE_BATCH: usize = 32;

/// Upper bound on how long a finished photo waits in the writer before its batch is committed.
pub const WRITE_MAX_DELAY_MS: u64 = 500;

// Every threshold that depends on the embedding model (verification, "uncertain" band,
// clustering radius, linkage cut, match and suggestion distances) lives with its model in the
// catalogue, `vision/models.rs`, each with the measurement that chose it.

/// ONNX Runtime intra-op threads per session. On 2 cores one thread per session and one session
/// per inference thread measured faster than two intra-op threads.
pub const ORT_INTRA_THREADS: usize = 1;

/// Default number of inference threads (each owns its own detector and embedder sessions).
pub fn default_inference_threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .clamp(1, 8)
}

// --- Clustering (issue 3). Measured with `likeness eval clusters` on LFW identities_min5 and the
// dlib "Johns" set; see README "Clustering".

/// DBSCAN core size (the face itself included). On LFW min5 2, 3 and 4 score within 0.001 of
/// each other (linkage decides precision); 3 means a lone pair of look-alikes is not a core.
pub const CLUSTER_MIN_POINTS: usize = 3;

/// Smallest group that becomes a person: one face alone stays unassigned (no one-face people).
pub const CLUSTER_MIN_PERSON_FACES: usize = 2;

/// Faces smaller than this (shorter box side, pixels) may join a person but never seed one: the
/// 150 px embedder chip is then upscaled more than 4x and descriptors drift.
pub const CLUSTER_WEAK_MIN_PX: f32 = 36.0;

/// Faces with a detector score below this may join a person but never seed one (blurred,
/// profile or partial faces; the detector keeps them from 0.8 on).
pub const CLUSTER_WEAK_MIN_SCORE: f32 = 0.9;

/// Largest DBSCAN cluster given to average linkage at once: its m×m matrices cost ~12 bytes per
/// pair (300 MB at 5,000); bigger clusters are re-split with a smaller radius first.
pub const CLUSTER_LINKAGE_MAX: usize = 5000;

// --- Model upgrades (issue 8).

/// A harmonic map stands in for real vectors only when, on held-out faces of the library, the
/// same-person decision with one side mapped agrees with the decision on two real vectors this
/// often (balanced same/different pairs, like LFW's). The goal the issue sets for the map is LFW
/// ≥ 0.99; measured on LFW with `likeness eval lfw --map-from` (README).
pub const MAP_MIN_AGREEMENT: f64 = 0.97;

/// Fewer faces with both vectors than this and no map is fitted: a least-squares map of a 256-d
/// space needs several times that many samples to generalise.
pub const MAP_MIN_FACES: usize = 1000;
