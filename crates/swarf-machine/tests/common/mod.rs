pub mod fake_grbl;
