//! `swarf-cli generate`: import, generate an operation (or a job file's operations), write
//! G-code, print a summary.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use serde_json::json;
use std::path::Path;

use swarf_core::geometry::Tolerance;
use swarf_core::job::{Job, Model, Operation, Part, Parts};
use swarf_core::ops::adaptive::AdaptiveParams;
use swarf_core::ops::bore::BoreParams;
use swarf_core::ops::contour::{ContourParams, Side};
use swarf_core::ops::drill::{DepthTo, DrillCycle, DrillParams};
use swarf_core::ops::isolate::IsolateParams;
use swarf_core::ops::pocket::{Pattern, PocketParams};
use swarf_core::ops::zlevel::ZLevelParams;
use swarf_core::ops::{CutParams, Direction, EntryKind, Heights, OpSpec, Stepover, Target};
use swarf_core::post::{Dialect, PostOptions};
use swarf_core::tool::{Tool, ToolShape};
use swarf_core::toolpath::Toolpath;

#[derive(Clone, Copy, ValueEnum)]
pub enum OpKind {
    Pocket,
    Contour,
    /// Adaptive clearing: the radial engagement stays at or below --max-engagement-deg.
    Adaptive,
    /// Z-level roughing of a mesh.
    ZlevelRough,
    /// Z-level (waterline) contours of a mesh's walls.
    ZlevelContour,
    /// Drill the drawing's holes (circles, or a drill file's holes) straight to depth (G81,
    /// G82 with --dwell).
    Drill,
    /// Spot-drill the holes (G81/G82) to --depth.
    Spot,
    /// Peck-drill the holes with a full retract (G83).
    Peck,
    /// Peck-drill the holes with a small retract to break the chip (G73).
    ChipBreak,
    /// Bore holes larger than the end mill with a helix (and --finish-pass, --spring-pass).
    HelicalBore,
    /// Isolation routing around a PCB's copper (a Gerber layer): --passes around it, each
    /// --overlap into the last, at the width the tool cuts at --depth.
    Isolate,
    /// Engrave the drawing's lines (open chains and closed loops) at --depth, with the tool's
    /// centre --engrave-side on, left or right of them (--engrave-offset from them), entering
    /// by ramp (default) or --entry plunge.
    Engrave,
    /// V-carve the drawing's closed regions with a V tool (--tool v, --v-angle,
    /// --tip-diameter): along the medial axis, the depth following the width, capped at
    /// --depth; --cleanup-tool-diameter adds the pocket that clears the floor left at the cap.
    Vcarve,
    /// Cut --text (a serial number with {n:04} and --counter) in --font at --text-at,
    /// --text-height high: engraved at --depth, or V-carved (--text-cut vcarve, an outline
    /// font).
    Text,
    /// 3D finishing of a mesh: parallel passes at --angle on the exact cutter-location
    /// surface, --scallop-height apart (or --stepover), zigzag (or --one-way), with passes
    /// added on slopes (unless --no-slope-compensation); --allowance and --floor-allowance
    /// leave stock.
    Parallel,
    /// 3D finishing of a mesh: closed contours at constant heights where the tool exactly
    /// touches the part (the push-cutter), levels --stepdown apart or stepped for
    /// --scallop-height on a vertical wall (ball or bull-nose), climb (or --conventional),
    /// ramping along each loop from the level above at --ramp-angle.
    Waterline,
    /// 3D finishing of a mesh split at --threshold-angle: waterlines on the steeper part
    /// (stepped for --scallop-height at that slope, or --stepdown), parallel passes on the
    /// rest (--scallop-height or --stepover, --angle, --one-way), both cutting a band
    /// --steep-overlap wide across the boundary.
    SteepShallow,
}

impl OpKind {
    fn drilling(self) -> bool {
        matches!(
            self,
            OpKind::Drill | OpKind::Spot | OpKind::Peck | OpKind::ChipBreak
        )
    }
}

#[derive(Clone, Copy, ValueEnum)]
pub enum ShapeArg {
    Flat,
    Ball,
    Bull,
    V,
    /// A twist drill (point angle from --v-angle, 118° unless given).
    Drill,
}

impl ShapeArg {
    /// The tool shape, with the corner radius a bull-nose needs and a V tool's angle.
    pub fn shape(
        self,
        corner_radius: Option<f64>,
        v_angle_deg: f64,
        tip_diameter_mm: f64,
    ) -> Result<ToolShape> {
        Ok(match self {
            ShapeArg::Flat => ToolShape::Flat,
            ShapeArg::Ball => ToolShape::Ball,
            ShapeArg::Bull => ToolShape::Bull {
                corner_radius_mm: corner_radius.context("--tool bull needs --corner-radius MM")?,
            },
            ShapeArg::V => ToolShape::V {
                angle_deg: v_angle_deg,
                tip_diameter_mm,
            },
            ShapeArg::Drill => ToolShape::Drill {
                point_angle_deg: v_angle_deg,
            },
        })
    }
}

/// The operation's target, by name.
#[derive(Clone, Copy, ValueEnum)]
pub enum TargetArg {
    Regions,
    Holes,
    Outlines,
    Loops,
    Between,
}

impl From<TargetArg> for Target {
    fn from(t: TargetArg) -> Self {
        match t {
            TargetArg::Regions => Target::Regions,
            TargetArg::Holes => Target::Holes,
            TargetArg::Outlines => Target::Outlines,
            TargetArg::Loops => Target::Loops,
            TargetArg::Between => Target::Between,
        }
    }
}

