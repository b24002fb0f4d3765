//! The report model and its renderers (one file per output format behind one trait).
//! Knows nothing of analysis.

pub mod charts;
pub mod figures;
pub mod layout;
pub mod model;
pub mod render;
pub mod rounding;
pub mod verdict;
pub mod websocket;
pub mod width;

pub use model::*;
pub use render::{render_document, renderer, Document, OutputFormat, RenderOptions, Renderer};
pub use verdict::{Section, Sections};
pub use websocket::WebSocketSection;
