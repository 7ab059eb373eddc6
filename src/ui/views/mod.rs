//! One file per view. Views read the runtime snapshots and push commands; they never touch the
//! store or the models.

pub mod chrome;
pub mod library;
pub mod people;
pub mod person;
pub mod photo;
pub mod photos;
pub mod review;
pub mod settings;
pub mod ungrouped;
pub mod verify;

use egui::{Color32, Rect, Response, Sense, Stroke, StrokeKind, Ui, Vec2};

use super::context::{PhotoOnScreen, ViewCtx};
use super::textures::ThumbCache;
use super::worker::Job;

/// A face thumbnail of `side` points; a grey placeholder until the loader delivers it.
pub fn face_tile(ui: &mut Ui, thumbs: &mut ThumbCache, face: i64, side: f32) -> Response {
    let (rect, resp) = ui.allocate_exact_size(Vec2::splat(side), Sense::click());
    resp.widget_info(|| {
        egui::WidgetInfo::labeled(egui::Role::Button, true, format!("face {face}"))
    });
    if ui.is_rect_visible(rect) {
        match thumbs.get(face) {
            Some(t) => {
                egui::Image::new(t).corner_radius(4.0).paint_at(ui, rect);
            }
            None => {
                let fill = if thumbs.is_missing(face) {
                    Color32::from_rgb(90, 60, 60)
                } else {
                    ui.visuals().faint_bg_color
                };
                ui.painter().rect_filled(rect, 4.0, fill);
            }
        }
    }
    resp
}

/// Draw a photo scaled to fit `max`, with its face boxes; returns the response of the image.
pub fn photo_with_boxes(ui: &mut Ui, photo: &mut PhotoOnScreen, name: &str, max: Vec2) -> Response {
    placed_photo(ui, photo, name, max, Sense::click()).0
}

/// [`photo_with_boxes`] with the image's sense given; also returns screen points per photo
/// pixel (boxes and drawing are in the photo's oriented pixels).
pub fn placed_photo(
    ui: &mut Ui,
    photo: &mut PhotoOnScreen,
    name: &str,
    max: Vec2,
    sense: Sense,
) -> (Response, f32) {
    let tex = photo.texture(ui.ctx(), name);
    let size = tex.size_vec2();
    let fit = (max.x / size.x).min(max.y / size.y).min(2.0);
    let shown = size * fit;
    let (rect, resp) = ui.allocate_exact_size(shown, sense);
    egui::Image::new(&tex).paint_at(ui, rect);
    // Boxes are in original photo pixels: original → decoded (scale) → shown (fit).
    let k = photo.info.scale * fit;
    for b in &photo.info.boxes {
        let r = Rect::from_min_max(
            rect.min + Vec2::new(b[0] * k, b[1] * k),
            rect.min + Vec2::new(b[2] * k, b[3] * k),
        );
        ui.painter().rect_stroke(
            r,
            2.0,
            Stroke::new(2.5, Color32::from_rgb(255, 200, 40)),
            StrokeKind::Outside,
        );
    }
    (resp, k)
}

/// A centred message for empty views.
pub fn empty_state(ui: &mut Ui, title: &str, hint: &str) {
    ui.add_space(60.0);
    ui.vertical_centered(|ui| {
        ui.heading(title);
        ui.add_space(8.0);
        ui.label(hint);
    });
}

/// The "Forget…" button and, once pressed, what will go and the buttons to go on or keep it.
/// `what_goes` is the sentence shown before anything is deleted.
pub fn forget_control(
    ui: &mut Ui,
    cx: &mut ViewCtx<'_>,
    what: crate::people::Forget,
    button: &str,
    what_goes: String,
) {
    use super::commands::Command;
    if cx.state.confirm_forget != Some(what) {
        if ui
            .add_enabled(!cx.data.scanning(), egui::Button::new(button))
            .on_hover_text("Removes face data for good; asks first")
            .clicked()
        {
            cx.state.confirm_forget = Some(what);
        }
        return;
    }
    ui.vertical(|ui| {
        ui.label(egui::RichText::new(what_goes).color(ui.visuals().warn_fg_color));
        ui.horizontal(|ui| {
            if ui.button("Forget for good").clicked() {
                cx.push(Command::Ask(Job::Forget(what)));
            }
            if ui.button("Keep").clicked() {
                cx.state.confirm_forget = None;
            }
        });
    });
}
