//! [`OpSpec`]: an operation and its parameters as one tagged value. Adding an operation means
//! one variant here, one module in `ops/`, one panel in the app.

use serde::{Deserialize, Serialize};

use super::adaptive::{AdaptiveParams, adaptive};
use super::bore::{BoreParams, helical_bore_from};
use super::contour::{ContourParams, contour};
use super::drill::{DrillCycle, DrillParams, drill_from};
use super::engrave::{EngraveParams, engrave};
use super::isolate::IsolateParams;
use super::parallel::{ParallelParams, parallel};
use super::pocket::{PocketParams, pocket};
use super::steep_shallow::{SteepShallowParams, steep_shallow};
use super::target::{Target, contour_loops, target_regions};
use super::text::{TextParams, text};
use super::vcarve::{VCarveParams, vcarve};
use super::waterline::{WaterlineParams, waterline};
use super::zlevel::{ZLevelParams, zlevel_contour, zlevel_rough};
use super::{Cancel, CutParams, OpError, OpResult, Stepover};
use crate::geometry::Tolerance;
use crate::import::Model;
use crate::tool::Tool;

/// An operation with its parameters. In a job file the variant is the operation's `type` and
/// its parameters sit in the operation's table (`[[operation]]`), the shared [`CutParams`]
/// among them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum OpSpec {
    /// Offset or zigzag clearing of closed regions.
    #[serde(rename = "pocket")]
    Pocket(PocketParams),
    /// Outside, inside or on the line of closed loops (and on open chains).
    #[serde(rename = "contour")]
    Contour(ContourParams),
    /// Adaptive clearing of the regions, holding the radial engagement.
    #[serde(rename = "adaptive")]
    Adaptive(AdaptiveParams),
    /// Roughing of a mesh part layer by layer.
    #[serde(rename = "zlevel-rough")]
    ZLevelRough(ZLevelParams),
    /// Finishing of a mesh part's walls layer by layer.
    #[serde(rename = "zlevel-contour")]
    ZLevelContour(ZLevelParams),
    /// Spot, drill, peck or chip-break cycles at a drawing's holes.
    #[serde(rename = "drill")]
    Drill(DrillParams),
    /// Helical boring of a drawing's holes larger than the end mill.
    #[serde(rename = "helical-bore")]
    HelicalBore(BoreParams),
    /// Isolation routing around a PCB's copper.
    #[serde(rename = "isolate")]
    Isolate(IsolateParams),
    /// Engraving along the drawing's lines (open chains and closed loops).
    #[serde(rename = "engrave")]
    Engrave(EngraveParams),
    /// V-carving of closed regions: a V tool along the medial axis, the depth following the
    /// width.
    #[serde(rename = "vcarve")]
    VCarve(VCarveParams),
    /// A text (a serial number, a mark) engraved or V-carved.
    #[serde(rename = "text")]
    Text(TextParams),
    /// 3D finishing of a mesh by parallel passes on the exact cutter-location surface.
    #[serde(rename = "parallel")]
    Parallel(ParallelParams),
    /// 3D finishing of a mesh by closed contours at constant heights from the exact
    /// push-cutter.
    #[serde(rename = "waterline")]
    Waterline(WaterlineParams),
    /// 3D finishing of a mesh split at a slope: waterlines on the steep part, parallel
    /// passes on the shallow part, overlapping.
    #[serde(rename = "steep-shallow")]
    SteepShallow(SteepShallowParams),
}

/// The operation types, by the name a job file and the CLI use.
pub const OP_TYPES: [&str; 14] = [
    "pocket",
    "contour",
    "adaptive",
    "zlevel-rough",
    "zlevel-contour",
    "drill",
    "helical-bore",
    "isolate",
    "engrave",
    "vcarve",
    "text",
    "parallel",
    "waterline",
    "steep-shallow",
];

