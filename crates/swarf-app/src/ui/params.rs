//! The parameter rows of the operations: each function takes only the parameters it edits.

use egui::Ui;
use swarf_core::ops::adaptive::AdaptiveParams;
use swarf_core::ops::bore::BoreParams;
use swarf_core::ops::contour::{ContourParams, Side};
use swarf_core::ops::drill::{DepthTo, DrillCycle, DrillParams};
use swarf_core::ops::engrave::{EngraveParams, EngraveSide};
use swarf_core::ops::isolate::IsolateParams;
use swarf_core::ops::parallel::{DEFAULT_SCALLOP_MM, ParallelParams};
use swarf_core::ops::pocket::{Pattern, PocketParams};
use swarf_core::ops::text::{TextCut, TextParams};
use swarf_core::ops::vcarve::{VCarveParams, cap_radius};
use swarf_core::ops::waterline::WaterlineParams;
use swarf_core::ops::zlevel::ZLevelParams;
use swarf_core::ops::{Direction, EntryKind};
use swarf_core::text::{HAlign, VAlign};

use super::{Edit, choice, count, number, pattern_choice, um};

pub(crate) fn stepdown_ui(ui: &mut Ui, s: &mut Option<f64>, edit: &mut Edit) {
    let mut levels = s.is_some();
    ui.horizontal(|ui| {
        edit.flag(ui.checkbox(&mut levels, "in levels").changed());
        if levels {
            let mut v = s.unwrap_or(0.05);
            let r = um(ui, "step-down:", &mut v, 1.0..=10_000.0);
            edit.resp(&r);
            *s = Some(v);
        } else {
            *s = None;
        }
    });
}

/// Step-down and the allowances every operation kind has (the floor one where it exists).
pub(crate) fn depth_rows_ui(
    ui: &mut Ui,
    stepdown: &mut Option<f64>,
    wall: &mut f64,
    floor: Option<&mut f64>,
    edit: &mut Edit,
) {
    stepdown_ui(ui, stepdown, edit);
    edit.resp(&um(ui, "Wall allowance:", wall, 0.0..=1000.0));
    if let Some(f) = floor {
        edit.resp(&um(ui, "Floor allowance:", f, 0.0..=1000.0));
    }
}

/// Climb or conventional.
fn direction_ui(ui: &mut Ui, dir: &mut Direction, edit: &mut Edit) {
    edit.flag(choice(
        ui,
        "Direction:",
        dir,
        &[
            (Direction::Climb, "climb"),
            (Direction::Conventional, "conventional"),
        ],
    ));
}

pub(crate) fn direction_and_entry_ui(
    ui: &mut Ui,
    dir: &mut Direction,
    entry: &mut swarf_core::ops::Entry,
    edit: &mut Edit,
) {
    direction_ui(ui, dir, edit);
    edit.flag(choice(
        ui,
        "Entry:",
        &mut entry.kind,
        &[
            (EntryKind::Helix, "helix (ramp where no room)"),
            (EntryKind::Ramp, "ramp"),
            (EntryKind::Plunge, "plunge (pre-drilled only)"),
        ],
    ));
    if entry.kind != EntryKind::Plunge {
        let r = number(
            ui,
            "Ramp angle:",
            &mut entry.ramp_angle_deg,
            1.0,
            0.1..=30.0,
            "°",
        );
        edit.resp(&r);
    }
    if entry.kind == EntryKind::Helix {
        let mut pct = entry.helix_diameter_frac * 100.0;
        let r = number(ui, "Helix Ø:", &mut pct, 1.0, 10.0..=500.0, "% of tool Ø");
        if r.changed() {
            entry.helix_diameter_frac = pct / 100.0;
        }
        edit.resp(&r);
    }
}

/// Direction and entry of an operation that enters along its own path (waterlines): a ramp
/// along it at the angle, or a plunge; no helix (a job's helix is taken as the ramp).
fn direction_and_ramp_ui(
    ui: &mut Ui,
    dir: &mut Direction,
    entry: &mut swarf_core::ops::Entry,
    edit: &mut Edit,
) {
    direction_ui(ui, dir, edit);
    let mut kind = if entry.kind == EntryKind::Plunge {
        EntryKind::Plunge
    } else {
        EntryKind::Ramp
    };
    if choice(
        ui,
        "Entry:",
        &mut kind,
        &[
            (EntryKind::Ramp, "ramp along the path"),
            (EntryKind::Plunge, "plunge"),
        ],
    ) {
        entry.kind = kind;
        edit.flag(true);
    }
    if kind == EntryKind::Ramp {
        edit.resp(&number(
            ui,
            "Ramp angle:",
            &mut entry.ramp_angle_deg,
            1.0,
            0.1..=30.0,
            "°",
        ));
    }
}

