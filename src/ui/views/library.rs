//! The library view: folders (add with a dialog or a typed path, remove), Scan with live
//! progress and Cancel, and the last scan's summary with its failures.

use egui::{ProgressBar, RichText, Ui};

use super::super::commands::Command;
use super::super::context::ViewCtx;
use super::super::state::{Saved, ScanResult};
use super::super::worker::Job;

/// Draw the library view.
pub fn show(ui: &mut Ui, saved: &mut Saved, cx: &mut ViewCtx<'_>) {
    ui.heading("Library");
    ui.add_space(4.0);
    let folders = cx
        .data
        .library
        .as_ref()
        .map(|l| l.folders.clone())
        .unwrap_or_default();
    if folders.is_empty() {
        ui.label("No photos yet — add a folder.");
    } else {
        ui.label(format!("{} folder(s) in the library:", folders.len()));
        egui::Grid::new("folders").striped(true).show(ui, |ui| {
            for f in &folders {
                ui.monospace(&f.path);
                if ui
                    .add_enabled(!cx.data.scanning(), egui::Button::new("Remove"))
                    .on_hover_text("Stop scanning this folder (names and decisions are kept)")
                    .clicked()
                {
                    cx.push(Command::Ask(Job::RemoveFolder(f.id)));
                }
                ui.end_row();
            }
        });
    }
    ui.add_space(8.0);
    ui.horizontal(|ui| {
        if ui
            .button("Add folder…")
            .on_hover_text("Choose a folder with the system dialog")
            .clicked()
        {
            cx.push(Command::PickFolder);
        }
        ui.label("or type a path:");
        let label = ui.label("Folder path");
        let field = ui
            .add(
                egui::TextEdit::singleline(&mut saved.typed_folder)
                    .hint_text("/home/me/Pictures")
                    .desired_width(320.0),
            )
            .labelled_by(label.id);
        let enter = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        if ui.button("Add").clicked() || enter {
            cx.push(Command::Ask(Job::AddFolder(
                saved.typed_folder.trim().into(),
            )));
        }
    });
    ui.add_space(12.0);
    ui.separator();
    scan_panel(ui, cx, !folders.is_empty());
}

fn scan_panel(ui: &mut Ui, cx: &mut ViewCtx<'_>, has_folders: bool) {
    if let Some(s) = &cx.data.scan {
        let p = s.progress.snapshot();
        let secs = s.started.elapsed().as_secs_f64().max(1e-3);
        let frac = if p.total > 0 {
            p.done as f32 / p.total as f32
        } else {
            0.0
        };
        ui.horizontal(|ui| {
            ui.spinner();
            let stage = match p.stage {
                crate::progress::Stage::Idle => "starting (loading the face models)",
                s => s.label(),
            };
            ui.label(RichText::new(format!("{} — {stage}", s.title)).strong());
        });
        ui.add(
            ProgressBar::new(frac)
                .text(format!("{} / {} photos", p.done, p.total))
                .desired_width(ui.available_width().min(600.0)),
        );
        ui.label(format!(
            "{:.1} photos/s · {} faces · {} failed · {:.0} s",
            p.done as f64 / secs,
            p.faces,
            p.failed,
            secs
        ));
        let cancelling = s.cancel.is_cancelled();
        if ui
            .add_enabled(!cancelling, egui::Button::new("Cancel"))
            .on_hover_text("Stop after the current batch; the next scan resumes")
            .clicked()
        {
            cx.push(Command::CancelScan);
        }
        if cancelling {
            ui.label("Stopping after the current batch…");
        }
    } else if ui
        .add_enabled(has_folders, egui::Button::new("Scan"))
        .on_hover_text("Find new and changed photos and their faces")
        .clicked()
    {
        cx.push(Command::Scan);
    }
    let older = cx.data.library.as_ref().map_or(0, |l| l.older_detection);
    if cx.data.scan.is_none() && older > 0 {
        ui.add_space(6.0);
        ui.horizontal_wrapped(|ui| {
            ui.label(format!(
                "{older} photo(s) were searched by an older face detector, which missed faces that fill much of the photo (close-ups, selfies) and sometimes found one face twice."
            ));
            if ui
                .add_enabled(has_folders, egui::Button::new("Find missed faces"))
                .on_hover_text(
                    "Search those photos again: missed faces are added, double boxes removed; every name and decision stays",
                )
                .clicked()
            {
                cx.push(Command::Redetect);
            }
        });
    }
    ui.add_space(8.0);
    match &cx.data.last_scan {
        Some(ScanResult::Finished(o)) => {
            ui.label(RichText::new(if o.cancelled {
                "Scan cancelled — run it again to resume."
            } else {
                "Scan finished."
            }));
            if o.photos_redetected > 0 {
                ui.label(format!(
                    "{} photos searched again with the new detector; {} double or vanished faces removed.",
                    o.photos_redetected, o.faces_removed
                ));
            }
            ui.label(format!(
                "{} photos seen: {} indexed, {} unchanged, {} moved, {} missing, {} failed; {} faces found in {:.1} s ({:.1} photos/s).",
                o.photos_seen,
                o.photos_indexed,
                o.photos_unchanged,
                o.photos_moved,
                o.photos_missing,
                o.photos_failed,
                o.faces_found,
                o.seconds,
                o.photos_indexed as f64 / o.seconds.max(1e-9)
            ));
        }
        Some(ScanResult::Upgraded(o)) => {
            let name = |id: &str| {
                crate::vision::models::embedder(id)
                    .map_or_else(|_| id.to_string(), |m| m.name.to_string())
            };
            let (to, from) = (name(&o.model), name(&o.from));
            ui.label(RichText::new(if o.cancelled {
                format!("Upgrade stopped — {from} is still in use; upgrade again to resume.")
            } else {
                format!("Upgrade finished: the library now uses {to}.")
            }));
            ui.label(format!(
                "{} faces: {} re-embedded from their photos, {} mapped from {from} (photo unreachable), {} left out of grouping (they keep their person); {} people; {:.1} s.",
                o.faces, o.reembedded, o.mapped, o.left_out, o.people, o.seconds
            ));
        }
        Some(ScanResult::Failed(e)) => {
            ui.colored_label(
                egui::Color32::from_rgb(220, 80, 70),
                format!("Scan failed: {e}"),
            );
        }
        None => {}
    }
    let failures = cx
        .data
        .library
        .as_ref()
        .map(|l| l.failures.as_slice())
        .unwrap_or_default();
    if !failures.is_empty() {
        ui.add_space(6.0);
        ui.label(format!("{} photo(s) could not be read:", failures.len()));
        // One group per kind of reason, as `likeness scan --failed` prints them.
        let kinds = crate::pipeline::by_reason(failures.iter().map(|f| f.1.as_str()));
        for (kind, n) in &kinds {
            let rows: Vec<&(String, String)> = failures
                .iter()
                .filter(|f| crate::pipeline::reason_kind(&f.1) == kind)
                .collect();
            egui::CollapsingHeader::new(format!("{kind} ({n})"))
                .id_salt(("failures", kind))
                .default_open(kinds.len() == 1)
                .show(ui, |ui| {
                    egui::ScrollArea::vertical()
                        .id_salt(("failure-rows", kind))
                        .max_height(220.0)
                        .show_rows(ui, 18.0, rows.len(), |ui, range| {
                            for (path, why) in &rows[range] {
                                ui.horizontal(|ui| {
                                    ui.monospace(path);
                                    ui.label(format!("— {why}"));
                                });
                            }
                        });
                });
        }
    }
}