// Command-line flags are naturally booleans.
#[allow(clippy::struct_excessive_bools)]
#[derive(Args)]
pub struct GenerateArgs {
    /// A DXF file; without one, the embedded example part.
    pub file: Option<PathBuf>,
    /// The operation.
    #[arg(long, value_enum, default_value = "pocket")]
    pub op: OpKind,
    /// Contour side: outside, inside or on the line.
    #[arg(long, default_value = "outside")]
    pub side: Side,
    /// Engraving: the tool's centre on the line, or left or right of its direction (left of
    /// a loop is inside).
    #[arg(long, default_value = "on")]
    pub engrave_side: swarf_core::ops::engrave::EngraveSide,
    /// Engraving beside the line: the centre's distance from it, mm (default: the cut's half
    /// width at the depth, so its edge runs on the line).
    #[arg(long, value_name = "MM")]
    pub engrave_offset: Option<f64>,
    /// Engraving or text: cut at --depth below the surface of this mesh (STL) instead of
    /// below a flat top, so a mark follows a curved face. The mesh is read with the part's
    /// units and origin (default: its file XY, its top at Z 0): draw the mark in its
    /// coordinates. It may be the part itself (a text on a mesh).
    #[arg(long, value_name = "STL")]
    pub onto: Option<PathBuf>,
    /// Text: the string; `{n}` or `{n:04}` is the counter, `\n` starts a line.
    #[arg(long, default_value = "SN {n:04}")]
    pub text: String,
    /// Text: "stroke" (built-in single stroke), "outline" (built-in outline) or a .ttf/.otf file.
    #[arg(long, default_value = "stroke")]
    pub font: String,
    /// Text: the capital height, mm.
    #[arg(
        long,
        value_name = "MM",
        allow_negative_numbers = true,
        default_value_t = 1.0
    )]
    pub text_height: f64,
    /// Text: the insertion point, mm.
    #[arg(long, value_name = "X,Y", allow_negative_numbers = true, value_parser = parse_xy, default_value = "0,0")]
    pub text_at: (f64, f64),
    /// Text: the baseline's angle, degrees.
    #[arg(long, allow_negative_numbers = true, default_value_t = 0.0)]
    pub text_angle: f64,
    /// Text: left, center or right of the insertion point.
    #[arg(long, default_value = "left")]
    pub text_align: String,
    /// Text: along an arc of this radius around the insertion point, mm (negative: under it).
    #[arg(long, value_name = "MM", allow_negative_numbers = true)]
    pub text_arc_radius: Option<f64>,
    /// Text: engrave or vcarve.
    #[arg(long, default_value = "engrave")]
    pub text_cut: swarf_core::ops::text::TextCut,
    /// Text: the counter's value ({n}); with --array, the first copy's (each copy cut
    /// carries the next number, unless --one-serial).
    #[arg(long, default_value_t = 1)]
    pub counter: u64,
    /// Text on an array: every copy carries the same number (default: each its own).
    #[arg(long)]
    pub one_serial: bool,
    /// V-carving: a flat end mill of this diameter (tool 2) clears the floor the V leaves
    /// where the shape is wider than its cut at --depth, mm.
    #[arg(long, value_name = "MM", allow_negative_numbers = true)]
    pub cleanup_tool_diameter: Option<f64>,
    /// Pocket: its boundary this far inside the walls, mm (the tool clears the region shrunk by
    /// it; FreeCAD's extra offset, inward).
    #[arg(
        long,
        value_name = "MM",
        allow_negative_numbers = true,
        default_value_t = 0.0
    )]
    pub inset: f64,
    /// Pocket pattern.
    #[arg(long, default_value = "offset")]
    pub pattern: Pattern,
    /// Zigzag angle, degrees.
    #[arg(long, allow_negative_numbers = true, default_value_t = 0.0)]
    pub zigzag_angle: f64,
    /// Tool diameter, mm (required without --job).
    #[arg(long, allow_negative_numbers = true)]
    pub tool_diameter: Option<f64>,
    /// Tool shape [default: flat; drill for the drilling operations].
    #[arg(long, value_enum)]
    pub tool: Option<ShapeArg>,
    /// Corner radius of a bull-nose tool, mm.
    #[arg(long, allow_negative_numbers = true)]
    pub corner_radius: Option<f64>,
    /// Included angle of a V tool, or a drill's point angle, degrees [default: 30 for V, 118
    /// for a drill].
    #[arg(long, allow_negative_numbers = true)]
    pub v_angle: Option<f64>,
    /// Drilling: only holes of this diameter or more, mm.
    #[arg(long, allow_negative_numbers = true)]
    pub diameter_min: Option<f64>,
    /// Drilling: only holes of this diameter or less, mm.
    #[arg(long, allow_negative_numbers = true)]
    pub diameter_max: Option<f64>,
    /// Peck and chip-break: the first peck, mm [default: the tool diameter].
    #[arg(long, allow_negative_numbers = true)]
    pub peck: Option<f64>,
    /// Peck and chip-break: each peck this much shorter than the one before, mm.
    #[arg(long, allow_negative_numbers = true)]
    pub peck_reduction: Option<f64>,
    /// Peck and chip-break: the shortest peck, mm [default: a quarter of the first].
    #[arg(long, allow_negative_numbers = true)]
    pub min_peck: Option<f64>,
    /// Drilling: the retract plane R, mm above the stock [default: 0.2].
    #[arg(long, allow_negative_numbers = true)]
    pub retract: Option<f64>,
    /// Drilling: back to the clearance height between holes (G98) instead of R (G99).
    #[arg(long)]
    pub retract_to_clearance: bool,
    /// Drilling: dwell at the bottom of each hole, seconds (G82).
    #[arg(long, allow_negative_numbers = true)]
    pub dwell: Option<f64>,
    /// Drilling: --depth is where the drill's full diameter reaches (the point goes deeper).
    #[arg(long)]
    pub depth_to_full_diameter: bool,
    /// Drilling: extra depth for holes through the stock, mm.
    #[arg(long, allow_negative_numbers = true)]
    pub breakthrough: Option<f64>,
    /// Write drilling cycles as G0/G1 moves even where the controller has canned cycles.
    #[arg(long)]
    pub expand_cycles: bool,
    /// Helical bore: depth per turn of the helix, mm [default: from --ramp-angle].
    #[arg(long, allow_negative_numbers = true)]
    pub helix_pitch: Option<f64>,
    /// Helical bore: a finishing circle at the hole's size (the helix leaves --allowance).
    #[arg(long)]
    pub finish_pass: bool,
    /// Flutes.
    #[arg(long, default_value_t = 2)]
    pub flutes: u32,
    /// Flute length, mm (default 3 × the diameter, typical of micro end mills); a cut deeper
    /// than the flutes is refused.
    #[arg(long, allow_negative_numbers = true)]
    pub flute_length: Option<f64>,
    /// Step-over: fraction of the diameter (0.1), percentage (10%) or mm (0.02mm); default
    /// 0.4 (parallel finishing: from --scallop-height unless given).
    #[arg(long)]
    pub stepover: Option<Stepover>,
    /// Parallel finishing: the scallop height to leave between passes, mm (0.0005 is 0.5 µm;
    /// default 0.001); waterline: between levels on a vertical wall (unless --stepdown).
    #[arg(long, allow_negative_numbers = true, value_name = "MM")]
    pub scallop_height: Option<f64>,
    /// Parallel finishing: the passes' direction, degrees from X (default --zigzag-angle).
    #[arg(long, allow_negative_numbers = true)]
    pub angle: Option<f64>,
    /// Steep and shallow: slopes steeper than this, degrees, get waterlines, the rest
    /// parallel passes [default: 45].
    #[arg(long, value_name = "DEG", allow_negative_numbers = true)]
    pub threshold_angle: Option<f64>,
    /// Steep and shallow: the band across the boundary that both strategies cut, mm (default
    /// the tool's radius).
    #[arg(long, value_name = "MM", allow_negative_numbers = true)]
    pub steep_overlap: Option<f64>,
    /// Parallel finishing: every pass in the same direction, with a retract between.
    #[arg(long)]
    pub one_way: bool,
    /// Parallel finishing: no passes added on slopes across the passes.
    #[arg(long)]
    pub no_slope_compensation: bool,
    /// Parallel finishing: where the tool's centre may go: `stock` (the part's box plus
    /// --stock-margin, default) or `silhouette` (the part's outline seen from above, grown by
    /// --boundary-offset).
    #[arg(long, default_value = "stock", value_parser = ["stock", "silhouette"])]
    pub boundary: String,
    /// Parallel finishing: how far the silhouette boundary is grown, mm (default the tool's
    /// radius, so the part is finished to its edges).
    #[arg(long, allow_negative_numbers = true, value_name = "MM")]
    pub boundary_offset: Option<f64>,
    /// Final depth, mm (positive; the cut goes to Z = -depth; required without --job).
    #[arg(long, allow_negative_numbers = true)]
    pub depth: Option<f64>,
    /// Start depth, mm.
    #[arg(long, allow_negative_numbers = true, default_value_t = 0.0)]
    pub start_depth: f64,
    /// Depth per level, mm (default: the whole depth in one level).
    #[arg(long, allow_negative_numbers = true)]
    pub stepdown: Option<f64>,
    /// Radial (wall) finishing allowance, mm.
    #[arg(long, allow_negative_numbers = true, default_value_t = 0.0)]
    pub allowance: f64,
    /// Axial (floor) finishing allowance, mm.
    #[arg(long, allow_negative_numbers = true, default_value_t = 0.0)]
    pub floor_allowance: f64,
    /// Cutting feed, mm/min (default: rpm × flutes × chip load of the tool preset).
    #[arg(long, allow_negative_numbers = true)]
    pub feed: Option<f64>,
    /// Adaptive's stay-down links through cleared material run at this multiple of the
    /// cutting feed (1 to 10; default 2).
    #[arg(long, allow_negative_numbers = true)]
    pub link_feed_factor: Option<f64>,
    /// Spindle speed, rpm.
    #[arg(long, allow_negative_numbers = true)]
    pub rpm: Option<f64>,
    /// Safe height, mm above the stock.
    #[arg(long, allow_negative_numbers = true, default_value_t = 0.5)]
    pub safe_height: f64,
    /// Clearance height, mm above the stock.
    #[arg(long, allow_negative_numbers = true, default_value_t = 5.0)]
    pub clearance_height: f64,
    /// Entry into stock (default: helix; engraving: ramp along the line).
    #[arg(long)]
    pub entry: Option<EntryKind>,
    /// Ramp and helix angle, degrees.
    #[arg(long, allow_negative_numbers = true, default_value_t = 2.0)]
    pub ramp_angle: f64,
    /// Radial roughing passes of a contour (before the finishing pass; default 1), or
    /// isolation passes around the copper (default 2).
    #[arg(long)]
    pub passes: Option<u32>,
    /// What the operation works on, instead of the default (contour: by --side; others: the
    /// regions): regions, holes, outlines, loops, or between (the area between the regions:
    /// clear a board's copper that is no track or pad).
    #[arg(long, value_enum)]
    pub target: Option<TargetArg>,
    /// Overlap of isolation passes, percent of the cut width ("20%" or "20").
    #[arg(long)]
    pub overlap: Option<String>,
    /// Level every toolpath by this probed height map (JSON from `swarf-cli probe`): the cut
    /// follows the warped surface at its depth.
    #[arg(long)]
    pub height_map: Option<PathBuf>,
    /// Tip (flat) diameter of a V tool, mm.
    #[arg(long, allow_negative_numbers = true, default_value_t = 0.0)]
    pub tip_diameter: f64,
    /// Repeat the last contour pass (spring pass).
    #[arg(long)]
    pub spring_pass: bool,
    /// Lead-in/out arc radius of a contour, mm (0: none).
    #[arg(long, allow_negative_numbers = true)]
    pub lead_radius: Option<f64>,
    /// Holding tabs per outside contour.
    #[arg(long, default_value_t = 0)]
    pub tabs: u32,
    /// Tab width, mm.
    #[arg(long, allow_negative_numbers = true, default_value_t = 0.5)]
    pub tab_width: f64,
    /// Tab height above the final depth, mm.
    #[arg(long, allow_negative_numbers = true, default_value_t = 0.1)]
    pub tab_height: f64,
    /// G-code dialect: grbl, linuxcnc or fanuc (default linuxcnc, or the job's).
    #[arg(long)]
    pub dialect: Option<Dialect>,
    /// Decimals of coordinates, 3 to 6 (default 4, or the job's).
    #[arg(long)]
    pub decimals: Option<u32>,
    /// Climb milling (the default).
    #[arg(long, conflicts_with = "conventional")]
    pub climb: bool,
    /// Conventional milling.
    #[arg(long)]
    pub conventional: bool,
    /// Read the drawing in this unit.
    #[arg(long)]
    pub units: Option<swarf_core::import::Units>,
    /// Only these layers.
    #[arg(long, value_delimiter = ',')]
    pub layers: Option<Vec<String>>,
    /// Work origin of a mesh: top, corner or centre.
    #[arg(long, default_value = "top")]
    pub origin: swarf_core::import::Origin,
    /// Turn a mesh before its origin is placed: `x-90`, `z90`, `x90 z180`, `flip`.
    #[arg(long, default_value = "none")]
    pub orient: swarf_core::geometry::mesh::Orientation,
    /// Scale the part by this factor about the work origin (keeping proportions).
    #[arg(long, allow_negative_numbers = true)]
    pub scale: Option<f64>,
    /// Scale X, Y and Z by these factors (shrink compensation: nominal / measured), e.g.
    /// 1.012,1.012,1.0; a drawing takes Z as 1 (its depths are the operations').
    #[arg(long, value_delimiter = ',', allow_negative_numbers = true)]
    pub scale_xyz: Option<Vec<f64>>,
    /// Scale (keeping proportions) so the part is this wide along X, mm.
    #[arg(long, allow_negative_numbers = true)]
    pub fit_width: Option<f64>,
    /// Scale (keeping proportions) so the part is this deep along Y, mm.
    #[arg(long, allow_negative_numbers = true)]
    pub fit_height: Option<f64>,
    /// Mirror the part: x (left and right swapped) or y (front and back).
    #[arg(long)]
    pub mirror: Option<swarf_core::resize::Mirror>,
    /// Turn the part counter-clockwise about Z by this many degrees.
    #[arg(long, allow_negative_numbers = true)]
    pub rotate: Option<f64>,
    /// The stock: margins:MM[,TOP,BOTTOM] (a box around the part and every copy, the
    /// default with 1.5 tool diameters), box:X0,Y0,Z0,X1,Y1,Z1 or
    /// cylinder:CX,CY,DIAMETER,BOTTOM[,TOP] (mm, work coordinates).
    #[arg(long, allow_hyphen_values = true)]
    pub stock: Option<swarf_core::setup::Stock>,
    /// Copies in a rectangular array: columns x rows, e.g. 4x6.
    #[arg(long, value_name = "NxM")]
    pub array: Option<String>,
    /// The array's pitch (copy to copy), X,Y mm.
    #[arg(long, value_delimiter = ',', allow_negative_numbers = true)]
    pub pitch: Option<Vec<f64>>,
    /// The space between the array's parts instead of a pitch, X,Y mm (one number: both).
    #[arg(long, value_delimiter = ',', allow_negative_numbers = true)]
    pub gap: Option<Vec<f64>>,
    /// Every other row of the array moved along X by this much, mm.
    #[arg(long, allow_negative_numbers = true)]
    pub row_offset: Option<f64>,
    /// Copies in a polar array: this many around a centre.
    #[arg(long, value_name = "N")]
    pub polar: Option<u32>,
    /// Polar array: the part's origin lies this far from the centre, mm.
    #[arg(long, allow_negative_numbers = true)]
    pub polar_radius: Option<f64>,
    /// Polar array: the direction from the centre to the part, degrees.
    #[arg(long, allow_negative_numbers = true)]
    pub polar_start: Option<f64>,
    /// Polar array: degrees from one copy to the next (default 360 / N).
    #[arg(long, allow_negative_numbers = true)]
    pub polar_step: Option<f64>,
    /// Copies not to cut, by number (from 1, row by row from the lower left), e.g. 3,7.
    #[arg(long, value_delimiter = ',')]
    pub skip_copy: Option<Vec<u32>>,
    /// The array's order: by-operation (fewest tool changes) or by-copy.
    #[arg(long)]
    pub order: Option<swarf_core::array::Order>,
    /// How the copies are written: expanded (any controller), offsets (one work offset per
    /// copy, G54, G55, …, listed in the header to set up) or subroutines (LinuxCNC: each
    /// operation once, called per copy).
    #[arg(long)]
    pub copies_as: Option<swarf_core::array::CopiesAs>,
    /// Write the program from this copy on (a restart: the copies and operations cut before
    /// it are left out).
    #[arg(long, value_name = "K")]
    pub start_copy: Option<u32>,
    /// With --start-copy: from this operation (1 = the first enabled) of that copy.
    #[arg(long, value_name = "J", requires = "start_copy")]
    pub start_op: Option<usize>,
    /// Stock beyond a mesh's bounding box, mm (default: the tool diameter).
    #[arg(long, allow_negative_numbers = true)]
    pub stock_margin: Option<f64>,
    /// Adaptive clearing: the largest radial engagement angle, degrees [default: 60]; with
    /// --op zlevel-rough it clears each layer adaptively.
    #[arg(long, allow_negative_numbers = true)]
    pub max_engagement_deg: Option<f64>,
    /// Adaptive clearing: the limit as a radial width instead, a fraction of the diameter
    /// (0.1), a percentage (10%) or millimetres (0.02mm); replaces --max-engagement-deg.
    #[arg(long)]
    pub optimal_load: Option<Stepover>,
    /// Rest machining (pocket, adaptive): the diameter of the larger tool that cleared the part
    /// before; only the material it could not reach is cut.
    #[arg(long, allow_negative_numbers = true)]
    pub rest_from_diameter: Option<f64>,
    /// A job file (TOML) with tools and operations; FILE, if given, replaces its part.
    #[arg(long)]
    pub job: Option<PathBuf>,
    /// Output G-code file.
    #[arg(short, long)]
    pub output: PathBuf,
    /// The largest deviation of the path from the exact one, mm (default 0.0001, 0.1 µm);
    /// the other tolerances scale with it. For a part and tool scaled by a factor, scale this
    /// by the same factor.
    #[arg(long, allow_negative_numbers = true)]
    pub path_tolerance: Option<f64>,
    /// Write the program even when the check before export finds gouges.
    #[arg(long)]
    pub force: bool,
    /// Print a JSON summary.
    #[arg(long)]
    pub json: bool,
}