pub(crate) fn pocket_params_ui(ui: &mut Ui, p: &mut PocketParams, edit: &mut Edit) {
    depth_rows_ui(
        ui,
        &mut p.cut.stepdown_mm,
        &mut p.cut.allowance_radial_mm,
        Some(&mut p.cut.allowance_axial_mm),
        edit,
    );
    edit.flag(pattern_choice(ui, &mut p.pattern));
    if p.pattern == Pattern::Zigzag {
        edit.resp(&number(
            ui,
            "Zigzag angle:",
            &mut p.zigzag_angle_deg,
            1.0,
            -180.0..=180.0,
            "°",
        ));
    }
    direction_and_entry_ui(ui, &mut p.cut.direction, &mut p.cut.entry, edit);
}

pub(crate) fn adaptive_params_ui(ui: &mut Ui, a: &mut AdaptiveParams, edit: &mut Edit) {
    let mut deg = a.engagement_deg();
    let r = number(ui, "Max engagement:", &mut deg, 1.0, 5.0..=180.0, "°");
    if r.changed() {
        a.max_engagement_deg = deg;
        a.optimal_load = None;
    }
    edit.resp(&r);
    depth_rows_ui(
        ui,
        &mut a.cut.stepdown_mm,
        &mut a.cut.allowance_radial_mm,
        Some(&mut a.cut.allowance_axial_mm),
        edit,
    );
    direction_and_entry_ui(ui, &mut a.cut.direction, &mut a.cut.entry, edit);
}

pub(crate) fn zlevel_params_ui(ui: &mut Ui, z: &mut ZLevelParams, rough: bool, edit: &mut Edit) {
    depth_rows_ui(
        ui,
        &mut z.cut.stepdown_mm,
        &mut z.cut.allowance_radial_mm,
        Some(&mut z.cut.allowance_axial_mm),
        edit,
    );
    if rough {
        let mut adaptive = z.max_engagement_deg.is_some();
        ui.horizontal(|ui| {
            edit.flag(
                ui.checkbox(&mut adaptive, "adaptive layers")
                    .on_hover_text("clear each layer holding the radial engagement")
                    .changed(),
            );
            if adaptive {
                let mut deg = z.max_engagement_deg.unwrap_or(60.0);
                edit.resp(&number(
                    ui,
                    "max engagement:",
                    &mut deg,
                    1.0,
                    5.0..=180.0,
                    "°",
                ));
                z.max_engagement_deg = Some(deg);
            } else {
                z.max_engagement_deg = None;
            }
        });
        if !adaptive {
            edit.flag(pattern_choice(ui, &mut z.pattern));
        }
        let mut own = z.stock_margin_mm.is_some();
        ui.horizontal(|ui| {
            edit.flag(
                ui.checkbox(&mut own, "stock margin")
                    .on_hover_text("stock beyond the part's box; default the tool diameter")
                    .changed(),
            );
            if own {
                let mut m = z.stock_margin_mm.unwrap_or(0.2);
                edit.resp(&number(ui, "margin:", &mut m, 1.0, 0.0..=50.0, "mm"));
                z.stock_margin_mm = Some(m);
            } else {
                z.stock_margin_mm = None;
            }
        });
    }
    direction_and_entry_ui(ui, &mut z.cut.direction, &mut z.cut.entry, edit);
}

/// The stock to leave on walls and floors of a 3D finish, in µm.
fn allowance_rows_ui(ui: &mut Ui, cut: &mut swarf_core::ops::CutParams, edit: &mut Edit) {
    edit.resp(&um(
        ui,
        "Wall allowance:",
        &mut cut.allowance_radial_mm,
        0.0..=1000.0,
    ));
    edit.resp(&um(
        ui,
        "Floor allowance:",
        &mut cut.allowance_axial_mm,
        0.0..=1000.0,
    ));
}

