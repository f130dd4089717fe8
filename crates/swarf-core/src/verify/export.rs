//! The check before a program is written, shared by the app and the CLI: the program is read
//! back from its text, each operation's moves are checked against the part with that
//! operation's tool (gouges), and against the stock (rapids through it).

use serde::Serialize;

use super::{PartRef, check_gouges, check_rapids, read_back_tolerance, read_gcode};
use crate::array::Placement;
use crate::geometry::{Bbox2, Pline, V2, pline_bbox};
use crate::import::Model;
use crate::job::JobOutput;
use crate::post::Program;
use crate::toolpath::{P3, Toolpath};

/// What a problem found before export is.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ExportIssue {
    /// The tool cuts into the part this deep, mm.
    Gouge { depth_mm: f64 },
    /// A rapid move passes through stock that is still there.
    RapidThroughStock,
}

/// One problem: the operation, the G-code line and what is wrong there.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExportProblem {
    /// The operation's name (empty for moves outside every operation).
    pub op: String,
    /// G-code line, 1-based.
    pub line: u32,
    /// Where the tool is at the end of that move, mm.
    pub at: [f64; 3],
    #[serde(flatten)]
    pub issue: ExportIssue,
}

/// The verdict of [`export_check`].
#[derive(Debug, Clone, Default, Serialize)]
pub struct ExportReport {
    /// Gouges and rapids through stock: writing the program needs the user's consent.
    pub problems: Vec<ExportProblem>,
    /// What was not checked, and why.
    pub notes: Vec<String>,
}

impl ExportReport {
    pub fn passed(&self) -> bool {
        self.problems.is_empty()
    }

    /// One sentence per operation with problems, naming the first few lines.
    pub fn messages(&self) -> Vec<String> {
        let mut ops: Vec<&str> = Vec::new();
        for p in &self.problems {
            if !ops.contains(&p.op.as_str()) {
                ops.push(&p.op);
            }
        }
        ops.into_iter()
            .map(|op| {
                let of_op = || self.problems.iter().filter(move |p| p.op == op);
                let gouges: Vec<String> = of_op()
                    .filter_map(|p| match p.issue {
                        ExportIssue::Gouge { depth_mm } => {
                            Some(format!("line {} ({depth_mm:.4} mm)", p.line))
                        }
                        ExportIssue::RapidThroughStock => None,
                    })
                    .collect();
                let rapids: Vec<String> = of_op()
                    .filter(|p| p.issue == ExportIssue::RapidThroughStock)
                    .map(|p| p.line.to_string())
                    .collect();
                let mut parts = Vec::new();
                if !gouges.is_empty() {
                    parts.push(format!(
                        "cuts into the part at {} place(s): {}",
                        gouges.len(),
                        gouges[..gouges.len().min(5)].join(", ")
                    ));
                }
                if !rapids.is_empty() {
                    parts.push(format!(
                        "has {} rapid move(s) through stock (lines {})",
                        rapids.len(),
                        rapids[..rapids.len().min(5)].join(", ")
                    ));
                }
                let who = if op.is_empty() {
                    "the program".to_string()
                } else {
                    format!("operation '{op}'")
                };
                format!("{who} {}", parts.join(" and "))
            })
            .collect()
    }
}

/// Why a program cannot be checked at all.
#[derive(Debug, thiserror::Error)]
#[error("the written program does not read back: {0}")]
pub struct ExportCheckError(super::GcodeError);

impl From<super::GcodeError> for ExportCheckError {
    fn from(e: super::GcodeError) -> Self {
        Self(e)
    }
}

