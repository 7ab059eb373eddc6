//! Review: "Is this NAME?" for faces that belong to nobody yet but are close to a named person.
//! Y / N / space answer and step to the next at once, so hundreds take a few minutes.

use egui::{Key, RichText, Ui};

use super::super::commands::Command;
use super::super::context::ViewCtx;
use super::super::worker::Job;
use super::{empty_state, face_tile};
use crate::people::Act;

/// Draw the review view.
pub fn show(ui: &mut Ui, cx: &mut ViewCtx<'_>) {
    ui.heading("Review suggestions");
    ui.separator();
    let Some(list) = &cx.data.suggestions else {
        ui.spinner();
        ui.label("Looking for faces close to the people you named…");
        return;
    };
    let skipped = &cx.state.skipped;
    let pending: Vec<_> = list
        .iter()
        .skip(cx.state.suggestion_index)
        .filter(|s| !skipped.contains(&s.face.id))
        .cloned()
        .collect();
    let Some(s) = pending.first().cloned() else {
        empty_state(
            ui,
            "Nothing to review",
            "Name a few people first; faces that look like them show up here.",
        );
        if ui.button("Look again").clicked() {
            cx.state.skipped.clear();
            cx.push(Command::Ask(Job::Suggestions));
        }
        return;
    };
    ui.label(format!("{} left to review", pending.len()));
    ui.add_space(10.0);
    ui.vertical_centered(|ui| {
        ui.label(
            RichText::new(format!("Is this {}?", s.name))
                .size(26.0)
                .strong(),
        );
        ui.add_space(8.0);
        ui.horizontal(|ui| {
            let w = 2.0 * 200.0 + 40.0;
            ui.add_space(((ui.available_width() - w) / 2.0).max(0.0));
            ui.vertical(|ui| {
                face_tile(ui, cx.thumbs, s.face.id, 200.0);
                ui.label("This face");
            });
            ui.add_space(40.0);
            let rep = cx
                .data
                .library
                .as_ref()
                .and_then(|l| l.people.iter().find(|p| p.id == s.person))
                .and_then(|p| p.face);
            ui.vertical(|ui| {
                if let Some(f) = rep {
                    face_tile(ui, cx.thumbs, f, 200.0);
                }
                ui.label(&s.name);
            });
        });
        ui.label(format!(
            "distance {:.2} — {}",
            s.distance,
            crate::verify::confidence(&cx.data.model().thresholds, s.distance).meaning()
        ));
        ui.add_space(10.0);
        ui.horizontal(|ui| {
            ui.add_space(((ui.available_width() - 330.0) / 2.0).max(0.0));
            let yes = ui.button(RichText::new("Yes (Y)").size(18.0)).clicked();
            let no = ui.button(RichText::new("No (N)").size(18.0)).clicked();
            let skip = ui
                .button(RichText::new("Skip (space)").size(18.0))
                .clicked();
            let keys = !ui.ctx().egui_wants_keyboard_input();
            let (ky, kn, ks) = ui.input(|i| {
                (
                    keys && i.key_pressed(Key::Y),
                    keys && i.key_pressed(Key::N),
                    keys && i.key_pressed(Key::Space),
                )
            });
            if yes || ky || no || kn {
                cx.push(Command::Answer(if yes || ky {
                    Act::Move {
                        faces: vec![s.face.id],
                        person: s.person,
                    }
                } else {
                    // Remembered, so the face is not suggested for this person again.
                    Act::RejectFrom {
                        face: s.face.id,
                        person: s.person,
                    }
                }));
                cx.state.skipped.insert(s.face.id);
            } else if skip || ks {
                cx.state.skipped.insert(s.face.id);
            }
        });
    });
}
