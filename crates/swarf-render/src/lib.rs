//! Swarf's 3D view, drawn with wgpu and nothing else (no GUI toolkit): the part (a shaded mesh or
//! the drawing's loops), the stock box, a grid and the toolpaths, coloured by move type or by
//! operation.
//!
//! Everything is uploaded once ([`Renderer::upload`]); a frame is one uniform write and one
//! draw call per visible layer, so a million toolpath segments cost the same per frame as ten.
//! The view renders into its own colour and depth textures ([`Renderer::render`]): the desktop
//! app shows that texture, `swarf-cli render` reads it back into a PNG ([`Headless`]).

mod camera;
mod composite;
mod headless;
mod renderer;
mod scene;

pub use camera::{Camera, View};
pub use headless::{Headless, RenderError, write_png};
pub use renderer::{COLOUR_FORMAT, DEPTH_FORMAT, Frame, Renderer};
pub use scene::{
    ColourBy, Layer, LineVertex, MeshVertex, PART_GREY, Scene, grid_vertices, operation_colour,
};