/// Reads `program` back and checks each operation of `out` in it: gouges against the part
/// with the operation's own tool (within the path tolerance plus the written rounding; a
/// contour on the line is not checked against the line it cuts), and rapids through the stock
/// (the part's box grown by the tool, from below the deepest cut to Z = 0).
pub fn export_check(out: &JobOutput, program: &Program) -> Result<ExportReport, ExportCheckError> {
    let back = read_gcode(&program.text, P3::default(), &out.tolerance)?;
    let mut report = ExportReport::default();
    // Each operation is checked against the file it worked on (a board's drilling against
    // the drill file, its cut-out against the outline); the rapids against all of them.
    let part_of = |m: &'_ Model| -> Vec<Pline> {
        match m {
            Model::Drawing(d) => d.closed_loops.clone(),
            Model::Mesh(_) => Vec::new(),
        }
    };
    let loops: Vec<Vec<Pline>> = out.models().map(part_of).collect();
    let part_ref = |k: usize| -> PartRef<'_> {
        let m = out.models().nth(k).unwrap_or(&out.model);
        match m {
            Model::Drawing(_) => PartRef::Drawing(&loops[k]),
            Model::Mesh(m) => PartRef::Mesh(&m.mesh),
        }
    };
    let mut part_box_all = Bbox2::EMPTY;
    for k in 0..loops.len() {
        part_box_all.union(&part_box(part_ref(k)));
    }
    let part_box = part_box_all;
    let tp = &back.toolpath;
    // Each section's moves are contiguous in the program; the moves between sections (tool
    // changes, retracts) belong to none.
    // A section is one operation on one copy: consecutive copies of an operation are apart.
    // The copy a move cuts: its line's, or inside a subroutine its call's.
    let copy_of = |i: usize| {
        let call = back.call_of_move.get(i).copied().unwrap_or(0);
        let l = if call > 0 {
            call
        } else {
            back.line_of_move.get(i).copied().unwrap_or(0)
        };
        (l > 0)
            .then(|| program.line_copy.get(l as usize - 1).copied())
            .flatten()
            .unwrap_or(0)
    };
    let section_of = |i: usize| {
        back.line_of_move.get(i).and_then(|&l| {
            let copy = copy_of(i);
            program
                .line_source
                .get(l as usize - 1)
                .copied()
                .flatten()
                .map(|(s, _)| (s as usize, copy))
        })
    };
    let mut i = 0;
    while i < tp.moves.len() {
        let Some(s) = section_of(i) else {
            i += 1;
            continue;
        };
        let mut j = i + 1;
        while j < tp.moves.len() && section_of(j).is_none_or(|k| k == s) {
            j += 1;
        }
        let Some((op_name, tool, _)) = out.operations.get(s.0) else {
            i = j;
            continue;
        };
        let sub = Toolpath {
            start: if i == 0 { tp.start } else { tp.moves[i - 1].to },
            moves: tp.moves[i..j].to_vec(),
            ..Toolpath::default()
        };
        let lines = &back.line_of_move[i..j];
        // A copy of an array is checked against the part at its own place: its moves are
        // taken back to copy 1's (where they are written moved), and its problems named.
        let copy = Some(copy_of(i))
            .filter(|&k| k > 0)
            .and_then(|k| out.copies.iter().find(|c| c.number == k).copied());
        let (sub, place) = match copy {
            Some(c) if !program.copies_in_offsets && c != Placement::ORIGINAL => {
                (c.toolpath_back(&sub), Some(c))
            }
            _ => (sub, None),
        };
        let name = match copy {
            Some(c) => format!("{op_name} [copy {}]", c.number),
            None => op_name.clone(),
        };
        let part = part_ref(out.op_part.get(s.0).copied().unwrap_or(0));
        let tol = read_back_tolerance(&sub, &out.tolerance);
        let problem = |line: u32, at: [f64; 3], issue| {
            let at = match place {
                Some(c) => {
                    let q = c.apply(V2::new(at[0], at[1]));
                    [q.x, q.y, at[2]]
                }
                None => at,
            };
            ExportProblem {
                op: name.clone(),
                line,
                at,
                issue,
            }
        };
        // The gouge and the rapid checks are independent: one on each core.
        let gouge_checked = out.gouge_checked.get(s.0).copied().unwrap_or(true);
        // A levelled program cuts at its depth below the warped surface: the checks measure in
        // the surface's frame (its height taken off again), where the stock's top is Z = 0.
        let flat = out
            .height_map
            .as_ref()
            .map(|m| crate::level::unlevel(&sub, m));
        let sub = flat.as_ref().unwrap_or(&sub);
        let (gouges, rapids) = rayon::join(
            || gouge_checked.then(|| check_gouges(sub, Some(lines), part, tool, &tol)),
            || {
                if part_box.is_empty() {
                    return Vec::new();
                }
                let grow = V2::new(tool.diameter_mm, tool.diameter_mm);
                let deepest = sub.moves.iter().map(|m| m.to.z).fold(0.0f64, f64::min);
                check_rapids(
                    sub,
                    part_box.min - grow,
                    part_box.max + grow,
                    deepest - 1.0,
                    tool,
                    &tol,
                )
            },
        );
        match gouges {
            Some(gouges) => {
                for g in gouges {
                    report.problems.push(problem(
                        g.line,
                        g.at,
                        ExportIssue::Gouge {
                            depth_mm: g.depth_mm,
                        },
                    ));
                }
            }
            None => {
                if !report.notes.iter().any(|n| n.contains(op_name.as_str())) {
                    report.notes.push(format!(
                        "operation '{op_name}' cuts the drawing's lines themselves (a contour on the line, an engraving, holes drilled to their size); the gouge check against the drawing does not apply"
                    ));
                }
            }
        }
        for k in rapids {
            let to = sub.moves[k].to;
            report.problems.push(problem(
                lines[k],
                [to.x, to.y, to.z],
                ExportIssue::RapidThroughStock,
            ));
        }
        i = j;
    }
    Ok(report)
}

fn part_box(part: PartRef<'_>) -> Bbox2 {
    let mut b = Bbox2::EMPTY;
    match part {
        PartRef::Drawing(loops) => loops.iter().for_each(|l| b.union(&pline_bbox(l))),
        PartRef::Mesh(m) => {
            if let Some((l, h)) = m.bounds() {
                b.add_point(V2::new(l[0], l[1]));
                b.add_point(V2::new(h[0], h[1]));
            }
        }
    }
    b
}