fn make_tool(a: &GenerateArgs, diameter: f64) -> Result<Tool> {
    let mut t = Tool::micro_flat(diameter);
    t.name = format!(
        "{} mm {}",
        diameter,
        match shape_arg(a) {
            ShapeArg::Flat => "flat end mill",
            ShapeArg::Ball => "ball end mill",
            ShapeArg::Bull => "bull-nose end mill",
            ShapeArg::V => "V cutter",
            ShapeArg::Drill => "drill",
        }
    );
    t.flutes = a.flutes;
    if matches!(shape_arg(a), ShapeArg::Drill) {
        // Micro drills have long flutes (5–10 × D); a drill's chip load is per lip.
        t.flute_length_mm = diameter * 6.0;
        t.stickout_mm = t.stickout_mm.max(t.flute_length_mm + 2.0);
    }
    if let Some(fl) = a.flute_length {
        t.flute_length_mm = fl;
        t.stickout_mm = t.stickout_mm.max(fl + 2.0);
    }
    let angle = a.v_angle.unwrap_or(match shape_arg(a) {
        ShapeArg::Drill => 118.0,
        _ => 30.0,
    });
    t.shape = shape_arg(a).shape(a.corner_radius, angle, a.tip_diameter)?;
    if let Some(rpm) = a.rpm {
        t.feeds.rpm = rpm;
        t.max_rpm = t.max_rpm.max(rpm);
    }
    if let Some(f) = a.feed {
        if !(f.is_finite() && f > 0.0) {
            bail!("--feed is {f}; it must be a positive number of mm/min");
        }
        t.feeds.feed_per_tooth_mm = f / (t.feeds.rpm * f64::from(t.flutes.max(1)));
    }
    if let Some(k) = a.link_feed_factor {
        t.feeds.link_feed_factor = k;
    }
    t.validate()?;
    Ok(t)
}

