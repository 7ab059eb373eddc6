//! One person: all their faces; click a face to select it and see its photo with the box; act on
//! the selection (not this person, move, split off) or on the person (rename, merge, hide).
//! Every action is a decision of the people API and can be undone (Ctrl+Z).

use std::collections::HashMap;

use egui::{Key, Modifiers, RichText, Ui, Vec2};

use super::super::commands::Command;
use super::super::context::ViewCtx;
use super::super::state::{PersonCard, Saved, View};
use super::super::worker::PhotoSlot;
use super::{face_tile, photo_with_boxes};
use crate::people::Act;

const THUMB: f32 = 96.0;

/// Draw the person view.
pub fn show(ui: &mut Ui, saved: &mut Saved, cx: &mut ViewCtx<'_>) {
    let Some(id) = saved.person else {
        cx.push(Command::Show(View::People));
        return;
    };
    let card = cx
        .data
        .library
        .as_ref()
        .and_then(|l| l.people.iter().find(|p| p.id == id).cloned());
    let Some(card) = card else {
        ui.spinner();
        return;
    };
    ui.horizontal(|ui| {
        if ui.button("Back to people").on_hover_text("Esc").clicked() {
            cx.push(Command::Show(View::People));
        }
        ui.heading(card.display_name());
        ui.label(format!("{} faces", card.faces));
        if card.hidden {
            ui.label(RichText::new("hidden").weak());
        }
    });
    if cx.state.rename_for != Some(id) {
        cx.state.rename_for = Some(id);
        cx.state.rename = card.name.clone().unwrap_or_default();
    }
    ui.horizontal(|ui| {
        let label = ui.label("Name");
        let field = ui
            .add(egui::TextEdit::singleline(&mut cx.state.rename).desired_width(220.0))
            .labelled_by(label.id);
        let enter = field.lost_focus() && ui.input(|i| i.key_pressed(Key::Enter));
        let name = cx.state.rename.trim().to_string();
        let changed = !name.is_empty() && Some(&name) != card.name.as_ref();
        if (ui
            .add_enabled(changed, egui::Button::new("Rename"))
            .clicked()
            || enter)
            && changed
        {
            cx.push(Command::People(Act::Name {
                person: id,
                name: Some(name),
            }));
        }
        ui.separator();
        let hide = if card.hidden { "Unhide" } else { "Hide" };
        if ui
            .button(hide)
            .on_hover_text("Hidden people stay out of the grid and suggestions")
            .clicked()
        {
            cx.push(Command::People(Act::Hide {
                person: id,
                hidden: !card.hidden,
            }));
        }
        ui.separator();
        let what_goes = crate::people::forget::what_goes(
            crate::people::Forget::Person(id),
            &crate::store::ForgetPreview {
                faces: card.faces,
                people: 1,
                name: Some(card.display_name().to_string()),
            },
        );
        super::forget_control(
            ui,
            cx,
            crate::people::Forget::Person(id),
            "Forget this person...",
            what_goes,
        );
    });
    ui.separator();

    let faces = match &cx.data.person_faces {
        Some((p, f)) if *p == id => f.clone(),
        _ => {
            ui.spinner();
            return;
        }
    };
    cx.state
        .selected
        .retain(|f| faces.iter().any(|x| x.id == *f));
    if !ui.ctx().egui_wants_keyboard_input()
        && ui.input_mut(|i| i.consume_key(Modifiers::COMMAND, Key::A))
    {
        cx.state.selected.extend(faces.iter().map(|f| f.id));
    }
    let n_sel = cx.state.selected.len();
    let picked: Vec<i64> = cx.state.selected.iter().copied().collect();
    ui.horizontal(|ui| {
        ui.label(format!("{n_sel} selected"));
        let any = n_sel > 0;
        if ui
            .add_enabled(any, egui::Button::new("Not this person"))
            .on_hover_text("Remove the selected faces from this person (remembered)")
            .clicked()
        {
            cx.push(Command::People(Act::Reject {
                faces: picked.clone(),
            }));
        }
        if ui
            .add_enabled(any, egui::Button::new("Split off as new person"))
            .clicked()
        {
            cx.push(Command::People(Act::Split {
                faces: picked,
                name: None,
            }));
        }
        if ui
            .add_enabled(any, egui::Button::new("Clear selection"))
            .clicked()
        {
            cx.state.selected.clear();
        }
    });

    egui::Panel::right("person-side")
        .default_size(360.0)
        .show(ui, |ui| side_panel(ui, cx, id));

    let cell = THUMB + 8.0;
    let cols = ((ui.available_width() / cell).floor() as usize).max(1);
    let nrows = faces.len().div_ceil(cols);
    let mut clicked = None;
    egui::ScrollArea::vertical()
        .id_salt("person-faces")
        .auto_shrink([false, false])
        .show_rows(ui, cell, nrows, |ui, range| {
            for r in range {
                ui.horizontal(|ui| {
                    for f in faces.iter().skip(r * cols).take(cols) {
                        let resp = face_tile(ui, cx.thumbs, f.id, THUMB)
                            .on_hover_text("Click to select and see the photo");
                        if cx.state.selected.contains(&f.id) {
                            let accent = egui::Color32::from_rgb(80, 170, 255);
                            ui.painter().rect_filled(
                                resp.rect,
                                4.0,
                                egui::Color32::from_rgba_unmultiplied(80, 170, 255, 60),
                            );
                            ui.painter().rect_stroke(
                                resp.rect.expand(1.0),
                                4.0,
                                egui::Stroke::new(3.0, accent),
                                egui::StrokeKind::Outside,
                            );
                            ui.painter().circle_filled(
                                resp.rect.right_top() + egui::vec2(-12.0, 12.0),
                                8.0,
                                accent,
                            );
                        }
                        if resp.clicked() {
                            clicked = Some(f.clone());
                        }
                    }
                });
            }
        });
    if let Some(f) = clicked {
        if !cx.state.selected.remove(&f.id) {
            cx.state.selected.insert(f.id);
        }
        cx.push(Command::ShowFacePhoto(PhotoSlot::Person, f));
    }
}

