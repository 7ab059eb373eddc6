//! One library photo with all its faces (opened from the photos view), and drawing a face the
//! detector missed: turn on "Draw a missed face", drag a box around it, then say whose face it
//! is (someone in the library, or a new person). The face is stored with its thumbnail and
//! embedding, pinned to that person; Undo takes it back.

use egui::{Color32, Rect, RichText, Sense, Stroke, StrokeKind, Ui, Vec2};

use super::super::commands::Command;
use super::super::context::ViewCtx;
use super::super::worker::Job;
use super::super::worker::PhotoSlot;
use super::{face_tile, placed_photo};
use crate::people::Who;

/// Draw the open photo; `false` when the user went back to the grid.
pub fn show(ui: &mut Ui, cx: &mut ViewCtx<'_>, photo_id: i64) -> bool {
    let mut stay = true;
    ui.horizontal(|ui| {
        if ui.button("Back to all photos").clicked() {
            stay = false;
        }
        if let Some(p) = cx.shown.get(&PhotoSlot::Photo) {
            let path = p.info.path.clone();
            ui.label(RichText::new(&path).small());
            if ui.small_button("Open in system viewer").clicked() {
                cx.push(Command::OpenFile(path));
            }
        }
    });
    if !stay {
        cx.state.open_photo = None;
        cx.state.draw = Default::default();
        cx.shown.remove(&PhotoSlot::Photo);
        return false;
    }
    let loaded = cx
        .shown
        .get(&PhotoSlot::Photo)
        .is_some_and(|p| p.info.photo_id == Some(photo_id));
    if !loaded {
        ui.spinner();
        return true;
    }
    ui.horizontal(|ui| {
        let draw = &mut cx.state.draw;
        if ui
            .selectable_label(draw.on, "Draw a missed face")
            .on_hover_text("Then drag a box around a face that has no yellow box")
            .clicked()
        {
            draw.on = !draw.on;
            draw.start = None;
            draw.pending = None;
        }
        if draw.on && draw.pending.is_none() {
            ui.label("Drag a box around the face.");
        }
    });
    // Room for "whose face?" is kept while drawing, so the photo does not jump when it opens.
    let side = if cx.state.draw.on || cx.state.draw.pending.is_some() {
        260.0
    } else {
        0.0
    };
    let max = Vec2::new(
        (ui.available_width() - side - 16.0).max(200.0),
        (ui.available_height() - 8.0).max(200.0),
    );
    ui.horizontal_top(|ui| {
        picture(ui, cx, max);
        if let Some(bbox) = cx.state.draw.pending {
            ui.vertical(|ui| {
                ui.set_width(side);
                whose_face(ui, cx, photo_id, bbox);
            });
        }
    });
    true
}

/// The photo, its faces, and the box being drawn.
fn picture(ui: &mut Ui, cx: &mut ViewCtx<'_>, max: Vec2) {
    let Some(p) = cx.shown.get_mut(&PhotoSlot::Photo) else {
        return;
    };
    let drawing = cx.state.draw.on;
    let sense = if drawing {
        Sense::click_and_drag()
    } else {
        Sense::hover()
    };
    let (resp, k) = placed_photo(ui, p, "open-photo", max, sense);
    resp.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Image, true, "the open photo"));
    let to_photo = |pos: egui::Pos2| {
        let v = (pos - resp.rect.min) / k;
        [v.x, v.y]
    };
    let draw = &mut cx.state.draw;
    if drawing {
        if resp.drag_started() {
            // Where the button went down, not where the drag was recognised.
            let origin = ui.input(|i| i.pointer.press_origin());
            draw.start = origin.or(resp.interact_pointer_pos()).map(to_photo);
            draw.pending = None;
        }
        if let (Some(s), Some(pos)) = (draw.start, resp.interact_pointer_pos()) {
            let e = to_photo(pos);
            let b = [
                s[0].min(e[0]),
                s[1].min(e[1]),
                s[0].max(e[0]),
                s[1].max(e[1]),
            ];
            if resp.drag_stopped() {
                draw.start = None;
                // A click or a tiny drag is not a face.
                if b[2] - b[0] >= 8.0 && b[3] - b[1] >= 8.0 {
                    draw.pending = Some(b);
                }
            } else {
                outline(ui, resp.rect, k, b, Color32::from_rgb(80, 170, 255));
            }
        }
    }
    if let Some(b) = draw.pending {
        outline(ui, resp.rect, k, b, Color32::from_rgb(80, 170, 255));
    }
}

fn outline(ui: &Ui, image: Rect, k: f32, b: [f32; 4], colour: Color32) {
    let r = Rect::from_min_max(
        image.min + Vec2::new(b[0] * k, b[1] * k),
        image.min + Vec2::new(b[2] * k, b[3] * k),
    );
    ui.painter()
        .rect_stroke(r, 2.0, Stroke::new(2.5, colour), StrokeKind::Outside);
}

/// Pick the person for the drawn box, or make a new one.
fn whose_face(ui: &mut Ui, cx: &mut ViewCtx<'_>, photo_id: i64, bbox: [f32; 4]) {
    ui.label(RichText::new("Whose face is this?").strong());
    let l = ui.label("New person");
    ui.add(egui::TextEdit::singleline(&mut cx.state.draw.new_name).hint_text("name…"))
        .labelled_by(l.id);
    if ui.button("Add as a new person").clicked() {
        let name = cx.state.draw.new_name.trim().to_string();
        cx.push(Command::Ask(Job::AddFace {
            photo_id,
            bbox,
            who: Who::New((!name.is_empty()).then_some(name)),
        }));
    }
    if ui.button("Cancel").clicked() {
        cx.state.draw.pending = None;
    }
    ui.separator();
    let l = ui.label("Or someone in the library");
    ui.add(egui::TextEdit::singleline(&mut cx.state.draw.search).hint_text("find…"))
        .labelled_by(l.id);
    let Some(lib) = &cx.data.library else { return };
    let q = cx.state.draw.search.trim().to_lowercase();
    let list: Vec<_> = lib
        .people
        .iter()
        .filter(|p| !p.hidden)
        .filter(|p| q.is_empty() || p.display_name().to_lowercase().contains(&q))
        .take(100)
        .map(|p| (p.id, p.face, format!("{} ({})", p.display_name(), p.faces)))
        .collect();
    egui::ScrollArea::vertical()
        .id_salt("draw-people")
        .show(ui, |ui| {
            for (id, face, label) in list {
                ui.horizontal(|ui| {
                    if let Some(f) = face {
                        face_tile(ui, cx.thumbs, f, 28.0);
                    }
                    if ui.button(label).clicked() {
                        cx.push(Command::Ask(Job::AddFace {
                            photo_id,
                            bbox,
                            who: Who::Person(id),
                        }));
                    }
                });
            }
        });
}