/// The tool shape: the one given, else a drill for drilling and a flat end mill otherwise.
fn shape_arg(a: &GenerateArgs) -> ShapeArg {
    a.tool.unwrap_or(if a.op.drilling() {
        ShapeArg::Drill
    } else if matches!(a.op, OpKind::Vcarve)
        || (matches!(a.op, OpKind::Text) && a.text_cut == swarf_core::ops::text::TextCut::Vcarve)
    {
        ShapeArg::V
    } else {
        ShapeArg::Flat
    })
}

/// A point written "X,Y" (mm).
fn parse_xy(s: &str) -> std::result::Result<(f64, f64), String> {
    let mut it = s.split(',').map(|v| v.trim().parse::<f64>());
    match (it.next(), it.next(), it.next()) {
        (Some(Ok(x)), Some(Ok(y)), None) if x.is_finite() && y.is_finite() => Ok((x, y)),
        _ => Err(format!(
            "'{s}' is not a point; write X,Y in mm, e.g. 2.5,-1"
        )),
    }
}

/// A percentage written "20%" or "20".
fn parse_percent(s: &str) -> Result<f64> {
    let t = s.trim().trim_end_matches('%').trim();
    let v: f64 = t
        .parse()
        .with_context(|| format!("'{s}' is not a percentage; write e.g. 20%"))?;
    if !(v.is_finite() && (0.0..100.0).contains(&v)) {
        bail!("{v} % is out of range; use 0 to less than 100");
    }
    Ok(v)
}

