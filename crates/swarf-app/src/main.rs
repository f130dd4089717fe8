//! `swarf`: the desktop app. `swarf` opens the embedded example job; `swarf part.dxf` a
//! drawing, `swarf project.toml` a project, `swarf board-F_Cu.gbr board-Edge_Cuts.gbr
//! board.drl` a board's files together. Recent files, the tool library and the autosave
//! live in `$SWARF_STATE_DIR` (default: the platform's per-user state folder).

fn main() -> eframe::Result {
    let files: Vec<std::path::PathBuf> = std::env::args_os()
        .skip(1)
        .map(std::path::PathBuf::from)
        .collect();
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
            app.open_files(&files);
            Ok(Box::new(app))
        }),
    )
}
