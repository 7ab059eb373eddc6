//! The window chrome shared by every view: navigation bar, status bar and global shortcuts.

use egui::{Color32, Context, Key, Modifiers, RichText, Ui};

use super::super::commands::Command;
use super::super::context::ViewCtx;
use super::super::state::{Saved, View};
use crate::people::Act;

/// Keyboard shortcuts that work in every view.
pub fn shortcuts(ctx: &Context, saved: &mut Saved, cx: &mut ViewCtx<'_>) {
    let typing = ctx.egui_wants_keyboard_input();
    ctx.input_mut(|i| {
        for (n, v) in View::NAV.iter().enumerate() {
            let key = match n {
                0 => Key::Num1,
                1 => Key::Num2,
                2 => Key::Num3,
                3 => Key::Num4,
                4 => Key::Num5,
                5 => Key::Num6,
                _ => Key::Num7,
            };
            if i.consume_key(Modifiers::COMMAND, key) {
                cx.push(Command::Show(*v));
            }
        }
        if !typing && i.consume_key(Modifiers::COMMAND, Key::Z) {
            cx.push(Command::People(Act::Undo));
        }
        if !typing && saved.view == View::Person && i.consume_key(Modifiers::NONE, Key::Escape) {
            cx.push(Command::Show(View::People));
        }
    });
}

/// The navigation bar: the views and Undo.
pub fn nav_bar(ui: &mut Ui, saved: &Saved, cx: &mut ViewCtx<'_>) {
    ui.horizontal(|ui| {
        ui.heading("Likeness");
        ui.separator();
        for (n, v) in View::NAV.iter().enumerate() {
            let current = saved.view == *v || (*v == View::People && saved.view == View::Person);
            let r = ui
                .selectable_label(current, v.label())
                .on_hover_text(format!("Ctrl+{}", n + 1));
            if r.clicked() {
                cx.push(Command::Show(*v));
            }
        }
        ui.separator();
        let can_undo = cx.data.library.as_ref().is_some_and(|l| l.can_undo);
        if ui
            .add_enabled(can_undo, egui::Button::new("Undo"))
            .on_hover_text("Undo the last decision (Ctrl+Z)")
            .clicked()
        {
            cx.push(Command::People(Act::Undo));
        }
    });
}

/// The status bar: scan progress, totals, the database, messages.
pub fn status_bar(ui: &mut Ui, cx: &mut ViewCtx<'_>) {
    ui.horizontal_wrapped(|ui| {
        if let Some(s) = &cx.data.scan {
            let p = s.progress.snapshot();
            ui.spinner();
            ui.label(format!(
                "{}: {}/{} photos, {} faces",
                s.title, p.done, p.total, p.faces
            ));
            ui.separator();
        }
        match &cx.data.library {
            Some(l) => ui.label(format!(
                "{} photos · {} faces · {} people · {}",
                l.stats.photos,
                l.stats.faces,
                l.people.len(),
                l.db.display()
            )),
            None => ui.label(format!("Opening {}…", cx.data.db.display())),
        };
    });
    if !cx.data.messages.is_empty() {
        let mut dismiss = false;
        for m in &cx.data.messages {
            ui.horizontal(|ui| {
                let color = if m.error {
                    Color32::from_rgb(220, 80, 70)
                } else {
                    ui.visuals().text_color()
                };
                ui.label(RichText::new(&m.text).color(color));
            });
        }
        if ui.small_button("Dismiss messages").clicked() {
            dismiss = true;
        }
        if dismiss {
            cx.push(Command::DismissMessages);
        }
    }
}
