//! Settings: the library database, clustering threshold and minimum face size (with a preview
//! of how many people they would give before applying), the execution provider and threads.

use egui::{RichText, Ui};

use super::super::commands::Command;
use super::super::context::ViewCtx;
use super::super::state::Saved;
use super::super::worker::Job;

/// Draw the settings view (scrolls: it is longer than a small window).
pub fn show(ui: &mut Ui, saved: &mut Saved, cx: &mut ViewCtx<'_>) {
    egui::ScrollArea::vertical()
        .id_salt("settings")
        .auto_shrink([false, false])
        .show(ui, |ui| sections(ui, saved, cx));
}

fn sections(ui: &mut Ui, saved: &mut Saved, cx: &mut ViewCtx<'_>) {
    ui.heading("Settings");
    ui.separator();
    ui.label(RichText::new("Library database").strong());
    ui.horizontal(|ui| {
        ui.label("Open now:");
        ui.monospace(cx.data.db.display().to_string());
    });
    ui.horizontal(|ui| {
        let l = ui.label("Another database");
        ui.add(egui::TextEdit::singleline(&mut cx.state.db_field).desired_width(380.0))
            .labelled_by(l.id);
        let p = cx.state.db_field.trim().to_string();
        if ui
            .add_enabled(
                !p.is_empty() && !cx.data.scanning(),
                egui::Button::new("Open"),
            )
            .on_hover_text("Open (or create) this library; `likeness --db PATH` opens it directly")
            .clicked()
        {
            cx.push(Command::OpenDb(p.into()));
        }
    });
    ui.add_space(10.0);
    ui.label(RichText::new("Grouping faces into people").strong());
    egui::Grid::new("cluster-settings")
        .num_columns(2)
        .show(ui, |ui| {
            let cut = cx.data.model().thresholds.linkage;
            let l = ui.label("Grouping (lower splits more, higher merges more)");
            ui.add(
                egui::Slider::new(&mut cx.state.threshold, -0.20..=0.20)
                    .step_by(0.01)
                    .custom_formatter(move |v, _| {
                        {
                            // Rounding noise must not read as "-0.00".
                            let v = if v.abs() < 0.005 { 0.0 } else { v };
                            format!("{v:+.2} (cut {:.2})", cut + v as f32)
                        }
                    }),
            )
            .labelled_by(l.id);
            ui.end_row();
            let l = ui.label("Minimum face size (pixels)");
            ui.add(egui::Slider::new(&mut cx.state.min_face_px, 12.0..=160.0).step_by(1.0))
                .labelled_by(l.id);
            ui.end_row();
        });
    ui.small("Added to the face model's measured same-person cut: lower splits people more, higher merges more. Your names and decisions are always kept.");
    ui.horizontal(|ui| {
        let (threshold, min_face_px) = (cx.state.threshold, cx.state.min_face_px);
        if ui.button("Preview").clicked() {
            cx.push(Command::Ask(Job::Preview {
                threshold,
                min_face_px,
            }));
        }
        if ui
            .add_enabled(!cx.data.scanning(), egui::Button::new("Apply"))
            .on_hover_text("Regroup the faces with these settings")
            .clicked()
        {
            cx.push(Command::Ask(Job::Recluster {
                threshold,
                min_face_px,
            }));
        }
        if let Some(p) = &cx.data.preview {
            ui.label(p);
        }
    });
    ui.add_space(10.0);
    models(ui, cx);
    ui.add_space(10.0);
    ui.label(RichText::new("Face engine").strong());
    match &cx.data.engine {
        Some(p) => {
            for line in p {
                ui.label(format!("Execution provider — {line}"));
            }
        }
        None => {
            ui.horizontal(|ui| {
                ui.label("Execution provider: not loaded yet");
                if ui.button("Check").clicked() {
                    cx.push(Command::Ask(Job::EngineInfo));
                }
            });
        }
    }
    ui.horizontal(|ui| {
        let l = ui.label("Inference threads for scans");
        ui.add(egui::DragValue::new(&mut saved.inference_threads).range(0..=16))
            .labelled_by(l.id);
        ui.label(format!(
            "(0 = one per core: {})",
            super::super::worker::default_threads()
        ));
    });
    ui.add_space(10.0);
    other_programs(ui, cx);
    ui.add_space(10.0);
    privacy(ui, cx);
    ui.add_space(10.0);
    ui.label(RichText::new("Keyboard").strong());
    ui.label("Ctrl+1…7 views · Ctrl+Z undo · arrows + Enter in the people grid · Esc back · Y/N/space review · S/D/space verify · Ctrl+A select all faces");
}