impl OpSpec {
    /// The operation of type `name` (see [`OP_TYPES`]) with its default parameters.
    pub fn default_of(name: &str) -> Option<OpSpec> {
        Some(match name {
            "pocket" => OpSpec::Pocket(PocketParams::default()),
            "contour" => OpSpec::Contour(ContourParams::default()),
            "adaptive" => OpSpec::Adaptive(AdaptiveParams::default()),
            "zlevel-rough" => OpSpec::ZLevelRough(ZLevelParams::default()),
            "zlevel-contour" => OpSpec::ZLevelContour(ZLevelParams::default()),
            "drill" => OpSpec::Drill(DrillParams::default()),
            "helical-bore" => OpSpec::HelicalBore(BoreParams::default()),
            "isolate" => OpSpec::Isolate(IsolateParams::default()),
            "engrave" => OpSpec::Engrave(EngraveParams::default()),
            "vcarve" => OpSpec::VCarve(VCarveParams::default()),
            "text" => OpSpec::Text(TextParams::default()),
            "parallel" => OpSpec::Parallel(ParallelParams::default()),
            "waterline" => OpSpec::Waterline(WaterlineParams::default()),
            "steep-shallow" => OpSpec::SteepShallow(SteepShallowParams::default()),
            // The drilling cycles by their own names.
            other => {
                let cycle = DrillCycle::ALL.into_iter().find(|c| c.name() == other)?;
                OpSpec::Drill(DrillParams {
                    cycle,
                    ..DrillParams::default()
                })
            }
        })
    }

