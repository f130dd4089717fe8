//! The part: its size, units, layers and the import's warnings.

use egui::Ui;
use swarf_core::import::Units;
use swarf_core::job::{Job, Model};

use super::{ERR, Edit, WARN, choice, count, number};
use crate::Session;

/// The job's files (the part and `[part] with`: a board's layers, a mesh to engrave onto):
/// each with what it is; one of the others can be taken out of the job with the operations
/// that work on it.
fn board_files_ui(
    ui: &mut Ui,
    session: &Session,
    d: &swarf_core::import::Drawing,
    job: &mut Job,
    edit: &mut Edit,
) {
    if session.with_models.is_empty() {
        return;
    }
    let name = |f: &str| {
        std::path::Path::new(f)
            .file_name()
            .map_or_else(|| f.to_string(), |n| n.to_string_lossy().into_owned())
    };
    let what = |m: Option<&swarf_core::import::Drawing>| match m {
        Some(d) => d.version.clone().unwrap_or_else(|| "a drawing".into()),
        None => "a mesh".into(),
    };
    ui.label("Files:");
    ui.label(format!(
        "   {} — {} (the part)",
        name(&job.part.file),
        what(Some(d))
    ));
    let mut remove = None;
    for (k, (f, m)) in session.with_models.iter().enumerate() {
        ui.horizontal(|ui| {
            ui.label(format!("   {} — {}", name(f), what(m.drawing())));
            if ui
                .small_button("remove")
                .on_hover_text(
                    "take this file and the operations on it (or engraving onto it) out of the job",
                )
                .clicked()
            {
                remove = Some(k);
            }
        });
    }
    if let Some(k) = remove
        && k < job.part.with.len()
    {
        let f = job.part.with.remove(k);
        // An engraving onto the file's surface goes with it: flat, its depths would mean
        // something else.
        job.operations
            .retain(|o| o.part.as_deref() != Some(f.as_str()) && o.spec.onto() != Some(f.as_str()));
        edit.flag(true);
    }
}

pub(crate) fn part_ui(ui: &mut Ui, session: &Session, job: &mut Job, edit: &mut Edit) {
    ui.label(&session.part_name);
    let units_opts: Vec<(Option<Units>, &str)> = std::iter::once((None, "as the file says"))
        .chain(
            [
                Units::Mm,
                Units::Um,
                Units::Inch,
                Units::Cm,
                Units::M,
                Units::Ft,
            ]
            .map(|u| (Some(u), u.name())),
        )
        .collect();
    let d = match &session.model {
        None => return,
        Some(Model::Mesh(m)) => {
            let (lo, hi) = m.mesh.bounds().unwrap_or_default();
            ui.label(format!(
                "mesh {:.3} × {:.3} × {:.3} mm, {} triangles; unit {}",
                hi[0] - lo[0],
                hi[1] - lo[1],
                hi[2] - lo[2],
                m.report.triangles,
                m.units.name()
            ));
            let mut units = job.part.units;
            if choice(ui, "Units:", &mut units, &units_opts) {
                job.part.units = units;
                edit.flag(true);
            }
            orientation_ui(ui, job, edit);
            size_ui(ui, job, edit, (hi[0] - lo[0], hi[1] - lo[1]));
            copies_ui(ui, job, edit);
            stock_ui(ui, job, edit);
            import_warnings_ui(ui, &session.import_warnings);
            return;
        }
        Some(Model::Drawing(d)) => d,
    };
    ui.label(format!(
        "{:.3} × {:.3} mm, {} regions, {} open chains; unit {} ({})",
        d.bbox.max.x - d.bbox.min.x,
        d.bbox.max.y - d.bbox.min.y,
        d.regions.len(),
        d.open_chains.len(),
        d.units.name(),
        d.units_source
    ));
    let mut units = job.part.units;
    if choice(ui, "Units:", &mut units, &units_opts) {
        job.part.units = units;
        edit.flag(true);
    }
    board_files_ui(ui, session, d, job, edit);
    if d.layers.len() > 1 {
        ui.label("Layers:");
        let mut on: Vec<bool> = d
            .layers
            .iter()
            .map(|l| job.part.layers.as_ref().is_none_or(|s| s.contains(&l.name)))
            .collect();
        let mut toggled = false;
        for (l, on) in d.layers.iter().zip(&mut on) {
            toggled |= ui
                .checkbox(on, format!("{} ({} entities)", l.name, l.entities))
                .changed();
        }
        if toggled {
            job.part.layers = if on.iter().all(|&b| b) {
                None
            } else {
                Some(
                    d.layers
                        .iter()
                        .zip(&on)
                        .filter(|(_, o)| **o)
                        .map(|(l, _)| l.name.clone())
                        .collect(),
                )
            };
            edit.flag(true);
        }
    }
    if !session.hole_groups.is_empty() {
        ui.collapsing(
            format!("Holes: {} sizes", session.hole_groups.len()),
            |ui| {
                for g in &session.hole_groups {
                    ui.label(g);
                }
            },
        );
    }
    size_ui(
        ui,
        job,
        edit,
        (d.bbox.max.x - d.bbox.min.x, d.bbox.max.y - d.bbox.min.y),
    );
    copies_ui(ui, job, edit);
    stock_ui(ui, job, edit);
    import_warnings_ui(ui, &session.import_warnings);
}