/// Waterline finishing: levels stepped by the scallop on a vertical wall or a step-down,
/// the stock to leave, climb or conventional and the ramp between levels.
pub(crate) fn waterline_params_ui(ui: &mut Ui, p: &mut WaterlineParams, edit: &mut Edit) {
    let mut by_scallop = p.cut.stepdown_mm.is_none();
    edit.flag(choice(
        ui,
        "Step down by:",
        &mut by_scallop,
        &[(true, "scallop height"), (false, "distance")],
    ));
    if by_scallop {
        let mut h = p
            .scallop_mm
            .unwrap_or(swarf_core::ops::waterline::DEFAULT_SCALLOP_MM);
        let r = um(ui, "Scallop:", &mut h, 0.01..=100.0).on_hover_text(
            "the height of the ridges left between levels on a vertical wall (a ball or bull-nose corner; a flat end mill steps a tenth of its diameter unless given a step-down)",
        );
        // Kept unset until edited: a flat end mill has no scallop to step by.
        if r.changed() {
            p.scallop_mm = Some(h);
        }
        edit.resp(&r);
        p.cut.stepdown_mm = None;
    } else {
        let mut s = p.cut.stepdown_mm.unwrap_or(0.02);
        edit.resp(&um(ui, "Step-down:", &mut s, 0.1..=10_000.0));
        p.cut.stepdown_mm = Some(s);
    }
    allowance_rows_ui(ui, &mut p.cut, edit);
    direction_and_ramp_ui(ui, &mut p.cut.direction, &mut p.cut.entry, edit);
}

/// Steep and shallow: the threshold slope, the overlap band, the scallop (or the passes'
/// distance and the levels' step-down), the passes' angle and zigzag, the stock to leave,
/// the waterlines' direction and entry.
pub(crate) fn steep_shallow_params_ui(
    ui: &mut Ui,
    p: &mut swarf_core::ops::steep_shallow::SteepShallowParams,
    tool_d: f64,
    edit: &mut Edit,
) {
    edit.resp(
        &number(
            ui,
            "Steep above:",
            &mut p.threshold_deg,
            1.0,
            5.0..=85.0,
            "°",
        )
        .on_hover_text(
            "slopes steeper than this are finished by waterlines, the rest by parallel passes",
        ),
    );
    let mut band = p.overlap_mm.unwrap_or(tool_d * 0.5);
    let r = um(ui, "Overlap:", &mut band, 0.0..=100_000.0).on_hover_text(
        "the band along the boundary that both cut, so no witness line is left (default the tool's radius)",
    );
    if r.changed() {
        p.overlap_mm = Some(band);
    }
    edit.resp(&r);
    let mut by_scallop = p.stepover_mm.is_none() && p.cut.stepdown_mm.is_none();
    edit.flag(choice(
        ui,
        "Step by:",
        &mut by_scallop,
        &[(true, "scallop height"), (false, "distances")],
    ));
    if by_scallop {
        let mut h = p.scallop_mm.unwrap_or(DEFAULT_SCALLOP_MM);
        let r = um(ui, "Scallop:", &mut h, 0.01..=100.0).on_hover_text(
            "the ridges left between passes on flat areas and between waterlines at the threshold slope",
        );
        // Kept unset until edited, as for waterlines.
        if r.changed() {
            p.scallop_mm = Some(h);
        }
        edit.resp(&r);
        p.stepover_mm = None;
        p.cut.stepdown_mm = None;
    } else {
        let mut s = p.stepover_mm.unwrap_or(0.02);
        edit.resp(&um(ui, "Step-over:", &mut s, 0.1..=10_000.0));
        p.stepover_mm = Some(s);
        let mut d = p.cut.stepdown_mm.unwrap_or(0.02);
        edit.resp(&um(ui, "Step-down:", &mut d, 0.1..=10_000.0));
        p.cut.stepdown_mm = Some(d);
    }
    passes_rows_ui(
        ui,
        &mut p.angle_deg,
        &mut p.zigzag,
        &mut p.slope_compensation,
        edit,
    );
    allowance_rows_ui(ui, &mut p.cut, edit);
    direction_and_ramp_ui(ui, &mut p.cut.direction, &mut p.cut.entry, edit);
}

