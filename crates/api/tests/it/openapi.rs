//! The committed `docs/openapi.json` is the document the code generates.

#[test]
fn the_committed_openapi_document_is_up_to_date() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/openapi.json");
    let generated = api::openapi::document_json();
    if std::env::var_os("UPDATE_OPENAPI").is_some_and(|v| v == "1") {
        std::fs::write(&path, &generated).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "{} differs from the document the code generates: run `UPDATE_OPENAPI=1 cargo test -p api --test openapi` \
         and commit the file",
        path.display()
    );
}
