//! The device layer: what getUserMedia selects from. For now the fake-device
//! file format; the `GstDeviceMonitor` layer and the fake provider build on it.

pub mod file;
