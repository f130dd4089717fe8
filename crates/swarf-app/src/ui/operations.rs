//! The operation list (add, remove, reorder, enable) and the selected operation's parameters.

use egui::{Response, Ui};
use swarf_core::job::{Job, Model, Operation, Target};
use swarf_core::ops::{OpSpec, Stepover};

use super::params::{
    adaptive_params_ui, bore_params_ui, contour_params_ui, drill_params_ui, engrave_params_ui,
    isolate_params_ui, parallel_params_ui, pocket_params_ui, rest_after_ui,
    steep_shallow_params_ui, text_params_ui, vcarve_params_ui, waterline_params_ui,
    zlevel_params_ui,
};
use super::{ERR, Edit, choice, number, um};
use crate::Session;
use crate::new_operation;
use crate::session::common_params;

pub(crate) fn operations_ui(ui: &mut Ui, session: &mut Session, job: &mut Job, edit: &mut Edit) {
    let n = job.operations.len();
    for (i, op) in job.operations.iter_mut().enumerate() {
        ui.horizontal(|ui| {
            edit.flag(
                ui.checkbox(&mut op.enabled, "on")
                    .on_hover_text("include this operation in the program")
                    .changed(),
            );
            let kind = op.spec.name();
            if ui
                .selectable_label(
                    session.selected == i,
                    format!("{} ({kind}, T{})", op.name, op.tool),
                )
                .clicked()
            {
                session.selected = i;
            }
        });
    }
    ui.horizontal_wrapped(|ui| {
        let tool = job
            .tools
            .get(session.selected_tool)
            .or(job.tools.first())
            .map_or(1, |t| t.number);
        let kinds: &[(&str, &str, &str)] =
            if session.model.as_ref().is_some_and(|m| m.mesh().is_some()) {
                &[
                    ("+ Z-level rough", "zlevel-rough", "rough"),
                    ("+ Z-level finish", "zlevel-contour", "finish"),
                    ("+ Parallel", "parallel", "parallel"),
                    ("+ Waterline", "waterline", "waterline"),
                    ("+ Steep/shallow", "steep-shallow", "steep/shallow"),
                ]
            } else {
                &[
                    ("+ Pocket", "pocket", "pocket"),
                    ("+ Adaptive", "adaptive", "adaptive"),
                    ("+ Contour", "contour", "contour"),
                    ("+ Drill", "drill", "drill"),
                    ("+ Bore", "helical-bore", "bore"),
                    ("+ Isolate", "isolate", "isolate"),
                    ("+ Engrave", "engrave", "engrave"),
                    ("+ V-carve", "vcarve", "vcarve"),
                    ("+ Text", "text", "text"),
                ]
            };
        for &(label, kind, name) in kinds {
            if ui.button(label).clicked() {
                let name = format!("{name} {}", n + 1);
                // Drilling takes the job's first drill, V-carving its first V tool, if it has
                // one.
                let tool = match kind {
                    "drill" => job
                        .tools
                        .iter()
                        .find(|t| matches!(t.shape, swarf_core::tool::ToolShape::Drill { .. }))
                        .map_or(tool, |t| t.number),
                    "vcarve" => job
                        .tools
                        .iter()
                        .find(|t| matches!(t.shape, swarf_core::tool::ToolShape::V { .. }))
                        .map_or(tool, |t| t.number),
                    _ => tool,
                };
                job.operations
                    .push(new_operation(kind, name, tool, session.mesh_depth()));
                session.selected = n;
                edit.flag(true);
            }
        }
        let s = session.selected;
        if ui.add_enabled(s < n, egui::Button::new("Remove")).clicked() {
            job.operations.remove(s);
            edit.flag(true);
        }
        if ui
            .add_enabled(s > 0 && s < n, egui::Button::new("Up"))
            .on_hover_text("move up")
            .clicked()
        {
            job.operations.swap(s, s - 1);
            session.selected = s - 1;
            edit.flag(true);
        }
        if ui
            .add_enabled(s + 1 < n, egui::Button::new("Down"))
            .on_hover_text("move down")
            .clicked()
        {
            job.operations.swap(s, s + 1);
            session.selected = s + 1;
            edit.flag(true);
        }
    });
    ui.separator();
    op_ui(ui, session, job, edit);
}

