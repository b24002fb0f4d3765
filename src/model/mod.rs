//! The normalized records and the columnar request table. Knows nothing of where data came
//! from or how it is reported.

pub mod columns;
pub mod request;
pub mod sink;
pub mod table;
pub mod websocket;

pub use columns::{CodedColumn, Dictionary, RequestColumns};
pub use request::{InvalidField, InvalidFields, Request};
pub use sink::RequestSink;
pub use table::{col, Dictionaries, RequestTable};
pub use websocket::{EventType, WebSocketEvent};