#[derive(Clone, Copy, PartialEq)]
enum StockKind {
    Around,
    Margins,
    Block,
    Bar,
}

/// The stock: around the part (the default), around it with chosen margins, a block or a
/// round bar, in work coordinates.
fn stock_ui(ui: &mut Ui, job: &mut Job, edit: &mut Edit) {
    use swarf_core::setup::Stock;
    let kind = match job.stock {
        None => StockKind::Around,
        Some(Stock::Margins { .. }) => StockKind::Margins,
        Some(Stock::Box { .. }) => StockKind::Block,
        Some(Stock::Cylinder { .. }) => StockKind::Bar,
    };
    let title = match kind {
        StockKind::Around => "Stock: around the part",
        StockKind::Margins => "Stock: part plus margins",
        StockKind::Block => "Stock: a block",
        StockKind::Bar => "Stock: a round bar",
    };
    egui::CollapsingHeader::new(title)
        .id_salt("part-stock")
        .show(ui, |ui| {
            let mut k = kind;
            if choice(
                ui,
                "Stock:",
                &mut k,
                &[
                    (StockKind::Around, "around everything cut"),
                    (StockKind::Margins, "part plus margins"),
                    (StockKind::Block, "a block"),
                    (StockKind::Bar, "a round bar"),
                ],
            ) {
                job.stock = match k {
                    StockKind::Around => None,
                    StockKind::Margins => Some(Stock::Margins {
                        margin_mm: 1.0,
                        top_mm: 0.0,
                        bottom_mm: Some(1.0),
                    }),
                    StockKind::Block => Some(Stock::Box {
                        min_mm: [-10.0, -10.0, -2.0],
                        max_mm: [10.0, 10.0, 0.0],
                    }),
                    StockKind::Bar => Some(Stock::Cylinder {
                        centre_mm: [0.0, 0.0],
                        diameter_mm: 20.0,
                        top_mm: 0.0,
                        bottom_mm: 2.0,
                    }),
                };
                edit.flag(true);
            }
            let len = |ui: &mut Ui, label: &str, v: &mut f64, edit: &mut Edit| {
                edit.resp(&number(ui, label, v, 1.0, -10_000.0..=10_000.0, "mm"));
            };
            match &mut job.stock {
                None => {
                    ui.label(
                        "a box around every copy and everything cut, 1.5 tool diameters wider",
                    );
                }
                Some(Stock::Margins {
                    margin_mm,
                    top_mm,
                    bottom_mm,
                }) => {
                    len(ui, "Margin X/Y:", margin_mm, edit);
                    len(ui, "Above zero:", top_mm, edit);
                    let mut b = bottom_mm.unwrap_or(1.0);
                    len(ui, "Below zero:", &mut b, edit);
                    *bottom_mm = Some(b);
                }
                Some(Stock::Box { min_mm, max_mm }) => {
                    for (i, axis) in ["X", "Y", "Z"].into_iter().enumerate() {
                        len(ui, &format!("{axis} from:"), &mut min_mm[i], edit);
                        len(ui, &format!("{axis} to:"), &mut max_mm[i], edit);
                    }
                }
                Some(Stock::Cylinder {
                    centre_mm,
                    diameter_mm,
                    top_mm,
                    bottom_mm,
                }) => {
                    len(ui, "Axis X:", &mut centre_mm[0], edit);
                    len(ui, "Axis Y:", &mut centre_mm[1], edit);
                    len(ui, "Diameter:", diameter_mm, edit);
                    len(ui, "Above zero:", top_mm, edit);
                    len(ui, "Below zero:", bottom_mm, edit);
                }
            }
        });
}