    /// The type's name, as in a job file.
    pub fn name(&self) -> &'static str {
        match self {
            OpSpec::Pocket(_) => "pocket",
            OpSpec::Contour(_) => "contour",
            OpSpec::Adaptive(_) => "adaptive",
            OpSpec::ZLevelRough(_) => "zlevel-rough",
            OpSpec::ZLevelContour(_) => "zlevel-contour",
            OpSpec::Drill(_) => "drill",
            OpSpec::HelicalBore(_) => "helical-bore",
            OpSpec::Isolate(_) => "isolate",
            OpSpec::Engrave(_) => "engrave",
            OpSpec::VCarve(_) => "vcarve",
            OpSpec::Text(_) => "text",
            OpSpec::Parallel(_) => "parallel",
            OpSpec::Waterline(_) => "waterline",
            OpSpec::SteepShallow(_) => "steep-shallow",
        }
    }

    /// Whether the operation works on a mesh (else on a drawing).
    pub fn needs_mesh(&self) -> bool {
        matches!(
            self,
            OpSpec::ZLevelRough(_)
                | OpSpec::ZLevelContour(_)
                | OpSpec::Parallel(_)
                | OpSpec::Waterline(_)
                | OpSpec::SteepShallow(_)
        )
    }

    /// The parameters every cutting operation shares.
    pub fn cut(&self) -> &CutParams {
        match self {
            OpSpec::Pocket(p) => &p.cut,
            OpSpec::Contour(p) => &p.cut,
            OpSpec::Adaptive(p) => &p.cut,
            OpSpec::ZLevelRough(p) | OpSpec::ZLevelContour(p) => &p.cut,
            OpSpec::Drill(p) => &p.cut,
            OpSpec::HelicalBore(p) => &p.cut,
            OpSpec::Isolate(p) => &p.cut,
            OpSpec::Engrave(p) => &p.cut,
            OpSpec::VCarve(p) => &p.cut,
            OpSpec::Text(p) => &p.cut,
            OpSpec::Parallel(p) => &p.cut,
            OpSpec::Waterline(p) => &p.cut,
            OpSpec::SteepShallow(p) => &p.cut,
        }
    }

    pub fn cut_mut(&mut self) -> &mut CutParams {
        match self {
            OpSpec::Pocket(p) => &mut p.cut,
            OpSpec::Contour(p) => &mut p.cut,
            OpSpec::Adaptive(p) => &mut p.cut,
            OpSpec::ZLevelRough(p) | OpSpec::ZLevelContour(p) => &mut p.cut,
            OpSpec::Drill(p) => &mut p.cut,
            OpSpec::HelicalBore(p) => &mut p.cut,
            OpSpec::Isolate(p) => &mut p.cut,
            OpSpec::Engrave(p) => &mut p.cut,
            OpSpec::VCarve(p) => &mut p.cut,
            OpSpec::Text(p) => &mut p.cut,
            OpSpec::Parallel(p) => &mut p.cut,
            OpSpec::Waterline(p) => &mut p.cut,
            OpSpec::SteepShallow(p) => &mut p.cut,
        }
    }

    /// The step-over of the operations that have one (adaptive holds an engagement instead).
    pub fn stepover(&self) -> Option<Stepover> {
        match self {
            OpSpec::Pocket(p) => Some(p.stepover),
            OpSpec::Contour(p) => Some(p.stepover),
            OpSpec::Adaptive(_)
            | OpSpec::Drill(_)
            | OpSpec::HelicalBore(_)
            | OpSpec::Isolate(_)
            | OpSpec::Engrave(_)
            | OpSpec::VCarve(_)
            | OpSpec::Text(_)
            | OpSpec::Parallel(_)
            | OpSpec::Waterline(_)
            | OpSpec::SteepShallow(_) => None,
            OpSpec::ZLevelRough(p) | OpSpec::ZLevelContour(p) => Some(p.stepover),
        }
    }

    /// The engagement limit an adaptive operation (or a z-level roughing cleared adaptively)
    /// holds, degrees.
    pub fn engagement_limit_deg(&self) -> Option<f64> {
        match self {
            OpSpec::Adaptive(a) => Some(a.engagement_deg()),
            OpSpec::ZLevelRough(z) => z.max_engagement_deg,
            _ => None,
        }
    }

    /// Whether the gouge check against the part applies: a contour on the line cuts the line
    /// itself, a drill cuts the hole's wall (the operation refuses a drill larger than the
    /// hole), an engraving cuts the drawing's lines (marks, not the part's edges).
    pub fn checks_gouges(&self) -> bool {
        !matches!(self, OpSpec::Contour(c) if c.side == super::contour::Side::On)
            && !matches!(
                self,
                OpSpec::Drill(_) | OpSpec::Engrave(_) | OpSpec::Text(_)
            )
    }

    /// The file whose surface an engraving is laid onto (`onto`), if any.
    pub fn onto(&self) -> Option<&str> {
        match self {
            OpSpec::Engrave(p) => p.onto.as_deref(),
            OpSpec::Text(p) => p.onto.as_deref(),
            _ => None,
        }
    }

    /// Generates the operation on the part. `target` selects a drawing's geometry.
    pub fn run(
        &self,
        model: &Model,
        target: Target,
        tool: &Tool,
        tol: &Tolerance,
        cancel: &Cancel,
    ) -> Result<OpResult, OpError> {
        self.run_from(model, target, tool, None, None, tol, cancel)
    }

    /// Whether where the tool starts changes the result: drilling and boring order their
    /// holes from there.
    pub fn starts_where_the_last_ended(&self) -> bool {
        matches!(self, OpSpec::Drill(_) | OpSpec::HelicalBore(_))
    }

    /// [`OpSpec::run`] with the tool above `from` (where the operation before ended; `None`:
    /// above the origin), and for an engraving laid onto a surface ([`OpSpec::onto`]), that
    /// surface's mesh.
    #[allow(clippy::too_many_arguments)]
    pub fn run_from(
        &self,
        model: &Model,
        target: Target,
        tool: &Tool,
        from: Option<crate::geometry::V2>,
        surface: Option<&crate::geometry::mesh::Mesh>,
        tol: &Tolerance,
        cancel: &Cancel,
    ) -> Result<OpResult, OpError> {
        let from = from.unwrap_or_default();
        let mut out = self.run_op(model, target, tool, from, tol, cancel)?;
        if let Some(name) = self.onto() {
            let Some(mesh) = surface else {
                return Err(OpError::Param {
                    op: self.name(),
                    param: "onto",
                    problem: format!(
                        "names '{name}', but no mesh of that name was given with the part: add the STL to [part] with"
                    ),
                });
            };
            if !out.toolpath.moves.is_empty() {
                let (tp, rep) = super::project::project_onto(
                    self.name(),
                    &out.toolpath,
                    mesh,
                    tool,
                    &self.cut().heights,
                    tol,
                    cancel,
                )?;
                out.toolpath = tp;
                out.notes.push(rep.note(name, &self.cut().heights));
                if let Some(w) = rep.reach_warning(tool) {
                    out.warnings.push(w);
                }
            }
        }
        // No straight move shorter than the path tolerance (#23.4); drilling cycles keep theirs.
        out.toolpath.join_short_lines(tol.path_mm);
        // A clearing operation whose toolpath is far longer than its area needs says so.
        if let Some(e) = out.estimate {
            let feed = out.toolpath.stats(f64::INFINITY).feed_length_mm;
            if let Some(w) = e.warning(self.name(), feed) {
                out.warnings.push(w);
            }
        }
        Ok(out)
    }

    fn run_op(
        &self,
        model: &Model,
        target: Target,
        tool: &Tool,
        from: crate::geometry::V2,
        tol: &Tolerance,
        cancel: &Cancel,
    ) -> Result<OpResult, OpError> {
        let wrong_part = |needs: &'static str, suggest: &'static str| OpError::WrongPart {
            op: self.name(),
            needs,
            suggest,
        };
        match (model, self) {
            // A text is its own geometry: it goes on any part.
            (_, OpSpec::Text(p)) => text(p, tool, tol, cancel),
            (Model::Drawing(d), OpSpec::Pocket(p)) => {
                pocket(&target_regions(d, target), tool, p, tol, cancel)
            }
            (Model::Drawing(d), OpSpec::Adaptive(p)) => {
                adaptive(&target_regions(d, target), tool, p, tol, cancel)
            }
            (Model::Drawing(d), OpSpec::Contour(p)) => {
                let loops = contour_loops(d, target, p.side);
                // Off the line, open chains are passed too, so the operation can say they are
                // not cut (they have no inside or outside) instead of skipping them silently.
                let chains = if p.open_chains || p.side != super::contour::Side::On {
                    d.open_chains.clone()
                } else {
                    Vec::new()
                };
                contour(&loops, &chains, tool, p, tol, cancel)
            }
            (Model::Mesh(m), OpSpec::ZLevelRough(p)) => zlevel_rough(&m.mesh, tool, p, tol, cancel),
            (Model::Mesh(m), OpSpec::ZLevelContour(p)) => {
                zlevel_contour(&m.mesh, tool, p, tol, cancel)
            }
            (Model::Mesh(m), OpSpec::Parallel(p)) => parallel(&m.mesh, tool, p, tol, cancel),
            (Model::Mesh(m), OpSpec::Waterline(p)) => waterline(&m.mesh, tool, p, tol, cancel),
            (Model::Mesh(m), OpSpec::SteepShallow(p)) => {
                steep_shallow(&m.mesh, tool, p, tol, cancel)
            }
            (Model::Drawing(d), OpSpec::Drill(p)) => drill_from(
                &crate::holes::find_holes(d, tol),
                tool,
                p,
                from,
                tol,
                cancel,
            ),
            (Model::Drawing(d), OpSpec::HelicalBore(p)) => helical_bore_from(
                &crate::holes::find_holes(d, tol),
                tool,
                p,
                from,
                tol,
                cancel,
            ),
            (Model::Drawing(d), OpSpec::Isolate(p)) => {
                super::isolate::isolate(&target_regions(d, target), tool, p, tol, cancel)
            }
            // Engraving follows every line of the chosen layers: a mark is no region.
            (Model::Drawing(d), OpSpec::Engrave(p)) => {
                engrave(&d.open_chains, &d.closed_loops, tool, p, tol, cancel)
            }
            (Model::Drawing(d), OpSpec::VCarve(p)) => {
                vcarve(&target_regions(d, target), tool, p, tol, cancel)
            }
            (Model::Mesh(_), _) => Err(wrong_part(
                "drawing (DXF)",
                "zlevel-rough, zlevel-contour, parallel, waterline or steep-shallow on a mesh",
            )),
            (Model::Drawing(_), _) => Err(wrong_part(
                "mesh (STL)",
                "pocket, adaptive, contour, drill, helical-bore, isolate, engrave or vcarve on a drawing",
            )),
        }
    }
}
