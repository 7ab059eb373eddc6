//! Verify: two faces side by side, large, with their photos and the distance with its meaning.
//! (a) The library's most uncertain pairs first, answered with S / D / space; (b) any two photos
//! the user picks (file dialogs, typed paths or drag and drop) for a one-off check.

use egui::{Key, RichText, Ui, Vec2};

use super::super::commands::Command;
use super::super::context::ViewCtx;
use super::super::worker::Job;
use super::super::worker::PhotoSlot;
use super::{empty_state, face_tile, photo_with_boxes};
use crate::people::Act;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Pairs,
    Photos,
}

/// Draw the verify view.
pub fn show(ui: &mut Ui, cx: &mut ViewCtx<'_>) {
    let id = egui::Id::unique("likeness-verify-mode");
    let mut mode = ui
        .data(|d| d.get_temp::<bool>(id))
        .map_or(Mode::Pairs, |p| if p { Mode::Photos } else { Mode::Pairs });
    ui.horizontal(|ui| {
        ui.heading("Verify");
        ui.add_space(12.0);
        ui.selectable_value(&mut mode, Mode::Pairs, "Uncertain pairs of the library");
        ui.selectable_value(&mut mode, Mode::Photos, "Any two photos");
    });
    ui.data_mut(|d| d.insert_temp(id, mode == Mode::Photos));
    ui.separator();
    // Dropped files go to the two-photo check whatever the mode.
    let dropped: Vec<String> = ui.input(|i| {
        i.raw
            .dropped_files
            .iter()
            .map(|f| f.path().to_string_lossy().into_owned())
            .collect()
    });
    if !dropped.is_empty() {
        mode = Mode::Photos;
        ui.data_mut(|d| d.insert_temp(id, true));
        let mut it = dropped.into_iter();
        if let Some(a) = it.next() {
            match it.next() {
                Some(b) => {
                    cx.state.path_a = a;
                    cx.state.path_b = b;
                }
                None if cx.state.path_a.is_empty() => cx.state.path_a = a,
                None => cx.state.path_b = a,
            }
        }
    }
    match mode {
        Mode::Pairs => pairs(ui, cx),
        Mode::Photos => photos(ui, cx),
    }
}

fn meaning_color(c: crate::verify::Confidence) -> egui::Color32 {
    match c {
        crate::verify::Confidence::VeryLikelySame => egui::Color32::from_rgb(90, 190, 110),
        crate::verify::Confidence::Uncertain => egui::Color32::from_rgb(230, 180, 60),
        crate::verify::Confidence::Different => egui::Color32::from_rgb(220, 90, 80),
    }
}

fn pairs(ui: &mut Ui, cx: &mut ViewCtx<'_>) {
    let Some(list) = &cx.data.pairs else {
        ui.spinner();
        ui.label("Finding the pairs the library is least sure about…");
        return;
    };
    let Some(p) = list.get(cx.state.pair_index).cloned() else {
        empty_state(
            ui,
            "No uncertain pairs",
            "Every pair of faces is clearly the same person or clearly not. Scan more photos, or check two photos of your own with \"Any two photos\".",
        );
        if ui.button("Look again").clicked() {
            cx.push(Command::Ask(Job::UncertainPairs));
        }
        return;
    };
    let left = list.len() - cx.state.pair_index;
    ui.label(format!("{left} pair(s) to check · {}", p.why));
    ui.add_space(6.0);
    ui.vertical_centered(|ui| {
        ui.label(RichText::new("Same person?").size(26.0).strong());
    });
    // The photos of both faces, loaded when a new pair comes up.
    for (slot, f) in [(PhotoSlot::PairA, &p.a), (PhotoSlot::PairB, &p.b)] {
        if cx.data.photo_wanted.get(&slot) != Some(&f.id) {
            cx.shown.remove(&slot);
            cx.push(Command::ShowFacePhoto(slot, f.clone()));
        }
    }
    let half = (ui.available_width() / 2.0 - 20.0).max(100.0);
    ui.columns(2, |cols| {
        for (col, f) in cols.iter_mut().zip([&p.a, &p.b]) {
            col.vertical_centered(|ui| {
                face_tile(ui, cx.thumbs, f.id, 200.0_f32.min(half));
            });
        }
    });
    let t = cx.data.model().thresholds;
    let c = crate::verify::confidence(&t, p.distance);
    ui.vertical_centered(|ui| {
        ui.label(
            RichText::new(format!("distance {:.2} — {}", p.distance, c.meaning()))
                .size(18.0)
                .color(meaning_color(c)),
        );
        ui.small(format!(
            "Below {:.2}: very likely the same person; above {:.2}: different people.",
            t.uncertain_low, t.uncertain_high
        ));
        ui.add_space(6.0);
        ui.horizontal(|ui| {
            ui.add_space(((ui.available_width() - 380.0) / 2.0).max(0.0));
            let same = ui.button(RichText::new("Same (S)").size(18.0)).clicked();
            let diff = ui
                .button(RichText::new("Different (D)").size(18.0))
                .clicked();
            let skip = ui
                .button(RichText::new("Skip (space)").size(18.0))
                .clicked();
            let keys = !ui.ctx().egui_wants_keyboard_input();
            let (ks, kd, kk) = ui.input(|i| {
                (
                    keys && i.key_pressed(Key::S),
                    keys && i.key_pressed(Key::D),
                    keys && i.key_pressed(Key::Space),
                )
            });
            if same || ks || diff || kd {
                cx.push(Command::Answer(Act::Pair {
                    a: p.a.id,
                    b: p.b.id,
                    same: same || ks,
                }));
                cx.state.pair_index += 1;
            } else if skip || kk {
                cx.state.pair_index += 1;
            }
        });
    });
    ui.add_space(6.0);
    side_by_side(ui, cx, "pair", [PhotoSlot::PairA, PhotoSlot::PairB]);
}

