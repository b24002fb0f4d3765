//! The normalized records and the columnar request table. Knows nothing of where data came
//! from or how it is reported.

pub(crate) mod columns;
pub(crate) mod request;
pub(crate) mod sink;
pub(crate) mod table;
pub(crate) mod websocket;

pub use columns::{CodedColumn, Dictionary, RequestColumns};
pub use request::{InvalidField, InvalidFields, Request};
pub use sink::RequestSink;
pub use table::{col, Dictionaries, RequestTable};
pub use websocket::{EventType, WebSocketEvent};
