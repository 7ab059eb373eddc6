//! The faces in nobody: a virtualized grid, newest photos first. Pick one or several, then
//! name them (a new person), add them to someone, or ignore them ("not a face / a stranger,
//! never show again"). Each is one decision, one Ctrl+Z.

use egui::{RichText, Ui, Vec2};

use super::super::commands::Command;
use super::super::context::ViewCtx;
use super::{empty_state, face_tile};
use crate::people::Act;

const THUMB: f32 = 96.0;
const CELL: Vec2 = Vec2::new(104.0, 104.0);

/// Draw the ungrouped view.
pub fn show(ui: &mut Ui, cx: &mut ViewCtx<'_>) {
    ui.heading("Ungrouped faces");
    let Some(list) = cx.data.ungrouped.clone() else {
        ui.spinner();
        return;
    };
    let (faces, total) = (&list.0, list.1);
    if faces.is_empty() {
        empty_state(
            ui,
            "Every face has a person",
            "Faces that belong to no one yet show up here after a scan.",
        );
        return;
    }
    ui.label(format!(
        "{total} faces belong to no one{}. Pick faces, then name them, add them to someone, or \
         ignore them.",
        if total as usize > faces.len() {
            format!(" (the {} from the newest photos are shown)", faces.len())
        } else {
            String::new()
        }
    ));
    egui::Panel::right("ungrouped-actions")
        .default_size(280.0)
        .show(ui, |ui| actions(ui, cx));
    let cols = ((ui.available_width() / CELL.x).floor() as usize).max(1);
    let nrows = faces.len().div_ceil(cols);
    let mut clicked = None;
    egui::ScrollArea::vertical()
        .id_salt("ungrouped-grid")
        .auto_shrink([false, false])
        .show_rows(ui, CELL.y, nrows, |ui, range| {
            for r in range {
                ui.horizontal(|ui| {
                    for f in faces.iter().skip(r * cols).take(cols) {
                        let resp =
                            face_tile(ui, cx.thumbs, f.face_id, THUMB).on_hover_text(&f.photo);
                        if cx.state.ungrouped_selected.contains(&f.face_id) {
                            ui.painter().rect_stroke(
                                resp.rect.expand(1.0),
                                4.0,
                                egui::Stroke::new(3.0, egui::Color32::from_rgb(80, 170, 255)),
                                egui::StrokeKind::Outside,
                            );
                        }
                        if resp.clicked() {
                            clicked = Some(f.face_id);
                        }
                    }
                });
            }
        });
    if let Some(f) = clicked {
        if !cx.state.ungrouped_selected.remove(&f) {
            cx.state.ungrouped_selected.insert(f);
        }
    }
}

/// Name, add to, ignore: for the faces picked.
fn actions(ui: &mut Ui, cx: &mut ViewCtx<'_>) {
    let picked: Vec<i64> = cx.state.ungrouped_selected.iter().copied().collect();
    let any = !picked.is_empty();
    ui.label(RichText::new(format!("{} selected", picked.len())).strong());
    ui.horizontal(|ui| {
        if ui.button("Select all shown").clicked() {
            if let Some(list) = &cx.data.ungrouped {
                cx.state.ungrouped_selected = list.0.iter().map(|f| f.face_id).collect();
            }
        }
        if ui.add_enabled(any, egui::Button::new("Clear")).clicked() {
            cx.state.ungrouped_selected.clear();
        }
    });
    ui.separator();
    let l = ui.label("Name them");
    ui.add(egui::TextEdit::singleline(&mut cx.state.ungrouped_name).hint_text("a new person…"))
        .labelled_by(l.id);
    let name = cx.state.ungrouped_name.trim().to_string();
    if ui
        .add_enabled(
            any && !name.is_empty(),
            egui::Button::new("Name as a new person"),
        )
        .clicked()
    {
        cx.push(Command::People(Act::Split {
            faces: picked.clone(),
            name: Some(name),
        }));
        cx.state.ungrouped_name.clear();
        cx.state.ungrouped_selected.clear();
    }
    if ui
        .add_enabled(any, egui::Button::new("Ignore"))
        .on_hover_text("Not a face, or a stranger: never grouped or shown again (Ctrl+Z undoes)")
        .clicked()
    {
        cx.push(Command::People(Act::Ignore {
            faces: picked.clone(),
            ignored: true,
        }));
        cx.state.ungrouped_selected.clear();
    }
    ui.separator();
    let l = ui.label("Add them to");
    ui.add(egui::TextEdit::singleline(&mut cx.state.ungrouped_search).hint_text("find…"))
        .labelled_by(l.id);
    let Some(lib) = &cx.data.library else { return };
    let q = cx.state.ungrouped_search.trim().to_lowercase();
    let list: Vec<_> = lib
        .people
        .iter()
        .filter(|p| !p.hidden)
        .filter(|p| q.is_empty() || p.display_name().to_lowercase().contains(&q))
        .take(200)
        .map(|p| (p.id, p.face, format!("{} ({})", p.display_name(), p.faces)))
        .collect();
    egui::ScrollArea::vertical()
        .id_salt("ungrouped-people")
        .show(ui, |ui| {
            for (id, face, label) in list {
                ui.horizontal(|ui| {
                    if let Some(f) = face {
                        face_tile(ui, cx.thumbs, f, 28.0);
                    }
                    if ui.add_enabled(any, egui::Button::new(label)).clicked() {
                        cx.push(Command::People(Act::Move {
                            faces: picked.clone(),
                            person: id,
                        }));
                        cx.state.ungrouped_selected.clear();
                    }
                });
            }
        });
}