fn side_by_side(ui: &mut Ui, cx: &mut ViewCtx<'_>, name: &str, slots: [PhotoSlot; 2]) {
    let h = ui.available_height().max(120.0);
    ui.columns(2, |cols| {
        for (col, slot) in cols.iter_mut().zip(slots) {
            let max = Vec2::new(col.available_width(), h - 40.0);
            match cx.shown.get_mut(&slot) {
                Some(p) => {
                    col.vertical_centered(|ui| {
                        photo_with_boxes(ui, p, &format!("{name}-{slot:?}"), max);
                        let file = std::path::Path::new(&p.info.path)
                            .file_name()
                            .map(|f| f.to_string_lossy().into_owned())
                            .unwrap_or_default();
                        ui.small(format!(
                            "{file} · {}",
                            p.info.taken_at.as_deref().unwrap_or("date unknown")
                        ));
                    });
                }
                None => {
                    col.spinner();
                }
            }
        }
    });
}

fn photos(ui: &mut Ui, cx: &mut ViewCtx<'_>) {
    ui.label("Pick two photos (or drop them on the window): the largest face of each is compared.");
    for (slot, label) in [
        (PhotoSlot::A, "First photo"),
        (PhotoSlot::B, "Second photo"),
    ] {
        ui.horizontal(|ui| {
            let l = ui.add_sized([90.0, 18.0], egui::Label::new(label));
            let field = match slot {
                PhotoSlot::B => &mut cx.state.path_b,
                _ => &mut cx.state.path_a,
            };
            ui.add(egui::TextEdit::singleline(field).desired_width(420.0))
                .labelled_by(l.id);
            if ui.button("Choose…").clicked() {
                cx.push(Command::PickPhoto(slot));
            }
        });
    }
    let ready = !cx.state.path_a.trim().is_empty() && !cx.state.path_b.trim().is_empty();
    ui.horizontal(|ui| {
        if ui
            .add_enabled(ready && !cx.data.verifying, egui::Button::new("Compare"))
            .clicked()
        {
            cx.push(Command::Ask(Job::VerifyPhotos(
                cx.state.path_a.trim().into(),
                cx.state.path_b.trim().into(),
            )));
        }
        if cx.data.verifying {
            ui.spinner();
            ui.label("Finding and comparing faces…");
        }
    });
    if let Some(v) = &cx.data.verdict {
        let d = v.verdict.distance;
        ui.add_space(6.0);
        ui.vertical_centered(|ui| {
            ui.label(
                RichText::new(format!("{} (distance {:.2})", v.verdict.meaning, d))
                    .size(24.0)
                    .strong()
                    .color(meaning_color(v.verdict.confidence)),
            );
            ui.small(format!(
                "{} face(s) in the first photo, {} in the second; threshold {:.2}",
                v.faces_a, v.faces_b, v.verdict.threshold
            ));
        });
        ui.add_space(6.0);
        side_by_side(ui, cx, "check", [PhotoSlot::A, PhotoSlot::B]);
    }
}
