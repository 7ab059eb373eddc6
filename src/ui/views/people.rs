//! The people grid: a representative face, the name or "Unnamed" and the face count; named
//! people first, then unnamed by size. Virtualized: only visible rows are laid out, and only
//! visible faces are asked of the thumbnail loader.

use egui::{Key, RichText, Ui, Vec2};

use super::super::commands::Command;
use super::super::context::ViewCtx;
use super::super::state::Saved;
use super::{empty_state, face_tile};

const THUMB: f32 = 112.0;
const CELL: Vec2 = Vec2::new(132.0, 160.0);

/// Said once, plainly: a better embedder is available and what upgrading does.
fn model_notice(ui: &mut Ui, saved: &Saved, cx: &mut ViewCtx<'_>) {
    let Some(lib) = &cx.data.library else { return };
    let Some(better) = lib.better_model else {
        return;
    };
    if saved.model_notice_seen.iter().any(|m| m == better.id()) || lib.stats.faces == 0 {
        return;
    }
    let (current, faces) = (lib.model.name, lib.stats.faces);
    let scanning = cx.data.scanning();
    egui::Frame::group(ui.style()).show(ui, |ui| {
        ui.label(RichText::new(format!("A better face model is available: {}", better.name)).strong());
        ui.label(format!(
            "This library uses {current}. Upgrading re-computes the {faces} faces' fingerprints with {} from the face positions already stored — no photo is scanned again, and every name, merge and answer you gave is kept. Your photos are not changed.",
            better.name
        ));
        ui.horizontal(|ui| {
            if ui
                .add_enabled(!scanning, egui::Button::new(format!("Upgrade to {}", better.name)))
                .clicked()
            {
                cx.push(Command::Upgrade(better.id().to_string()));
                cx.push(Command::ModelNoticeSeen(better.id().to_string()));
                cx.push(Command::Show(super::super::state::View::Library));
            }
            if ui.button("Not now").on_hover_text("Settings, under Face model, can upgrade later").clicked() {
                cx.push(Command::ModelNoticeSeen(better.id().to_string()));
            }
        });
    });
    ui.add_space(6.0);
}

/// Said once: photos searched by an older detector may hide faces it missed, and searching them
/// again keeps every decision.
fn detection_notice(ui: &mut Ui, saved: &Saved, cx: &mut ViewCtx<'_>) {
    let Some(lib) = &cx.data.library else { return };
    let version = crate::vision::detect::DETECTION.version;
    let older = lib.older_detection;
    if older == 0 || saved.model_notice_seen.iter().any(|m| m == version) {
        return;
    }
    let scanning = cx.data.scanning();
    egui::Frame::group(ui.style()).show(ui, |ui| {
        ui.label(RichText::new("Faces the detector used to miss").strong());
        ui.label(format!(
            "{older} photo(s) were searched by an older face detector, which missed faces that fill much of the photo (close-ups, selfies) and sometimes found one face twice. Searching them again adds the missed faces and removes double boxes; every name and decision you made stays. Your photos are not changed."
        ));
        ui.horizontal(|ui| {
            if ui
                .add_enabled(!scanning, egui::Button::new("Find missed faces"))
                .clicked()
            {
                cx.push(Command::Redetect);
                cx.push(Command::ModelNoticeSeen(version.to_string()));
                cx.push(Command::Show(super::super::state::View::Library));
            }
            if ui
                .button("Not now")
                .on_hover_text("Library, beside Scan, can do it later")
                .clicked()
            {
                cx.push(Command::ModelNoticeSeen(version.to_string()));
            }
        });
    });
    ui.add_space(6.0);
}