/// Parameters of the selected operation.
fn op_ui(ui: &mut Ui, session: &mut Session, job: &mut Job, edit: &mut Edit) {
    let tools: Vec<(u32, String)> = job
        .tools
        .iter()
        .map(|t| (t.number, format!("T{} {}", t.number, t.name)))
        .collect();
    let diameter = |n: u32| {
        job.tools
            .iter()
            .find(|t| t.number == n)
            .map(|t| t.diameter_mm)
    };
    // Rest machining: after one of the earlier clearing operations (its tool's diameter).
    let mut rest_opts: Vec<(Option<f64>, String)> = vec![(None, "nothing: whole pocket".into())];
    for o in job.operations.iter().take(session.selected) {
        if matches!(o.spec, OpSpec::Pocket(_) | OpSpec::Adaptive(_))
            && let Some(d) = diameter(o.tool)
            && !rest_opts.iter().any(|(v, _)| *v == Some(d))
        {
            rest_opts.push((Some(d), format!("{} (Ø {d} mm)", o.name)));
        }
    }
    // A board's files: the operation works on one of them.
    let files: Vec<String> = std::iter::once(&job.part.file)
        .chain(&job.part.with)
        .cloned()
        .collect();
    let Some(op) = job.operations.get_mut(session.selected) else {
        ui.label("no operation: add one above");
        return;
    };
    let tool_d = job
        .tools
        .iter()
        .find(|t| t.number == op.tool)
        .map_or(0.0, |t| t.diameter_mm);
    ui.horizontal(|ui| {
        let l = ui.label("Name:");
        edit.resp(&ui.text_edit_singleline(&mut op.name).labelled_by(l.id));
    });
    let opts: Vec<(u32, &str)> = tools.iter().map(|(n, s)| (*n, s.as_str())).collect();
    edit.flag(choice(ui, "Tool:", &mut op.tool, &opts));
    if files.len() > 1 {
        let names: Vec<String> = files
            .iter()
            .map(|f| {
                std::path::Path::new(f)
                    .file_name()
                    .map_or_else(|| f.clone(), |n| n.to_string_lossy().into_owned())
            })
            .collect();
        let opts: Vec<(usize, &str)> = names.iter().map(String::as_str).enumerate().collect();
        let mut k = op
            .part
            .as_ref()
            .and_then(|p| files.iter().position(|f| f == p))
            .unwrap_or(0);
        if choice(ui, "File:", &mut k, &opts) {
            op.part = (k > 0).then(|| files[k].clone());
            edit.flag(true);
        }
    }
    {
        use swarf_core::post::Coolant;
        edit.flag(choice(
            ui,
            "Coolant:",
            &mut op.coolant,
            &[
                (None, "as the program"),
                (Some(Coolant::Off), "off"),
                (Some(Coolant::Mist), "mist"),
                (Some(Coolant::Flood), "flood"),
            ],
        ));
    }
    if matches!(op.spec, OpSpec::Engrave(_) | OpSpec::Text(_)) {
        onto_ui(ui, session, &files, &mut op.spec, edit);
    }
    let drilling = matches!(op.spec, OpSpec::Drill(_) | OpSpec::HelicalBore(_));
    // The floor clean-up a V-carve offers: the V tool and the job's flat end mills.
    let v_tool = job.tools.iter().find(|t| t.number == op.tool).cloned();
    let flat_tools: Vec<(u32, String)> = job
        .tools
        .iter()
        .filter(|t| matches!(t.shape, swarf_core::tool::ToolShape::Flat))
        .map(|t| (t.number, format!("T{} {}", t.number, t.name)))
        .collect();
    // Engraving follows every line of the chosen layers: no target.
    let engraving = matches!(op.spec, OpSpec::Engrave(_) | OpSpec::Text(_));
    if !op.spec.needs_mesh() && !drilling && !engraving {
        edit.flag(choice(
            ui,
            "Target:",
            &mut op.target,
            &[
                (Target::Regions, "regions (with islands)"),
                (Target::Holes, "holes of the part"),
                (Target::Outlines, "outlines of the part"),
                (Target::Loops, "every closed loop"),
                (Target::Between, "between the regions (clear copper)"),
            ],
        ));
    }
    // The step-over in % of the diameter, with the distance it makes (for adaptive
    // clearing the optimal load, the radial width its engagement limit allows).
    // Isolation steps by its cut's width less the overlap (its own panel), not a step-over;
    // parallel finishing by a scallop height or a distance, waterline by levels (their own
    // panels).
    if !drilling
        && !matches!(
            op.spec,
            OpSpec::Isolate(_)
                | OpSpec::Engrave(_)
                | OpSpec::VCarve(_)
                | OpSpec::Text(_)
                | OpSpec::Parallel(_)
                | OpSpec::Waterline(_)
                | OpSpec::SteepShallow(_)
        )
    {
        let (mut stepover, _) = common_params(op, |s, h| (*s, h.final_depth_mm));
        let mut pct = stepover.mm(tool_d) / tool_d.max(1e-9) * 100.0;
        let label = if matches!(op.spec, OpSpec::Adaptive(_)) {
            "Optimal load:"
        } else {
            "Step-over:"
        };
        let r = number(ui, label, &mut pct, 1.0, 1.0..=100.0, "% of Ø");
        ui.label(format!("   = {:.1} µm", pct / 100.0 * tool_d * 1000.0));
        if r.changed() {
            stepover = Stepover::Fraction(pct / 100.0);
            common_params(op, |s, _| *s = stepover);
        }
        edit.resp(&r);
    }
    let mut h = common_params(op, |_, h| *h);
    let rs = [
        um(ui, "Final depth:", &mut h.final_depth_mm, 1.0..=50_000.0),
        um(ui, "Start depth:", &mut h.start_depth_mm, 0.0..=50_000.0),
        number(
            ui,
            if matches!(op.spec, OpSpec::Drill(_)) {
                "Retract plane R:"
            } else {
                "Safe height:"
            },
            &mut h.safe_mm,
            1.0,
            0.01..=100.0,
            "mm",
        ),
        number(
            ui,
            "Clearance:",
            &mut h.clearance_mm,
            1.0,
            0.01..=500.0,
            "mm",
        ),
    ];
    for r in &rs {
        edit.resp(r);
    }
    if rs.iter().any(Response::changed) {
        common_params(op, |_, hh| *hh = h);
    }
    let mut cleanup = None;
    match &mut op.spec {
        OpSpec::Pocket(p) => {
            rest_after_ui(ui, &mut p.rest_from_diameter_mm, rest_opts, tool_d, edit);
            pocket_params_ui(ui, p, edit);
        }
        OpSpec::Contour(c) => contour_params_ui(ui, c, edit),
        OpSpec::Adaptive(a) => {
            rest_after_ui(ui, &mut a.rest_from_diameter_mm, rest_opts, tool_d, edit);
            adaptive_params_ui(ui, a, edit);
        }
        OpSpec::ZLevelRough(z) => zlevel_params_ui(ui, z, true, edit),
        OpSpec::ZLevelContour(z) => zlevel_params_ui(ui, z, false, edit),
        OpSpec::Drill(d) => drill_params_ui(ui, d, &session.holes_summary, edit),
        OpSpec::HelicalBore(b) => bore_params_ui(ui, b, &session.holes_summary, edit),
        OpSpec::Isolate(i) => isolate_params_ui(ui, i, edit),
        OpSpec::Engrave(e) => engrave_params_ui(ui, e, edit),
        OpSpec::VCarve(v) => {
            if let Some(t) = vcarve_params_ui(ui, v, v_tool.as_ref(), &flat_tools, edit) {
                cleanup = Some((*v, t));
            }
        }
        OpSpec::Text(t) => text_params_ui(ui, t, edit),
        OpSpec::Parallel(p) => parallel_params_ui(ui, p, edit),
        OpSpec::Waterline(w) => waterline_params_ui(ui, w, edit),
        OpSpec::SteepShallow(w) => steep_shallow_params_ui(ui, w, tool_d, edit),
    }
    if let Some(e) = &session.error
        && e.contains(&format!("'{}'", op.name))
    {
        ui.colored_label(ERR, e);
    }
    // The floor clean-up goes in after the V-carve, on the same file and regions.
    if let Some((v, flat)) = cleanup
        && let Some(pocket) = v_tool
            .as_ref()
            .and_then(|t| swarf_core::ops::vcarve::floor_cleanup(&v, t))
    {
        let clean = Operation {
            name: format!("{} floor", op.name),
            tool: flat,
            enabled: true,
            target: op.target,
            part: op.part.clone(),
            coolant: op.coolant,
            spec: OpSpec::Pocket(pocket),
        };
        job.operations.insert(session.selected + 1, clean);
        session.selected += 1;
        edit.flag(true);
    }
}