/// Faces that travel: names from other programs' XMP face regions (read by every scan) and
/// exporting Likeness's names as XMP sidecars beside the photos.
fn other_programs(ui: &mut Ui, cx: &mut ViewCtx<'_>) {
    use crate::library::sidecar::SidecarName;
    ui.label(RichText::new("Names for other programs (XMP)").strong());
    ui.label(
        "Scans read the face names that digiKam, Lightroom, Apple Photos or exiftool wrote into \
         your photos or their .xmp sidecars; a name you gave here always wins. Export writes \
         the named faces into a sidecar beside each photo (never into the photo), keeping \
         everything else the sidecar holds.",
    );
    ui.horizontal(|ui| {
        ui.label("Sidecar name:");
        let s = &mut cx.state.sidecar;
        ui.radio_value(s, None, "the one the photo has, else photo.jpg.xmp")
            .on_hover_text("digiKam, darktable and Immich read photo.jpg.xmp");
        ui.radio_value(s, Some(SidecarName::PhotoExt), "photo.jpg.xmp");
        ui.radio_value(s, Some(SidecarName::Photo), "photo.xmp")
            .on_hover_text("Lightroom's name (shared by a RAW and its JPEG)");
    });
    if ui.button("Export names to XMP sidecars").clicked() {
        cx.push(Command::Ask(Job::ExportXmp(
            crate::pipeline::export::ExportOptions {
                person: None,
                sidecar: cx.state.sidecar,
            },
        )));
    }
    let conflicts = cx
        .data
        .library
        .as_ref()
        .map(|l| l.region_conflicts.clone())
        .unwrap_or_default();
    if !conflicts.is_empty() {
        ui.label(format!(
            "Names from other programs not applied ({}):",
            conflicts.len()
        ));
        egui::ScrollArea::vertical()
            .id_salt("region-conflicts")
            .max_height(120.0)
            .show(ui, |ui| {
                for c in conflicts.iter().take(200) {
                    let file = std::path::Path::new(&c.photo)
                        .file_name()
                        .map(|f| f.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    let name = if c.name.is_empty() {
                        String::new()
                    } else {
                        format!("\"{}\" ", c.name)
                    };
                    ui.label(format!("{file}: {name}— {}", c.reason))
                        .on_hover_text(&c.photo);
                }
            });
    }
}

/// What the library keeps about faces, and forgetting all of it.
fn privacy(ui: &mut Ui, cx: &mut ViewCtx<'_>) {
    ui.label(RichText::new("Privacy").strong());
    ui.label(format!(
        "This library file ({}) keeps, for each face: its box and landmarks, a face vector and a small thumbnail; names and your decisions. Only you can read it. Likeness sends none of it anywhere.",
        cx.data.db.display()
    ));
    let (faces, people) = cx
        .data
        .library
        .as_ref()
        .map_or((0, 0), |l| (l.stats.faces, l.people.len()));
    let what_goes = crate::people::forget::what_goes(
        crate::people::Forget::All,
        &crate::store::ForgetPreview {
            faces,
            people: people as u64,
            name: None,
        },
    );
    super::forget_control(
        ui,
        cx,
        crate::people::Forget::All,
        "Forget all face data...",
        what_goes,
    );
}

/// The face models: which one the library uses, upgrading (progress and Cancel in the Library
/// view, like a scan), installing the user-installable one.
fn models(ui: &mut Ui, cx: &mut ViewCtx<'_>) {
    ui.label(RichText::new("Face model").strong());
    let Some(lib) = &cx.data.library else {
        ui.spinner();
        return;
    };
    let (active, infos) = (lib.model, lib.models.clone());
    let busy = cx.data.scanning();
    egui::Grid::new("models").num_columns(4).show(ui, |ui| {
        for m in &infos {
            let spec = m.spec;
            let is_active = spec.id() == active.id();
            // Plain text: the app's fonts have no arrows or bullets (kittest panics on them).
            ui.label(if is_active {
                RichText::new(spec.name).strong()
            } else {
                RichText::new(spec.name)
            });
            ui.label(format!(
                "{}-d, {} bytes per face, {}",
                spec.dims,
                spec.bytes_per_face(),
                spec.licence
            ));
            if is_active {
                ui.label("in use");
            } else if m.installed {
                let label = if m.vectors > 0 {
                    "Switch to this model"
                } else {
                    "Upgrade to this model"
                };
                if ui
                    .add_enabled(!busy, egui::Button::new(label))
                    .on_hover_text("Re-embed every face from its stored position (no re-scan); every name and decision is kept; Cancel in the Library view, and it resumes")
                    .clicked()
                {
                    cx.push(Command::Upgrade(spec.id().to_string()));
                    cx.push(Command::Show(super::super::state::View::Library));
                }
            } else {
                ui.label("not installed");
            }
            ui.label(if m.vectors > 0 {
                format!("{} faces embedded", m.vectors)
            } else {
                String::new()
            });
            ui.end_row();
        }
    });
    if let Some(m) = infos
        .iter()
        .find(|m| !m.installed && m.spec.install.is_some())
    {
        let spec = m.spec;
        ui.horizontal(|ui| {
            let l = ui.label(format!("Install {} from folder", spec.name));
            ui.add(
                egui::TextEdit::singleline(&mut cx.state.model_folder)
                    .hint_text("folder with Intel's .xml + .bin, or the .onnx")
                    .desired_width(320.0),
            )
            .labelled_by(l.id);
            let from = cx.state.model_folder.trim().to_string();
            if ui.button("Install").clicked() {
                cx.push(Command::Ask(Job::InstallModel {
                    id: spec.id().to_string(),
                    from: (!from.is_empty()).then(|| from.into()),
                }));
            }
        });
        ui.small("With the folder empty, Install downloads Intel's files (needs internet once). Every file is checked against its published checksum.");
    }
}