/// Parallel passes: their angle, zigzag or one way, and slope compensation.
fn passes_rows_ui(
    ui: &mut Ui,
    angle_deg: &mut f64,
    zigzag: &mut bool,
    slope_compensation: &mut bool,
    edit: &mut Edit,
) {
    edit.resp(&number(ui, "Angle:", angle_deg, 1.0, -180.0..=180.0, "°"));
    edit.flag(
        ui.checkbox(zigzag, "zigzag")
            .on_hover_text("passes in alternate directions; off: all one way, retracting between")
            .changed(),
    );
    edit.flag(
        ui.checkbox(slope_compensation, "slope compensation")
            .on_hover_text(
                "add passes where a slope across the passes would leave a higher scallop",
            )
            .changed(),
    );
}

/// Parallel finishing: scallop height or step-over, angle, zigzag, slope compensation and
/// the stock to leave.
pub(crate) fn parallel_params_ui(ui: &mut Ui, p: &mut ParallelParams, edit: &mut Edit) {
    let mut by_scallop = p.stepover_mm.is_none();
    edit.flag(choice(
        ui,
        "Step by:",
        &mut by_scallop,
        &[(true, "scallop height"), (false, "distance")],
    ));
    if by_scallop {
        let mut h = p.scallop_mm.unwrap_or(DEFAULT_SCALLOP_MM);
        edit.resp(
            &um(ui, "Scallop:", &mut h, 0.01..=100.0)
                .on_hover_text("the height of the ridges left between passes on a flat area"),
        );
        p.scallop_mm = Some(h);
        p.stepover_mm = None;
    } else {
        let mut s = p.stepover_mm.unwrap_or(0.02);
        edit.resp(&um(ui, "Step-over:", &mut s, 0.1..=10_000.0));
        p.stepover_mm = Some(s);
    }
    passes_rows_ui(
        ui,
        &mut p.angle_deg,
        &mut p.zigzag,
        &mut p.slope_compensation,
        edit,
    );
    let mut silhouette = p.silhouette_offset_mm.is_some();
    ui.horizontal(|ui| {
        edit.flag(
            ui.checkbox(&mut silhouette, "within the silhouette")
                .on_hover_text(
                    "keep the tool's centre over the part's outline seen from above (grown by the offset), not over the whole stock",
                )
                .changed(),
        );
        if silhouette {
            let mut d = p.silhouette_offset_mm.unwrap_or(0.0);
            edit.resp(&number(ui, "grown by:", &mut d, 1.0, 0.0..=50.0, "mm"));
            p.silhouette_offset_mm = Some(d);
        } else {
            p.silhouette_offset_mm = None;
        }
    });
    allowance_rows_ui(ui, &mut p.cut, edit);
}

pub(crate) fn contour_params_ui(ui: &mut Ui, c: &mut ContourParams, edit: &mut Edit) {
    edit.flag(choice(
        ui,
        "Side:",
        &mut c.side,
        &[
            (Side::Outside, "outside"),
            (Side::Inside, "inside"),
            (Side::On, "on the line"),
        ],
    ));
    edit.flag(
        ui.checkbox(&mut c.open_chains, "also cut open chains")
            .changed(),
    );
    depth_rows_ui(
        ui,
        &mut c.cut.stepdown_mm,
        &mut c.cut.allowance_radial_mm,
        Some(&mut c.cut.allowance_axial_mm),
        edit,
    );
    let r = count(ui, "Roughing passes:", &mut c.roughing_passes, 1..=50);
    edit.resp(&r);
    edit.flag(ui.checkbox(&mut c.spring_pass, "spring pass").changed());
    edit.resp(&um(
        ui,
        "Lead arc radius:",
        &mut c.lead_radius_mm,
        0.0..=5000.0,
    ));
    let r = count(ui, "Tabs:", &mut c.tabs, 0..=32);
    edit.resp(&r);
    if c.tabs > 0 {
        edit.resp(&um(ui, "Tab width:", &mut c.tab_width_mm, 10.0..=10_000.0));
        edit.resp(&um(ui, "Tab height:", &mut c.tab_height_mm, 1.0..=10_000.0));
    }
    direction_and_entry_ui(ui, &mut c.cut.direction, &mut c.cut.entry, edit);
}

pub(crate) fn isolate_params_ui(ui: &mut Ui, p: &mut IsolateParams, edit: &mut Edit) {
    let r = count(ui, "Passes:", &mut p.passes, 1..=20);
    edit.resp(&r);
    edit.resp(&number(
        ui,
        "Overlap:",
        &mut p.overlap_pct,
        1.0,
        0.0..=90.0,
        "%",
    ));
    stepdown_ui(ui, &mut p.cut.stepdown_mm, edit);
    direction_and_entry_ui(ui, &mut p.cut.direction, &mut p.cut.entry, edit);
}