/// Draw the people view.
pub fn show(ui: &mut Ui, saved: &mut Saved, cx: &mut ViewCtx<'_>) {
    ui.horizontal(|ui| {
        ui.heading("People");
        ui.add_space(12.0);
        let label = ui.label("Filter by name");
        ui.add(
            egui::TextEdit::singleline(&mut saved.people_filter)
                .hint_text("name…")
                .desired_width(200.0),
        )
        .labelled_by(label.id);
        ui.checkbox(&mut saved.show_hidden, "Show hidden");
        if let Some(l) = &cx.data.library {
            ui.label(format!(
                "{} people · {} faces not yet grouped",
                l.people.len(),
                l.unassigned
            ));
            if l.unassigned > 0 && ui.small_button("See them").clicked() {
                cx.push(Command::Show(super::super::state::View::Ungrouped));
            }
        }
    });
    ui.separator();
    model_notice(ui, saved, cx);
    detection_notice(ui, saved, cx);
    let Some(lib) = &cx.data.library else {
        ui.spinner();
        return;
    };
    if lib.people.is_empty() {
        if cx.data.scan.is_some() {
            empty_state(
                ui,
                "Scanning…",
                "People appear here when the scan has found and grouped their faces.",
            );
        } else if lib.stats.faces == 0 {
            empty_state(
                ui,
                "No people yet",
                "No photos yet — add a folder in the Library view and scan it.",
            );
        } else {
            empty_state(
                ui,
                "No people yet",
                "Faces were found but not grouped yet; scan again or check Settings.",
            );
        }
        return;
    }
    let key = (
        saved.people_filter.trim().to_lowercase(),
        saved.show_hidden,
        cx.data.generation,
    );
    if cx.state.people_rows.as_ref().is_none_or(|(k, _)| *k != key) {
        let rows = lib
            .people
            .iter()
            .enumerate()
            .filter(|(_, p)| key.1 || !p.hidden)
            .filter(|(_, p)| {
                key.0.is_empty() || p.display_name().to_lowercase().contains(key.0.as_str())
            })
            .map(|(i, _)| i)
            .collect();
        cx.state.people_rows = Some((key, rows));
        cx.state.cursor = 0;
    }
    let rows = cx
        .state
        .people_rows
        .as_ref()
        .map(|(_, r)| r.clone())
        .unwrap_or_default();
    if rows.is_empty() {
        empty_state(ui, "Nobody matches", "Clear the filter to see everyone.");
        return;
    }
    let cols = ((ui.available_width() / CELL.x).floor() as usize).max(1);
    let nrows = rows.len().div_ceil(cols);

    // Keyboard: arrows move the cursor, Enter opens the person.
    let mut moved = false;
    if !ui.ctx().egui_wants_keyboard_input() {
        let c = &mut cx.state.cursor;
        ui.input(|i| {
            let before = *c;
            if i.key_pressed(Key::ArrowRight) {
                *c = (*c + 1).min(rows.len() - 1);
            }
            if i.key_pressed(Key::ArrowLeft) {
                *c = c.saturating_sub(1);
            }
            if i.key_pressed(Key::ArrowDown) {
                *c = (*c + cols).min(rows.len() - 1);
            }
            if i.key_pressed(Key::ArrowUp) {
                *c = c.saturating_sub(cols);
            }
            moved = *c != before;
        });
        if ui.input(|i| i.key_pressed(Key::Enter)) {
            if let Some(&i) = rows.get(cx.state.cursor) {
                cx.push(Command::OpenPerson(lib.people[i].id));
            }
        }
    }
    let cursor = cx.state.cursor.min(rows.len() - 1);
    let mut area = egui::ScrollArea::vertical()
        .id_salt("people-grid")
        .auto_shrink([false, false]);
    if moved {
        let row = (cursor / cols) as f32 * (CELL.y + ui.spacing().item_spacing.y);
        area = area.vertical_scroll_offset((row - ui.available_height() / 2.0).max(0.0));
    }
    let people = &lib.people;
    let mut open = None;
    area.show_rows(ui, CELL.y, nrows, |ui, range| {
        for r in range {
            ui.horizontal(|ui| {
                for c in 0..cols {
                    let k = r * cols + c;
                    let Some(&i) = rows.get(k) else { break };
                    let p = &people[i];
                    ui.allocate_ui(CELL, |ui| {
                        ui.vertical_centered(|ui| {
                            let resp = match p.face {
                                Some(f) => face_tile(ui, cx.thumbs, f, THUMB),
                                None => {
                                    ui.allocate_exact_size(Vec2::splat(THUMB), egui::Sense::click())
                                        .1
                                }
                            };
                            if k == cursor {
                                ui.painter().rect_stroke(
                                    resp.rect.expand(2.0),
                                    4.0,
                                    ui.visuals().selection.stroke,
                                    egui::StrokeKind::Outside,
                                );
                            }
                            let name = if p.name.is_some() {
                                RichText::new(p.display_name()).strong()
                            } else {
                                RichText::new("Unnamed").weak()
                            };
                            let b = ui.add(egui::Button::new(name).frame(false).truncate());
                            ui.label(
                                RichText::new(format!(
                                    "{} face{}{}",
                                    p.faces,
                                    if p.faces == 1 { "" } else { "s" },
                                    if p.hidden { " · hidden" } else { "" }
                                ))
                                .small(),
                            );
                            if resp.clicked() || b.clicked() {
                                open = Some(p.id);
                            }
                        });
                    });
                }
            });
        }
    });
    if let Some(id) = open {
        cx.push(Command::OpenPerson(id));
    }
}