/// A problem found before export blocks it, unless forced (then it is a warning).
fn block_or_warn(a: &GenerateArgs, msg: &str) -> Result<String> {
    if a.force {
        Ok(format!("export check: {msg}; written anyway (--force)"))
    } else {
        bail!("{msg}; not written (use --force to write it anyway)")
    }
}

pub fn run(a: &GenerateArgs) -> Result<()> {
    let t0 = Instant::now();
    if a.rest_from_diameter.is_some()
        && (a.job.is_some() || !matches!(a.op, OpKind::Pocket | OpKind::Adaptive))
    {
        bail!(
            "--rest-from-diameter applies to --op pocket and --op adaptive; in a job file set \
             rest_from_diameter_mm in the [[operation]]"
        );
    }
    if a.optimal_load.is_some() && (a.job.is_some() || !matches!(a.op, OpKind::Adaptive)) {
        bail!(
            "--optimal-load applies to --op adaptive; in a job file set optimal_load in the [[operation]]"
        );
    }
    if let Some(t) = a.path_tolerance
        && !(t.is_finite() && t > 0.0)
    {
        bail!("--path-tolerance is {t}; it must be a positive number of mm (0.0001 is 0.1 µm)");
    }
    let (mut job, model) = match &a.job {
        Some(job_path) => job_from_file(a, job_path)?,
        None => job_from_flags(a)?,
    };
    if let Some(path) = &a.height_map {
        job.height_map = Some(swarf_core::level::HeightMap::load(path)?);
    }
    let out = job.run_model(model, &mut |_, _| true, &swarf_core::ops::Cancel::NEVER)?;
    let report = swarf_core::verify::export_check(&out, &out.program)?;
    let mut warnings = out.model.warnings().to_vec();
    for (file, m) in &out.with {
        warnings.extend(m.warnings().iter().map(|w| format!("{file}: {w}")));
    }
    for m in report.messages() {
        warnings.push(block_or_warn(a, &m)?);
    }
    warnings.extend(report.notes.iter().map(|n| format!("export check: {n}")));
    // A program that moves nothing is not a success: say why and write nothing.
    if out
        .operations
        .iter()
        .all(|(_, _, r)| r.toolpath.moves.is_empty())
    {
        let several = out.operations.len() > 1;
        let why: Vec<String> = out
            .operations
            .iter()
            .flat_map(|(name, _, r)| {
                r.warnings
                    .iter()
                    .filter(|w| !w.starts_with("produced no moves"))
                    .map(move |w| named(several, name, w))
            })
            .collect();
        bail!(
            "nothing to cut: no operation produced a move, so {} was not written{}",
            a.output.display(),
            if why.is_empty() {
                String::new()
            } else {
                format!(" ({})", why.join("; "))
            }
        );
    }
    write_atomic(&a.output, out.program.text.as_bytes())?;
    let mut all = Toolpath::default();
    let several = out.operations.len() > 1;
    // The whole program: every copy of every operation, in the order it is cut.
    let (seq, _) = job.sequence(&out.operations, &out.copies)?;
    for (i, (op, copy)) in seq.iter().enumerate() {
        let placed = copy.toolpath(&out.operations[*op].2.toolpath);
        if i == 0 {
            all.start = placed.start;
        }
        let base = all.moves.len();
        all.moves.extend_from_slice(&placed.moves);
        all.dwells
            .extend(placed.dwells.iter().map(|d| swarf_core::toolpath::Dwell {
                after: d.after + base,
                seconds: d.seconds,
            }));
    }
    for (name, _, r) in &out.operations {
        warnings.extend(r.warnings.iter().map(|w| named(several, name, w)));
    }
    // The tightest engagement limit among the adaptive operations, if any.
    let limit = job
        .operations
        .iter()
        .filter(|o| o.enabled)
        .filter_map(swarf_core::job::Operation::engagement_limit_deg)
        .reduce(f64::min);
    // Each operation's feed against what its area needs (clearing operations).
    let ops: Vec<OpFeed> = out
        .operations
        .iter()
        .map(|(name, _, r)| OpFeed {
            name: name.clone(),
            feed_mm: r.toolpath.stats(job.post.rapid_mm_per_min).feed_length_mm,
            estimate: r.estimate,
            notes: r.notes.clone(),
        })
        .collect();
    summary(
        a,
        &all,
        &out.program,
        &warnings,
        t0.elapsed().as_secs_f64(),
        &job.post,
        limit,
        &ops,
        out.copies.iter().filter(|c| c.enabled).count(),
    )
}

/// The job the command line describes: its part, one tool and one operation; the part is read
/// to check that the operation fits it (and for a mesh's default depth).
fn job_from_flags(a: &GenerateArgs) -> Result<(Job, Parts)> {
    // A V bit's diameter is its shank's (1/8", 3.175 mm, for nearly all of them); its cut's
    // width comes from the angle, the tip and the depth.
    let v_shank = matches!(shape_arg(a), ShapeArg::V).then_some(3.175);
    let Some(diameter) = a.tool_diameter.or(v_shank) else {
        bail!("give --tool-diameter MM (and --depth MM), or a job file with --job");
    };
    let (file, name) = match &a.file {
        Some(p) => (p.display().to_string(), p.display().to_string()),
        None => (
            format!("embedded:{}", swarf_core::EXAMPLE_DXF_NAME),
            format!("{} (embedded example)", swarf_core::EXAMPLE_DXF_NAME),
        ),
    };
    let tool = make_tool(a, diameter)?;
    let mut job = Job {
        version: swarf_core::job::JOB_VERSION,
        title: String::new(),
        part: Part {
            file,
            units: a.units,
            layers: a.layers.clone(),
            origin: Some(a.origin),
            close_gap_mm: None,
            orientation: a.orient,
            resize: swarf_core::resize::Resize::default(),
            with: Vec::new(),
        },
        tolerance: tolerance(a),
        post: PostOptions {
            dialect: a.dialect.unwrap_or_default(),
            decimals: a.decimals.unwrap_or(PostOptions::default().decimals),
            expand_cycles: a.expand_cycles,
            ..PostOptions::default()
        },
        simulation: swarf_core::sim::SimOptions::default(),
        tools: vec![tool.clone()],
        operations: Vec::new(),
        stock: None,
        array: None,
        start_at: None,
        height_map: None,
        probe: None,
    };
    size_and_array_from_flags(a, &mut job)?;
    if let Some(f) = onto_name(a) {
        if !matches!(a.op, OpKind::Engrave | OpKind::Text) {
            bail!("--onto is for --op engrave or --op text (a mark cut on a mesh's surface)");
        }
        if f != job.part.file {
            job.part.with.push(f);
        }
    }
    let (_, parts) = job
        .load_parts(Path::new(""))
        .with_context(|| format!("cannot import {name}"))?;
    let model = &parts.main;
    let spec = spec_from_flags(a, &name, model, &tool)?;
    job.title = format!("{} of {name}", spec.name());
    job.operations.push(Operation {
        name: spec.name().into(),
        tool: tool.number,
        enabled: true,
        coolant: None,
        part: None,
        target: match (a.target, a.op) {
            (Some(t), _) => t.into(),
            (None, OpKind::Contour) => match a.side {
                Side::Outside => Target::Outlines,
                Side::Inside => Target::Holes,
                Side::On => Target::Loops,
            },
            _ => Target::Regions,
        },
        spec,
    });
    if let Some(cd) = a.cleanup_tool_diameter {
        let Some((OpSpec::VCarve(v), target)) =
            job.operations.first().map(|o| (o.spec.clone(), o.target))
        else {
            bail!("--cleanup-tool-diameter is for --op vcarve (the floor a capped V-carve leaves)");
        };
        let Some(pocket) = swarf_core::ops::vcarve::floor_cleanup(&v, &tool) else {
            bail!("--cleanup-tool-diameter: the V-carve's tool is not a V tool (--tool v)");
        };
        let mut flat = Tool::micro_flat(cd);
        flat.name = format!("{cd} mm flat end mill");
        flat.number = tool.number + 1;
        let clean = Operation {
            name: "vcarve floor".into(),
            tool: flat.number,
            enabled: true,
            coolant: None,
            part: None,
            target,
            spec: OpSpec::Pocket(pocket),
        };
        job.tools.push(flat);
        job.operations.push(clean);
    }
    Ok((job, parts))
}