pub(crate) fn engrave_params_ui(ui: &mut Ui, p: &mut EngraveParams, edit: &mut Edit) {
    edit.flag(choice(
        ui,
        "Tool centre:",
        &mut p.side,
        &[
            (EngraveSide::On, "on the line"),
            (EngraveSide::Left, "left of the line (inside a loop)"),
            (EngraveSide::Right, "right of the line (outside a loop)"),
        ],
    ));
    if p.side != EngraveSide::On {
        let mut own = p.offset_mm.is_some();
        if ui
            .checkbox(
                &mut own,
                "Own distance (else the cut's half width: its edge on the line)",
            )
            .changed()
        {
            p.offset_mm = own.then_some(p.offset_mm.unwrap_or(0.05));
            edit.flag(true);
        }
        if let Some(d) = &mut p.offset_mm {
            edit.resp(&um(ui, "Distance:", d, 0.1..=100_000.0));
        }
    }
    stepdown_ui(ui, &mut p.cut.stepdown_mm, edit);
    // A helix has no room on a line: ramp along it, or plunge where the tool can.
    edit.flag(choice(
        ui,
        "Entry:",
        &mut p.cut.entry.kind,
        &[
            (EntryKind::Ramp, "ramp along the line"),
            (EntryKind::Plunge, "plunge (an engraving tool)"),
        ],
    ));
    if p.cut.entry.kind != EntryKind::Plunge {
        let r = number(
            ui,
            "Ramp angle:",
            &mut p.cut.entry.ramp_angle_deg,
            1.0,
            0.1..=30.0,
            "°",
        );
        edit.resp(&r);
    }
}

/// A V-carve's rows: the cap and levels, and the floor clean-up to add. Returns the flat end
/// mill chosen for the clean-up when the user adds it.
pub(crate) fn vcarve_params_ui(
    ui: &mut Ui,
    p: &mut VCarveParams,
    v_tool: Option<&swarf_core::tool::Tool>,
    flat_tools: &[(u32, String)],
    edit: &mut Edit,
) -> Option<u32> {
    match v_tool.and_then(|t| cap_radius(p, t)) {
        Some(r) => ui.label(format!(
            "The final depth caps the carve: where the shape is wider than {:.1} µm (the cut \
             at the cap), its walls are carved and its floor left flat for an end mill.",
            2000.0 * r
        )),
        None => ui.colored_label(
            super::ERR,
            "V-carving needs a V tool: choose one above (or add one in Tools).",
        ),
    };
    stepdown_ui(ui, &mut p.cut.stepdown_mm, edit);
    ui.label("Entry: plunge (the V's point, at the axis's ends)");
    let mut add = None;
    if v_tool.is_some_and(|t| matches!(t.shape, swarf_core::tool::ToolShape::V { .. })) {
        ui.horizontal(|ui| match flat_tools.first() {
            Some(&(n, ref name)) => {
                if ui
                    .button("Add floor clean-up")
                    .on_hover_text(format!(
                        "a pocket with {name} at the cap's depth, keeping the cut's width at \
                         the cap from the walls"
                    ))
                    .clicked()
                {
                    add = Some(n);
                }
            }
            None => {
                ui.label("Floor clean-up: add a flat end mill to the tools first");
            }
        });
    }
    add
}

