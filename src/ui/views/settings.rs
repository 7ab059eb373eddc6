//! Settings: the library database, clustering threshold and minimum face size (with a preview
//! of how many people they would give before applying), the execution provider and threads.

use egui::{RichText, Ui};

use super::super::app::Runtime;
use super::super::commands::Command;
use super::super::state::Saved;

/// Draw the settings view.
pub fn show(ui: &mut Ui, saved: &mut Saved, rt: &mut Runtime) {
    ui.heading("Settings");
    ui.separator();
    ui.label(RichText::new("Library database").strong());
    ui.horizontal(|ui| {
        ui.label("Open now:");
        ui.monospace(rt.db.display().to_string());
    });
    ui.horizontal(|ui| {
        let l = ui.label("Another database");
        ui.add(egui::TextEdit::singleline(&mut rt.views.db_field).desired_width(380.0))
            .labelled_by(l.id);
        let p = rt.views.db_field.trim().to_string();
        if ui
            .add_enabled(!p.is_empty() && !rt.scanning(), egui::Button::new("Open"))
            .on_hover_text("Open (or create) this library; `likeness --db PATH` opens it directly")
            .clicked()
        {
            rt.commands.push(Command::OpenDb(p.into()));
        }
    });
    ui.add_space(10.0);
    ui.label(RichText::new("Grouping faces into people").strong());
    egui::Grid::new("cluster-settings")
        .num_columns(2)
        .show(ui, |ui| {
            let l = ui.label("Same-person threshold (distance)");
            ui.add(egui::Slider::new(&mut rt.views.threshold, 0.30..=0.70).step_by(0.01))
                .labelled_by(l.id);
            ui.end_row();
            let l = ui.label("Minimum face size (pixels)");
            ui.add(egui::Slider::new(&mut rt.views.min_face_px, 12.0..=160.0).step_by(1.0))
                .labelled_by(l.id);
            ui.end_row();
        });
    ui.small("Lower thresholds split people more; higher ones merge more. Your names and decisions are always kept.");
    ui.horizontal(|ui| {
        let (threshold, min_face_px) = (rt.views.threshold, rt.views.min_face_px);
        if ui.button("Preview").clicked() {
            rt.commands.push(Command::Preview {
                threshold,
                min_face_px,
            });
        }
        if ui
            .add_enabled(!rt.scanning(), egui::Button::new("Apply"))
            .on_hover_text("Regroup the faces with these settings")
            .clicked()
        {
            rt.commands.push(Command::Recluster {
                threshold,
                min_face_px,
            });
        }
        if let Some(p) = &rt.preview {
            ui.label(p);
        }
    });
    ui.add_space(10.0);
    ui.label(RichText::new("Face engine").strong());
    match &rt.engine {
        Some(p) => {
            for line in p {
                ui.label(format!("Execution provider — {line}"));
            }
        }
        None => {
            ui.horizontal(|ui| {
                ui.label("Execution provider: not loaded yet");
                if ui.button("Check").clicked() {
                    rt.commands.push(Command::LoadEngineInfo);
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
    ui.label(RichText::new("Keyboard").strong());
    ui.label("Ctrl+1…6 views · Ctrl+Z undo · arrows + Enter in the people grid · Esc back · Y/N/space review · S/D/space verify · Ctrl+A select all faces");
}