/// `--onto`'s file as the job names it.
fn onto_name(a: &GenerateArgs) -> Option<String> {
    a.onto.as_ref().map(|p| p.display().to_string())
}

/// A warning of one operation among several, with the operation's name in front (once: an
/// operation named after its type, whose warnings start with the type, is not named twice).
fn named(several: bool, name: &str, w: &str) -> String {
    if several && !w.starts_with(&format!("{name}: ")) {
        format!("{name}: {w}")
    } else {
        w.to_string()
    }
}

/// The operation the flags describe, checked against the kind of part.
fn spec_from_flags(a: &GenerateArgs, name: &str, model: &Model, tool: &Tool) -> Result<OpSpec> {
    let d = tool.diameter_mm;
    let mesh_depth = model
        .mesh()
        .and_then(swarf_core::geometry::mesh::Mesh::bounds)
        .map(|(lo, _)| -lo[2]);
    let Some(depth) = a.depth.or(mesh_depth) else {
        bail!("give --depth MM (positive; the cut goes to Z = -depth)");
    };
    let cut = CutParams {
        heights: Heights {
            clearance_mm: a.clearance_height,
            safe_mm: a.safe_height,
            start_depth_mm: a.start_depth,
            final_depth_mm: depth,
        },
        stepdown_mm: a.stepdown,
        allowance_radial_mm: a.allowance,
        allowance_axial_mm: a.floor_allowance,
        direction: if a.conventional {
            Direction::Conventional
        } else {
            Direction::Climb
        },
        entry: swarf_core::ops::Entry {
            kind: a.entry.unwrap_or(match a.op {
                OpKind::Engrave => EntryKind::Ramp,
                OpKind::Vcarve | OpKind::Text => EntryKind::Plunge,
                _ => EntryKind::Helix,
            }),
            ramp_angle_deg: a.ramp_angle,
            ..swarf_core::ops::Entry::default()
        },
    };
    let stepover = a.stepover.unwrap_or(Stepover::Fraction(0.4));
    let zlevel = || ZLevelParams {
        cut,
        stepover,
        pattern: a.pattern,
        stock_margin_mm: a.stock_margin,
        max_engagement_deg: if matches!(a.op, OpKind::ZlevelRough) {
            a.max_engagement_deg
        } else {
            None
        },
    };
    let spec = match a.op {
        OpKind::Pocket => OpSpec::Pocket(PocketParams {
            cut,
            stepover,
            pattern: a.pattern,
            zigzag_angle_deg: a.zigzag_angle,
            rest_from_diameter_mm: a.rest_from_diameter,
            inset_mm: a.inset,
        }),
        OpKind::Adaptive => OpSpec::Adaptive(AdaptiveParams {
            cut,
            max_engagement_deg: a.max_engagement_deg.unwrap_or(60.0),
            optimal_load: a.optimal_load.map(|l| l.mm(d) / d),
            rest_from_diameter_mm: a.rest_from_diameter,
        }),
        OpKind::Contour => OpSpec::Contour(ContourParams {
            cut,
            side: a.side,
            stepover,
            roughing_passes: a.passes.unwrap_or(1),
            spring_pass: a.spring_pass,
            lead_radius_mm: a.lead_radius.unwrap_or(d * 0.5),
            tabs: a.tabs,
            tab_width_mm: a.tab_width,
            tab_height_mm: a.tab_height,
            open_chains: a.side == Side::On,
        }),
        OpKind::Isolate => OpSpec::Isolate(IsolateParams {
            cut,
            passes: a.passes.unwrap_or(IsolateParams::default().passes),
            overlap_pct: match &a.overlap {
                Some(o) => parse_percent(o).context("--overlap")?,
                None => IsolateParams::default().overlap_pct,
            },
        }),
        OpKind::Engrave => OpSpec::Engrave(swarf_core::ops::engrave::EngraveParams {
            cut,
            side: a.engrave_side,
            offset_mm: a.engrave_offset,
            onto: onto_name(a),
        }),
        OpKind::Vcarve => OpSpec::VCarve(swarf_core::ops::vcarve::VCarveParams { cut }),
        OpKind::Text => OpSpec::Text(swarf_core::ops::text::TextParams {
            cut,
            text: a.text.replace("\\n", "\n"),
            font: a.font.clone(),
            x_mm: a.text_at.0,
            y_mm: a.text_at.1,
            style: swarf_core::text::TextStyle {
                height_mm: a.text_height,
                angle_deg: a.text_angle,
                halign: match a.text_align.to_ascii_lowercase().as_str() {
                    "left" => swarf_core::text::HAlign::Left,
                    "center" | "centre" => swarf_core::text::HAlign::Center,
                    "right" => swarf_core::text::HAlign::Right,
                    other => bail!("--text-align '{other}': use left, center or right"),
                },
                arc_radius_mm: a.text_arc_radius,
                ..swarf_core::text::TextStyle::default()
            },
            cut_as: a.text_cut,
            counter: a.counter,
            per_copy: !a.one_serial,
            onto: onto_name(a),
        }),
        OpKind::Parallel => {
            if a.stepover.is_some() && a.scallop_height.is_some() {
                bail!("give --scallop-height or --stepover, not both");
            }
            OpSpec::Parallel(swarf_core::ops::parallel::ParallelParams {
                cut,
                scallop_mm: a.scallop_height,
                stepover_mm: a.stepover.map(|s| s.mm(d)),
                angle_deg: a.angle.unwrap_or(a.zigzag_angle),
                zigzag: !a.one_way,
                slope_compensation: !a.no_slope_compensation,
                stock_margin_mm: a.stock_margin,
                silhouette_offset_mm: match a.boundary.as_str() {
                    "silhouette" => Some(a.boundary_offset.unwrap_or(d * 0.5)),
                    _ if a.boundary_offset.is_some() => {
                        bail!("--boundary-offset grows the silhouette: add --boundary silhouette")
                    }
                    _ => None,
                },
            })
        }
        OpKind::Waterline => {
            if a.stepover.is_some() {
                bail!(
                    "waterline steps down between levels, not over: give --stepdown or --scallop-height"
                );
            }
            if a.stepdown.is_some() && a.scallop_height.is_some() {
                bail!("give --scallop-height or --stepdown, not both");
            }
            OpSpec::Waterline(swarf_core::ops::waterline::WaterlineParams {
                cut,
                scallop_mm: a.scallop_height,
            })
        }
        OpKind::SteepShallow => {
            if a.stepover.is_some() && a.scallop_height.is_some() {
                bail!("give --scallop-height or --stepover, not both");
            }
            OpSpec::SteepShallow(swarf_core::ops::steep_shallow::SteepShallowParams {
                cut,
                threshold_deg: a.threshold_angle.unwrap_or(45.0),
                overlap_mm: a.steep_overlap,
                scallop_mm: a.scallop_height,
                stepover_mm: a.stepover.map(|s| s.mm(d)),
                angle_deg: a.angle.unwrap_or(a.zigzag_angle),
                zigzag: !a.one_way,
                slope_compensation: !a.no_slope_compensation,
            })
        }
        OpKind::ZlevelRough => OpSpec::ZLevelRough(zlevel()),
        OpKind::ZlevelContour => OpSpec::ZLevelContour(zlevel()),
        OpKind::HelicalBore => OpSpec::HelicalBore(BoreParams {
            cut,
            diameter_min_mm: a.diameter_min.unwrap_or(0.0),
            diameter_max_mm: a.diameter_max,
            pitch_mm: a.helix_pitch,
            finish_pass: a.finish_pass,
            spring_pass: a.spring_pass,
        }),
        OpKind::Drill | OpKind::Spot | OpKind::Peck | OpKind::ChipBreak => {
            let defaults = DrillParams::default();
            let mut cut = cut;
            cut.heights.safe_mm = a.retract.unwrap_or(defaults.cut.heights.safe_mm);
            OpSpec::Drill(DrillParams {
                cut,
                cycle: match a.op {
                    OpKind::Spot => DrillCycle::Spot,
                    OpKind::Peck => DrillCycle::Peck,
                    OpKind::ChipBreak => DrillCycle::ChipBreak,
                    _ => DrillCycle::Drill,
                },
                diameter_min_mm: a.diameter_min.unwrap_or(0.0),
                diameter_max_mm: a.diameter_max,
                peck_mm: a.peck.unwrap_or(0.0),
                peck_reduction_mm: a.peck_reduction.unwrap_or(0.0),
                min_peck_mm: a.min_peck.unwrap_or(0.0),
                dwell_s: a.dwell.unwrap_or(0.0),
                depth_to: if a.depth_to_full_diameter {
                    DepthTo::FullDiameter
                } else {
                    DepthTo::Tip
                },
                breakthrough_mm: a.breakthrough.unwrap_or(0.0),
                retract_to_clearance: a.retract_to_clearance,
                ..defaults
            })
        }
    };
    match model {
        Model::Drawing(_) if spec.needs_mesh() => bail!(
            "{name}: z-level and 3D finishing operations need a mesh (STL); for a drawing use pocket or contour"
        ),
        Model::Mesh(_) if !spec.needs_mesh() && !matches!(spec, OpSpec::Text(_)) => bail!(
            "{name}: pocket, contour and adaptive need a drawing (DXF); for a mesh use zlevel-rough (with --max-engagement-deg for adaptive layers), zlevel-contour or parallel"
        ),
        Model::Drawing(dr)
            if dr.regions.is_empty()
                && !matches!(
                    spec,
                    OpSpec::Contour(_)
                        | OpSpec::Drill(_)
                        | OpSpec::HelicalBore(_)
                        | OpSpec::Engrave(_)
                        | OpSpec::Text(_)
                ) =>
        {
            bail!(
                "{name}: no closed regions to {} (open chains can only be contoured on the line or engraved)",
                if matches!(spec, OpSpec::Pocket(_)) {
                    "pocket"
                } else {
                    "clear"
                }
            )
        }
        _ => Ok(spec),
    }
}

