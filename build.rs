//! Build script: compiles the small C helpers in `src/native/` into a static library.
//!
//! Only things Rust cannot express go there: today, INCRBYFLOAT's arithmetic in C `long
//! double` (80-bit on x86_64), which Redis uses and whose results `f64` cannot reproduce.
//! It must never grow into a place for logic that Rust can do.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=src/native/longdouble.c");
    cc::Build::new().file("src/native/longdouble.c").warnings(true).compile("tessera_native");
}
