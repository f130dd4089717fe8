//! `swarf`: the desktop app. `swarf` opens the embedded example job; `swarf part.dxf` a drawing.

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
            let mut app = swarf_app::SwarfApp::example();
            if let Some(f) = file {
                app.open(&f);
            }
            Ok(Box::new(app))
        }),
    )
}