/// The path tolerance: the default, or `--path-tolerance` with every other tolerance scaled
/// alike.
fn tolerance(a: &GenerateArgs) -> Tolerance {
    let d = Tolerance::default();
    match a.path_tolerance {
        Some(t) => d.scaled(t / d.path_mm),
        None => d,
    }
}

/// Replaces the job's part by FILE when one is given on the command line (a drawing or a
/// mesh, with the given units and layers); returns the folder the part's path is relative to.
pub fn part_from_args(
    job: &mut Job,
    job_path: Option<&Path>,
    file: Option<&Path>,
    units: Option<swarf_core::import::Units>,
    layers: Option<&Vec<String>>,
) -> PathBuf {
    let Some(f) = file else {
        return job_path
            .and_then(Path::parent)
            .map(Path::to_path_buf)
            .unwrap_or_default();
    };
    job.part.file = f.display().to_string();
    if units.is_some() {
        job.part.units = units;
    }
    if let Some(l) = layers {
        job.part.layers = Some(l.clone());
    }
    PathBuf::new()
}

/// A job file with the command line's post settings, part and tolerance applied.
fn job_from_file(a: &GenerateArgs, job_path: &Path) -> Result<(Job, Parts)> {
    if a.onto.is_some() {
        bail!(
            "--onto is for an operation made from flags; in a job file, name the mesh in [part] with and set onto = \"FILE\" in the operation"
        );
    }
    let mut job = Job::load(job_path)?;
    if let Some(d) = a.dialect {
        job.post.dialect = d;
    }
    if let Some(d) = a.decimals {
        job.post.decimals = d;
    }
    if a.path_tolerance.is_some() {
        job.tolerance = tolerance(a);
    }
    let base = part_from_args(
        &mut job,
        Some(job_path),
        a.file.as_deref(),
        a.units,
        a.layers.as_ref(),
    );
    size_and_array_from_flags(a, &mut job)?;
    let (_, parts) = job.load_parts(&base)?;
    Ok((job, parts))
}

