//! `swarf`: the desktop app. `swarf` opens the embedded example job; `swarf part.dxf` a
//! drawing, `swarf project.toml` a project. Recent files, the tool library and the autosave
//! live in `$SWARF_STATE_DIR` (default: the platform's per-user state folder).

fn main() -> eframe::Result {
    let file = std::env::args_os().nth(1).map(std::path::PathBuf::from);
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("Swarf")
            .with_inner_size([1280.0, 800.0]),
        renderer: eframe::Renderer::Wgpu,
        ..eframe::NativeOptions::default()
    };
    eframe::run_native(
        "Swarf",
        options,
        Box::new(move |_cc| {
            let mut app = swarf_app::SwarfApp::new(swarf_app::Store::default_location());
            if let Some(f) = file {
                app.open(&f);
            }
            Ok(Box::new(app))
        }),
    )
}