/// A text's rows: the string (with its counter), font, place, height, angle, alignment, arc,
/// and how it is cut.
pub(crate) fn text_params_ui(ui: &mut Ui, p: &mut TextParams, edit: &mut Edit) {
    ui.horizontal(|ui| {
        let l = ui.label("Text:");
        edit.resp(&ui.text_edit_singleline(&mut p.text).labelled_by(l.id));
    });
    ui.label("{n} or {n:04} is the counter (a serial number)");
    let mut n = u32::try_from(p.counter).unwrap_or(u32::MAX);
    let r = count(ui, "Counter:", &mut n, 0..=999_999_999);
    if r.changed() {
        p.counter = u64::from(n);
    }
    edit.resp(&r);
    if p.has_counter() {
        edit.resp(&ui.checkbox(
            &mut p.per_copy,
            "each copy of an array its own number (the counter is the first copy's)",
        ));
    }
    let builtin = [
        swarf_core::text::STROKE_FONT,
        swarf_core::text::OUTLINE_FONT,
    ];
    let mut which = if p.font == builtin[0] {
        0
    } else if p.font == builtin[1] {
        1
    } else {
        2
    };
    if choice(
        ui,
        "Font:",
        &mut which,
        &[
            (0, "single stroke (engraving)"),
            (1, "outline (V-carving)"),
            (2, "a font file (.ttf, .otf)"),
        ],
    ) {
        p.font = match which {
            0 | 1 => builtin[which].to_string(),
            _ => String::new(),
        };
        edit.flag(true);
    }
    if which == 2 {
        ui.horizontal(|ui| {
            let l = ui.label("Font file:");
            edit.resp(&ui.text_edit_singleline(&mut p.font).labelled_by(l.id));
        });
    }
    edit.flag(choice(
        ui,
        "Cut:",
        &mut p.cut_as,
        &[
            (TextCut::Engrave, "engrave the letters"),
            (TextCut::Vcarve, "V-carve the letters (outline font)"),
        ],
    ));
    let s = &mut p.style;
    let rs = [
        um(ui, "Height:", &mut s.height_mm, 1.0..=1_000_000.0),
        number(ui, "X:", &mut p.x_mm, 0.01, -100_000.0..=100_000.0, "mm"),
        number(ui, "Y:", &mut p.y_mm, 0.01, -100_000.0..=100_000.0, "mm"),
        number(ui, "Angle:", &mut s.angle_deg, 1.0, -360.0..=360.0, "°"),
        number(
            ui,
            "Width factor:",
            &mut s.width_factor,
            0.01,
            0.1..=10.0,
            "",
        ),
        number(ui, "Slant:", &mut s.oblique_deg, 1.0, -60.0..=60.0, "°"),
    ];
    for r in &rs {
        edit.resp(r);
    }
    edit.flag(choice(
        ui,
        "Across:",
        &mut s.halign,
        &[
            (HAlign::Left, "starts at X, Y"),
            (HAlign::Center, "centred on X, Y"),
            (HAlign::Right, "ends at X, Y"),
        ],
    ));
    edit.flag(choice(
        ui,
        "Up and down:",
        &mut s.valign,
        &[
            (VAlign::Baseline, "baseline on X, Y"),
            (VAlign::Bottom, "bottom on X, Y"),
            (VAlign::Middle, "middle on X, Y"),
            (VAlign::Top, "top on X, Y"),
        ],
    ));
    let mut on_arc = s.arc_radius_mm.is_some();
    if ui
        .checkbox(&mut on_arc, "along an arc around X, Y")
        .changed()
    {
        s.arc_radius_mm = on_arc.then_some(s.arc_radius_mm.unwrap_or(5.0));
        edit.flag(true);
    }
    if let Some(r) = &mut s.arc_radius_mm {
        edit.resp(&number(
            ui,
            "Arc radius:",
            r,
            0.1,
            -100_000.0..=100_000.0,
            "mm",
        ));
    }
    stepdown_ui(ui, &mut p.cut.stepdown_mm, edit);
}

/// The "Rest after" choice of a clearing operation: nothing, or one of the earlier clearing
/// operations whose tool is larger than this one's (`tool_d`); a diameter set in the job file
/// that matches none of them is offered as it is.
pub(crate) fn rest_after_ui(
    ui: &mut Ui,
    rest: &mut Option<f64>,
    mut opts: Vec<(Option<f64>, String)>,
    tool_d: f64,
    edit: &mut Edit,
) {
    // Only larger tools leave something for this one.
    opts.retain(|(v, _)| v.is_none_or(|d| d > tool_d));
    if let Some(d) = *rest
        && !opts.iter().any(|(v, _)| *v == Some(d))
    {
        opts.push((Some(d), format!("a Ø {d} mm tool")));
    }
    let opts: Vec<(Option<f64>, &str)> = opts.iter().map(|(v, n)| (*v, n.as_str())).collect();
    edit.flag(choice(ui, "Rest after:", rest, &opts));
}