/// The size and array flags, over what a job file has.
fn size_and_array_from_flags(a: &GenerateArgs, job: &mut Job) -> Result<()> {
    let r = &mut job.part.resize;
    if a.scale.is_some() || a.fit_width.is_some() || a.fit_height.is_some() {
        r.scale = a.scale;
        r.fit_width_mm = a.fit_width;
        r.fit_height_mm = a.fit_height;
    }
    if let Some(v) = &a.scale_xyz {
        let [x, y, z] = v[..] else {
            bail!("--scale-xyz takes three factors: X,Y,Z (e.g. 1.012,1.012,1)");
        };
        r.scale_xyz = Some([x, y, z]);
    }
    if a.mirror.is_some() {
        r.mirror = a.mirror;
    }
    if let Some(d) = a.rotate {
        r.rotate_deg = d;
    }
    let pair = |v: &Vec<f64>, flag: &str| -> Result<[f64; 2]> {
        match v[..] {
            [d] => Ok([d, d]),
            [x, y] => Ok([x, y]),
            _ => bail!("--{flag} takes X,Y in mm (or one number for both)"),
        }
    };
    if a.stock.is_some() {
        job.stock = a.stock;
    }
    if let Some(k) = a.start_copy {
        let j = a.start_op.unwrap_or(1);
        if k == 0 || j == 0 {
            bail!("--start-copy and --start-op count from 1");
        }
        job.start_at = Some((k, j - 1));
    }
    let touched = a.array.is_some()
        || a.polar.is_some()
        || a.pitch.is_some()
        || a.gap.is_some()
        || a.row_offset.is_some()
        || a.skip_copy.is_some()
        || a.order.is_some()
        || a.copies_as.is_some()
        || a.polar_radius.is_some()
        || a.polar_start.is_some()
        || a.polar_step.is_some();
    if !touched {
        return Ok(());
    }
    let mut spec = job.array.clone().unwrap_or_default();
    if let Some(text) = &a.array {
        let (c, r) = text
            .split_once(['x', 'X'])
            .and_then(|(c, r)| Some((c.trim().parse::<u32>().ok()?, r.trim().parse::<u32>().ok()?)))
            .ok_or_else(|| anyhow::anyhow!("--array {text}: give COLUMNSxROWS, e.g. 4x6"))?;
        spec.columns = c;
        spec.rows = r;
        spec.polar_count = None;
    }
    if let Some(n) = a.polar {
        spec.polar_count = Some(n);
        spec.columns = 1;
        spec.rows = 1;
    }
    if let Some(v) = &a.pitch {
        spec.pitch_mm = Some(pair(v, "pitch")?);
        spec.gap_mm = None;
    }
    if let Some(v) = &a.gap {
        spec.gap_mm = Some(pair(v, "gap")?);
        spec.pitch_mm = None;
    }
    if let Some(d) = a.row_offset {
        spec.row_offset_mm = d;
    }
    if let Some(d) = a.polar_radius {
        spec.polar_radius_mm = d;
    }
    if let Some(d) = a.polar_start {
        spec.polar_start_deg = d;
    }
    if a.polar_step.is_some() {
        spec.polar_step_deg = a.polar_step;
    }
    if let Some(k) = &a.skip_copy {
        spec.skip.clone_from(k);
    }
    if let Some(o) = a.order {
        spec.order = o;
    }
    if let Some(c) = a.copies_as {
        spec.copies_as = c;
    }
    job.array = Some(spec);
    Ok(())
}

/// Writes the output atomically (see [`swarf_core::fsio::write_atomic`]).
fn write_atomic(path: &std::path::Path, bytes: &[u8]) -> Result<()> {
    swarf_core::fsio::write_atomic(path, bytes)
        .with_context(|| format!("cannot write {}", path.display()))
}

/// One operation's feed length and, for a clearing operation, its estimate.
struct OpFeed {
    name: String,
    feed_mm: f64,
    estimate: Option<swarf_core::ops::FeedEstimate>,
    /// What the operation tells that is no warning (holes drilled, their travel).
    notes: Vec<String>,
}

#[allow(clippy::too_many_arguments)]
fn summary(
    a: &GenerateArgs,
    tp: &Toolpath,
    program: &swarf_core::post::Program,
    warnings: &[String],
    elapsed: f64,
    post: &PostOptions,
    engagement_limit: Option<f64>,
    ops: &[OpFeed],
    copies: usize,
) -> Result<()> {
    let st = tp.stats(post.rapid_mm_per_min);
    let ratio = |o: &OpFeed| {
        o.estimate
            .map(|e| e.feed_mm())
            .filter(|e| *e > 0.0)
            .map(|e| o.feed_mm / e)
    };
    if a.json {
        let v = json!({
            "output": a.output.display().to_string(),
            "moves": st.moves,
            "arcs": st.arcs,
            "arcs_written": program.arcs_written,
            "arcs_as_lines": program.arcs_as_lines,
            "max_arc_radius_error_mm": program.max_arc_radius_error_mm,
            "feed_length_mm": st.feed_length_mm,
            "rapid_length_mm": st.rapid_length_mm,
            "estimated_seconds": st.estimated_seconds,
            "bounds_mm": [[st.bounds_min.x, st.bounds_min.y, st.bounds_min.z], [st.bounds_max.x, st.bounds_max.y, st.bounds_max.z]],
            "copies": copies,
            "gcode_lines": program.line_source.len(),
            "gcode_bytes": program.text.len(),
            "warnings": warnings,
            "generate_seconds": elapsed,
            "operations": ops.iter().map(|o| json!({
                "name": o.name,
                "feed_length_mm": o.feed_mm,
                "cleared_area_mm2": o.estimate.map(|e| e.area_mm2),
                "stepover_mm": o.estimate.map(|e| e.stepover_mm),
                "feed_estimate_mm": o.estimate.map(|e| e.feed_mm()),
                "feed_vs_estimate": ratio(o),
                "notes": o.notes,
            })).collect::<Vec<_>>(),
        });
        let mut v = v;
        if let Some(deg) = engagement_limit {
            v["max_engagement_deg"] = json!(deg);
        }
        outln!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        outln!(
            "wrote {} ({} lines{})",
            a.output.display(),
            program.line_source.len(),
            if copies > 1 {
                format!(", {copies} copies")
            } else {
                String::new()
            }
        );
        outln!(
            "moves {}, arcs {} ({} written as G2/G3, {} as lines), feed {:.4} mm, rapid {:.4} mm, about {:.1} s",
            st.moves,
            st.arcs,
            program.arcs_written,
            program.arcs_as_lines,
            st.feed_length_mm,
            st.rapid_length_mm,
            st.estimated_seconds
        );
        if let Some(deg) = engagement_limit {
            outln!("engagement held at or below {deg:.1}°");
        }
        for o in ops {
            if let (Some(e), Some(k)) = (o.estimate, ratio(o)) {
                outln!(
                    "{}: feed {:.1} mm, {k:.2}× the {:.1} mm its {:.3} mm² at a {:.4} mm step-over need",
                    o.name,
                    o.feed_mm,
                    e.feed_mm(),
                    e.area_mm2,
                    e.stepover_mm
                );
            }
        }
        for o in ops {
            for n in &o.notes {
                outln!("{n}");
            }
        }
        outln!("generated in {:.1} ms", elapsed * 1000.0);
        for w in warnings {
            outln!("warning: {w}");
        }
    }
    Ok(())
}
