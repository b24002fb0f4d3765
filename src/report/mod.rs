//! The report model and its renderers (one file per output format behind one trait).
//! Knows nothing of analysis.

pub(crate) mod charts;
pub(crate) mod figures;
pub(crate) mod layout;
pub mod model;
pub mod render;
pub mod rounding;
pub(crate) mod verdict;
pub(crate) mod websocket;
pub(crate) mod width;

pub use model::*;
pub use render::{
    render_document, renderer, Document, OutputFormat, RenderOptions, Renderer, TableView,
};
pub use verdict::{Section, Sections};
pub use websocket::WebSocketSection;