/// The holes an operation works on: from one diameter, up to another if limited.
fn hole_range_ui(ui: &mut Ui, min: &mut f64, max: &mut Option<f64>, holes: &str, edit: &mut Edit) {
    ui.label(format!("Holes in the part: {holes}"));
    edit.resp(&um(ui, "Holes from Ø:", min, 0.0..=100_000.0));
    let mut limited = max.is_some();
    ui.horizontal(|ui| {
        edit.flag(ui.checkbox(&mut limited, "up to Ø").changed());
        if limited {
            let mut v = max.unwrap_or(min.max(1.0));
            edit.resp(&um(ui, "", &mut v, 0.0..=100_000.0));
            *max = Some(v);
        } else {
            *max = None;
        }
    });
}

/// Helical boring: the holes, the helix's pitch, the finishing circle and spring pass.
pub(crate) fn bore_params_ui(ui: &mut Ui, b: &mut BoreParams, holes: &str, edit: &mut Edit) {
    hole_range_ui(
        ui,
        &mut b.diameter_min_mm,
        &mut b.diameter_max_mm,
        holes,
        edit,
    );
    let mut by_pitch = b.pitch_mm.is_some();
    ui.horizontal(|ui| {
        edit.flag(ui.checkbox(&mut by_pitch, "pitch per turn").changed());
        if by_pitch {
            let mut v = b.pitch_mm.unwrap_or(0.05);
            edit.resp(&um(ui, "", &mut v, 0.1..=10_000.0));
            b.pitch_mm = Some(v);
        } else {
            b.pitch_mm = None;
            edit.resp(&number(
                ui,
                "helix angle:",
                &mut b.cut.entry.ramp_angle_deg,
                1.0,
                0.1..=45.0,
                "°",
            ));
        }
    });
    edit.flag(choice(
        ui,
        "Direction:",
        &mut b.cut.direction,
        &[
            (Direction::Climb, "climb"),
            (Direction::Conventional, "conventional"),
        ],
    ));
    edit.flag(
        ui.checkbox(&mut b.finish_pass, "finishing circle")
            .changed(),
    );
    if b.finish_pass {
        edit.resp(&um(
            ui,
            "left for it:",
            &mut b.cut.allowance_radial_mm,
            0.0..=1000.0,
        ));
    }
    edit.flag(ui.checkbox(&mut b.spring_pass, "spring pass").changed());
}

/// Drilling: the cycle, the holes by diameter, pecks, dwell, depth and retract.
pub(crate) fn drill_params_ui(ui: &mut Ui, d: &mut DrillParams, holes: &str, edit: &mut Edit) {
    edit.flag(choice(
        ui,
        "Cycle:",
        &mut d.cycle,
        &[
            (DrillCycle::Spot, "spot"),
            (DrillCycle::Drill, "drill (G81/G82)"),
            (DrillCycle::Peck, "peck (G83)"),
            (DrillCycle::ChipBreak, "chip-break (G73)"),
        ],
    ));
    hole_range_ui(
        ui,
        &mut d.diameter_min_mm,
        &mut d.diameter_max_mm,
        holes,
        edit,
    );
    if matches!(d.cycle, DrillCycle::Peck | DrillCycle::ChipBreak) {
        edit.resp(&um(
            ui,
            "First peck (0: Ø):",
            &mut d.peck_mm,
            0.0..=100_000.0,
        ));
        edit.resp(&um(
            ui,
            "Peck reduction:",
            &mut d.peck_reduction_mm,
            0.0..=100_000.0,
        ));
        edit.resp(&um(
            ui,
            "Minimum peck:",
            &mut d.min_peck_mm,
            0.0..=100_000.0,
        ));
        edit.resp(&um(ui, "Back-off:", &mut d.backoff_mm, 1.0..=5000.0));
    }
    edit.resp(&number(
        ui,
        "Dwell:",
        &mut d.dwell_s,
        1.0,
        0.0..=3600.0,
        "s",
    ));
    edit.flag(choice(
        ui,
        "Depth to:",
        &mut d.depth_to,
        &[
            (DepthTo::Tip, "the tip"),
            (DepthTo::FullDiameter, "the full diameter"),
        ],
    ));
    edit.resp(&um(
        ui,
        "Breakthrough:",
        &mut d.breakthrough_mm,
        0.0..=10_000.0,
    ));
    edit.flag(
        ui.checkbox(
            &mut d.retract_to_clearance,
            "back to clearance between holes (G98)",
        )
        .changed(),
    );
}