fn side_panel(ui: &mut Ui, cx: &mut ViewCtx<'_>, id: i64) {
    if let Some(p) = cx.shown.get_mut(&PhotoSlot::Person) {
        let max = Vec2::new(ui.available_width(), 300.0);
        let path = p.info.path.clone();
        photo_with_boxes(ui, p, "person-photo", max);
        ui.horizontal_wrapped(|ui| {
            ui.small(&path);
            if ui.small_button("Open").clicked() {
                cx.push(Command::OpenFile(path.clone()));
            }
        });
        ui.separator();
    }
    let n_sel = cx.state.selected.len();
    ui.label(RichText::new("Merge with / move to…").strong());
    let label = ui.label("Find a person");
    ui.add(egui::TextEdit::singleline(&mut cx.state.merge_search).hint_text("name…"))
        .labelled_by(label.id);
    let q = cx.state.merge_search.trim().to_lowercase();
    let Some(lib) = &cx.data.library else { return };
    // Closest people first, with how close they are; then everyone else in the grid's order.
    let near: &[(i64, f32)] = match &cx.data.closest {
        Some((p, near)) if *p == id => near,
        _ => &[],
    };
    let distance: HashMap<i64, f32> = near.iter().copied().collect();
    // One pass over the people for the few near ones (a map of 20,000 cards built every frame
    // cost the person view ~1 ms a frame).
    let mut close: Vec<(&PersonCard, Option<f32>)> = if distance.is_empty() {
        Vec::new()
    } else {
        lib.people
            .iter()
            .filter_map(|p| Some((p, Some(*distance.get(&p.id)?))))
            .collect()
    };
    close.sort_by(|a, b| a.1.unwrap_or(0.0).total_cmp(&b.1.unwrap_or(0.0)));
    let targets: Vec<(&PersonCard, Option<f32>)> = close
        .into_iter()
        .chain(
            lib.people
                .iter()
                .filter(|p| !distance.contains_key(&p.id))
                .map(|p| (p, None)),
        )
        .filter(|(p, _)| p.id != id && !p.hidden)
        .filter(|(p, _)| q.is_empty() || p.display_name().to_lowercase().contains(&q))
        .take(200)
        .collect();
    let same = lib.model.thresholds.verify;
    egui::ScrollArea::vertical()
        .id_salt("merge-targets")
        .show(ui, |ui| {
            for (t, d) in targets {
                ui.horizontal(|ui| {
                    if let Some(f) = t.face {
                        face_tile(ui, cx.thumbs, f, 32.0);
                    }
                    ui.label(format!("{} ({})", t.display_name(), t.faces));
                    if let Some(d) = d {
                        let text = RichText::new(format!("{d:.2}")).small();
                        let text = if d <= same { text.strong() } else { text.weak() };
                        ui.label(text).on_hover_text(format!(
                            "Average distance between their faces and this person's; {same:.2} or less reads as the same person"
                        ));
                    }
                    if ui
                        .small_button("Merge")
                        .on_hover_text("This person and that one are the same")
                        .clicked()
                    {
                        cx.push(Command::People(Act::Merge {
                            from: id,
                            into: t.id,
                        }));
                        cx.push(Command::OpenPerson(t.id));
                    }
                    if n_sel > 0 && ui.small_button("Move selected").clicked() {
                        cx.push(Command::People(Act::Move {
                            faces: cx.state.selected.iter().copied().collect(),
                            person: t.id,
                        }));
                    }
                });
            }
        });
}
