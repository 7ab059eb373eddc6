//! Photos with chosen people ("photos with Anna and Ben"): pick people, then a virtualized grid
//! of the photos where all of them appear (shown by their faces); click a face to open the photo
//! here (`photo`: all its faces, drawing a missed one), its name to open it in the system viewer.

use egui::{RichText, Ui};

use super::super::commands::Command;
use super::super::context::ViewCtx;
use super::super::state::Saved;
use super::super::worker::Job;
use super::{empty_state, face_tile};

const THUMB: f32 = 72.0;

/// Draw the photos view.
pub fn show(ui: &mut Ui, saved: &mut Saved, cx: &mut ViewCtx<'_>) {
    if let Some(id) = cx.state.open_photo {
        if super::photo::show(ui, cx, id) {
            return;
        }
    }
    ui.heading("Photos with…");
    let Some(lib) = &cx.data.library else {
        ui.spinner();
        return;
    };
    if lib.people.is_empty() {
        empty_state(
            ui,
            "No people yet",
            "No photos yet — add a folder and scan it.",
        );
        return;
    }
    let mut chosen = saved.photos_people.clone();
    chosen.retain(|id| lib.people.iter().any(|p| p.id == *id));
    egui::Panel::left("photos-people")
        .default_size(240.0)
        .show(ui, |ui| {
            let l = ui.label("Find a person");
            ui.add(egui::TextEdit::singleline(&mut cx.state.photos_search).hint_text("name…"))
                .labelled_by(l.id);
            let q = cx.state.photos_search.trim().to_lowercase();
            let list: Vec<_> = lib
                .people
                .iter()
                .filter(|p| !p.hidden || chosen.contains(&p.id))
                .filter(|p| q.is_empty() || p.display_name().to_lowercase().contains(&q))
                .map(|p| (p.id, p.face, format!("{} ({})", p.display_name(), p.faces)))
                .collect();
            // Each with their face: "Unnamed (38)" alone says nothing.
            egui::ScrollArea::vertical()
                .id_salt("photos-people-list")
                .show_rows(ui, 30.0, list.len(), |ui, range| {
                    for (id, face, text) in &list[range] {
                        ui.horizontal(|ui| {
                            let on = chosen.contains(id);
                            let tile = match face {
                                Some(f) => face_tile(ui, cx.thumbs, *f, 26.0).clicked(),
                                None => false,
                            };
                            let mut ticked = on;
                            let boxed = ui.checkbox(&mut ticked, text.as_str()).changed();
                            // The face or the name: either ticks the person.
                            if tile || (boxed && ticked != on) {
                                if on {
                                    chosen.retain(|x| x != id);
                                } else {
                                    chosen.push(*id);
                                }
                            }
                        });
                    }
                });
        });
    if chosen != saved.photos_people
        || (!chosen.is_empty()
            && cx
                .data
                .photos
                .as_ref()
                .is_none_or(|(who, _)| *who != chosen))
    {
        if cx
            .data
            .photos
            .as_ref()
            .is_none_or(|(who, _)| *who != chosen)
            && !chosen.is_empty()
        {
            cx.push(Command::Ask(Job::PhotosWith(chosen.clone())));
        }
        saved.photos_people = chosen.clone();
    }
    if chosen.is_empty() {
        empty_state(
            ui,
            "Choose people",
            "Tick one or more people to see the photos they are in together.",
        );
        return;
    }
    let names: Vec<&str> = chosen
        .iter()
        .filter_map(|id| lib.people.iter().find(|p| p.id == *id))
        .map(|p| p.display_name())
        .collect();
    let photos = cx
        .data
        .photos
        .as_ref()
        .map(|(_, p)| p.clone())
        .unwrap_or_default();
    ui.label(
        RichText::new(format!(
            "{} photo(s) with {}",
            photos.len(),
            names.join(" and ")
        ))
        .strong(),
    );
    if photos.is_empty() {
        ui.label("None found together yet.");
        return;
    }
    let cell = egui::vec2(2.0 * THUMB + 36.0, THUMB + 28.0);
    let cols = ((ui.available_width() / cell.x).floor() as usize).max(1);
    let nrows = photos.len().div_ceil(cols);
    egui::ScrollArea::vertical()
        .id_salt("photos-grid")
        .auto_shrink([false, false])
        .show_rows(ui, cell.y, nrows, |ui, range| {
            for r in range {
                ui.horizontal(|ui| {
                    for p in photos.iter().skip(r * cols).take(cols) {
                        ui.allocate_ui(cell, |ui| {
                            ui.set_min_size(cell);
                            ui.vertical(|ui| {
                                ui.horizontal(|ui| {
                                    for &f in p.faces.iter().take(2) {
                                        if face_tile(ui, cx.thumbs, f, THUMB)
                                            .on_hover_text(&p.path)
                                            .clicked()
                                        {
                                            cx.push(Command::Ask(Job::OpenPhoto(p.photo_id)));
                                        }
                                    }
                                });
                                let file = std::path::Path::new(&p.path)
                                    .file_name()
                                    .map(|f| f.to_string_lossy().into_owned())
                                    .unwrap_or_default();
                                if ui
                                    .add(
                                        egui::Button::new(RichText::new(file).small())
                                            .frame(false)
                                            .truncate(),
                                    )
                                    .on_hover_text("Open in the system viewer")
                                    .clicked()
                                {
                                    cx.push(Command::OpenFile(p.path.clone()));
                                }
                            });
                        });
                    }
                });
            }
        });
}