/// Where an engraving's depth is measured from: the flat top, or the surface of one of the
/// job's meshes (the part or a file added beside it); a mesh can be added from here.
fn onto_ui(
    ui: &mut Ui,
    session: &mut Session,
    files: &[String],
    spec: &mut OpSpec,
    edit: &mut Edit,
) {
    let onto = match spec {
        OpSpec::Engrave(e) => &mut e.onto,
        OpSpec::Text(t) => &mut t.onto,
        _ => return,
    };
    let is_mesh = |k: usize| {
        if k == 0 {
            matches!(session.model, Some(Model::Mesh(_)))
        } else {
            session
                .with_models
                .get(k - 1)
                .is_some_and(|(_, m)| matches!(m, Model::Mesh(_)))
        }
    };
    let meshes: Vec<usize> = (0..files.len()).filter(|&k| is_mesh(k)).collect();
    let short = |f: &str| {
        std::path::Path::new(f)
            .file_name()
            .map_or_else(|| f.to_string(), |n| n.to_string_lossy().into_owned())
    };
    let names: Vec<String> = meshes
        .iter()
        .map(|&k| format!("the surface of {}", short(&files[k])))
        .collect();
    let mut opts: Vec<(Option<usize>, &str)> = vec![(None, "the flat top (Z 0)")];
    opts.extend(
        meshes
            .iter()
            .zip(&names)
            .map(|(&k, n)| (Some(k), n.as_str())),
    );
    let mut at = onto
        .as_ref()
        .and_then(|o| files.iter().position(|f| f == o));
    if onto.is_some() && at.is_none() {
        ui.colored_label(
            ERR,
            format!(
                "engraves onto '{}', which is not among the job's files: add the mesh",
                onto.as_deref().unwrap_or_default()
            ),
        );
    }
    if choice(ui, "Depth from:", &mut at, &opts) {
        *onto = at.map(|k| files[k].clone());
        edit.flag(true);
    }
    if ui
        .button("Add a mesh to engrave onto…")
        .on_hover_text("read an STL beside the part (in the same work coordinates) and cut the marks at their depth below its surface")
        .clicked()
    {
        session.surface_request = true;
    }
}