#[derive(Clone, Copy, PartialEq)]
enum ScaleBy {
    Factor,
    Width,
    Depth,
}

/// Scale (a factor, or to a width or depth), per-axis factors, mirror and turn, about the
/// work origin. `size` is the part's size as shown now (with any size already applied).
fn size_ui(ui: &mut Ui, job: &mut Job, edit: &mut Edit, size: (f64, f64)) {
    use swarf_core::resize::{Mirror, Resize};
    let r = &mut job.part.resize;
    let title = if r.is_identity() {
        "Size: as in the file".to_string()
    } else {
        format!(
            "Size: {}",
            r.describe(None).trim_start_matches("part size: ")
        )
    };
    // The header's text changes with the size; its open state must not.
    egui::CollapsingHeader::new(title)
        .id_salt("part-size")
        .show(ui, |ui| {
            let mut by = if r.fit_width_mm.is_some() {
                ScaleBy::Width
            } else if r.fit_height_mm.is_some() {
                ScaleBy::Depth
            } else {
                ScaleBy::Factor
            };
            if choice(
                ui,
                "Scale:",
                &mut by,
                &[
                    (ScaleBy::Factor, "by a factor"),
                    (ScaleBy::Width, "to a width (X)"),
                    (ScaleBy::Depth, "to a depth (Y)"),
                ],
            ) {
                r.scale = None;
                r.fit_width_mm = (by == ScaleBy::Width).then_some(size.0.max(1e-3));
                r.fit_height_mm = (by == ScaleBy::Depth).then_some(size.1.max(1e-3));
                edit.flag(true);
            }
            match by {
                ScaleBy::Factor => {
                    let mut f = r.scale.unwrap_or(1.0);
                    let resp = number(ui, "Factor:", &mut f, 1.0, 0.001..=1000.0, "×");
                    if f != r.scale.unwrap_or(1.0) {
                        r.scale = (f != 1.0).then_some(f);
                    }
                    edit.resp(&resp);
                }
                ScaleBy::Width => {
                    let mut w = r.fit_width_mm.unwrap_or(size.0);
                    edit.resp(&number(ui, "Width:", &mut w, 1.0, 0.001..=10_000.0, "mm"));
                    r.fit_width_mm = Some(w);
                }
                ScaleBy::Depth => {
                    let mut h = r.fit_height_mm.unwrap_or(size.1);
                    edit.resp(&number(ui, "Depth:", &mut h, 1.0, 0.001..=10_000.0, "mm"));
                    r.fit_height_mm = Some(h);
                }
            }
            let mut per_axis = r.scale_xyz.is_some();
            if ui
                .checkbox(
                    &mut per_axis,
                    "Per-axis factors (shrink: nominal / measured)",
                )
                .changed()
            {
                r.scale_xyz = per_axis.then_some([1.0; 3]);
                edit.flag(true);
            }
            if let Some(f) = &mut r.scale_xyz {
                for (i, axis) in ["X:", "Y:", "Z:"].into_iter().enumerate() {
                    edit.resp(&number(ui, axis, &mut f[i], 1.0, 0.001..=1000.0, "×"));
                }
            }
            let mut mirror = r.mirror;
            if choice(
                ui,
                "Mirror:",
                &mut mirror,
                &[
                    (None, "none"),
                    (Some(Mirror::X), "X (left and right)"),
                    (Some(Mirror::Y), "Y (front and back)"),
                ],
            ) {
                r.mirror = mirror;
                edit.flag(true);
            }
            edit.resp(&number(
                ui,
                "Turn:",
                &mut r.rotate_deg,
                1.0,
                -360.0..=360.0,
                "°",
            ));
            if ui
                .add_enabled(
                    !r.is_identity(),
                    egui::Button::new("As in the file").small(),
                )
                .clicked()
            {
                *r = Resize::default();
                edit.flag(true);
            }
        });
}

#[derive(Clone, Copy, PartialEq)]
enum Layout {
    Grid,
    Polar,
}

#[derive(Clone, Copy, PartialEq)]
enum Spacing {
    Gap,
    Pitch,
}

/// Copies of the part on one stock: a grid or a circle, the copies left out, the order and
/// how the program writes them.
fn copies_ui(ui: &mut Ui, job: &mut Job, edit: &mut Edit) {
    use swarf_core::array::{ArraySpec, CopiesAs, Order};
    let title = match &job.array {
        Some(a) if !a.is_single() => format!(
            "Copies: {} ({} cut)",
            a.count(),
            a.count() as usize - a.skip.len()
        ),
        _ => "Copies: one".to_string(),
    };
    egui::CollapsingHeader::new(title)
        .id_salt("part-copies")
        .show(ui, |ui| {
            let mut on = job.array.is_some();
            if ui
                .checkbox(&mut on, "Cut several copies on one stock")
                .changed()
            {
                job.array = on.then(|| ArraySpec {
                    columns: 2,
                    gap_mm: Some([2.0, 2.0]),
                    ..ArraySpec::default()
                });
                edit.flag(true);
            }
            let Some(a) = &mut job.array else { return };
            let mut layout = if a.polar_count.is_some() {
                Layout::Polar
            } else {
                Layout::Grid
            };
            if choice(
                ui,
                "Layout:",
                &mut layout,
                &[
                    (Layout::Grid, "rows and columns"),
                    (Layout::Polar, "around a centre"),
                ],
            ) {
                *a = match layout {
                    Layout::Grid => ArraySpec {
                        columns: 2,
                        gap_mm: Some([2.0, 2.0]),
                        ..ArraySpec::default()
                    },
                    Layout::Polar => ArraySpec {
                        polar_count: Some(4),
                        polar_radius_mm: 20.0,
                        ..ArraySpec::default()
                    },
                };
                edit.flag(true);
            }
            match layout {
                Layout::Grid => {
                    edit.resp(&count(ui, "Columns (X):", &mut a.columns, 1..=100));
                    edit.resp(&count(ui, "Rows (Y):", &mut a.rows, 1..=100));
                    let mut spacing = if a.pitch_mm.is_some() {
                        Spacing::Pitch
                    } else {
                        Spacing::Gap
                    };
                    if choice(
                        ui,
                        "Spacing:",
                        &mut spacing,
                        &[
                            (Spacing::Gap, "gap between parts"),
                            (Spacing::Pitch, "pitch (copy to copy)"),
                        ],
                    ) {
                        (a.gap_mm, a.pitch_mm) = match spacing {
                            Spacing::Gap => (Some([2.0, 2.0]), None),
                            Spacing::Pitch => (None, Some([10.0, 10.0])),
                        };
                        edit.flag(true);
                    }
                    let v = match spacing {
                        Spacing::Gap => a.gap_mm.get_or_insert([2.0, 2.0]),
                        Spacing::Pitch => a.pitch_mm.get_or_insert([10.0, 10.0]),
                    };
                    edit.resp(&number(ui, "X:", &mut v[0], 1.0, -1000.0..=1000.0, "mm"));
                    edit.resp(&number(ui, "Y:", &mut v[1], 1.0, -1000.0..=1000.0, "mm"));
                    edit.resp(&number(
                        ui,
                        "Odd rows moved X:",
                        &mut a.row_offset_mm,
                        1.0,
                        -1000.0..=1000.0,
                        "mm",
                    ));
                }
                Layout::Polar => {
                    let n = a.polar_count.get_or_insert(4);
                    edit.resp(&count(ui, "Copies:", n, 1..=360));
                    edit.resp(&number(
                        ui,
                        "Radius:",
                        &mut a.polar_radius_mm,
                        1.0,
                        0.0..=1000.0,
                        "mm",
                    ));
                    edit.resp(&number(
                        ui,
                        "Part at angle:",
                        &mut a.polar_start_deg,
                        1.0,
                        -360.0..=360.0,
                        "°",
                    ));
                }
            }
            // Copies left out, by number: typed as a list.
            let key = ui.make_persistent_id("copies-leave-out");
            let mut text = ui.data(|d| d.get_temp::<String>(key)).unwrap_or_else(|| {
                a.skip
                    .iter()
                    .map(u32::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            });
            let resp = ui
                .horizontal(|ui| {
                    ui.label("Leave out copies:");
                    ui.text_edit_singleline(&mut text)
                })
                .inner;
            if resp.changed() {
                let parsed: Result<Vec<u32>, _> = text
                    .split([',', ' '])
                    .filter(|t| !t.is_empty())
                    .map(str::parse::<u32>)
                    .collect();
                match parsed {
                    Ok(v) => {
                        a.skip = v;
                        edit.resp(&resp);
                        ui.data_mut(|d| d.remove::<String>(key.with("err")));
                    }
                    Err(_) => ui.data_mut(|d| {
                        d.insert_temp(key.with("err"), "list copy numbers, e.g. 3, 7".to_string());
                    }),
                }
                ui.data_mut(|d| d.insert_temp(key, text));
            }
            if !resp.has_focus() {
                // Shown from the job again once left (an undo changes it too).
                ui.data_mut(|d| d.remove::<String>(key));
            }
            if let Some(e) = ui.data(|d| d.get_temp::<String>(key.with("err"))) {
                ui.colored_label(ERR, e);
            }
            let mut order = a.order;
            if choice(
                ui,
                "Order:",
                &mut order,
                &[
                    (Order::ByOperation, "each operation on every copy"),
                    (Order::ByCopy, "each copy finished in turn"),
                ],
            ) {
                a.order = order;
                edit.flag(true);
            }
            let mut form = a.copies_as;
            if choice(
                ui,
                "Program:",
                &mut form,
                &[
                    (CopiesAs::Expanded, "coordinates written out"),
                    (CopiesAs::Offsets, "one work offset per copy"),
                    (CopiesAs::Subroutines, "subroutines (LinuxCNC)"),
                ],
            ) {
                a.copies_as = form;
                edit.flag(true);
            }
        });
}

/// Turn a mesh in quarter turns (a cavity that faces −Y is cut from the top after X −90°).
fn orientation_ui(ui: &mut Ui, job: &mut Job, edit: &mut Edit) {
    let o = job.part.orientation;
    ui.horizontal_wrapped(|ui| {
        ui.label(format!("Orientation: {}", o.describe()));
        let mut next = o;
        for (axis, name) in [(0, "X +90°"), (1, "Y +90°"), (2, "Z +90°")] {
            if ui
                .small_button(name)
                .on_hover_text("a quarter turn about the machine axis")
                .clicked()
            {
                next = o.turned(axis);
            }
        }
        if ui
            .small_button("Flip")
            .on_hover_text("upside down")
            .clicked()
        {
            next = o.flipped();
        }
        if ui
            .add_enabled(!o.is_identity(), egui::Button::new("As in file").small())
            .clicked()
        {
            next = swarf_core::geometry::mesh::Orientation::default();
        }
        if next != o {
            job.part.orientation = next;
            edit.flag(true);
        }
    });
}

pub(crate) fn import_warnings_ui(ui: &mut Ui, warnings: &[String]) {
    for w in warnings {
        // The importer words its advice for the CLI; here the choice is above.
        let w = w
            .replace("(use --units to change)", "(change it with Units above)")
            .replace("use --units", "set Units above to")
            .replace("--units ", "Units ");
        ui.colored_label(WARN, format!("import: {w}"));
    }
}
